"""Schedules across daylight-saving changes: one fire per local calendar slot (fake clock).

Autumn: the wall clock shows 02:00-03:00 twice; a 02:30 daily job fires at the first 02:30 only.
Spring: 02:00-03:00 does not exist; a 02:30 daily job fires once, at the first valid minute after
the gap. Three zones, both changes each (Sydney's are in April and October, the other way round).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from metacrm.flows import executor
from metacrm.flows.schedules import fire_due_schedules, next_slot, resolve_local
from metacrm.flows.tables import runs
from metacrm.meta.kinds import kind

# (zone, a day before the change at noon UTC, the change's local date, "autumn" | "spring", local gap/fold hour)
CHANGES = [
    ("Europe/Berlin", datetime(2027, 10, 30, 12, tzinfo=UTC), "2027-10-31", "autumn", 2),
    ("Europe/Berlin", datetime(2027, 3, 27, 12, tzinfo=UTC), "2027-03-28", "spring", 2),
    ("America/New_York", datetime(2027, 11, 6, 12, tzinfo=UTC), "2027-11-07", "autumn", 1),
    ("America/New_York", datetime(2027, 3, 13, 12, tzinfo=UTC), "2027-03-14", "spring", 2),
    ("Australia/Sydney", datetime(2027, 4, 3, 0, tzinfo=UTC), "2027-04-04", "autumn", 2),
    ("Australia/Sydney", datetime(2027, 10, 2, 0, tzinfo=UTC), "2027-10-03", "spring", 2),
]


def _fires(cron: str, zone: str, start: datetime, days: int = 3) -> list[tuple[datetime, datetime]]:
    out, after, slot = [], start, None
    end = start + timedelta(days=days)
    while True:
        slot, at = next_slot(cron, zone, after, slot)
        if at > end:
            return out
        out.append((slot, at))
        after = at


@pytest.mark.parametrize(("zone", "start", "day", "season", "hour"), CHANGES)
def test_a_daily_job_fires_once_per_local_day(zone, start, day, season, hour):
    cron = f"30 {hour} * * *"
    fires = _fires(cron, zone, start)
    local_days = [slot.date().isoformat() for slot, _ in fires]
    assert len(local_days) == len(set(local_days)) == 3 and day in local_days
    slot, at = next(f for f in fires if f[0].date().isoformat() == day)
    local = at.astimezone(ZoneInfo(zone))
    if season == "autumn":  # the first of the two hh:30s (the earlier UTC instant)
        assert (local.hour, local.minute, local.fold) == (hour, 30, 0)
        assert resolve_local(slot, ZoneInfo(zone)) == at
        second = slot.replace(tzinfo=ZoneInfo(zone), fold=1).astimezone(UTC)
        assert second > at and all(a != second for _, a in fires)
    else:  # hh:30 does not exist: once, at the first valid minute after the gap
        assert (local.hour, local.minute) == (hour + 1, 0)
        assert (slot.hour, slot.minute) == (hour, 30)


@pytest.mark.parametrize(("zone", "start", "day", "season", "hour"), CHANGES)
def test_a_half_hourly_job_fires_once_per_wall_clock_slot(zone, start, day, season, hour):
    fires = _fires("*/30 * * * *", zone, start, days=2)
    slots = [s for s, _ in fires]
    assert len(slots) == len(set(slots))  # no slot twice, even in the repeated hour
    instants = [a for _, a in fires]
    assert instants == sorted(instants) and len(instants) == len(set(instants))
    if season == "spring":  # the slots inside the gap fire together with the first valid one, once
        on_day = [s for s in slots if s.date().isoformat() == day]
        assert not any(s.hour == hour for s in on_day)
        assert len(on_day) == 48 - 2


def test_after_downtime_a_missed_slot_fires_once():
    start = datetime(2027, 10, 30, 12, tzinfo=UTC)
    slot, at = next_slot("30 2 * * *", "Europe/Berlin", start)
    after_a_week = at + timedelta(days=7, minutes=5)
    _, later_at = next_slot("30 2 * * *", "Europe/Berlin", after_a_week, slot)
    assert later_at > after_a_week and (later_at - after_a_week) < timedelta(days=1)


SCHEDULED = {
    "name": "nightly", "object": "lead",
    "trigger": {"type": "schedule", "cron": "30 2 * * *", "timezone": "Europe/Berlin"},
    "steps": [{"id": "done", "type": "end"}],
}


@pytest.mark.parametrize("season", ["autumn", "spring"])
def test_the_sweeper_fires_one_set_of_runs_per_local_day(standard_pack, season):
    svc = standard_pack
    svc.metadata.apply([("workflow", kind("workflow").id_of(SCHEDULED), SCHEDULED)])
    for name in ("A", "B"):
        svc.records.create("lead", {"name": name})
    start = datetime(2027, 10, 30, 12, tzinfo=UTC) if season == "autumn" else datetime(2027, 3, 27, 12, tzinfo=UTC)
    now = start
    try:
        while now < start + timedelta(days=3):  # a sweeper every 10 minutes on the fake clock
            fire_due_schedules(svc, now)
            now += timedelta(minutes=10)
        with svc.engine.connect() as conn:
            rows = conn.execute(select(runs.c.key, runs.c.context).where(runs.c.workflow == "nightly")).all()
    finally:
        executor.shutdown(svc)
    per_slot = Counter(r.context["slot"] for r in rows)
    assert len(per_slot) == 3 and set(per_slot.values()) == {2}, per_slot
    change = "2027-10-31" if season == "autumn" else "2027-03-28"
    assert f"{change}T02:30" in per_slot
    fired = {r.context["slot"]: datetime.fromisoformat(r.context["fired_at"]) for r in rows}
    local = fired[f"{change}T02:30"].astimezone(ZoneInfo("Europe/Berlin"))
    assert (local.hour, local.minute) == ((2, 30) if season == "autumn" else (3, 0))
    assert all(r.key.startswith("sched-nightly-") and "T0230-" in r.key for r in rows)
