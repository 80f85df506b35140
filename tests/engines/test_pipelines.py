"""Pipelines: guarded stage moves in the record service, probability, on_enter and stage history."""

from __future__ import annotations

import pytest

from metacrm.engines import pipelines
from metacrm.errors import Conflict, DefinitionError, ValidationError
from metacrm.store.services import Services


def _history(svc: Services, rid: int) -> list[tuple]:
    with svc.engine.connect() as conn:
        return [(h["from_stage"], h["to_stage"], h["to_rank"], h["probability"])
                for h in pipelines.history(conn, "opportunity", rid)]


def test_moves_are_guarded_and_recorded(standard_pack: Services) -> None:
    svc = standard_pack
    deal = svc.records.create("opportunity", {"name": "Big deal"}, actor_id=None)
    assert deal["stage"] == "prospecting" and deal["probability"] == 10 and deal["pipeline"] == "new_business"
    deal = svc.records.update("opportunity", deal["id"], {"stage": "qualification"})
    assert deal["probability"] == 20
    with pytest.raises(ValidationError) as refused:
        svc.records.update("opportunity", deal["id"], {"stage": "proposal"}, expected_version=deal["version"])
    got = sorted((p.to_dict()["field"], p.code, p.to_dict()["stage"]) for p in refused.value.problems)
    assert got == [("amount", "required_for_stage", "proposal")]
    assert svc.records.get("opportunity", deal["id"]) == deal  # a refused move changes nothing
    assert len(_history(svc, deal["id"])) == 2
    # stage and the fields it needs in one save
    deal = svc.records.update("opportunity", deal["id"], {"stage": "proposal", "amount": "1000",
                                                            "expected_close": "2026-12-31"})
    assert deal["probability"] == 50
    # lost needs lost_reason; the transition from lost is limited
    with pytest.raises(ValidationError) as refused:
        svc.records.update("opportunity", deal["id"], {"stage": "lost"})
    assert [(p.field, p.code) for p in refused.value.problems] == [("lost_reason", "required_for_stage")]
    deal = svc.records.update("opportunity", deal["id"], {"stage": "lost", "lost_reason": "price"})
    assert deal["probability"] == 0
    with pytest.raises(ValidationError) as refused:
        svc.records.update("opportunity", deal["id"], {"stage": "won"})
    assert refused.value.problems[0].code == "transition_not_allowed"
    with pytest.raises(Conflict):
        svc.records.update("opportunity", deal["id"], {"stage": "qualification"}, expected_version=1)
    assert _history(svc, deal["id"]) == [(None, "prospecting", 0, 10), ("prospecting", "qualification", 1, 20),
                                         ("qualification", "proposal", 2, 50), ("proposal", "lost", -1, 0)]


def test_entry_rule_override_and_pipeline_choice(standard_pack: Services) -> None:
    svc = standard_pack
    deal = svc.records.create("opportunity", {"name": "Zero", "stage": "proposal", "amount": "0",
                                              "expected_close": "2026-11-30"})
    with pytest.raises(ValidationError) as refused:
        svc.records.update("opportunity", deal["id"], {"stage": "negotiation"})
    assert [(p.field, p.code) for p in refused.value.problems] == [("stage", "entry_rule")]
    deal = svc.records.update("opportunity", deal["id"], {"probability": 33})
    assert deal["probability_override"] is True
    deal = svc.records.update("opportunity", deal["id"], {"stage": "negotiation", "amount": "5"})
    assert deal["probability"] == 33  # the flagged override survives the move
    deal = svc.records.update("opportunity", deal["id"], {"probability_override": False})
    assert deal["probability"] == 75  # back to the stage default
    renewal = svc.records.create("opportunity", {"name": "Renew", "pipeline": "renewal"})
    assert renewal["stage"] == "qualification" and renewal["probability"] == 60
    with pytest.raises(ValidationError) as refused:
        svc.records.update("opportunity", renewal["id"], {"stage": "negotiation"})
    assert refused.value.problems[0].code == "unknown_stage"


def test_bulk_create_writes_history_and_refuses_bad_rows(standard_pack: Services) -> None:
    svc = standard_pack
    result = svc.records.bulk_create("opportunity", [{"name": "a", "stage": "won", "amount": "9"},
                                                     {"name": "b", "stage": "lost"}], skip_invalid=True)
    assert result.ids[1] is None and result.errors[1][0].code == "required_for_stage"
    assert _history(svc, result.ids[0]) == [(None, "won", 4, 100)]


@pytest.mark.parametrize("change,code", [
    ({"stages": [{"key": "won", "label": {"en": "X"}, "kind": "won"},
                 {"key": "lost", "label": {"en": "Y"}, "kind": "lost"}]}, "no_open_stage"),
    ({"transitions": {"nope": ["won"]}}, "unknown_stage"),
    ({"chosen_by": {"field": "pipeline", "values": ["new_business"]}}, "ambiguous"),
    ({"stages": [{"key": "qualification", "label": {"en": "Q"}, "kind": "open", "required_fields": ["nope"]},
                 {"key": "won", "label": {"en": "W"}, "kind": "won", "entry_rule": {"field": "nope", "op": "eq", "value": 1}}]},
     "unknown_field"),
])
def test_bad_definitions_are_refused(standard_pack: Services, apply_docs, change: dict, code: str) -> None:
    import json
    from pathlib import Path

    doc = json.loads((Path(__file__).parents[2] / "metadata/pipelines/renewal.json").read_text())
    doc.update(change)
    doc = {k: v for k, v in doc.items() if v is not None}
    doc["name"] = "broken"
    with pytest.raises(DefinitionError) as bad:
        apply_docs(standard_pack, ("pipeline", doc))
    assert code in {p.code for p in bad.value.problems}
