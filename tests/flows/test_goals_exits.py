"""Runs in flight and record writes: waits that follow a date field, deletes, restores, goals (fake clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from metacrm.engines.forms import submit_form
from metacrm.errors import DefinitionError, MetaCRMError
from metacrm.flows import executor, service
from metacrm.flows.runner import run_due
from metacrm.flows.runs import utcnow
from metacrm.flows.steps.wait import NEVER
from metacrm.flows.tables import steps
from metacrm.meta.kinds import kind


def _apply(svc, *docs):
    return svc.metadata.apply([(k, kind(k).id_of(d), d) for k, d in docs])


@pytest.fixture
def crm(standard_pack):
    yield standard_pack
    executor.shutdown(standard_pack)


def _reminder(if_empty=None, **extra):
    until = {"field": "next_follow_up", "offset": {"amount": -1, "unit": "day"}, "at": "09:00"}
    if if_empty:
        until["if_empty"] = if_empty
    return {"name": "reminder", "object": "lead", "trigger": {"type": "record_created"},
            "steps": [{"id": "before", "type": "wait", "until": until},
                      {"id": "tell", "type": "notify", "title": "Follow up {name}"}], **extra}


def _open_step(svc, run_id):
    with svc.engine.connect() as conn:
        return conn.execute(select(steps).where(steps.c.run_id == run_id, steps.c.status == "ready")).first()


def _only_run(svc, workflow="reminder"):
    assert executor.wait_idle(svc, 20)
    [run] = service.list_runs(svc, workflow=workflow)
    return run


def _local_nine(day: str, svc) -> datetime:
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(svc.settings.timezone)
    return (datetime.fromisoformat(day).replace(tzinfo=zone) - timedelta(days=1)).replace(hour=9).astimezone(UTC)


def test_a_wait_until_a_date_field_follows_the_field(crm):
    _apply(crm, ("workflow", _reminder()))
    first = (utcnow() + timedelta(days=10)).date().isoformat()
    lead = crm.records.create("lead", {"name": "Wang", "next_follow_up": first})
    run = _only_run(crm)
    assert run["status"] == "waiting" and _open_step(crm, run["id"]).due_at == _local_nine(first, crm)
    moved = (utcnow() + timedelta(days=20)).date().isoformat()
    crm.records.update("lead", lead["id"], {"next_follow_up": moved})
    assert _open_step(crm, run["id"]).due_at == _local_nine(moved, crm)
    assert run_due(crm, now=_local_nine(first, crm) + timedelta(minutes=1)) == 0  # the old date passes quietly
    assert service.get_run(crm, run["id"])["status"] == "waiting"
    run_due(crm, now=_local_nine(moved, crm) + timedelta(minutes=1))
    assert service.get_run(crm, run["id"])["status"] == "completed"


def test_a_wait_re_checks_its_field_at_wake(crm):
    _apply(crm, ("workflow", _reminder()))
    day = (utcnow() + timedelta(days=10)).date().isoformat()
    crm.records.create("lead", {"name": "Li", "next_follow_up": day})
    run = _only_run(crm)
    early = utcnow() + timedelta(hours=1)
    with crm.engine.begin() as conn:  # as if a change was missed: the row says due now
        conn.execute(update(steps).where(steps.c.run_id == run["id"], steps.c.status == "ready").values(due_at=early))
    run_due(crm, now=early + timedelta(seconds=1))
    shown = service.get_run(crm, run["id"])
    assert shown["status"] == "waiting" and _open_step(crm, run["id"]).due_at == _local_nine(day, crm)


@pytest.mark.parametrize(("policy", "status"), [("skip", "completed"), ("wait", "waiting"), ("fail", "failed")])
def test_an_empty_date_field_follows_the_steps_policy(crm, policy, status):
    _apply(crm, ("workflow", _reminder(policy)))
    lead = crm.records.create("lead", {"name": "Zhao"})
    run = _only_run(crm)
    assert run["status"] == status
    if policy == "fail":
        assert run["error"]["code"] == "date_empty"
    if policy == "wait":
        assert _open_step(crm, run["id"]).due_at == NEVER
        day = (utcnow() + timedelta(days=3)).date().isoformat()
        crm.records.update("lead", lead["id"], {"next_follow_up": day})  # set at last: the wait takes the date
        assert _open_step(crm, run["id"]).due_at == _local_nine(day, crm)


def test_a_deleted_record_exits_its_runs_quietly_and_a_restore_does_not_resume(crm):
    _apply(crm, ("workflow", _reminder()))
    day = (utcnow() + timedelta(days=5)).date().isoformat()
    lead = crm.records.create("lead", {"name": "Qian", "next_follow_up": day})
    run = _only_run(crm)
    crm.records.delete("lead", lead["id"])
    shown = service.get_run(crm, run["id"])
    assert (shown["status"], shown["outcome"], shown["error"]) == ("exited", "record_deleted", None)
    assert [s["status"] for s in shown["steps"]] == ["done", "cancelled"]
    crm.records.restore("lead", lead["id"])
    assert service.get_run(crm, run["id"])["status"] == "exited"
    assert run_due(crm, now=utcnow() + timedelta(days=30)) == 0


def test_a_restore_resumes_when_the_workflow_says_so(crm):
    _apply(crm, ("workflow", _reminder(on_restore="resume")))
    day = (utcnow() + timedelta(days=5)).date().isoformat()
    lead = crm.records.create("lead", {"name": "Sun", "next_follow_up": day})
    run = _only_run(crm)
    crm.records.delete("lead", lead["id"])
    crm.records.restore("lead", lead["id"])
    assert service.get_run(crm, run["id"])["status"] == "waiting"
    run_due(crm, now=_local_nine(day, crm) + timedelta(minutes=1))
    assert service.get_run(crm, run["id"])["status"] == "completed"


def test_a_record_deleted_behind_a_waiting_run_exits_at_wake(crm):
    _apply(crm, ("workflow", _reminder()))
    day = (utcnow() + timedelta(days=5)).date().isoformat()
    lead = crm.records.create("lead", {"name": "Zhou", "next_follow_up": day})
    run = _only_run(crm)
    snap = crm.registry.current()
    table = snap.tables["lead"]
    with crm.engine.begin() as conn:  # deleted without the record service (no event): found at wake
        conn.execute(update(table).where(table.c.id == lead["id"]).values(deleted_at=utcnow()))
    run_due(crm, now=_local_nine(day, crm) + timedelta(minutes=1))
    shown = service.get_run(crm, run["id"])
    assert (shown["status"], shown["outcome"]) == ("exited", "record_deleted")


def test_deleting_a_tracked_segment_member_starts_no_segment_left_run(crm):
    segment = {"name": "shanghai_leads", "label": {"en": "Shanghai"}, "object": "lead", "rule": {"field": "city", "op": "eq", "value": "shanghai"},
               "track": True}
    left = {"name": "left_sh", "object": "lead", "trigger": {"type": "segment_left", "segment": "shanghai_leads"},
            "steps": [{"id": "tell", "type": "notify", "title": "{name} left"}]}
    deleted = {"name": "on_delete", "object": "lead", "trigger": {"type": "record_deleted"},
               "steps": [{"id": "tell", "type": "notify", "title": "{name} was deleted"}]}
    _apply(crm, ("segment", segment), ("workflow", left), ("workflow", deleted))
    lead = crm.records.create("lead", {"name": "Wu", "city": "shanghai"})
    crm.records.delete("lead", lead["id"])
    assert executor.wait_idle(crm, 20)
    assert service.list_runs(crm, workflow="left_sh") == []
    [run] = service.list_runs(crm, workflow="on_delete")
    assert run["status"] == "completed"  # the record_deleted run sees the deleted record
    other = crm.records.create("lead", {"name": "Zheng", "city": "shanghai"})
    crm.records.update("lead", other["id"], {"city": "beijing"})  # leaving for real still starts it
    assert executor.wait_idle(crm, 20)
    assert len(service.list_runs(crm, workflow="left_sh")) == 1


def test_a_goal_exits_the_run_on_a_write_and_before_a_step(crm):
    doc = _reminder(goal={"field": "status", "op": "eq", "value": "contacted"})
    _apply(crm, ("workflow", doc))
    day = (utcnow() + timedelta(days=5)).date().isoformat()
    lead = crm.records.create("lead", {"name": "Feng", "next_follow_up": day})
    run = _only_run(crm)
    crm.records.update("lead", lead["id"], {"status": "contacted"})
    shown = service.get_run(crm, run["id"])
    assert (shown["status"], shown["outcome"]) == ("exited", "goal_reached")
    crm.records.create("lead", {"name": "Chen", "status": "contacted", "next_follow_up": day})
    assert executor.wait_idle(crm, 20)
    runs = service.list_runs(crm, workflow="reminder")
    assert next((r["status"], r["outcome"], r["steps_done"]) for r in runs) == ("exited", "goal_reached", 0)


def test_a_becomes_rule_on_tags_is_refused_with_the_reason(crm):
    doc = {"name": "became_vip", "object": "lead",
           "trigger": {"type": "record_updated", "becomes": {"op": "has_tag", "value": "engaged"}},
           "steps": [{"id": "done", "type": "end"}]}
    with pytest.raises((DefinitionError, MetaCRMError)) as refused:
        _apply(crm, ("workflow", doc))
    problems = {(p.field, p.code) for p in refused.value.problems}
    assert any(field.endswith("/trigger/becomes") and code == "becomes_needs_fields" for field, code in problems)


def test_submitting_a_form_in_the_engine_starts_form_workflows(crm):
    doc = {"name": "after_signup", "object": "lead", "trigger": {"type": "form_submitted", "form": "lead_signup"},
           "steps": [{"id": "done", "type": "end"}]}
    _apply(crm, ("workflow", doc))
    form = crm.registry.current().definitions.get("form", "lead_signup")
    from metacrm.meta.forms import field_entries

    placed = {entry["field"] for _, entry in field_entries(form)}
    answers = {"name": "Form lead"} if "name" in placed else {}
    record = submit_form(crm, "lead_signup", answers)
    [run] = service.list_runs(crm, workflow="after_signup")
    assert run["record_id"] == record["id"] and run["trigger"] == "form_submitted"


def test_a_goal_reached_by_the_runs_own_step_exits_it_and_the_next_step_never_runs(crm):
    """The step's own write reaches the goal in the step's transaction: the run stays exited (the step's
    completion must not write it back to running), and the step after it is never executed."""
    doc = {"name": "qualify", "object": "lead", "trigger": {"type": "record_created"},
           "goal": {"field": "status", "op": "eq", "value": "contacted"},
           "steps": [{"id": "mark", "type": "update_record", "set": {"status": "contacted"}},
                     {"id": "tell", "type": "notify", "title": "{name} should not hear this"}]}
    _apply(crm, ("workflow", doc))
    crm.records.create("lead", {"name": "Goal Own Step"})
    assert executor.wait_idle(crm, 20)
    [run] = service.list_runs(crm, workflow="qualify")
    assert (run["status"], run["outcome"]) == ("exited", "goal_reached"), run
    with crm.engine.connect() as conn:
        executed = [r.step for r in conn.execute(select(steps.c.step).where(steps.c.run_id == run["id"],
                                                                            steps.c.status == "done"))]
    assert executed == ["mark"]
