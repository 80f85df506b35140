"""Time-driven enrollment: a scheduled workflow enrolls the records its condition selects, in batches.

"Every day at 02:00 Asia/Shanghai, every lead whose last contact is older than 30 days": the
trigger is `{"type": "schedule", "cron": "0 2 * * *", "timezone": "Asia/Shanghai", "rule": ...}`
(and/or `"segment": name`; both given means both must hold). When the sweeper claims a fire
(schedules.py) it writes one `wf_schedule_fire` row in the same transaction; this module then
walks the object's live records that match, in id order, `BATCH` at a time. Each batch, its runs
and the fire's cursor (`after_id`) commit together, so a crash or a killed worker resumes at the
next batch on the next sweep: no record is skipped and none is enrolled twice (each run's key
`sched-<workflow>-<slot>-<record>` also makes that so). The rule is evaluated at the fire's
instant (`fired_at`), so every batch selects against the same "now".

Per record and fire: at most one run. Across fires, the workflow's re-enrollment policy
(`enrollment.reenroll`, default `always` for schedules) decides: `never` enrolls a record once
ever, `after_end` not while its previous run is still open; refused records count as `skipped`.
A fire of a workflow that is disabled, archived or no longer scheduled stops (done, nothing more
started). Sweepers running at once take different fires (FOR UPDATE SKIP LOCKED on PostgreSQL;
SQLite has one writer); a sweep does at most `max_batches` batches, the rest on the next sweep.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select, update

from .conditions import rule_sql, segment_rule
from .runs import RunSpec, current_workflows, start_runs, utcnow
from .tables import schedule_fires
from .triggers import enroll

if TYPE_CHECKING:
    from ..store.definitions import Snapshot
    from ..store.services import Services
    from .model import Workflow

BATCH = 500
MAX_BATCHES = 40  # per sweep: 20,000 records; a larger audience goes on at the next sweep


def open_fire(conn: Connection, workflow: str, slot: str, fired_at: datetime) -> None:
    """Record a claimed fire (in the claiming transaction); its records are enrolled by `advance`."""
    conn.execute(schedule_fires.insert().values(workflow=workflow, slot=slot, fired_at=fired_at, after_id=0,
                                                started=0, skipped=0, done_at=None))


def _selected(snapshot: Snapshot, wf: Workflow, after_id: int, at: datetime, tz: Any) -> Any:
    trigger = wf.trigger
    table = snapshot.tables[wf.object]
    query = (select(table.c.id).where(table.c.deleted_at.is_(None), table.c.id > after_id)
             .order_by(table.c.id).limit(BATCH))
    if trigger.get("segment"):
        rule = segment_rule(snapshot, trigger["segment"])
        if rule:
            query = query.where(rule_sql(rule, wf.object, snapshot, at, tz))
    if trigger.get("rule"):
        query = query.where(rule_sql(trigger["rule"], wf.object, snapshot, at, tz))
    return query


def _batch(conn: Connection, snapshot: Snapshot, workflows: dict[str, Workflow], fire: Any,
           now: datetime, tz: Any) -> tuple[int, bool]:
    """Enroll the next batch of one fire; (runs started, whether the fire is finished)."""
    wf = workflows.get(fire.workflow)
    live = wf is not None and wf.enabled and not wf.doc.get("archived") and wf.trigger.get("type") == "schedule"
    ids: list[int] = []
    if live and wf is not None:
        ids = [int(i) for i in conn.execute(_selected(snapshot, wf, int(fire.after_id), fire.fired_at, tz)).scalars()]
    finished = len(ids) < BATCH
    specs: list[RunSpec] = []
    if ids and wf is not None:
        stamp = fire.slot.replace("-", "").replace(":", "")
        context = {"fired_at": fire.fired_at.isoformat(), "slot": fire.slot, "segment": wf.trigger.get("segment")}
        specs = enroll(conn, [RunSpec(wf, rid, "schedule", context=context, key=f"sched-{wf.name}-{stamp}-{rid}")
                              for rid in ids])
        start_runs(conn, specs, now)
    conn.execute(update(schedule_fires).where(schedule_fires.c.workflow == fire.workflow,
                                              schedule_fires.c.slot == fire.slot).values(
        after_id=ids[-1] if ids else fire.after_id, started=fire.started + len(specs),
        skipped=fire.skipped + len(ids) - len(specs), done_at=now if finished else None))
    return len(specs), finished


def advance(services: Services, now: datetime | None = None, max_batches: int | None = None) -> int:
    """Enroll the next batches of the open fires (oldest first); return the runs started."""
    from zoneinfo import ZoneInfo

    now = now or utcnow()
    tz = ZoneInfo(services.settings.timezone)
    f = schedule_fires.c
    started = 0
    for _ in range(MAX_BATCHES if max_batches is None else max_batches):
        with services.engine.begin() as conn:  # one batch, its runs and the cursor commit together
            fire = conn.execute(select(schedule_fires).where(f.done_at.is_(None)).order_by(f.fired_at, f.workflow)
                                .limit(1).with_for_update(skip_locked=True)).first()
            if fire is None:  # none open, or the open ones are held by other sweepers
                break
            snapshot = services.registry.current(conn)
            started += _batch(conn, snapshot, current_workflows(conn, snapshot), fire, now, tz)[0]
    return started


def fires(services: Services, workflow: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Recent fires with their progress (newest first): how many runs each started and skipped."""
    f = schedule_fires.c
    query = select(schedule_fires).order_by(f.fired_at.desc()).limit(limit)
    if workflow:
        query = query.where(f.workflow == workflow)
    with services.engine.connect() as conn:
        return [{"workflow": r.workflow, "slot": r.slot, "fired_at": r.fired_at.isoformat(), "started": r.started,
                 "skipped": r.skipped, "done": r.done_at is not None} for r in conn.execute(query)]
