"""Per-channel send rates: over the limit a message waits for the next window, across workers."""

from __future__ import annotations

import random
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from metacrm.config import Settings
from metacrm.flows import channels, executor
from metacrm.flows.delivery import deliver
from metacrm.flows.sweeper import sweep_deliveries
from metacrm.flows.tables import counters, outbox

T0 = datetime(2031, 5, 4, 10, 0, 7, tzinfo=UTC)  # in the future: jobs on the real clock leave these rows alone
WINDOW_END = datetime(2031, 5, 4, 10, 1, 0, tzinfo=UTC)


class Gateway:
    name = "test_sms"

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.lock = threading.Lock()

    def send(self, message):
        with self.lock:
            self.sent.append(message.key)
        return "ok"


@pytest.fixture
def settings(settings):
    return replace(settings, send_rates=(("sms", 2, 60),))


@pytest.fixture
def gateway(services, monkeypatch):
    found = Gateway()
    monkeypatch.setitem(channels._factories, "sms", lambda settings: found)
    yield found
    executor.shutdown(services)


def _queue(svc, n: int, channel: str = "sms") -> list[int]:
    with svc.engine.begin() as conn:
        return [int(conn.execute(outbox.insert().values(
            channel=channel, adapter="test_sms", recipient=f"+86138000000{i:02d}", body="hi", status="pending",
            attempts=0, key=f"msg-{channel}-{i}", created_at=T0, next_at=T0).returning(outbox.c.id)).scalar_one())
            for i in range(n)]


def _rows(svc):
    with svc.engine.connect() as conn:
        return {r.id: r for r in conn.execute(select(outbox))}


def test_send_rate_setting():
    env = {"METACRM_SECRET_KEY": "k", "METACRM_SEND_RATE": " email=600/min, SMS=100/Second ,wechat=5000/day"}
    assert Settings.from_env(env).send_rates == (("email", 600, 60), ("sms", 100, 1), ("wechat", 5000, 86400))
    assert Settings.from_env({"METACRM_SECRET_KEY": "k"}).send_rates == ()
    for bad in ("email=600", "email=0/min", "email=ten/min", "email=6/fortnight", "=6/min"):
        with pytest.raises(ValueError, match="SEND_RATE"):
            Settings.from_env({"METACRM_SECRET_KEY": "k", "METACRM_SEND_RATE": bad})


def test_over_the_rate_messages_wait_for_the_next_window(services, gateway):
    ids = _queue(services, 5)
    email = _queue(services, 3, channel="email")  # no limit on e-mail: all handed out
    assert sweep_deliveries(services, now=T0) == 2 + 3  # the window's room for sms, all e-mail
    for i in ids + email:
        deliver(services, i, now=T0)
    rows = _rows(services)
    assert [rows[i].status for i in ids] == ["sent", "sent", "pending", "pending", "pending"]
    for i in ids[2:]:  # deferred, not failed: no attempt counted, no error, due when the window ends
        assert (rows[i].attempts, rows[i].error, rows[i].next_at) == (0, None, WINDOW_END)
    assert sweep_deliveries(services, now=T0 + timedelta(seconds=30)) == 0  # window full, nothing due

    later = WINDOW_END + timedelta(seconds=1)
    assert sweep_deliveries(services, now=later) == 2  # three are due; the new window has room for two
    for i in ids[2:]:
        deliver(services, i, now=later)
    rows = _rows(services)
    assert [rows[i].status for i in ids] == ["sent"] * 4 + ["pending"]
    assert rows[ids[4]].next_at == WINDOW_END + timedelta(seconds=60)
    deliver(services, ids[4], now=WINDOW_END + timedelta(seconds=61))
    assert _rows(services)[ids[4]].status == "sent"
    assert sorted(gateway.sent) == [f"msg-sms-{i}" for i in range(5)]  # each once
    with services.engine.connect() as conn:  # old windows are cleared as new ones start
        assert conn.execute(select(counters.c.key).where(counters.c.key.like("rate:%"))).scalars().all() == [
            f"rate:sms:{int((WINDOW_END + timedelta(seconds=60)).timestamp()):012d}"]
    assert {_rows(services)[i].status for i in email} == {"stored"}  # no e-mail adapter in this test


def test_the_rate_holds_across_concurrent_workers(services, gateway):
    ids = _queue(services, 12)
    errors: list[BaseException] = []

    def worker(seed: int) -> None:
        order = ids[:]
        random.Random(seed).shuffle(order)
        try:
            for i in order:  # every worker is handed every message (duplicate jobs)
                deliver(services, i, now=T0)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    rows = _rows(services).values()
    assert len(gateway.sent) == len(set(gateway.sent)) == 2  # the limit, each message once
    assert sorted(r.status for r in rows) == ["pending"] * 10 + ["sent"] * 2
    assert all(r.attempts == (1 if r.status == "sent" else 0) for r in rows)
    assert all(r.next_at == WINDOW_END for r in rows if r.status == "pending")
