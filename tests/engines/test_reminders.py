"""Task reminders: one notification to the owner when remind_at passes, in their language."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from metacrm.engines.reminders import due_reminders, sweep_reminders
from metacrm.flows.jobs import periodic_tasks
from metacrm.flows.tables import notifications
from metacrm.store.users import ensure_user


def test_reminder_once_per_remind_at(standard_pack):
    svc = standard_pack
    now = datetime.now(UTC)
    with svc.engine.begin() as conn:
        zh = ensure_user(conn, "zh_user", "张伟", language="zh")
        en = ensure_user(conn, "en_user", "John", language="en")

    def task(owner, remind, **kw):
        return svc.records.create("activity", {"subject": "准备报价", "type": kw.pop("type", "task"),
                                               "remind_at": remind.isoformat(), "owner_id": owner,
                                               "due_at": (now + timedelta(hours=1)).isoformat(), **kw})["id"]

    due = task(zh, now - timedelta(minutes=1))
    task(en, now - timedelta(minutes=5))
    task(en, now + timedelta(hours=1))  # not yet
    task(en, now - timedelta(minutes=1), done=True)  # done
    task(en, now - timedelta(minutes=1), type="call")  # not a task
    task(en, now - timedelta(days=3))  # long past: not swept up on first run
    assert due_reminders(svc, now) == 2
    assert due_reminders(svc, now) == 0 and sweep_reminders(svc) == 0  # exactly once
    with svc.engine.connect() as conn:
        rows = {r.user_id: r for r in conn.execute(select(notifications))}
    assert rows[zh].title == "待办提醒：准备报价" and rows[zh].record_id == due and rows[zh].object == "activity"
    assert rows[en].title == "Reminder: 准备报价"
    svc.records.update("activity", due, {"remind_at": (now + timedelta(minutes=10)).isoformat()})
    assert due_reminders(svc, now + timedelta(minutes=11)) == 1  # moved later: reminded again
    assert "tasks.remind" in {t.name for t in periodic_tasks()}


def test_reminder_due_time_in_the_owners_zone(standard_pack):
    svc = standard_pack
    now = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    due_at = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai, 20:00 the day before in New York
    with svc.engine.begin() as conn:
        sh = ensure_user(conn, "sh_user", language="zh-CN", time_zone="Asia/Shanghai")
        ny = ensure_user(conn, "ny_user", time_zone="America/New_York")
        default = ensure_user(conn, "no_zone")
    for owner in (sh, ny, default):
        svc.records.create("activity", {"subject": "Call back", "type": "task", "owner_id": owner,
                                        "remind_at": (now - timedelta(minutes=1)).isoformat(),
                                        "due_at": due_at.isoformat()})
    assert due_reminders(svc, now) == 3
    with svc.engine.connect() as conn:
        rows = {r.user_id: r for r in conn.execute(select(notifications))}
    assert rows[sh].body == "截止时间 2026-12-04 09:00"  # 'zh-CN' reads Chinese too
    assert rows[ny].body == "Due 2026-12-03 20:00"
    assert svc.settings.timezone == "UTC" and rows[default].body == "Due 2026-12-04 01:00"
