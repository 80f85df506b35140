"""Assignment definitions: strategies, capacity, availability, fallback, bulk spreading, rollback."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from metacrm.engines import routing
from metacrm.errors import DefinitionError
from metacrm.store import limits
from metacrm.store.services import Services
from metacrm.store.users import ensure_user

USERS = [f"rep{i}" for i in range(7)]


@pytest.fixture
def crm(standard_pack: Services) -> Services:
    with standard_pack.engine.begin() as conn:
        standard_pack.ids = {n: ensure_user(conn, n) for n in USERS}  # type: ignore[attr-defined]
    return standard_pack


def _rule(svc: Services, apply_docs, *entries: dict) -> None:
    apply_docs(svc, ("assignment", {"name": "lead_routing", "label": {"en": "Routing"}, "object": "lead",
                                    "entries": list(entries)}))


def _owners(svc: Services, ids: list) -> list:
    return [svc.records.get("lead", i)["owner_id"] for i in ids]


def test_bulk_create_spreads_turns_and_a_rollback_gives_them_back(crm: Services, apply_docs) -> None:
    _rule(crm, apply_docs, {"strategy": "round_robin", "users": USERS})
    result = crm.records.bulk_create("lead", [{"name": f"L{i}"} for i in range(14)])
    counts = Counter(_owners(crm, result.ids))
    assert sorted(counts.values()) == [2] * 7 and set(counts) == set(crm.ids.values())  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError), crm.engine.begin() as conn:
        crm.records.bulk_create("lead", [{"name": "gone"}] * 5, conn=conn)
        raise RuntimeError("rolled back on purpose")
    with crm.engine.connect() as conn:
        assert limits.counter(conn, "assign:cursor:lead_routing:0")["used"] == 14  # type: ignore[index]
    one = crm.records.create("lead", {"name": "next"})
    assert one["owner_id"] == crm.ids["rep0"]  # type: ignore[attr-defined]  # position 14 = 14 % 7
    explicit = crm.records.create("lead", {"name": "mine", "owner_id": crm.ids["rep3"]})  # type: ignore[attr-defined]
    assert explicit["owner_id"] == crm.ids["rep3"]  # type: ignore[attr-defined]


def test_weighted_territory_capacity_and_fallback(crm: Services, apply_docs) -> None:
    _rule(crm, apply_docs,
          {"when": {"field": "company", "op": "eq", "value": "W"}, "strategy": "weighted",
           "weights": {"rep0": 3, "rep1": 1}},
          {"strategy": "territory", "capacity": {"per_day": 1},
           "territories": [{"name": "east", "when": {"field": "city", "op": "eq", "value": "shanghai"},
                            "users": ["rep2", "rep3"]}],
           "fallback": {"pool": "public_pool"}})
    ids = crm.ids  # type: ignore[attr-defined]
    weighted = crm.records.bulk_create("lead", [{"name": f"W{i}", "company": "W"} for i in range(8)]).ids
    owners = _owners(crm, weighted)
    assert Counter(owners) == {ids["rep0"]: 6, ids["rep1"]: 2}
    assert owners[:4] == [ids["rep0"], ids["rep0"], ids["rep1"], ids["rep0"]]  # spread, not 3 in a row
    east = crm.records.bulk_create("lead", [{"name": f"E{i}", "city": "shanghai"} for i in range(3)]).ids
    assert sorted(_owners(crm, east), key=str) == sorted([ids["rep2"], ids["rep3"], None], key=str)
    west = crm.records.create("lead", {"name": "West", "city": "beijing"})
    assert west["owner_id"] is None  # no territory: the pool
    snap = crm.registry.current()
    with crm.engine.connect() as conn:
        [d] = routing.decide(conn, snap, routing.definition(snap, "lead_routing"),
                             [{"name": "E", "city": "shanghai", "id": None, "owner_id": None}], take=False)
    assert (d.entry, d.territory, d.owner_id, d.pool) == (1, "east", None, "public_pool")
    assert sorted(s["reason"] for s in d.skipped) == ["capacity_reached", "capacity_reached"]


def test_least_loaded_reads_load_counters_and_out_of_office(crm: Services, apply_docs) -> None:
    ids = crm.ids  # type: ignore[attr-defined]
    today = datetime.now(UTC).date()
    _rule(crm, apply_docs, {"strategy": "least_loaded", "users": ["rep0", "rep1", "rep2"],
                            "availability": {"out_of_office": [
                                {"user": "rep2", "from": str(today - timedelta(days=1)),
                                 "to": str(today + timedelta(days=1))}]}})
    crm.records.bulk_create("lead", [{"name": f"seed{i}", "owner_id": ids["rep0"]} for i in range(3)])
    new = crm.records.bulk_create("lead", [{"name": f"N{i}"} for i in range(5)]).ids
    # rep0 holds 3: rep1 gets turns until level, then they alternate; rep2 is away
    assert Counter(_owners(crm, new)) == {ids["rep1"]: 4, ids["rep0"]: 1}
    with crm.engine.begin() as conn:
        assert routing.verify_loads(conn, crm.registry.current(conn)) == []
    crm.records.delete("lead", new[0])
    with crm.engine.connect() as conn:
        assert limits.usage(conn, [routing.load_key("lead", ids["rep1"])]) == {
            routing.load_key("lead", ids["rep1"]): 3}


@pytest.mark.parametrize("entry,code", [
    ({"strategy": "round_robin", "users": ["rep0", "nobody"]}, "unknown_user"),
    ({"strategy": "weighted", "weights": {"rep0": 0}}, "invalid_weight"),
    ({"strategy": "by_field", "field": "city"}, "wrong_type"),
    ({"strategy": "territory", "territories": [{"name": "x", "when": {"field": "nope", "op": "eq", "value": 1},
                                                "users": ["rep0"]}]}, "unknown_field"),
])
def test_bad_definitions_are_422(crm: Services, apply_docs, entry: dict, code: str) -> None:
    with pytest.raises(DefinitionError) as bad:
        _rule(crm, apply_docs, entry)
    assert bad.value.status == 422 and code in {p.code for p in bad.value.problems}


def test_the_workflow_step_calls_the_assignment(crm: Services, apply_docs) -> None:
    import time

    from metacrm.flows import executor, service
    from metacrm.flows.sweeper import sweep

    _rule(crm, apply_docs, {"strategy": "round_robin", "users": ["rep4", "rep5"]})
    doc = routing.definition(crm.registry.current(), "lead_routing")  # for the step only: creates stay unowned
    apply_docs(crm, ("assignment", {**doc, "on_create": False}))
    apply_docs(crm, ("workflow", {"name": "route_by_rule", "object": "lead", "trigger": {"type": "manual"},
                                  "steps": [{"id": "give", "type": "assign_owner", "assignment": "lead_routing"}]}))
    lead = crm.records.create("lead", {"name": "Via step"})
    assert lead["owner_id"] is None
    try:
        run = service.start_workflow(crm, "route_by_rule", lead["id"])
        deadline = time.monotonic() + 20
        while service.get_run(crm, run["id"])["status"] != "completed" and time.monotonic() < deadline:
            sweep(crm)
            executor.wait_idle(crm, 5)
        assert crm.records.get("lead", lead["id"])["owner_id"] == crm.ids["rep4"]  # type: ignore[attr-defined]
    finally:
        executor.shutdown(crm)
    with pytest.raises(DefinitionError) as bad:
        apply_docs(crm, ("workflow", {"name": "bad_route", "object": "lead", "trigger": {"type": "manual"},
                                      "steps": [{"id": "give", "type": "assign_owner", "assignment": "nope"}]}))
    assert bad.value.problems[0].code == "unknown_assignment"
