"""The daily maintenance pass: the sweeper fires it at METACRM_MAINTENANCE_CRON (once, however many
sweepers run; once after downtime), and it re-evaluates the rules that read the clock, only those."""

from __future__ import annotations

import contextlib
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select, update

from metacrm.config import Settings
from metacrm.engines import tags
from metacrm.engines.tag_store import segment_members, tag_links
from metacrm.engines.wiring import build_services
from metacrm.flows import executor, jobs
from metacrm.flows import schedules as schedule_module
from metacrm.flows.schedules import MAINTENANCE
from metacrm.flows.sweeper import sweep
from metacrm.flows.tables import schedules
from metacrm.store.events import timeline

LEAD = {"$id": "lead", "type": "object", "properties": {"score": {"x-field": "integer"}}}
RECENT = {"field": "created_at", "op": "within_last", "value": {"amount": 1, "unit": "day"}}
DEFS = [
    ("tag", {"name": "fresh", "label": {"en": "Fresh"}, "objects": ["lead"], "rule": RECENT}),
    ("tag", {"name": "hot", "label": {"en": "Hot"}, "objects": ["lead"],
             "rule": {"field": "score", "op": "gte", "value": 80}}),
    # no clock of its own, but it tests a tag that has one
    ("segment", {"name": "fresh_hot", "label": {"en": "Fresh and hot"}, "object": "lead", "track": True,
                 "rule": {"all": [{"op": "has_tag", "value": "fresh"}, {"op": "has_tag", "value": "hot"}]}}),
]


@pytest.fixture
def svc(services, apply_docs):
    apply_docs(services, ("object", LEAD), *DEFS)
    yield services
    executor.shutdown(services)


@pytest.fixture
def fired(monkeypatch):
    """Replace the maintenance job by one that records its calls (the fire times)."""
    calls: list[str] = []
    lock = threading.Lock()

    def record(services, fired_at=None):
        with lock:
            calls.append(fired_at)

    monkeypatch.setitem(jobs._jobs, "rules.maintenance", record)
    return calls


def next_at(svc):
    with svc.engine.connect() as conn:
        return conn.execute(select(schedules.c.next_at).where(schedules.c.workflow == MAINTENANCE)).scalar_one()


def test_the_pass_refreshes_clock_rules_only_and_logs_events(svc):
    a, b = svc.records.bulk_create("lead", [{"score": 90}, {"score": 90}]).ids
    table = svc.registry.current().tables["lead"]
    with svc.engine.begin() as conn:  # time passes for a (behind the record service), b drifts
        conn.execute(update(table).where(table.c.id == a).values(created_at=datetime.now(UTC) - timedelta(days=3)))
        conn.execute(delete(tag_links).where(tag_links.c.record_id == b, tag_links.c.tag == "hot"))
    now = datetime.now(UTC)
    assert sweep(svc, now) == 0  # the maintenance row is created, not due yet
    due = next_at(svc)
    assert now < due <= now + timedelta(days=1)
    sweep(svc, due + timedelta(seconds=1))
    assert executor.wait_idle(svc, 30)
    with svc.engine.connect() as conn:
        assert tags.tags_of(conn, "lead", [a, b]) == {a: ["hot"], b: ["fresh"]}  # b's drift is not a clock rule's
        members = set(conn.execute(select(segment_members.c.record_id)).scalars())
        events = [(e["kind"], e["context"]) for e in timeline(conn, "lead", a)]
    assert members == set()
    assert events[:2] == [("segment_left", {"segment": "fresh_hot"}), ("tag_removed", {"tag": "fresh", "source": "auto"})]
    assert next_at(svc) > due


def test_two_sweepers_fire_it_once(svc, settings, fired, monkeypatch):
    other = build_services(settings)  # a second process on the same database
    try:
        now = datetime.now(UTC)
        sweep(svc, now)
        fire_at = next_at(svc) + timedelta(seconds=1)
        # on PostgreSQL both sweepers read the row as due before either claims it, so only the
        # conditional claim keeps the second from firing; SQLite transactions take its one write
        # lock when they begin, so there the second reads after the first committed
        both_read = threading.Barrier(2, timeout=2)
        sync = schedule_module._sync

        def sync_after_both_read(*args):
            with contextlib.suppress(threading.BrokenBarrierError):
                both_read.wait()
            sync(*args)

        monkeypatch.setattr(schedule_module, "_sync", sync_after_both_read)

        def run(s):
            sweep(s, fire_at)

        threads = [threading.Thread(target=run, args=(s,)) for s in (svc, other)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert executor.wait_idle(svc, 10) and executor.wait_idle(other, 10)
        assert fired == [(fire_at - timedelta(seconds=1)).isoformat()]
    finally:
        executor.shutdown(other)
        other.close()


def test_a_missed_fire_after_downtime_runs_once(services, settings, apply_docs, fired):
    svc = build_services(replace(settings, timezone="Asia/Shanghai"))
    try:
        now = datetime.now(UTC)
        sweep(svc, now)
        first = next_at(svc)
        assert (first.hour, first.minute) == (19, 15)  # 03:15 in Shanghai
        back = first + timedelta(days=3, hours=2)  # down for three fire times
        sweep(svc, back)
        sweep(svc, back)
        assert executor.wait_idle(svc, 10)
        assert fired == [first.isoformat()]
        assert back < next_at(svc) <= back + timedelta(days=1)
    finally:
        executor.shutdown(svc)
        svc.close()


def test_the_setting(services, settings, fired):
    assert Settings.from_env({"METACRM_SECRET_KEY": "k"}).maintenance_cron == "15 3 * * *"
    assert Settings.from_env({"METACRM_SECRET_KEY": "k", "METACRM_MAINTENANCE_CRON": "0 * * * *"}).maintenance_cron \
        == "0 * * * *"
    with pytest.raises(ValueError, match="MAINTENANCE_CRON"):
        Settings.from_env({"METACRM_SECRET_KEY": "k", "METACRM_MAINTENANCE_CRON": "daily"})
    off = build_services(replace(settings, maintenance_cron=Settings.from_env(
        {"METACRM_SECRET_KEY": "k", "METACRM_MAINTENANCE_CRON": "off"}).maintenance_cron))
    try:
        sweep(off, datetime.now(UTC))
        with off.engine.connect() as conn:
            assert conn.execute(select(schedules)).first() is None
        sweep(off, datetime.now(UTC) + timedelta(days=2))
        assert fired == []
    finally:
        executor.shutdown(off)
        off.close()
