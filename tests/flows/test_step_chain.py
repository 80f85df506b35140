"""Consecutive database steps of a run share one transaction; a failing one rolls back alone."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from metacrm.flows import executor
from metacrm.flows import runs as runs_module
from metacrm.flows.runner import run_due
from metacrm.flows.runs import utcnow
from metacrm.flows.steps import STEP_TYPES, StepFailed
from metacrm.flows.tables import notifications, runs, steps
from metacrm.store.events import timeline
from metacrm.store.users import ensure_user

ITEM = {"$id": "chain_item", "type": "object", "properties": {
    "name": {"x-field": "text"}, "score": {"x-field": "integer"},
    "status": {"x-field": "select", "enum": ["new", "processed"]}}}
FLOW = {"name": "chain_flow", "object": "chain_item", "trigger": {"type": "record_created"},
        "steps": [{"id": "mark", "type": "update_record", "set": {"status": "processed"}},
                  {"id": "check", "type": "branch", "rule": {"field": "score", "op": "gte", "value": 50},
                   "then": "tell", "else": "tell"},
                  {"id": "tell", "type": "notify", "to": {"user": "bob"}, "title": "{name} processed"}]}


@pytest.fixture
def chain(services, apply_docs, monkeypatch):
    apply_docs(services, ("object", ITEM))
    apply_docs(services, ("workflow", FLOW))
    with services.engine.begin() as conn:
        ensure_user(conn, "bob")
    monkeypatch.setattr(runs_module, "later", lambda conn, job, **kw: None)  # the test runs the steps itself
    yield services
    executor.shutdown(services)


def _commits(svc, fn) -> int:
    count = [0]

    def seen(_conn) -> None:
        count[0] += 1

    event.listen(svc.engine, "commit", seen)
    try:
        fn()
    finally:
        event.remove(svc.engine, "commit", seen)
    return count[0]


def _steps(svc) -> list[tuple[str, str, int]]:
    with svc.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(steps.c.step, steps.c.status, steps.c.attempts)
                                               .order_by(steps.c.seq))]


def test_three_database_steps_commit_once(chain):
    chain.records.bulk_create("chain_item", [{"name": f"item {i}", "score": i * 30} for i in range(3)])
    assert _commits(chain, lambda: run_due(chain)) == 3  # one transaction per run, not one per step
    with chain.engine.connect() as conn:
        assert set(conn.execute(select(runs.c.status)).scalars()) == {"completed"}
        assert conn.execute(select(func.count()).select_from(notifications)).scalar_one() == 3
        assert conn.execute(select(func.count()).select_from(steps).where(steps.c.status == "done",
                                                                         steps.c.attempts == 1)).scalar_one() == 9
    assert [r["status"] for r in chain.records.list("chain_item")] == ["processed"] * 3


def test_a_failing_chained_step_rolls_back_alone_and_retries(chain, monkeypatch):
    notify = STEP_TYPES["notify"]

    def boom(ctx, doc):
        raise StepFailed("the notification service is down")

    monkeypatch.setitem(STEP_TYPES, "notify", replace(notify, run=boom))
    item = chain.records.create("chain_item", {"name": "one", "score": 70})
    run_due(chain)
    # the update and the branch committed; the notify attempt failed and waits for its retry
    assert _steps(chain) == [("mark", "done", 1), ("check", "done", 1), ("tell", "ready", 1)]
    assert chain.records.get("chain_item", item["id"])["status"] == "processed"
    monkeypatch.setitem(STEP_TYPES, "notify", notify)
    assert run_due(chain, now=utcnow() + timedelta(minutes=5)) == 1
    assert _steps(chain) == [("mark", "done", 1), ("check", "done", 1), ("tell", "done", 2)]
    with chain.engine.connect() as conn:
        assert conn.execute(select(runs.c.status)).scalar_one() == "completed"
        assert conn.execute(select(func.count()).select_from(notifications)).scalar_one() == 1
        updates = [e for e in timeline(conn, "chain_item", item["id"]) if e["kind"] == "update"]
    assert len(updates) == 1  # the update ran once: the retry did not repeat it
