"""A failed run reaches the workflow's owner (or the admins) once per workflow per hour; a daily digest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from metacrm.auth import accounts
from metacrm.flows.alerts import send_alerts
from metacrm.flows.tables import notifications, runs
from metacrm.store.users import ensure_user

FLOW = {"name": "flaky", "object": "lead", "trigger": {"type": "manual"}, "owner": "olga",
        "steps": [{"id": "x", "type": "merge"}]}


def _fail(svc, n, when):
    with svc.engine.begin() as conn:
        for _ in range(n):
            conn.execute(runs.insert().values(workflow="flaky", version=1, object="lead", status="failed", trigger="t",
                                              depth=0, steps_done=0, created_at=when, updated_at=when, finished_at=when,
                                              error={"code": "boom", "message": "receiver said 500"}))


def _notes(svc, uid):
    with svc.engine.connect() as conn:
        return list(conn.execute(select(notifications.c.title, notifications.c.body)
                                 .where(notifications.c.user_id == uid).order_by(notifications.c.id)))


def test_owner_alerted_once_per_hour_and_admins_get_the_digest(standard_pack):
    svc = standard_pack
    svc.metadata.apply([("workflow", "flaky", FLOW)])
    with svc.engine.begin() as conn:
        olga = ensure_user(conn, "olga")
        boss = ensure_user(conn, "boss")
        accounts.set_admin(conn, boss, True)
    now = datetime(2027, 5, 4, 10, 10, tzinfo=UTC)  # after the digest hour in UTC and in Shanghai
    _fail(svc, 3, now - timedelta(minutes=5))
    send_alerts(svc, now)
    send_alerts(svc, now + timedelta(minutes=20))  # same hour: nothing new
    notes = _notes(svc, olga)
    assert len(notes) == 1 and "3 failed" in notes[0].title and "receiver said 500" in notes[0].body
    _fail(svc, 1, now + timedelta(hours=1, minutes=1))
    send_alerts(svc, now + timedelta(hours=1, minutes=2))
    assert len(_notes(svc, olga)) == 2  # the next hour alerts again
    digest = [n for n in _notes(svc, boss) if n.title.startswith("Failing workflows")]
    assert len(digest) == 1 and "flaky: 3 failed" in digest[0].body  # once that day


def test_alerts_and_digest_in_each_readers_language_and_zone(standard_pack):
    svc = standard_pack
    svc.metadata.apply([("workflow", "flaky", {**{k: v for k, v in FLOW.items() if k != "owner"},
                                                   "label": {"en": "Flaky hook", "zh": "不稳定的钩子"}})])
    with svc.engine.begin() as conn:
        zh = ensure_user(conn, "zh_admin", language="zh-CN", time_zone="Asia/Shanghai")
        en = ensure_user(conn, "en_admin", language="en", time_zone="America/New_York")
        for uid in (zh, en):
            accounts.set_admin(conn, uid, True)
    now = datetime(2027, 5, 4, 13, 10, tzinfo=UTC)  # 21:10 in Shanghai, 09:10 in New York: both past 08:00
    _fail(svc, 2, now - timedelta(minutes=5))
    send_alerts(svc, now)
    zh_notes, en_notes = _notes(svc, zh), _notes(svc, en)
    assert zh_notes[0].title == "工作流「不稳定的钩子」：21:00 起有 2 次运行失败"
    assert zh_notes[0].body.startswith("首个错误（运行 ") and "receiver said 500" in zh_notes[0].body
    assert en_notes[0].title == "Workflow Flaky hook: 2 failed run(s) since 09:00"
    assert en_notes[0].body.startswith("First error (run ")
    assert (zh_notes[1].title, zh_notes[1].body) == ("运行失败的工作流（1 个）", "不稳定的钩子：失败 2 次")
    assert (en_notes[1].title, en_notes[1].body) == ("Failing workflows (1)", "Flaky hook: 2 failed")


def test_digest_waits_for_08_00_in_the_admins_own_zone(standard_pack):
    svc = standard_pack
    svc.metadata.apply([("workflow", "flaky", {**FLOW, "owner": "olga"})])
    with svc.engine.begin() as conn:
        ensure_user(conn, "olga")
        early = ensure_user(conn, "early", time_zone="America/Los_Angeles")
        late = ensure_user(conn, "late", time_zone="Asia/Tokyo")
        for uid in (early, late):
            accounts.set_admin(conn, uid, True)
    now = datetime(2027, 5, 4, 12, 0, tzinfo=UTC)  # 21:00 in Tokyo, 05:00 in Los Angeles
    _fail(svc, 1, now - timedelta(minutes=5))
    send_alerts(svc, now)
    assert [n.title for n in _notes(svc, late)] == ["Failing workflows (1)"]
    assert _notes(svc, early) == []  # Los Angeles' 08:00 has not come yet
    send_alerts(svc, now + timedelta(hours=3))  # 08:00 in Los Angeles
    assert [n.title for n in _notes(svc, early)] == ["Failing workflows (1)"]
    assert len(_notes(svc, late)) == 1
