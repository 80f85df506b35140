"""Run history and control for people: list/show runs, retry, cancel, start by hand; notifications.

The API and the CLI both call these, so both behave the same.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, select, update

from ..errors import Conflict, NotFound, Problem, ValidationError
from .jobs import enqueue
from .runs import RunSpec, current_workflow, dispatch_later, start_runs, utcnow
from .tables import RunStatus, StepStatus, notifications, runs, steps

if TYPE_CHECKING:
    from ..store.services import Services

MAX_LIMIT = 500


def _iso(value: Any) -> Any:
    return value.isoformat().replace("+00:00", "Z") if isinstance(value, datetime) else value


def _row(row: Any) -> dict[str, Any]:
    return {k: _iso(v) for k, v in row._mapping.items()}


def _run(conn: Connection, run_id: int, lock: bool = False) -> Any:
    query = select(runs).where(runs.c.id == run_id)
    if lock:
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        raise NotFound(f"run {run_id} does not exist", [Problem("id", "not_found", str(run_id))])
    return row


def list_runs(services: Services, *, workflow: str | None = None, status: str | None = None,
              object_name: str | None = None, record_id: int | None = None, limit: int = 50,
              before_id: int | None = None, version: int | None = None) -> list[dict[str, Any]]:
    """Runs, newest first, keyset-paginated by id."""
    if status is not None and status not in RunStatus.ALL:
        raise ValidationError("unknown run status", [Problem("status", "enum", f"one of {', '.join(RunStatus.ALL)}")])
    query = select(runs).order_by(runs.c.id.desc()).limit(max(1, min(limit, MAX_LIMIT)))
    for column, value in ((runs.c.workflow, workflow), (runs.c.status, status), (runs.c.object, object_name),
                          (runs.c.record_id, record_id), (runs.c.version, version)):
        if value is not None:
            query = query.where(column == value)
    if before_id is not None:
        query = query.where(runs.c.id < before_id)
    with services.engine.connect() as conn:
        return [_row(r) for r in conn.execute(query)]


def count_runs(services: Services, **where: Any) -> dict[str, int]:
    """Runs per status (optionally of one workflow)."""
    query = select(runs.c.status, func.count()).group_by(runs.c.status)
    if where.get("workflow"):
        query = query.where(runs.c.workflow == where["workflow"])
    with services.engine.connect() as conn:
        return {status: int(n) for status, n in conn.execute(query)}


def get_run(services: Services, run_id: int) -> dict[str, Any]:
    """A run with its step executions in order (the debugger's shape: node, kind, input, evaluation, iteration)."""
    from .debugger import run_detail

    return run_detail(services, run_id)


def retry_run(services: Services, run_id: int) -> dict[str, Any]:
    """Run a failed run's failed step again (attempts start over); the run continues from there."""
    now = utcnow()
    with services.engine.begin() as conn:
        run = _run(conn, run_id, lock=True)
        if run.status != RunStatus.FAILED:
            raise Conflict(f"run {run_id} is {run.status}; only failed runs can be retried",
                           [Problem("status", "not_failed", run.status)])
        failed = conn.execute(select(steps.c.id).where(steps.c.run_id == run_id, steps.c.status == StepStatus.FAILED)
                              .order_by(steps.c.id.desc()).limit(1)).scalar()
        if failed is None:
            raise Conflict(f"run {run_id} has no failed step to retry (it was refused before it started)",
                           [Problem("id", "nothing_to_retry", str(run_id))])
        conn.execute(update(steps).where(steps.c.id == failed).values(
            status=StepStatus.READY, attempts=0, due_at=now, enqueued_at=now, error=None, finished_at=None))
        conn.execute(update(runs).where(runs.c.id == run_id).values(
            status=RunStatus.RUNNING, error=None, finished_at=None, updated_at=now))
        dispatch_later(conn, [int(failed)])
    return get_run(services, run_id)


def cancel_run(services: Services, run_id: int) -> dict[str, Any]:
    """Stop a run: its pending steps are cancelled; a step running right now may still finish."""
    now = utcnow()
    with services.engine.begin() as conn:
        run = _run(conn, run_id, lock=True)
        if run.status not in RunStatus.OPEN:
            raise Conflict(f"run {run_id} is already {run.status}", [Problem("status", "finished", run.status)])
        conn.execute(update(steps).where(steps.c.run_id == run_id, steps.c.status == StepStatus.READY)
                     .values(status=StepStatus.CANCELLED, finished_at=now))
        conn.execute(update(runs).where(runs.c.id == run_id).values(
            status=RunStatus.CANCELLED, finished_at=now, updated_at=now))
    return get_run(services, run_id)


def start_workflow(services: Services, name: str, record_id: int | None, actor_id: int | None = None,
                   key: str | None = None, trigger: str = "manual") -> dict[str, Any]:
    """Start a workflow by hand for one record (idempotent per `key` when one is given)."""
    with services.engine.begin() as conn:
        if key is not None:
            existing = conn.execute(select(runs.c.id).where(runs.c.key == key)).scalar()
            if existing is not None:
                return get_run_in(conn, int(existing))
        snapshot = services.registry.current(conn)
        wf = current_workflow(conn, snapshot, name)
        if not wf.enabled or wf.doc.get("archived"):
            raise Conflict(f"workflow {name} is {'archived' if wf.doc.get('archived') else 'disabled'}: enable it first",
                           [Problem("workflow", "disabled", name)], code="workflow_disabled")
        if record_id is not None:
            services.records.get(wf.object, record_id, conn=conn)  # NotFound for a missing record
        elif wf.trigger.get("type") != "schedule":
            raise ValidationError(f"workflow {name} runs on a {wf.object} record: give its id",
                                  [Problem("record_id", "required", "a record id is required")])
        run_id = start_runs(conn, [RunSpec(wf, record_id, trigger, context={"actor_id": actor_id}, key=key)])[0]
    return get_run(services, run_id)


def get_run_in(conn: Connection, run_id: int) -> dict[str, Any]:
    return _row(_run(conn, run_id))


def wake(services: Services) -> None:
    """Ask a worker to sweep now (used after bulk changes made outside the normal paths)."""
    enqueue(services, "workflows.sweep_now")


# --- notifications ---------------------------------------------------------------------------

def list_notifications(services: Services, user_id: int, *, unread: bool = False, limit: int = 50,
                       before_id: int | None = None) -> dict[str, Any]:
    t = notifications
    query = select(t).where(t.c.user_id == user_id).order_by(t.c.id.desc()).limit(max(1, min(limit, MAX_LIMIT)))
    if unread:
        query = query.where(t.c.read_at.is_(None))
    if before_id is not None:
        query = query.where(t.c.id < before_id)
    with services.engine.connect() as conn:
        items = [_row(r) for r in conn.execute(query)]
        count = conn.execute(select(func.count()).select_from(t).where(t.c.user_id == user_id,
                                                                       t.c.read_at.is_(None))).scalar_one()
    return {"items": items, "unread": int(count)}


def mark_read(services: Services, user_id: int, ids: list[int] | None = None) -> int:
    """Mark a user's notifications read (all of them when `ids` is None); return how many changed."""
    t = notifications
    query = update(t).where(t.c.user_id == user_id, t.c.read_at.is_(None)).values(read_at=utcnow())
    if ids is not None:
        query = query.where(t.c.id.in_(ids))
    with services.engine.begin() as conn:
        return int(conn.execute(query).rowcount)
