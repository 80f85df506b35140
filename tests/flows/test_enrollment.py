"""Time-driven enrollment (schedule trigger + rule): once per record per fire, the re-enrollment
policy across fires, batches that resume after a crash, a disabled workflow's fire stops.

Fake clock: the sweeper (`fire_due_schedules`) is called every 10 minutes of a made-up time.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from metacrm.flows import enrollment, executor, publish, service
from metacrm.flows.schedules import fire_due_schedules
from metacrm.flows.tables import RunStatus, runs, schedule_fires

START = datetime(2027, 5, 10, 12, tzinfo=UTC)  # 20:00 in Shanghai; the first fire is 02:00 local on the 11th
STALE = {"all": [{"field": "captured_at", "op": "is_not_empty"},
                 {"not": {"field": "captured_at", "op": "within_last", "value": {"amount": 30, "unit": "day"}}}]}


def nightly(reenroll: str | None = None) -> dict:
    doc = {"name": "stale_leads", "object": "lead",
           "trigger": {"type": "schedule", "cron": "0 2 * * *", "timezone": "Asia/Shanghai", "rule": STALE},
           "steps": [{"id": "pause", "type": "wait", "duration": {"amount": 30, "unit": "day"}}]}
    if reenroll:
        doc["enrollment"] = {"reenroll": reenroll}
    return doc


def _lead(svc, name: str, days_ago: int | None) -> int:
    data = {"name": name}
    if days_ago is not None:
        data["captured_at"] = (START - timedelta(days=days_ago)).isoformat()
    return int(svc.records.create("lead", data)["id"])


def _sweep(svc, start: datetime, hours: float) -> datetime:
    now = start
    while now < start + timedelta(hours=hours):
        fire_due_schedules(svc, now)
        now += timedelta(minutes=10)
    return now


def _runs(svc) -> list:
    with svc.engine.connect() as conn:
        return conn.execute(select(runs.c.id, runs.c.record_id, runs.c.status, runs.c.context)
                            .where(runs.c.workflow == "stale_leads")).all()


@pytest.fixture
def crm(standard_pack):
    yield standard_pack
    executor.shutdown(standard_pack)


@pytest.mark.parametrize(("policy", "second", "after_cancel"), [
    (None, 2, 2),          # schedules re-enroll every fire by default
    ("always", 2, 2),
    ("after_end", 0, 2),   # not while the previous run is open
    ("never", 0, 0),       # once per record, ever
])
def test_a_nightly_pass_enrolls_matching_records_per_its_policy(crm, policy, second, after_cancel):
    crm.metadata.apply([("workflow", "stale_leads", nightly(policy))])
    stale = {_lead(crm, "Old A", 40), _lead(crm, "Old B", 31)}
    _lead(crm, "Fresh", 5)
    _lead(crm, "Never contacted", None)
    now = _sweep(crm, START, 24)  # one 02:00 Shanghai
    first = _runs(crm)
    assert Counter(r.record_id for r in first) == Counter(stale)  # each matching record once, nobody else
    assert {r.context["slot"] for r in first} == {"2027-05-11T02:00"}
    now = _sweep(crm, now, 24)
    assert len(_runs(crm)) - len(first) == second
    for r in _runs(crm):
        if r.status in RunStatus.OPEN:
            service.cancel_run(crm, r.id)
    before = len(_runs(crm))
    _sweep(crm, now, 24)
    assert len(_runs(crm)) - before == after_cancel
    fires = enrollment.fires(crm, "stale_leads")
    assert len(fires) == 3 and all(f["done"] for f in fires)
    assert sum(f["started"] for f in fires) == len(_runs(crm))


def test_batches_resume_after_a_crash_without_losing_or_repeating_a_record(crm, monkeypatch):
    monkeypatch.setattr(enrollment, "BATCH", 3)
    crm.metadata.apply([("workflow", "stale_leads", nightly())])
    stale = [_lead(crm, f"Old {i}", 40 + i) for i in range(10)]
    _lead(crm, "Fresh", 1)
    real = enrollment.start_runs
    calls = {"n": 0}

    def crash_on_the_second_batch(conn, specs, now=None):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("worker killed")
        return real(conn, specs, now)

    monkeypatch.setattr(enrollment, "start_runs", crash_on_the_second_batch)
    fire_at = datetime(2027, 5, 10, 18, 0, tzinfo=UTC)  # 02:00 in Shanghai
    assert fire_due_schedules(crm, fire_at - timedelta(hours=1)) == 0  # the schedule is set up, nothing due
    with pytest.raises(RuntimeError):
        fire_due_schedules(crm, fire_at + timedelta(minutes=1))
    assert sorted(r.record_id for r in _runs(crm)) == stale[:3]  # the first batch committed, the second did not
    with crm.engine.connect() as conn:
        cursor = conn.execute(select(schedule_fires.c.after_id, schedule_fires.c.done_at)).one()
    assert cursor.after_id == stale[2] and cursor.done_at is None
    fire_due_schedules(crm, fire_at + timedelta(minutes=11))  # the next sweep resumes; nothing new is due
    assert Counter(r.record_id for r in _runs(crm)) == Counter(stale)
    assert enrollment.fires(crm) == [{"workflow": "stale_leads", "slot": "2027-05-11T02:00",
                                      "fired_at": fire_at.isoformat(), "started": 10, "skipped": 0, "done": True}]


def test_a_sweep_takes_a_bounded_share_and_a_disabled_workflow_stops_its_fire(crm, monkeypatch):
    monkeypatch.setattr(enrollment, "BATCH", 2)
    monkeypatch.setattr(enrollment, "MAX_BATCHES", 1)
    crm.metadata.apply([("workflow", "stale_leads", nightly())])
    for i in range(5):
        _lead(crm, f"Old {i}", 40)
    fire_at = datetime(2027, 5, 10, 18, 0, tzinfo=UTC)
    assert fire_due_schedules(crm, fire_at - timedelta(hours=1)) == 0
    assert fire_due_schedules(crm, fire_at) == 2
    assert fire_due_schedules(crm, fire_at + timedelta(seconds=2)) == 2  # the next sweep goes on
    publish.set_enabled(crm, "stale_leads", False)
    assert fire_due_schedules(crm, fire_at + timedelta(seconds=4)) == 0
    assert len(_runs(crm)) == 4
    assert enrollment.fires(crm)[0]["done"] is True


def test_segment_and_rule_both_scope_the_audience(crm):
    doc = nightly()
    doc["trigger"]["segment"] = "in_shanghai"
    crm.metadata.apply([("segment", "in_shanghai", {"name": "in_shanghai", "label": {"en": "In Shanghai"},
                                                     "object": "lead",
                                                     "rule": {"field": "city", "op": "eq", "value": "shanghai"}}),
                        ("workflow", "stale_leads", doc)])
    inside = _lead(crm, "Old here", 40)
    crm.records.update("lead", inside, {"city": "shanghai"})
    elsewhere = _lead(crm, "Old there", 40)
    crm.records.update("lead", elsewhere, {"city": "beijing"})
    _lead(crm, "Fresh here", 1)
    _sweep(crm, START, 24)
    assert [r.record_id for r in _runs(crm)] == [inside]  # in the segment and stale
