"""Run control beyond one click: retry on the pinned or the latest version, bulk retry/cancel/close
by filter (workflow, status, error code, time range), closing a failed run.

Retry `on: "pinned"` runs the failed step again on the run's own version (as before); `on:
"latest"` first moves the run to the latest published version, which must still have the failed
node (else 409 `node_gone`). Closing a failed run keeps it failed with `outcome: closed`: it stops
counting as something to look at (alerts, the digest) without pretending it succeeded.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from ..errors import Conflict, MetaCRMError, Problem, ValidationError
from . import service
from .drafts import published_version
from .runs import load_workflow, utcnow
from .tables import RunStatus, StepStatus, runs, steps

if TYPE_CHECKING:
    from ..store.services import Services

ACTIONS = ("retry", "cancel", "close")
MAX_BULK = 10000


def retry(services: Services, run_id: int, on: str = "pinned") -> dict[str, Any]:
    if on not in ("pinned", "latest"):
        raise ValidationError("on must be pinned or latest", [Problem("on", "enum", "pinned, latest")])
    if on == "latest":
        with services.engine.begin() as conn:
            run = service._run(conn, run_id, lock=True)
            latest = published_version(conn, run.workflow)
            if latest is not None and latest != run.version:
                failed = conn.execute(select(steps.c.id, steps.c.step).where(
                    steps.c.run_id == run_id, steps.c.status == StepStatus.FAILED).order_by(steps.c.id.desc())).first()
                node = load_workflow(conn, run.workflow, latest).step(failed.step) if failed is not None else None
                if failed is not None and node is None:
                    raise Conflict(f"version {latest} of {run.workflow} has no node '{failed.step}'",
                                   [Problem("on", "node_gone", failed.step)], code="node_gone")
                if failed is not None and node is not None and run.status == RunStatus.FAILED:
                    conn.execute(update(runs).where(runs.c.id == run_id).values(version=latest))
                    conn.execute(update(steps).where(steps.c.id == failed.id).values(type=node.type))
    return service.retry_run(services, run_id)


def close(services: Services, run_id: int) -> dict[str, Any]:
    with services.engine.begin() as conn:
        run = service._run(conn, run_id, lock=True)
        if run.status != RunStatus.FAILED:
            raise Conflict(f"run {run_id} is {run.status}; only failed runs can be closed",
                           [Problem("status", "not_failed", run.status)])
        conn.execute(update(runs).where(runs.c.id == run_id).values(outcome="closed", updated_at=utcnow()))
    return service.get_run(services, run_id)


def matching(services: Services, *, workflow: str | None = None, status: str | None = None,
             error_code: str | None = None, since: datetime | None = None, until: datetime | None = None) -> list[int]:
    query = select(runs.c.id, runs.c.error).order_by(runs.c.id).limit(MAX_BULK + 1)
    if workflow:
        query = query.where(runs.c.workflow == workflow)
    if status:
        if status not in RunStatus.ALL:
            raise ValidationError("unknown run status", [Problem("status", "enum", ", ".join(RunStatus.ALL))])
        query = query.where(runs.c.status == status)
    if since is not None:
        query = query.where(runs.c.created_at >= since)
    if until is not None:
        query = query.where(runs.c.created_at < until)
    with services.engine.connect() as conn:
        rows = list(conn.execute(query))
    if len(rows) > MAX_BULK:
        raise ValidationError(f"more than {MAX_BULK} runs match: narrow the filter",
                              [Problem("filter", "too_many", str(MAX_BULK))])
    return [int(r.id) for r in rows if not error_code or (isinstance(r.error, dict) and r.error.get("code") == error_code)]


def bulk(services: Services, action: str, on: str = "pinned", **filters: Any) -> dict[str, Any]:
    """Apply `action` to every run the filter matches; runs the action does not fit are listed with the reason."""
    if action not in ACTIONS:
        raise ValidationError("unknown action", [Problem("action", "enum", ", ".join(ACTIONS))])
    ids = matching(services, **filters)
    done, skipped = 0, []
    for run_id in ids:
        try:
            if action == "retry":
                retry(services, run_id, on)
            elif action == "cancel":
                service.cancel_run(services, run_id)
            else:
                close(services, run_id)
            done += 1
        except MetaCRMError as exc:
            skipped.append({"id": run_id, "code": exc.code, "message": exc.message})
    return {"action": action, "matched": len(ids), "done": done, "skipped": skipped[:1000]}
