"""Nothing lost, nothing done twice: kill a worker mid-step and delete the queue mid-run (RQ, Redis DB 15)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from metacrm.flows import executor
from metacrm.flows.tables import notifications, runs, steps
from metacrm.meta.kinds import kind
from metacrm.store.events import timeline
from metacrm.store.users import ensure_user

ROOT = Path(__file__).resolve().parents[2]
N = 12


def _workflow(url: str) -> dict:
    return {"name": "crash_flow", "object": "lead", "trigger": {"type": "record_created"},
            "steps": [
                {"id": "bump", "type": "update_record", "set": {"score": {"add": [{"field": "score"}, 1]}}},
                {"id": "hook", "type": "webhook", "url": url, "timeout": 5,
                 "retry": {"max_attempts": 10, "backoff_seconds": 0.2}},
                {"id": "tell", "type": "notify", "to": {"user": "alice"}, "title": "{name} routed"},
            ]}


def _open_runs(svc) -> int:
    with svc.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(runs).where(
            runs.c.status.in_(("running", "waiting")))).scalar_one()


@pytest.mark.redis
def test_killed_worker_and_flushed_queue_lose_nothing_and_repeat_nothing(rq_services, receiver, worker_processes):
    from metacrm.meta.kinds import DefinitionSet
    from metacrm.meta.packs import load_pack
    from metacrm.store.definitions import incoming_from_files

    svc = rq_services
    svc.metadata.apply(incoming_from_files(load_pack([ROOT / "metadata"], DefinitionSet())))
    with svc.engine.begin() as conn:
        alice = ensure_user(conn, "alice")
    with receiver(svc.settings.secret_key, slow_first=2, delay=1.5) as hook:
        svc.metadata.apply([("workflow", "crash_flow", _workflow(hook.url))])
        assert kind("workflow")
        svc.records.bulk_create("lead", [{"name": f"lead {i}", "score": 0} for i in range(N)])
        first = worker_processes.start(svc)
        try:
            assert hook.in_flight.wait(30), "the worker never reached the webhook step"
        finally:
            worker_processes.crash(first)  # mid-step: the webhook request is in flight
        # Redis loses every queued job of ours (only this test's queue keys; never FLUSHDB)
        assert executor.delete_queue(svc.settings.redis_url, svc.settings.queue_name) > 0
        second = worker_processes.start(svc)
        try:
            deadline = time.monotonic() + 40
            while _open_runs(svc) and time.monotonic() < deadline:
                time.sleep(0.25)
        finally:
            worker_processes.stop(second)

    with svc.engine.connect() as conn:
        statuses = dict(conn.execute(select(runs.c.status, func.count()).group_by(runs.c.status)).all())
        open_steps = conn.execute(select(func.count()).select_from(steps).where(
            steps.c.status.in_(("ready", "running")))).scalar_one()
        told = conn.execute(select(func.count()).select_from(notifications).where(
            notifications.c.user_id == alice)).scalar_one()
        leads = svc.records.list("lead", limit=100, conn=conn)
        updates = [sum(1 for e in timeline(conn, "lead", lead["id"]) if e["kind"] == "update") for lead in leads]
    assert statuses == {"completed": N}
    assert open_steps == 0
    assert [lead["score"] for lead in leads] == [1] * N  # the database effect happened once per run
    assert updates == [1] * N
    assert told == N
    assert hook.bad_signatures == 0
    assert len(hook.effects) == N  # every run's webhook arrived, under one key per step execution
    assert len(hook.requests) > N  # ...and the killed attempt was repeated with the same key
