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
