"""What record writes do to runs already in flight: exits, resumes, and waits that follow a field.

Called by the trigger listener (triggers.on_record_events) in the writing transaction, before new
runs start:
- a deleted record exits its open runs quietly: status `exited`, outcome `record_deleted`;
- a restored record resumes those runs only when their workflow says `"on_restore": "resume"`
  (the step that was waiting becomes ready again, its due time kept);
- a changed date field moves the due time of steps waiting until it (steps/wait.py);
- a workflow's `goal` rule that holds after a write exits the record's runs as `goal_reached`
  (checked at every step too, runner.py).
Which workflows care is indexed once per metadata revision, so a write on an object no workflow
follows costs a dictionary lookup.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select, update

from ..store.definitions import Snapshot
from .runs import current_workflows, load_workflow, utcnow
from .steps.wait import due_or_policy, follows_field
from .tables import RunStatus, StepStatus, runs, steps

if TYPE_CHECKING:
    from ..store.events import RecordEvent
    from ..store.services import Services

RESTORE_RESUMES = "resume"


@dataclass
class ObjectCare:
    """What writes of one object mean for runs in flight (from the current definitions)."""

    follow: dict[str, set[str]] = field(default_factory=dict)  # workflow -> date fields its waits follow
    goals: dict[str, Any] = field(default_factory=dict)  # workflow -> goal rule


_care: dict[int, tuple[Snapshot, dict[str, ObjectCare]]] = {}
_lock = threading.Lock()


def care_index(conn: Connection, snapshot: Snapshot) -> dict[str, ObjectCare]:
    found = _care.get(id(snapshot))
    if found is not None and found[0] is snapshot:
        return found[1]
    out: dict[str, ObjectCare] = {}
    for wf in current_workflows(conn, snapshot).values():
        care = out.setdefault(wf.object, ObjectCare())
        fields = {f for s in wf.steps if s.type == "wait" and (f := follows_field(s.doc))}
        if fields:
            care.follow[wf.name] = fields
        if wf.doc.get("goal") is not None:
            care.goals[wf.name] = wf.doc["goal"]
    with _lock:
        if len(_care) > 16:
            _care.clear()
        _care[id(snapshot)] = (snapshot, out)
    return out


def exit_runs_in(conn: Connection, run_ids: Sequence[int], outcome: str, now: datetime | None = None) -> int:
    """Exit open runs quietly in the caller's transaction: pending steps cancelled, run `exited`."""
    if not run_ids:
        return 0
    now = now or utcnow()
    ids = list(run_ids)
    conn.execute(update(steps).where(steps.c.run_id.in_(ids), steps.c.status == StepStatus.READY)
                 .values(status=StepStatus.CANCELLED, finished_at=now))
    result = conn.execute(update(runs).where(runs.c.id.in_(ids), runs.c.status.in_(RunStatus.OPEN)).values(
        status=RunStatus.EXITED, outcome=outcome, finished_at=now, updated_at=now))
    return int(result.rowcount)


def exit_runs(services: Services, run_ids: Sequence[int], outcome: str, now: datetime | None = None) -> int:
    with services.engine.begin() as conn:
        return exit_runs_in(conn, run_ids, outcome, now)


def _open_runs(conn: Connection, object_name: str, record_ids: Iterable[int],
               workflows: Iterable[str] | None = None) -> list[Any]:
    query = select(runs.c.id, runs.c.workflow, runs.c.version, runs.c.record_id).where(
        runs.c.object == object_name, runs.c.record_id.in_(list(record_ids)), runs.c.status.in_(RunStatus.OPEN))
    if workflows is not None:
        query = query.where(runs.c.workflow.in_(list(workflows)))
    return list(conn.execute(query))


