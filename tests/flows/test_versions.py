"""Publishing v2 while 1,000 runs wait in v1: continue, move and cancel each do exactly what was chosen."""

from __future__ import annotations

import copy
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from metacrm.errors import ValidationError
from metacrm.flows import publish
from metacrm.flows.runner import run_due
from metacrm.flows.runs import RunSpec, current_workflow, start_runs, utcnow
from metacrm.flows.tables import runs, steps

N = 1000
V1 = {"name": "nurture", "object": "lead", "trigger": {"type": "manual"},
      "steps": [{"id": "first", "type": "merge"},
                {"id": "pause", "type": "wait", "duration": {"amount": 1, "unit": "day"}},
                {"id": "after", "type": "merge", "next": "finish"},
                {"id": "old_only", "type": "merge", "next": "finish"},
                {"id": "pick", "type": "if", "rule": {"field": "score", "op": "gt", "value": 0},
                 "then": "after", "else": "old_only"},
                {"id": "finish", "type": "end"}]}


def _v1() -> dict:
    doc = copy.deepcopy(V1)
    doc["steps"][1]["next"] = "pick"
    return doc


def _v2() -> dict:  # "old_only" is gone; "after" leads to a new node
    return {"name": "nurture", "object": "lead", "trigger": {"type": "manual"},
            "steps": [{"id": "first", "type": "merge"},
                      {"id": "pause", "type": "wait", "duration": {"amount": 2, "unit": "day"}, "next": "after"},
                      {"id": "after", "type": "merge", "next": "v2_step"},
                      {"id": "v2_step", "type": "merge", "next": "finish"},
                      {"id": "finish", "type": "end"}]}


@pytest.fixture
def parked(standard_pack, monkeypatch):
    """N runs of v1: 900 waiting before `after`, 100 waiting before `old_only` (a node v2 drops)."""
    from metacrm.flows import runs as runs_module

    svc = standard_pack
    publish.publish(svc, "nurture", definition=_v1())
    monkeypatch.setattr(runs_module, "dispatch_later", lambda *a: None)
    now = utcnow()
    with svc.engine.begin() as conn:
        wf = current_workflow(conn, svc.registry.current(conn), "nurture")
        ids = start_runs(conn, [RunSpec(wf, None, "test") for _ in range(N)], now=now)
        conn.execute(steps.update().where(steps.c.run_id.in_(ids)).values(
            step="after", type="merge", due_at=now + timedelta(days=1), enqueued_at=None))
        conn.execute(steps.update().where(steps.c.run_id.in_(ids[:100])).values(step="old_only"))
        conn.execute(runs.update().where(runs.c.id.in_(ids)).values(status="waiting"))
    return svc, ids, int(wf.version)


def _finish(svc):
    later = utcnow() + timedelta(days=3)
    while run_due(svc, now=later, limit=5000):
        pass


def _paths(svc, ids):
    with svc.engine.connect() as conn:
        rows = conn.execute(select(steps.c.run_id, steps.c.step).where(steps.c.run_id.in_(ids), steps.c.status == "done"))
        out: dict[int, list[str]] = {}
        for r in rows:
            out.setdefault(int(r.run_id), []).append(r.step)
    return out


def _versions(svc, ids):
    with svc.engine.connect() as conn:
        return Counter(conn.execute(select(runs.c.version).where(runs.c.id.in_(ids))).scalars())


def test_continue_keeps_every_run_on_v1(parked):
    svc, ids, v1 = parked
    out = publish.publish(svc, "nurture", "continue", definition=_v2())
    assert out["version"] == v1 + 1 and out["continued"] == N and out["moved"] == 0 and out["cancelled"] == 0
    _finish(svc)
    assert _versions(svc, ids) == {v1: N}
    paths = _paths(svc, ids)
    assert all("v2_step" not in p for p in paths.values())
    assert sum("old_only" in p for p in paths.values()) == 100


def test_move_takes_runs_whose_node_exists_and_lists_the_rest(parked):
    svc, ids, v1 = parked
    out = publish.publish(svc, "nurture", "move", definition=_v2())
    assert out["moved"] == N - 100 and sorted(out["stayed"]) == sorted(ids[:100])
    _finish(svc)
    assert _versions(svc, ids) == {v1 + 1: N - 100, v1: 100}
    paths = _paths(svc, ids)
    assert all("v2_step" in paths[i] for i in ids[100:])  # they went on in v2
    assert all(paths[i] == ["old_only", "finish"] for i in ids[:100])  # they stayed and finished on v1
    with svc.engine.connect() as conn:
        assert set(conn.execute(select(runs.c.status).where(runs.c.id.in_(ids))).scalars()) == {"completed"}


def test_cancel_cancels_every_older_run_and_nothing_else(parked):
    svc, ids, _v1_number = parked
    with svc.engine.begin() as conn:
        wf = current_workflow(conn, svc.registry.current(conn), "nurture")
    out = publish.publish(svc, "nurture", "cancel", definition=_v2())
    assert out["cancelled"] == N
    with svc.engine.begin() as conn:
        v2 = current_workflow(conn, svc.registry.current(conn), "nurture")
        fresh = start_runs(conn, [RunSpec(v2, None, "test")])
    assert v2.version == wf.version + 1
    _finish(svc)
    with svc.engine.connect() as conn:
        statuses = Counter(conn.execute(select(runs.c.status).where(runs.c.id.in_(ids))).scalars())
        assert conn.execute(select(runs.c.status).where(runs.c.id == fresh[0])).scalar_one() == "waiting"  # v2 goes on
    assert statuses == {"cancelled": N}
    assert _paths(svc, ids) == {}


def test_nothing_is_published_half_valid(parked):
    svc, ids, v1 = parked
    broken = _v2()
    broken["steps"][2]["next"] = "nowhere"
    with pytest.raises(ValidationError) as caught:
        publish.publish(svc, "nurture", "cancel", definition=broken)
    assert caught.value.code == "invalid_workflow"
    assert any(p.field == "steps.after" and p.code == "dangling_step" for p in caught.value.problems)
    assert _versions(svc, ids) == {v1: N}
    with svc.engine.connect() as conn:
        assert set(conn.execute(select(runs.c.status).where(runs.c.id.in_(ids))).scalars()) == {"waiting"}
