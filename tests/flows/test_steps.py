"""Step behaviour: webhook retries and signatures, the loop guard, tag and segment triggers, child runs."""

from __future__ import annotations

import time

import pytest

from metacrm.engines.tags import add_tags
from metacrm.flows import executor, service
from metacrm.flows.sweeper import sweep
from metacrm.meta.kinds import kind


def _apply(svc, *docs):
    return svc.metadata.apply([(k, kind(k).id_of(d), d) for k, d in docs])


def _drive(svc, until, timeout=20.0):
    """Sweep and run until `until()` holds (retries wait for their backoff in SQL)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sweep(svc)
        executor.wait_idle(svc, 10)
        if until():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def pack(standard_pack):
    yield standard_pack
    executor.shutdown(standard_pack)


def _hook_flow(url):
    return {"name": "hooked", "object": "lead", "trigger": {"type": "manual"},
            "steps": [{"id": "call", "type": "webhook", "url": url, "timeout": 3, "secret": "s3cret-key",
                       "body": {"lead": {"field": "name"}, "note": {"template": "hi {name}"}},
                       "retry": {"max_attempts": 4, "backoff_seconds": 0.05}}]}


def test_webhook_retries_server_errors_then_succeeds(pack, receiver):
    with receiver("s3cret-key", fail_first=2) as hook:
        _apply(pack, ("workflow", _hook_flow(hook.url)))
        lead = pack.records.create("lead", {"name": "Sun"})
        run = service.start_workflow(pack, "hooked", lead["id"])
        assert _drive(pack, lambda: service.get_run(pack, run["id"])["status"] == "completed")
    [step] = service.get_run(pack, run["id"])["steps"]
    assert step["attempts"] == 3 and step["output"] == {"status": 200}
    assert len(set(hook.requests)) == 1 and len(hook.requests) == 3  # one idempotency key for all attempts
    assert hook.bad_signatures == 0


def test_webhook_client_error_fails_the_run_without_retrying(pack, receiver):
    with receiver("s3cret-key", status_after=400) as hook:
        _apply(pack, ("workflow", _hook_flow(hook.url)))
        lead = pack.records.create("lead", {"name": "Zhou"})
        run = service.start_workflow(pack, "hooked", lead["id"])
        assert _drive(pack, lambda: service.get_run(pack, run["id"])["status"] == "failed")
    shown = service.get_run(pack, run["id"])
    assert shown["error"]["code"] == "webhook_status", shown["error"]
    assert len(hook.requests) == 1


def test_a_workflow_that_retriggers_itself_is_stopped_with_a_clear_error(pack):
    loop = {"name": "bump_loop", "object": "lead", "trigger": {"type": "record_updated", "fields": ["score"]},
            "limits": {"max_depth": 3}, "enrollment": {"reenroll": "always"},  # the default would refuse it
            "steps": [{"id": "bump", "type": "update_record", "set": {"score": {"add": [{"field": "score"}, 1]}}}]}
    _apply(pack, ("workflow", loop))
    lead = pack.records.create("lead", {"name": "Loop", "score": 0})
    pack.records.update("lead", lead["id"], {"score": 1})
    assert _drive(pack, lambda: not service.list_runs(pack, status="running"))
    runs = sorted(service.list_runs(pack, workflow="bump_loop"), key=lambda r: r["id"])
    assert [r["depth"] for r in runs] == [0, 1, 2, 3, 4]
    assert [r["status"] for r in runs] == ["completed"] * 4 + ["failed"]
    assert runs[-1]["error"]["code"] == "loop_limit" and "re-triggering itself" in runs[-1]["error"]["message"]
    assert pack.records.get("lead", lead["id"])["score"] == 5


def test_tag_added_and_child_workflows(pack):
    _apply(pack, ("tag", {"name": "wf_vip", "label": {"en": "VIP"}, "objects": ["lead"]}),
           ("workflow", {"name": "vip_child", "object": "lead", "trigger": {"type": "manual"},
                         "steps": [{"id": "mark", "type": "update_record", "set": {"notes": "vip handled"}}]}),
           ("workflow", {"name": "on_vip", "object": "lead", "trigger": {"type": "tag_added", "tag": "wf_vip"},
                         "steps": [{"id": "child", "type": "start_workflow", "workflow": "vip_child"}]}))
    lead = pack.records.create("lead", {"name": "Vip"})
    with pack.engine.begin() as conn:
        add_tags(conn, pack.registry.current(conn), "lead", [lead["id"]], ["wf_vip"])
    assert _drive(pack, lambda: pack.records.get("lead", lead["id"])["notes"] == "vip handled")
    parent = service.list_runs(pack, workflow="on_vip")[0]
    child = service.list_runs(pack, workflow="vip_child")[0]
    assert (child["parent_run_id"], child["depth"], child["trigger"]) == (parent["id"], 1, "start_workflow")


def test_segment_entered_starts_a_run(pack):
    _apply(pack, ("segment", {"name": "wf_hot_leads", "label": {"en": "Hot"}, "object": "lead", "track": True,
                              "rule": {"field": "score", "op": "gte", "value": 80}}),
           ("workflow", {"name": "on_hot", "object": "lead",
                         "trigger": {"type": "segment_entered", "segment": "wf_hot_leads"},
                         "steps": [{"id": "flag", "type": "update_record", "set": {"status": "qualified"}}]}))
    lead = pack.records.create("lead", {"name": "Warm", "score": 50})
    pack.records.update("lead", lead["id"], {"score": 90})
    assert _drive(pack, lambda: pack.records.get("lead", lead["id"])["status"] == "qualified")
    [run] = service.list_runs(pack, workflow="on_hot")
    assert run["trigger"] == "segment_entered"


def test_manual_start_with_a_key_starts_once_and_notifications_are_read(pack):
    from metacrm.store.users import ensure_user

    with pack.engine.begin() as conn:
        uid = ensure_user(conn, "eve")
    _apply(pack, ("workflow", {"name": "ping", "object": "lead", "trigger": {"type": "manual"},
                               "steps": [{"id": "tell", "type": "notify", "to": {"user": "eve"}, "title": "Hi {name}"}]}))
    lead = pack.records.create("lead", {"name": "Ma"})
    first = service.start_workflow(pack, "ping", lead["id"], key="once")
    again = service.start_workflow(pack, "ping", lead["id"], key="once")
    assert first["id"] == again["id"]
    assert executor.wait_idle(pack, 20)
    inbox = service.list_notifications(pack, uid)
    assert inbox["unread"] == 1 and inbox["items"][0]["title"] == "Hi Ma"
    assert service.mark_read(pack, uid) == 1
    assert service.list_notifications(pack, uid, unread=True)["items"] == []


def test_a_notification_is_written_in_its_readers_language(pack):
    from metacrm.store.users import ensure_user

    with pack.engine.begin() as conn:
        zh, en = ensure_user(conn, "wang", language="zh-CN"), ensure_user(conn, "ann", language="en")
    steps = [{"id": f"tell_{u}", "type": "notify", "to": {"user": u}, "title": "New lead: {name}", "body": "City {city}",
              "translations": {"zh": {"title": "新线索：{name}", "body": "城市 {city}"}}} for u in ("wang", "ann")]
    for i, step in enumerate(steps[:-1]):
        step["next"] = steps[i + 1]["id"]
    _apply(pack, ("workflow", {"name": "ping_both", "object": "lead", "trigger": {"type": "manual"}, "steps": steps}))
    lead = pack.records.create("lead", {"name": "马丽", "city": "shanghai"})
    service.start_workflow(pack, "ping_both", lead["id"])
    assert executor.wait_idle(pack, 20)
    [mine] = service.list_notifications(pack, zh)["items"]
    [theirs] = service.list_notifications(pack, en)["items"]
    assert (mine["title"], mine["body"]) == ("新线索：马丽", "城市 上海")
    assert (theirs["title"], theirs["body"]) == ("New lead: 马丽", "City Shanghai")


def test_form_submitted_starts_runs_for_that_form_only(pack):
    from metacrm.flows.triggers import form_submitted

    _apply(pack, ("workflow", {"name": "on_form", "object": "lead",
                               "trigger": {"type": "form_submitted", "form": "lead_default"},
                               "steps": [{"id": "flag", "type": "update_record", "set": {"status": "contacted"}}]}))
    with pack.engine.begin() as conn:
        lead = pack.records.create("lead", {"name": "Form"}, conn=conn)
        form_submitted(conn, pack.registry.current(conn), "lead_default", "lead", lead["id"])
    pack.records.create("lead", {"name": "Not from a form"})
    assert _drive(pack, lambda: pack.records.get("lead", lead["id"])["status"] == "contacted")
    assert [r["record_id"] for r in service.list_runs(pack, workflow="on_form")] == [lead["id"]]


def test_messages_go_through_a_registered_adapter_with_retries(pack):
    from sqlalchemy import select

    from metacrm.flows import channels
    from metacrm.flows.tables import outbox

    sent, failures = [], [RuntimeError("gateway down")]

    class Gateway:
        name = "test_sms"

        def send(self, message):
            if failures:
                raise failures.pop()
            sent.append((message.recipient, message.body, message.key))
            return "ok"

    channels.register_adapter("sms", lambda settings: Gateway())
    try:
        _apply(pack, ("workflow", {"name": "texting", "object": "lead", "trigger": {"type": "manual"},
                                   "steps": [{"id": "sms", "type": "send_message", "channel": "sms",
                                              "body": "Hello {name}"}]}))
        lead = pack.records.create("lead", {"name": "Tang", "phone": "13800138000", "consent_marketing": True})
        service.start_workflow(pack, "texting", lead["id"])
        assert executor.wait_idle(pack, 20)
        with pack.engine.begin() as conn:  # the first delivery failed; make its retry due now
            row = conn.execute(select(outbox)).one()
            assert (row.status, row.attempts, row.error) == ("pending", 1, "RuntimeError: gateway down")
            conn.execute(outbox.update().values(next_at=row.created_at))
        assert _drive(pack, lambda: bool(sent))
    finally:
        channels._factories.pop("sms", None)
    assert sent == [("+8613800138000", "Hello Tang", row.key)]
    with pack.engine.connect() as conn:
        assert conn.execute(select(outbox.c.status, outbox.c.attempts)).one() == ("sent", 2)


def test_wait_until_a_date_field_at_a_local_time(pack):
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from metacrm.flows.steps import StepContext
    from metacrm.flows.steps.wait import due_time

    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    ctx = StepContext(pack, None, {}, None, None, {"next_follow_up": "2026-03-10"}, "k", 1, now,
                      ZoneInfo("Asia/Shanghai"))
    due = due_time(ctx, {"until": {"field": "next_follow_up", "offset": {"amount": -1, "unit": "day"}, "at": "09:00"}})
    assert due == datetime(2026, 3, 9, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai the day before
    assert due_time(ctx, {"until": {"field": "missing"}}) is None
    assert due_time(ctx, {"duration": {"amount": 1, "unit": "month"}}) == datetime(2026, 4, 1, 12, 0, tzinfo=UTC)


def test_becomes_trigger_and_least_open_assignment(pack):
    from metacrm.store.users import ensure_user

    with pack.engine.begin() as conn:
        busy, free = ensure_user(conn, "busy"), ensure_user(conn, "free")
    for i in range(2):
        pack.records.create("lead", {"name": f"busy {i}", "owner_id": busy, "status": "new"})
    pack.records.create("lead", {"name": "free done", "owner_id": free, "status": "converted"})
    _apply(pack, ("workflow", {
        "name": "qualify", "object": "lead",
        "trigger": {"type": "record_updated", "becomes": {"field": "score", "op": "gte", "value": 70}},
        "steps": [{"id": "give", "type": "assign_owner", "users": ["busy", "free"], "strategy": "least_open",
                   "open_rule": {"field": "status", "op": "not_in", "value": ["converted", "unqualified"]}}]}))
    lead = pack.records.create("lead", {"name": "Rising", "score": 10})
    pack.records.update("lead", lead["id"], {"score": 50})  # still below: no run
    pack.records.update("lead", lead["id"], {"score": 80})  # becomes true: a run
    pack.records.update("lead", lead["id"], {"score": 90})  # stays true: no run
    assert _drive(pack, lambda: pack.records.get("lead", lead["id"])["owner_id"] is not None)
    assert len(service.list_runs(pack, workflow="qualify")) == 1
    assert pack.records.get("lead", lead["id"])["owner_id"] == free  # the converted lead does not count


def test_segment_triggers_need_a_tracked_segment(pack):
    from metacrm.errors import DefinitionError

    _apply(pack, ("segment", {"name": "wf_untracked", "label": {"en": "U"}, "object": "lead",
                              "rule": {"field": "score", "op": "gte", "value": 1}}))
    with pytest.raises(DefinitionError) as err:
        _apply(pack, ("workflow", {"name": "on_untracked", "object": "lead",
                                   "trigger": {"type": "segment_left", "segment": "wf_untracked"},
                                   "steps": [{"id": "e", "type": "end"}]}))
    assert err.value.problems[0].code == "untracked_segment"