def _resume(conn: Connection, object_name: str, record_ids: Sequence[int], now: datetime) -> None:
    """Runs that exited because the record was deleted, of workflows that resume on restore."""
    exited = conn.execute(select(runs.c.id, runs.c.workflow, runs.c.version).where(
        runs.c.object == object_name, runs.c.record_id.in_(list(record_ids)),
        runs.c.status == RunStatus.EXITED, runs.c.outcome == "record_deleted")).all()
    for run in exited:
        wf = load_workflow(conn, run.workflow, run.version)
        if wf.doc.get("on_restore") != RESTORE_RESUMES:
            continue
        last = conn.execute(select(steps.c.id, steps.c.due_at).where(
            steps.c.run_id == run.id, steps.c.status == StepStatus.CANCELLED)
            .order_by(steps.c.id.desc()).limit(1)).first()
        if last is None:
            continue
        waiting = last.due_at > now
        conn.execute(update(steps).where(steps.c.id == last.id).values(
            status=StepStatus.READY, finished_at=None, enqueued_at=None))
        conn.execute(update(runs).where(runs.c.id == run.id).values(
            status=RunStatus.WAITING if waiting else RunStatus.RUNNING, outcome=None, finished_at=None,
            updated_at=now))


def _move_waits(conn: Connection, snapshot: Snapshot, object_name: str, changed: Mapping[int, set[str]],
                follow: Mapping[str, set[str]], now: datetime, tz: Any, record_of: Any) -> None:
    """Steps waiting until a date field that just changed: their due time follows the new value."""
    wanted = {rid for rid, fields in changed.items() if any(fields & f for f in follow.values())}
    if not wanted:
        return
    query = select(steps.c.id, steps.c.due_at, steps.c.wait_step, runs.c.id.label("run_id"), runs.c.workflow,
                   runs.c.version, runs.c.record_id).join(runs, runs.c.id == steps.c.run_id).where(
        runs.c.object == object_name, runs.c.record_id.in_(list(wanted)), runs.c.workflow.in_(list(follow)),
        runs.c.status.in_(RunStatus.OPEN), steps.c.status == StepStatus.READY, steps.c.wait_step.is_not(None))
    for row in conn.execute(query).all():
        wait = load_workflow(conn, row.workflow, row.version).step(row.wait_step)
        if wait is None or follows_field(wait.doc) not in changed[row.record_id]:
            continue
        try:
            due = due_or_policy(wait.doc, record_of(row.record_id), now, tz)
        except Exception:  # `if_empty: fail`: the step fails when it wakes, re-checked there
            due = now
        if due != row.due_at:
            conn.execute(update(steps).where(steps.c.id == row.id, steps.c.status == StepStatus.READY).values(
                due_at=due, enqueued_at=None))
            conn.execute(update(runs).where(runs.c.id == row.run_id, runs.c.status.in_(RunStatus.OPEN)).values(
                status=RunStatus.WAITING if due > now else RunStatus.RUNNING, updated_at=now))


def on_record_events(conn: Connection, snapshot: Snapshot, events: Sequence[RecordEvent], tz: Any,
                     record_of: Any, goal_holds: Any) -> set[tuple[str, int]]:
    """Apply deletes, restores, field changes and goals to runs in flight; return the deleted records."""
    now = utcnow()
    deleted: dict[str, list[int]] = {}
    restored: dict[str, list[int]] = {}
    changed: dict[str, dict[int, set[str]]] = {}
    for event in events:
        if event.kind == "delete":
            deleted.setdefault(event.object, []).append(event.record_id)
        elif event.kind == "restore":
            restored.setdefault(event.object, []).append(event.record_id)
        elif event.kind == "update":
            changed.setdefault(event.object, {}).setdefault(event.record_id, set()).update(
                event.changes.get("after") or {})
    for object_name, ids in deleted.items():
        exit_runs_in(conn, [r.id for r in _open_runs(conn, object_name, ids)], "record_deleted", now)
    for object_name, ids in restored.items():
        _resume(conn, object_name, ids, now)
    index = care_index(conn, snapshot)
    gone = {(o, rid) for o, ids in deleted.items() for rid in ids}
    for object_name, per_record in changed.items():
        care = index.get(object_name)
        if care is not None and care.follow:
            _move_waits(conn, snapshot, object_name, per_record, care.follow, now, tz,
                        lambda rid, o=object_name: record_of(o, rid))
    touched: dict[str, set[int]] = {}
    for event in events:
        if (event.object, event.record_id) not in gone and event.kind not in ("delete",):
            touched.setdefault(event.object, set()).add(event.record_id)
    for object_name, ids in touched.items():
        care = index.get(object_name)
        if care is None or not care.goals:
            continue
        reached = [r.id for r in _open_runs(conn, object_name, ids, care.goals)
                   if goal_holds(care.goals[r.workflow], object_name, r.record_id)]
        exit_runs_in(conn, reached, "goal_reached", now)
    return gone
