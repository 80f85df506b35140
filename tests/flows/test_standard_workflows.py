"""The standard workflows do what they promise, on the in-process executor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from metacrm.auth.accounts import add_member, ensure_team
from metacrm.engines.tags import record_tags
from metacrm.flows import executor, service
from metacrm.flows.runner import run_due
from metacrm.flows.schedules import next_fire
from metacrm.flows.sweeper import sweep
from metacrm.flows.tables import notifications, outbox, steps
from metacrm.meta.kinds import DefinitionSet
from metacrm.meta.packs import load_pack
from metacrm.store.definitions import incoming_from_files
from metacrm.store.users import ensure_user

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def crm(services):
    services.metadata.apply(incoming_from_files(load_pack([ROOT / "metadata", ROOT / "workflows"], DefinitionSet())))
    with services.engine.begin() as conn:
        east = ensure_team(conn, "east_sales")
        sales = ensure_team(conn, "sales")
        ids = {name: ensure_user(conn, name) for name in ("amy", "bob", "cai", "dan")}
        for name in ("amy", "bob"):
            add_member(conn, east, ids[name])
        for name in ("cai", "dan"):
            add_member(conn, sales, ids[name])
    services.users = ids
    yield services
    executor.shutdown(services)


def _notes(svc, user_id):
    with svc.engine.connect() as conn:
        return [r.title for r in conn.execute(select(notifications).where(notifications.c.user_id == user_id)
                                              .order_by(notifications.c.id))]


def test_new_lead_routing_tags_assigns_notifies_and_follows_up(crm):
    wechat = crm.records.create("channel", {"name": "WeChat OA", "code": "wx01", "kind": "wechat"})
    leads = [crm.records.create("lead", {"name": f"east {i}", "city": "shanghai", "channel": wechat["id"]})
             for i in range(3)]
    west = crm.records.create("lead", {"name": "west", "city": "chengdu"})
    assert executor.wait_idle(crm, 30)
    owners = [crm.records.get("lead", lead["id"])["owner_id"] for lead in leads]
    u = crm.users
    assert owners == [u["amy"], u["bob"], u["amy"]]  # round robin within the east team
    assert crm.records.get("lead", west["id"])["owner_id"] == u["cai"]
    with crm.engine.connect() as conn:
        assert record_tags(conn, "lead", leads[0]["id"]) == ["lead_source_social"]
        assert record_tags(conn, "lead", west["id"]) == ["lead_source_offline"]
    assert _notes(crm, u["amy"]) == ["New lead: east 0", "New lead: east 2"]
    crm.records.create("activity", {"subject": "called", "type": "call", "lead": leads[0]["id"]})
    # two days later in the lead's zone, moved into business hours (Mon-Fri 09:00-18:00)
    with crm.engine.connect() as conn:
        wake = conn.execute(select(func.max(steps.c.due_at)).where(steps.c.step == "contacted")).scalar_one()
    assert wake - datetime.now(UTC) >= timedelta(days=2) - timedelta(minutes=5)
    local = wake.astimezone(ZoneInfo(crm.settings.timezone))
    assert local.isoweekday() <= 5 and (9, 0) <= (local.hour, local.minute) < (18, 0)
    assert run_due(crm, now=wake - timedelta(minutes=1)) == 0
    assert run_due(crm, now=wake + timedelta(minutes=1)) == 4
    tasks = crm.records.list("activity")
    assert sorted(t["subject"] for t in tasks if t["type"] == "task") == ["Follow up: east 1", "Follow up: east 2",
                                                                        "Follow up: west"]
    assert _notes(crm, u["amy"])[-1] == "Reminder: east 2 has no activity for 2 days"
    assert {r["status"] for r in service.list_runs(crm, workflow="new_lead_routing")} == {"completed"}


def test_opportunity_stage_change_notifies_the_owner(crm):
    opp = crm.records.create("opportunity", {"name": "Big deal", "stage": "proposal", "amount": "1000.00",
                                             "currency": "CNY", "owner_id": crm.users["dan"]})
    crm.records.update("opportunity", opp["id"], {"amount": "1200.00"})  # not the stage: no run
    crm.records.update("opportunity", opp["id"], {"stage": "won"})
    assert executor.wait_idle(crm, 30)
    assert _notes(crm, crm.users["dan"]) == ["Big deal: stage is now Won"]  # the label, not the key "won"
    [task] = crm.records.list("activity")
    assert (task["subject"], task["opportunity"], task["owner_id"]) == ("Thank the customer for Big deal", opp["id"],
                                                                       crm.users["dan"])


def test_notification_uses_option_labels_in_the_readers_language(crm):
    with crm.engine.begin() as conn:
        wei = ensure_user(conn, "wei", "张伟", language="zh")
    opp = crm.records.create("opportunity", {"name": "大单", "stage": "proposal", "amount": "1000.00",
                                             "currency": "CNY", "owner_id": wei})
    crm.records.update("opportunity", opp["id"], {"stage": "won"})
    assert executor.wait_idle(crm, 30)
    assert _notes(crm, wei) == ["大单：阶段变为 赢单"]  # the workflow's zh text and the option label in zh


def test_weekly_reactivation_fires_once_per_schedule_time(crm):
    long_ago = (datetime.now(UTC) - timedelta(days=200)).isoformat()
    dormant = crm.records.create("customer", {"name": "Old friend", "email": "old@example.com", "order_count": 3,
                                              "consent_marketing": True, "last_order_at": long_ago})
    crm.records.create("customer", {"name": "WeChat friend", "wechat_id": "wx_old", "order_count": 1,
                                    "consent_marketing": True, "last_order_at": long_ago})
    crm.records.create("customer", {"name": "Recent", "email": "new@example.com", "order_count": 2,
                                    "consent_marketing": True, "last_order_at": datetime.now(UTC).isoformat()})
    now = datetime.now(UTC)
    assert sweep(crm, now) == 0  # the schedule row is created, nothing is due yet
    monday = next_fire("0 9 * * 1", "Asia/Shanghai", now)
    assert monday.astimezone().weekday() in (0, 6) and monday.hour == 1  # 09:00 in Shanghai is 01:00 UTC
    fire_at = monday + timedelta(seconds=1)
    assert sweep(crm, fire_at) >= 2
    assert sweep(crm, fire_at) == 0  # a schedule time fires once, however many sweepers run
    assert executor.wait_idle(crm, 30)
    run_due(crm, now=fire_at)  # the runs' steps are due at the (simulated) fire time
    with crm.engine.connect() as conn:
        sent = sorted((r.channel, r.recipient, r.status) for r in conn.execute(select(outbox)))
    assert sent == [("email", "old@example.com", "stored"), ("wechat", "wx_old", "stored")]
    runs = service.list_runs(crm, workflow="dormant_customer_reactivation")
    assert {r["record_id"] for r in runs} >= {dormant["id"]} and {r["status"] for r in runs} == {"completed"}
