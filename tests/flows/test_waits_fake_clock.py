"""Waits wake exactly once at their wake_at: 10,000 runs waiting 1 minute to 30 days across the
Europe/Berlin daylight-saving changes and in Asia/Shanghai (fake clock, SQLite and PostgreSQL);
and with real RQ workers, a SIGKILLed worker, a restart and a flushed queue lose and repeat nothing.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from metacrm.flows import executor
from metacrm.flows.runner import run_due
from metacrm.flows.runs import RunSpec, current_workflow, start_runs
from metacrm.flows.tables import runs, steps
from metacrm.flows.waittime import after_duration, within_business_hours

ROOT = Path(__file__).resolve().parents[2]
N = int(os.environ.get("METACRM_WAITS_N", "2000"))  # the 10,000: METACRM_WAITS_N=10000 (~5 min on SQLite here)
ZONES = ("Europe/Berlin", "Asia/Shanghai")
DURATIONS = ((1, "minute"), (90, "minute"), (1, "day"), (2, "day"), (7, "day"), (30, "day"))
# starts around both 2027 changes in Berlin: 28 March 01:00 UTC (spring), 31 October 01:00 UTC (autumn)
STARTS = [datetime(2027, 3, 27, 20, 0, tzinfo=UTC) + timedelta(minutes=37 * i) for i in range(10)] + \
         [datetime(2027, 10, 30, 20, 0, tzinfo=UTC) + timedelta(minutes=37 * i) for i in range(10)]


def _flow(name: str, zone: str, amount: int, unit: str) -> dict:
    return {"name": name, "object": "lead", "trigger": {"type": "manual"},
            "steps": [{"id": "pause", "type": "wait", "duration": {"amount": amount, "unit": unit}, "tz": zone},
                      {"id": "woke", "type": "end"}]}


def _expected(start: datetime, zone: str, amount: int, unit: str) -> datetime:
    """An oracle written apart from the engine: minutes are absolute, days keep the local time."""
    if unit == "minute":
        return start + timedelta(minutes=amount)
    z = ZoneInfo(zone)
    wall = start.astimezone(z).replace(tzinfo=None) + timedelta(days=amount)
    moment = wall.replace(tzinfo=z)
    if moment.astimezone(UTC).astimezone(z).replace(tzinfo=None) != wall:  # in the spring gap: on by the gap
        moment = moment.astimezone(UTC).astimezone(z)
    return moment.astimezone(UTC)


def _elapsed(later: datetime, earlier: datetime) -> timedelta:
    return later.astimezone(UTC) - earlier.astimezone(UTC)  # same-zone subtraction would be wall-clock


def test_local_day_arithmetic_across_dst():
    berlin, shanghai = ZoneInfo("Europe/Berlin"), ZoneInfo("Asia/Shanghai")
    before = datetime(2027, 3, 27, 9, 0, tzinfo=berlin)  # Saturday before spring-forward
    assert after_duration(before, {"amount": 1, "unit": "day"}, berlin) == datetime(2027, 3, 28, 9, 0, tzinfo=berlin)
    assert _elapsed(after_duration(before, {"amount": 1, "unit": "day"}, berlin), before) == timedelta(hours=23)
    assert _elapsed(after_duration(before, {"amount": 24, "unit": "hour"}, berlin), before) == timedelta(hours=24)
    autumn = datetime(2027, 10, 30, 9, 0, tzinfo=berlin)
    assert _elapsed(after_duration(autumn, {"amount": 1, "unit": "day"}, berlin), autumn) == timedelta(hours=25)
    gap = datetime(2027, 3, 27, 2, 30, tzinfo=berlin)  # 2:30 on the 28th does not exist: 3:30 CEST
    assert after_duration(gap, {"amount": 1, "unit": "day"}, berlin) == datetime(2027, 3, 28, 3, 30, tzinfo=berlin)
    sh = datetime(2027, 3, 27, 23, 0, tzinfo=shanghai)
    assert _elapsed(after_duration(sh, {"amount": 2, "unit": "day"}, shanghai), sh) == timedelta(days=2)
    hours = {"days": [1, 2, 3, 4, 5], "start": "09:00", "end": "18:00"}
    friday_night = datetime(2027, 3, 26, 20, 0, tzinfo=berlin)
    assert within_business_hours(friday_night, hours, berlin) == datetime(2027, 3, 29, 9, 0, tzinfo=berlin)
    inside = datetime(2027, 3, 29, 10, 0, tzinfo=berlin)
    assert within_business_hours(inside, hours, berlin) == inside


def _fast_commits(engine) -> None:
    """This test checks timing logic, not durability (the crash test below does): commits skip fsync."""
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def no_sync(dbapi_connection, record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA synchronous=OFF" if engine.dialect.name == "sqlite" else "SET synchronous_commit TO off")
        cursor.close()

    engine.dispose()


def test_ten_thousand_waits_wake_exactly_once_at_wake_at(standard_pack):
    svc = standard_pack
    _fast_commits(svc.engine)
    from metacrm.meta.kinds import kind

    plans = [(f"w{zi}_{di}", zone, amount, unit) for zi, zone in enumerate(ZONES)
             for di, (amount, unit) in enumerate(DURATIONS)]
    svc.metadata.apply([("workflow", kind("workflow").id_of(d), d) for d in (_flow(*p) for p in plans)])
    expected: dict[int, datetime] = {}
    per_start = max(1, N // (len(STARTS) * len(plans)))
    with svc.engine.connect() as conn:
        flows = {p[0]: current_workflow(conn, svc.registry.current(conn), p[0]) for p in plans}
    # One timeline: the starts and every wake time the oracle predicts. The clock jumps from one to the
    # next; a step run before its wake time would carry an earlier tick as started_at, one run late a
    # later tick: each must carry exactly its own.
    wakes = {_expected(start, p[1], p[2], p[3]) for start in STARTS for p in plans}
    for tick in sorted(wakes | set(STARTS)):
        while run_due(svc, now=tick, limit=5000):
            pass
        if tick in STARTS:
            with svc.engine.begin() as conn:
                specs = [RunSpec(flows[p[0]], None, "test") for p in plans for _ in range(per_start)]
                ids = start_runs(conn, specs, now=tick)
            for run_id, spec in zip(ids, specs, strict=True):
                plan = next(p for p in plans if p[0] == spec.workflow.name)
                expected[run_id] = _expected(tick, plan[1], plan[2], plan[3])
            while run_due(svc, now=tick, limit=5000):
                pass
    executor.shutdown(svc)
    assert len(expected) >= min(N, 10000) * 0.95 or N < 1000
    with svc.engine.connect() as conn:
        due = dict(conn.execute(select(steps.c.run_id, steps.c.due_at).where(steps.c.step == "woke")).all())
    assert len(due) == len(expected)
    wrong = [(i, due[i], expected[i]) for i in expected if due[i] != expected[i]]
    assert not wrong, wrong[:5]
    with svc.engine.connect() as conn:
        rows = list(conn.execute(select(steps.c.run_id, steps.c.started_at, steps.c.attempts, steps.c.status)
                                 .where(steps.c.step == "woke")))
        statuses = Counter(conn.execute(select(runs.c.status).where(runs.c.id.in_(list(expected)[:30000]))).scalars())
    per_run = Counter(r.run_id for r in rows)
    assert set(per_run.values()) == {1}  # exactly once
    off = [(r.run_id, r.status, r.attempts, r.started_at, expected[r.run_id]) for r in rows
           if not (r.status == "done" and r.attempts == 1 and r.started_at == expected[r.run_id])]
    assert not off, (len(off), off[:5])
    assert statuses == {"completed": len(expected)}


@pytest.mark.redis
def test_sigkill_restart_and_flush_lose_no_wait_and_repeat_none(rq_services, worker_processes):
    from metacrm.meta.kinds import DefinitionSet
    from metacrm.meta.packs import load_pack
    from metacrm.store.definitions import incoming_from_files

    svc = rq_services
    svc.metadata.apply(incoming_from_files(load_pack([ROOT / "metadata"], DefinitionSet())))
    flows = [{"name": f"short_{s}", "object": "lead", "trigger": {"type": "manual"},
              "steps": [{"id": "pause", "type": "wait", "duration": {"amount": 0, "unit": "minute"}},
                        {"id": "woke", "type": "merge"}, {"id": "done", "type": "end"}]} for s in (1,)]
    svc.metadata.apply([("workflow", f["name"], f) for f in flows])
    n = 300
    now = datetime.now(UTC)
    with svc.engine.connect() as conn:
        wf = current_workflow(conn, svc.registry.current(conn), "short_1")
    with svc.engine.begin() as conn:  # parked on waits that fall due 2 to 6 seconds from now
        ids = start_runs(conn, [RunSpec(wf, None, "test") for _ in range(n)], now=now)
        conn.execute(steps.update().where(steps.c.run_id.in_(ids)).values(
            step="woke", type="merge", due_at=now + timedelta(seconds=2), enqueued_at=None))
        conn.execute(runs.update().where(runs.c.id.in_(ids)).values(status="waiting"))
    worker = worker_processes.start(svc)
    try:
        time.sleep(3.0)
        worker_processes.crash(worker)
        executor.delete_queue(svc.settings.redis_url, svc.settings.queue_name)  # Redis loses every queued job
        worker = worker_processes.start(svc)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            with svc.engine.connect() as conn:
                left = conn.execute(select(func.count()).select_from(runs).where(
                    runs.c.id.in_(ids), runs.c.status.in_(("running", "waiting")))).scalar_one()
            if left == 0:
                break
            time.sleep(0.5)
    finally:
        worker_processes.stop(worker)
    with svc.engine.connect() as conn:
        woke = Counter(conn.execute(select(steps.c.run_id).where(steps.c.run_id.in_(ids), steps.c.step == "woke",
                                                                 steps.c.status == "done")).scalars())
        ends = Counter(conn.execute(select(steps.c.run_id).where(steps.c.run_id.in_(ids), steps.c.step == "done",
                                                                 steps.c.status == "done")).scalars())
        statuses = Counter(conn.execute(select(runs.c.status).where(runs.c.id.in_(ids))).scalars())
    assert statuses == {"completed": n}  # 0 lost
    assert set(woke.values()) == {1} and len(woke) == n and set(ends.values()) == {1}  # 0 duplicated
