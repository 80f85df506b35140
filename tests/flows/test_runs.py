"""Workflow runs end to end: triggers write runs with the record event, steps run, waits wait."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from metacrm.errors import Conflict
from metacrm.flows import executor, service
from metacrm.flows.runner import run_due
from metacrm.flows.runs import utcnow
from metacrm.flows.tables import notifications, outbox, runs, steps
from metacrm.store.users import ensure_user

ROUTING = {
    "name": "route_lead", "object": "lead",
    "trigger": {"type": "record_created", "when": {"field": "city", "op": "eq", "value": "shanghai"}},
    "steps": [
        {"id": "contact", "type": "update_record",
         "set": {"status": "contacted", "notes": {"template": "routed {name}"}, "score": {"add": [{"field": "score"}, 5]}}},
        {"id": "tell", "type": "notify", "title": "New lead {name}", "body": "from {city}"},
        {"id": "mail", "type": "send_message", "channel": "email", "subject": "Hello {name}", "body": "Hi {name}"},
        {"id": "pause", "type": "wait", "duration": {"amount": 2, "unit": "day"}},
        {"id": "called", "type": "branch",
         "rule": {"related": {"object": "activity", "via": "lead"}, "agg": "exists"},
         "then": "done", "else": "remind"},
        {"id": "remind", "type": "create_activity",
         "values": {"subject": {"template": "Call {name}"}, "type": "task", "due_at": {"now": {"amount": 1, "unit": "day"}}}},
        {"id": "done", "type": "end"},
    ],
}


def _apply(svc, *docs):
    from metacrm.meta.kinds import kind

    return svc.metadata.apply([(k, kind(k).id_of(d), d) for k, d in docs])


@pytest.fixture
def pack(standard_pack):
    _apply(standard_pack, ("workflow", ROUTING))
    with standard_pack.engine.begin() as conn:
        owner = ensure_user(conn, "alice")
    standard_pack.owner = owner
    yield standard_pack
    executor.shutdown(standard_pack)


def _count(svc, table, *where):
    with svc.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def test_created_record_runs_until_the_wait_then_after_it(pack):
    lead = pack.records.create("lead", {"name": "Wang", "city": "shanghai", "email": "wang@example.com", "consent_marketing": True,
                                        "score": 10, "owner_id": pack.owner})
    pack.records.create("lead", {"name": "Li", "city": "beijing"})  # the `when` rule does not hold
    assert executor.wait_idle(pack, 20)
    [run] = service.list_runs(pack)
    assert run["status"] == "waiting" and run["record_id"] == lead["id"] and run["steps_done"] == 4
    updated = pack.records.get("lead", lead["id"])
    assert (updated["status"], updated["notes"], updated["score"]) == ("contacted", "routed Wang", 15)
    assert _count(pack, notifications, notifications.c.user_id == pack.owner) == 1
    with pack.engine.connect() as conn:
        message = conn.execute(select(outbox)).one()
    assert (message.status, message.recipient, message.subject) == ("stored", "wang@example.com", "Hello Wang")

    assert run_due(pack) == 0  # the wait holds
    later = utcnow() + timedelta(days=2, seconds=5)
    assert run_due(pack, now=later) == 1
    shown = service.get_run(pack, run["id"])
    assert shown["status"] == "completed"
    assert [s["step"] for s in shown["steps"]] == ["contact", "tell", "mail", "pause", "called", "remind", "done"]
    assert all(s["status"] == "done" and s["attempts"] == 1 for s in shown["steps"])
    activities = pack.records.list("activity")
    assert [(a["subject"], a["lead"], a["owner_id"]) for a in activities] == [("Call Wang", lead["id"], pack.owner)]


def test_failing_step_fails_the_run_and_can_be_retried(pack):
    bad = {"name": "bad_update", "object": "lead", "trigger": {"type": "manual"},
           "steps": [{"id": "s", "type": "update_record", "set": {"score": "not a number"}}]}
    _apply(pack, ("workflow", bad))
    lead = pack.records.create("lead", {"name": "Zhao", "city": "beijing"})
    run = service.start_workflow(pack, "bad_update", lead["id"])
    assert executor.wait_idle(pack, 20)
    shown = service.get_run(pack, run["id"])
    assert shown["status"] == "failed"
    assert shown["error"]["step"] == "s" and shown["error"]["problems"][0]["field"] == "score"
    with pack.engine.begin() as conn:  # an admin fixes the cause; the retry then succeeds
        conn.execute(update(steps).where(steps.c.run_id == run["id"]).values(status="failed"))
    pack.metadata.apply([("workflow", "bad_update", {**bad, "steps": [
        {"id": "s", "type": "update_record", "set": {"score": 7}}]})])
    retried = service.retry_run(pack, run["id"])
    assert retried["id"] == run["id"]
    assert executor.wait_idle(pack, 20)
    # the run keeps its version: the fixed definition is a new version, the old step fails again
    assert service.get_run(pack, run["id"])["status"] == "failed"
    with pytest.raises(Conflict):
        service.cancel_run(pack, run["id"])
    with pytest.raises(Conflict):
        service.retry_run(pack, service.start_workflow(pack, "bad_update", lead["id"])["id"])


def test_cancel_stops_a_waiting_run(pack):
    lead = pack.records.create("lead", {"name": "Qian", "city": "shanghai", "owner_id": pack.owner})
    assert executor.wait_idle(pack, 20)
    [run] = service.list_runs(pack, record_id=lead["id"])
    assert service.cancel_run(pack, run["id"])["status"] == "cancelled"
    assert run_due(pack, now=utcnow() + timedelta(days=3)) == 0
    assert _count(pack, steps, steps.c.run_id == run["id"], steps.c.status == "cancelled") == 1
    assert _count(pack, runs, runs.c.status == "cancelled") == 1
