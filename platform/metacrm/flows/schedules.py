"""Schedule triggers: cron expressions in a time zone, fired by the sweeper over a segment or rule.

`wf_schedule` keeps each scheduled workflow's next fire time, kept in step with the definitions
by the sweeper. Firing claims the row with a conditional update (so one sweeper fires it, however
many run) and records the fire (`wf_schedule_fire`) in the same transaction; enrollment.py then
starts one run per matching record in batches, resumable after a crash; each run's key
(`sched-<workflow>-<local slot>-<record>`) makes a fire start a record's run at most once. After
downtime a missed fire runs once, not once per missed time.

The DST rule: a schedule fires once per *local calendar slot*. Cron is matched against the wall
clock of the schedule's zone (naive local times); a slot that occurs twice (the autumn change)
fires at its first occurrence only, and a slot that does not exist (the spring-forward gap) fires
once, at the first valid instant after the gap. The slot (not the UTC instant) is the fire's
identity, kept in `wf_schedule.slot` and in the run keys.

The daily maintenance pass (`Settings.maintenance_cron`, in the installation's time zone) is one
more row, `@maintenance` (not a workflow name: those are identifiers), claimed the same way; its
fire enqueues, after commit, the jobs engines registered with `on_maintenance` (flows imports no
engine). Losing that enqueue (a crash right after the commit) skips one day's pass: the next fire
or `metacrm tags recompute` catches up, since the pass is a set-based recompute.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from croniter import croniter
from sqlalchemy import Connection, delete, select, update

from .aftercommit import later
from .enrollment import advance, open_fire
from .model import Workflow
from .runs import current_workflows, utcnow
from .tables import schedule_fires, schedules

if TYPE_CHECKING:
    from ..config import Settings
    from ..store.services import Services

MAINTENANCE = "@maintenance"
_maintenance: dict[str, dict[str, Any]] = {}


def on_maintenance(job_name: str, **kwargs: Any) -> None:
    """Have every maintenance fire enqueue the background job `job_name(fired_at=..., **kwargs)`."""
    _maintenance[job_name] = kwargs


def _exists(slot: datetime, zone: ZoneInfo) -> bool:
    return slot.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None) == slot


def resolve_local(slot: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant of a naive local wall-clock time: its first occurrence when the clock shows it
    twice (fold 0), or the first valid wall-clock minute after the gap when the clock skips it."""
    moment = slot
    for _ in range(24 * 60):  # gaps are an hour or so; a day bounds any zone's oddity
        if _exists(moment, zone):
            return moment.replace(tzinfo=zone, fold=0).astimezone(UTC)
        moment = (moment + timedelta(minutes=1)).replace(second=0, microsecond=0)
    raise ValueError(f"{slot.isoformat()} does not exist in {zone.key}")


def next_slot(cron: str, timezone: str, after: datetime,
              last_slot: datetime | None = None) -> tuple[datetime, datetime]:
    """(local slot, UTC fire time) of the first cron slot after `after` that has not fired yet.

    Slots are naive local wall-clock times; one already fired (`last_slot` or earlier) never fires
    again, even when the wall clock shows it a second time. Slots that fall into one gap fire
    together, once, as the last of them.
    """
    zone = ZoneInfo(timezone)
    start = after.astimezone(zone).replace(tzinfo=None)
    if last_slot is not None and last_slot > start:
        start = last_slot
    it = croniter(cron, start)
    for _ in range(10000):
        slot = it.get_next(datetime)
        fire_at = resolve_local(slot, zone)
        if fire_at <= after:
            continue
        while True:  # later slots firing at the same instant (a gap) are the same fire
            peek = croniter(cron, slot).get_next(datetime)
            if resolve_local(peek, zone) != fire_at:
                return slot, fire_at
            slot = peek
    raise ValueError(f"cron '{cron}' has no slot after {after.isoformat()}")


def next_fire(cron: str, timezone: str, after: datetime) -> datetime:
    """The first fire time strictly after `after`, in UTC (see `next_slot`)."""
    return next_slot(cron, timezone, after)[1]


def slot_text(slot: datetime) -> str:
    return slot.strftime("%Y-%m-%dT%H:%M")


def _wanted(workflows: dict[str, Workflow], settings: Settings) -> dict[str, tuple[str, str]]:
    out = {}
    for name, wf in workflows.items():
        trigger = wf.trigger
        if wf.enabled and trigger.get("type") == "schedule":
            out[name] = (str(trigger["cron"]), str(trigger.get("timezone") or settings.timezone))
    if _maintenance and settings.maintenance_cron:
        out[MAINTENANCE] = (settings.maintenance_cron, settings.timezone)
    return out


def _parse_slot(text: str | None) -> datetime | None:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M") if text else None


def _sync(conn: Connection, wanted: dict[str, tuple[str, str]], have: dict[str, Any], now: datetime) -> None:
    for name in set(have) - set(wanted):
        conn.execute(delete(schedules).where(schedules.c.workflow == name))
    for name, (cron, tz) in wanted.items():
        row = have.get(name)
        if row is None or (row.cron, row.timezone) != (cron, tz):
            slot, at = next_slot(cron, tz, now)
            values = {"cron": cron, "timezone": tz, "next_at": at, "slot": slot_text(slot)}
            if row is None:
                conn.execute(schedules.insert().values(workflow=name, **values))
            else:
                conn.execute(update(schedules).where(schedules.c.workflow == name).values(**values))


def _open_fires(services: Services) -> bool:
    with services.engine.connect() as conn:
        return conn.execute(select(schedule_fires.c.slot).where(schedule_fires.c.done_at.is_(None)).limit(1)).first() \
            is not None


def fire_due_schedules(services: Services, now: datetime | None = None) -> int:
    """Bring schedules in line with the definitions and settings, fire the due ones, and enroll the
    next batches of open fires (enrollment.py); return runs started."""
    now = now or utcnow()
    with services.engine.connect() as conn:
        snapshot = services.registry.current(conn)
        wanted = _wanted(current_workflows(conn, snapshot), services.settings)
        have = {r.workflow: r for r in conn.execute(select(schedules))}
    in_step = all(n in have and (have[n].cron, have[n].timezone) == v for n, v in wanted.items()) \
        and set(have) <= set(wanted)
    due = [r for r in have.values() if r.workflow in wanted and r.next_at <= now]
    if in_step and not due:
        return advance(services, now) if _open_fires(services) else 0
    with services.engine.begin() as conn:
        _sync(conn, wanted, have, now)
        for row in due:
            fired_slot = _parse_slot(row.slot) or row.next_at.astimezone(ZoneInfo(row.timezone)).replace(
                tzinfo=None, second=0, microsecond=0)
            slot, at = next_slot(row.cron, row.timezone, now, fired_slot)
            claimed = conn.execute(update(schedules).where(
                schedules.c.workflow == row.workflow, schedules.c.next_at == row.next_at).values(
                next_at=at, slot=slot_text(slot), last_at=row.next_at, last_slot=slot_text(fired_slot)))
            if claimed.rowcount != 1:
                continue
            if row.workflow == MAINTENANCE:
                for job_name, kwargs in _maintenance.items():
                    later(conn, job_name, fired_at=row.next_at.isoformat(), **kwargs)
            else:
                open_fire(conn, row.workflow, slot_text(fired_slot), row.next_at)
    return advance(services, now)
