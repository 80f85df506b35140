"""Dedupe: definitions, scans with blocking, the review queue, merge with re-pointing, undo."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from metacrm.engines.dedupe.matching import groups
from metacrm.engines.dedupe.merge import get_merge, undo_merge
from metacrm.engines.dedupe.review import count_candidates, dismiss, list_candidates, merge_candidate
from metacrm.engines.dedupe.scan import scan_pool
from metacrm.errors import Conflict, DefinitionError
from metacrm.store.db import reading

SAMPLE = json.loads((Path(__file__).resolve().parents[2] / "metadata/dedupe/lead.json").read_text())


def _lead(svc, **data):
    return svc.records.create("lead", {"name": "x", **data})


def test_definition_checks(standard_pack, apply_docs):
    bad = copy.deepcopy(SAMPLE)
    bad["rules"][0]["fields"][0]["field"] = "nope"
    bad["rules"][3]["fields"] = [{"field": "name", "match": "fuzzy"}]
    bad["rules"][3]["block_prefix"] = 0
    bad["rules"].append({"name": "fuzzy_score", "fields": [{"field": "score", "match": "fuzzy"}]})
    bad["merge"]["fields"]["status"] = "union"
    with pytest.raises(DefinitionError) as err:
        apply_docs(standard_pack, ("dedupe", bad))
    codes = {p.code for p in err.value.problems}
    assert {"unknown_field", "unblocked", "unsuitable_field", "unsuitable_policy"} <= codes


def test_scan_queues_pairs_once_and_groups_them(standard_pack):
    svc = standard_pack
    a = _lead(svc, name="王小明", company="Acme", phone="13800000001")
    b = _lead(svc, name="王晓明", company="acme", phone="13800000002")
    c = _lead(svc, name="王 小明", company="Acme", phone="13800000003")
    _lead(svc, name="李四", company="Acme", phone="13800000004")
    _lead(svc, name="王小明", company="Other", phone="13800000005")
    _lead(svc, name="Wx", wechat_id="wx_abcdef", phone="13800000006")
    w2 = _lead(svc, name="Wy", wechat_id="wx_abcdef", phone="13800000007")
    result = scan_pool(svc, "lead")
    assert result.pairs == 4 and result.queued == 4
    assert [a["id"], b["id"], c["id"]] in result.groups
    assert result.by_rule["same_wechat"] == 1
    with reading(svc.engine) as conn:
        queue = list_candidates(svc, conn, "lead")
    assert queue[0]["score"] == queue[1]["score"] == 1.0 and queue[-1]["score"] < 1.0  # best first
    [top] = [q for q in queue if (q["left_id"], q["right_id"]) == (a["id"], c["id"])]
    assert top["score"] == 1.0
    assert top["fields"] == ["company", "name"] and top["left"]["name"] == "王小明"
    assert any(q["right_id"] == w2["id"] and q["rules"] == ["same_wechat"] for q in queue)
    assert scan_pool(svc, "lead").queued == 0


def test_merge_repoints_related_records_and_undo_restores(standard_pack):
    svc = standard_pack
    old = _lead(svc, name="王小明", company="Acme", phone="13800000001", interests=["travel"],
                notes="met at expo", status="new")
    new = _lead(svc, name="王晓明", company="Acme", email="xm@example.com", interests=["food"],
                notes="called back", status="contacted")
    act = svc.records.create("activity", {"subject": "call", "type": "call", "lead": new["id"]})
    opp = svc.records.create("opportunity", {"name": "deal", "lead": new["id"]})
    scan_pool(svc, "lead")
    with reading(svc.engine) as conn:
        [pair] = list_candidates(svc, conn, "lead")
    with svc.engine.begin() as conn:
        merge = merge_candidate(svc, conn, pair["id"])
    survivor = svc.records.get("lead", old["id"])
    assert survivor["email"] == "xm@example.com" and survivor["phone"] == "+8613800000001"
    assert survivor["interests"] == ["travel", "food"] and survivor["notes"] == "met at expo\ncalled back"
    assert survivor["status"] == "contacted" and survivor["name"] == "王小明"
    assert svc.records.get("lead", new["id"], include_deleted=True)["deleted_at"] is not None
    assert svc.records.get("activity", act["id"])["lead"] == old["id"]
    assert svc.records.get("opportunity", opp["id"])["lead"] == old["id"]
    with reading(svc.engine) as conn:
        assert count_candidates(conn, "lead")["merged"] == 1
        assert sorted(r[1] for r in get_merge(conn, merge["id"])["repointed"]) == sorted([act["id"], opp["id"]])

    with svc.engine.begin() as conn:
        undone = undo_merge(svc, conn, merge["id"])
    assert undone["undone_at"] is not None
    assert svc.records.get("lead", new["id"])["email"] == "xm@example.com"
    back = svc.records.get("lead", old["id"])
    assert back["email"] is None and back["interests"] == ["travel"] and back["status"] == "new"
    assert svc.records.get("activity", act["id"])["lead"] == new["id"]
    with reading(svc.engine) as conn:
        assert count_candidates(conn, "lead")["pending"] == 1
    with pytest.raises(Conflict), svc.engine.begin() as conn:
        undo_merge(svc, conn, merge["id"])


def test_undo_refuses_to_lose_later_edits_unless_forced(standard_pack):
    svc = standard_pack
    a = _lead(svc, name="王小明", company="Acme")
    _lead(svc, name="王晓明", company="Acme", notes="x")
    scan_pool(svc, "lead")
    with svc.engine.begin() as conn:
        [pair] = list_candidates(svc, conn, "lead")
        merge = merge_candidate(svc, conn, pair["id"])
    svc.records.update("lead", a["id"], {"notes": "edited after the merge"})
    with pytest.raises(Conflict) as err, svc.engine.begin() as conn:
        undo_merge(svc, conn, merge["id"])
    assert err.value.problems[0].code == "changed_since_merge"
    with svc.engine.begin() as conn:
        undo_merge(svc, conn, merge["id"], force=True)
    assert svc.records.get("lead", a["id"])["notes"] is None


def test_dismissed_pairs_stay_dismissed(standard_pack):
    svc = standard_pack
    _lead(svc, name="王小明", company="Acme")
    _lead(svc, name="王晓明", company="Acme")
    scan_pool(svc, "lead")
    with svc.engine.begin() as conn:
        [pair] = list_candidates(svc, conn, "lead")
        assert dismiss(conn, pair["id"])["status"] == "dismissed"
        with pytest.raises(Conflict):
            dismiss(conn, pair["id"])
    assert scan_pool(svc, "lead").queued == 0
    with reading(svc.engine) as conn:
        assert list_candidates(svc, conn, "lead") == []


def test_on_create_skip_and_flag(standard_pack, apply_docs):
    svc = standard_pack
    doc = copy.deepcopy(SAMPLE)
    doc["rules"][2]["on_create"] = "skip"   # same WeChat ID: refuse
    doc["rules"][3]["on_create"] = "flag"   # similar name at the same company: review
    apply_docs(svc, ("dedupe", doc))
    first = _lead(svc, name="王小明", company="Acme", wechat_id="wx_abcdef")
    with pytest.raises(Conflict) as err:
        _lead(svc, name="Other", wechat_id="wx_abcdef")
    assert err.value.problems[0].code == "duplicate" and str(first["id"]) in err.value.problems[0].message
    second = _lead(svc, name="王晓明", company="Acme")
    with reading(svc.engine) as conn:
        [pair] = list_candidates(svc, conn, "lead", with_records=False)
    assert (pair["left_id"], pair["right_id"], pair["source"]) == (first["id"], second["id"], "create")


def test_groups_and_window_for_huge_blocks():
    from metacrm.engines.dedupe.definition import DedupeDef
    from metacrm.engines.dedupe.matching import PairSet, compare_block

    dd = DedupeDef.from_doc({"name": "t", "object": "t", "rules": [
        {"name": "r", "fields": [{"field": "name", "match": "fuzzy", "threshold": 0.9}], "max_block": 10}]})
    items = [(i, (f"person number {i:05d}",)) for i in range(500)]
    pairs = PairSet()
    made = compare_block(dd.rules[0], items, pairs)
    assert made < 500 * 30  # a window, not 124,750 comparisons
    assert len(pairs) > 0
    assert groups([type("P", (), {"left": 1, "right": 2})(), type("P", (), {"left": 2, "right": 3})(),
                   type("P", (), {"left": 7, "right": 9})()]) == [[1, 2, 3], [7, 9]]


def test_merge_unions_manual_tags_and_undo_removes_them(standard_pack):
    from metacrm.engines.tag_store import record_tags
    from metacrm.engines.tags import add_tags

    svc = standard_pack
    a = _lead(svc, name="王小明", company="Acme")
    b = _lead(svc, name="王晓明", company="Acme")
    with svc.engine.begin() as conn:
        snap = svc.registry.current(conn)
        add_tags(conn, snap, "lead", [a["id"]], ["beauty_lover"])
        add_tags(conn, snap, "lead", [b["id"]], ["lead_source_event", "beauty_lover"])
    scan_pool(svc, "lead")
    with svc.engine.begin() as conn:
        [pair] = list_candidates(svc, conn, "lead")
        merge = merge_candidate(svc, conn, pair["id"])
    assert merge["tags_added"] == ["lead_source_event"]
    with reading(svc.engine) as conn:
        assert sorted(record_tags(conn, "lead", a["id"])) == ["beauty_lover", "lead_source_event"]
    with svc.engine.begin() as conn:
        undo_merge(svc, conn, merge["id"])
    with reading(svc.engine) as conn:
        assert record_tags(conn, "lead", a["id"]) == ["beauty_lover"]


def test_company_spellings_with_and_without_legal_form_are_one_company():
    from metacrm.engines.dedupe.matching import compare_key, same_organisation, without_legal_form

    spellings = ["上海某某科技有限公司", "上海某某科技", "上海某某科技(有限公司)", "上海某某科技 Co., Ltd.",
                 "上海某某科技股份有限公司", "上海某某科技 CO.,LTD"]
    assert {compare_key(s) for s in spellings} == {"上海某某科技"}
    assert compare_key("有限公司") == "有限公司" and compare_key("王小明") == "王小明"  # nothing else is cut
    assert without_legal_form("Acme Ltd.") == "Acme" and "Acme Co., Ltd." in same_organisation("Acme")
    assert same_organisation(7) == {7}
