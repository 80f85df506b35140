"""Executing steps: claim, run, record the outcome, go on to the next step.

One job (`workflows.run_steps`) takes a few step ids and runs each as far as it can go: a step
that is due right away after the previous one runs in the same job, each step still committed on
its own. Database steps run in one transaction with their claim and completion, so a crash rolls
back the effect together with the claim; external steps (webhooks) commit their claim first (a
lease), then call out with their idempotency key, then commit the completion fenced by the
attempt number. Failures retry with exponential backoff up to the step type's limit, then fail
the run with the error kept.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, func, or_, select, update

from ..errors import MetaCRMError
from .jobs import enqueue, job
from .model import Step, Workflow
from .runs import ORIGIN, load_workflow, utcnow
from .steps import DEFAULT, StepContext, StepFailed, StepResult, StepType, step_type
from .tables import RunStatus, StepStatus, runs, steps

if TYPE_CHECKING:
    from ..store.services import Services

log = logging.getLogger(__name__)

MAX_CHAIN = 50
MAX_BACKOFF = 3600.0


class Lost(Exception):
    """Our claim on the step is gone (another worker took over after our lease ran out)."""


def step_key(run_id: int, step: str, seq: int) -> str:
    """The idempotency key of one step execution: the same for every attempt."""
    return f"run-{run_id}-{step}-{seq}"


@job("workflows.run_steps")
def run_steps(services: Services, step_ids: list[int]) -> None:
    for step_id in step_ids:
        execute_chain(services, int(step_id))


def execute_chain(services: Services, step_id: int, now: datetime | None = None) -> None:
    current: int | None = step_id
    for _ in range(MAX_CHAIN):
        if current is None:
            return
        current = execute_step(services, current, now)
    if current is not None:  # a long chain: let another job (maybe another worker) go on
        enqueue(services, "workflows.run_steps", step_ids=[current])


def run_due(services: Services, now: datetime | None = None, limit: int = 1000) -> int:
    """Run every claimable step in this process (tests, `metacrm runs drain`); return how many chains ran."""
    now = now or utcnow()
    with services.engine.connect() as conn:
        ids = list(conn.execute(select(steps.c.id).where(_claimable(now)).order_by(steps.c.id).limit(limit)).scalars())
    for step_id in ids:
        execute_chain(services, int(step_id), now)
    return len(ids)


def _claimable(now: datetime) -> Any:
    s = steps.c
    return or_(and_(s.status == StepStatus.READY, s.due_at <= now),
               and_(s.status == StepStatus.RUNNING, s.lease_until < now))


def _load(conn: Connection, step_id: int, lock: bool = False) -> tuple[Mapping[str, Any], Mapping[str, Any]] | None:
    row = conn.execute(select(steps).where(steps.c.id == step_id)).first()
    if row is None:
        return None
    query = select(runs).where(runs.c.id == row.run_id)
    if lock:
        query = query.with_for_update()
    run = conn.execute(query).first()
    return (row._mapping, run._mapping) if run is not None else None


def execute_step(services: Services, step_id: int, now: datetime | None = None) -> int | None:
    """Run one step if it is claimable; return the next step's id when it is due right away."""
    now = now or utcnow()
    with services.engine.connect() as conn:
        loaded = _load(conn, step_id)
    if loaded is None:
        return None
    row, run = loaded
    if row["status"] not in StepStatus.OPEN:
        return None
    try:
        workflow = _workflow(services, run)
        step = workflow.step(row["step"])
        if step is None:
            raise StepFailed(f"step '{row['step']}' is not in {workflow.name} version {workflow.version}",
                             retry=False, code="unknown_step")
        kind = step_type(step.type)
    except MetaCRMError as exc:
        _fail(services, row, exc, now, attempts=row["attempts"] + 1, retry=False)
        return None
    if kind.effect == "external":
        return _run_external(services, step_id, kind, workflow, step, now)
    return _run_in_transaction(services, step_id, kind, workflow, step, now)


def _workflow(services: Services, run: Mapping[str, Any]) -> Workflow:
    with services.engine.connect() as conn:
        return load_workflow(conn, run["workflow"], run["version"])


def _context(services: Services, conn: Connection | None, read: Connection, run: Mapping[str, Any],
             workflow: Workflow, row: Mapping[str, Any], attempt: int, now: datetime) -> StepContext:
    snapshot = services.registry.current(read)
    record = None
    if run["record_id"] is not None:
        try:
            record = services.records.get(run["object"], run["record_id"], conn=read)
        except MetaCRMError as exc:
            raise StepFailed(f"{run['object']} {run['record_id']} is gone: {exc.message}", retry=False,
                             code="record_gone") from None
    return StepContext(services, conn, run, workflow, snapshot, record, step_key(run["id"], row["step"], row["seq"]),
                       attempt, now, ZoneInfo(services.settings.timezone), row["step"])


def _claim(conn: Connection, step_id: int, now: datetime, lease_until: datetime | None) -> bool:
    values: dict[str, Any] = {"status": StepStatus.RUNNING, "attempts": steps.c.attempts + 1, "started_at": now,
                              "lease_until": lease_until}
    result = conn.execute(update(steps).where(steps.c.id == step_id, _claimable(now)).values(**values))
    return result.rowcount == 1


def _cancel_step(conn: Connection, step_id: int, now: datetime) -> None:
    conn.execute(update(steps).where(steps.c.id == step_id, steps.c.status.in_(StepStatus.OPEN))
                 .values(status=StepStatus.CANCELLED, finished_at=now, lease_until=None))


def _run_in_transaction(services: Services, step_id: int, kind: StepType, workflow: Workflow, step: Step,
                        now: datetime) -> int | None:
    row: Mapping[str, Any] = {}
    try:
        with services.engine.begin() as conn:
            loaded = _load(conn, step_id, lock=True)
            if loaded is None:
                return None
            row, run = loaded
            if run["status"] not in RunStatus.OPEN:
                _cancel_step(conn, step_id, now)
                return None
            if not _claim(conn, step_id, now, None):
                return None
            ctx = _context(services, conn, conn, run, workflow, row, row["attempts"] + 1, now)
            conn.info[ORIGIN] = {"run_id": run["id"], "depth": run["depth"], "workflow": run["workflow"]}
            try:
                result = kind.run(ctx, step.doc)
            finally:
                conn.info.pop(ORIGIN, None)
            return _complete(conn, run, row, workflow, step, result, now, fence=None)
    except Exception as exc:  # the transaction rolled back: record the failed attempt on its own
        if not row:
            raise
        _fail(services, row, exc, now, attempts=row["attempts"] + 1, retry=_retryable(exc), kind=kind)
        return None


def _run_external(services: Services, step_id: int, kind: StepType, workflow: Workflow, step: Step,
                  now: datetime) -> int | None:
    lease_until = now + timedelta(seconds=services.settings.job_lease_seconds)
    with services.engine.begin() as conn:
        loaded = _load(conn, step_id, lock=True)
        if loaded is None:
            return None
        row, run = loaded
        if run["status"] not in RunStatus.OPEN:
            _cancel_step(conn, step_id, now)
            return None
        if not _claim(conn, step_id, now, lease_until):
            return None
    attempt = row["attempts"] + 1
    try:
        with services.engine.connect() as read:
            ctx = _context(services, None, read, run, workflow, row, attempt, now)
        result = kind.run(ctx, step.doc)
    except Exception as exc:
        _fail(services, row, exc, utcnow(), attempts=attempt, retry=_retryable(exc), kind=kind, fence=attempt)
        return None
    try:
        with services.engine.begin() as conn:
            loaded = _load(conn, step_id, lock=True)
            if loaded is None:
                return None
            return _complete(conn, loaded[1], row, workflow, step, result, utcnow(), fence=attempt)
    except Lost:
        log.info("step %s was taken over by another worker; its completion is theirs", step_id)
        return None


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, StepFailed):
        return exc.retry
    return not isinstance(exc, MetaCRMError)  # our own errors are about the data: retrying will not help


def _error(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, MetaCRMError):
        return {"code": exc.code, "message": exc.message, "problems": [p.to_dict() for p in exc.problems]}
    return {"code": "internal", "message": f"{type(exc).__name__}: {exc}"}


def _complete(conn: Connection, run: Mapping[str, Any], row: Mapping[str, Any], workflow: Workflow, step: Step,
              result: StepResult, now: datetime, fence: int | None) -> int | None:
    """Mark the step done, write the next step (or finish the run); return the next id if due now."""
    where = [steps.c.id == row["id"]]
    if fence is not None:
        where += [steps.c.status == StepStatus.RUNNING, steps.c.attempts == fence]
    done = conn.execute(update(steps).where(*where).values(
        status=StepStatus.DONE, output=result.output, error=None, finished_at=now, lease_until=None))
    if done.rowcount != 1:
        raise Lost(row["id"])
    if run["status"] not in RunStatus.OPEN:
        return None
    next_id = workflow.next_of(step, result.next, default=result.next is DEFAULT)
    steps_done = run["steps_done"] + 1
    run_values: dict[str, Any] = {"steps_done": steps_done, "updated_at": now}
    if next_id is None:
        run_values.update(status=RunStatus.COMPLETED, finished_at=now)
        conn.execute(update(runs).where(runs.c.id == run["id"]).values(**run_values))
        return None
    nxt = workflow.step(next_id)
    if nxt is None or steps_done >= workflow.max_steps:
        reason = (f"the run went through {steps_done} steps, the limit of {workflow.name}" if nxt is not None
                  else f"step '{next_id}' does not exist")
        run_values.update(status=RunStatus.FAILED, finished_at=now,
                          error={"code": "step_limit" if nxt is not None else "unknown_step", "message": reason,
                                 "step": step.id})
        conn.execute(update(runs).where(runs.c.id == run["id"]).values(**run_values))
        return None
    seq = conn.execute(select(func.count()).select_from(steps).where(
        steps.c.run_id == run["id"], steps.c.step == next_id)).scalar_one()
    due = result.due_at or now
    waiting = due > now
    new_id = conn.execute(steps.insert().values(
        run_id=run["id"], step=next_id, type=nxt.type, seq=int(seq), status=StepStatus.READY, attempts=0,
        due_at=due, enqueued_at=None if waiting else now, created_at=now).returning(steps.c.id)).scalar_one()
    run_values["status"] = RunStatus.WAITING if waiting else RunStatus.RUNNING
    conn.execute(update(runs).where(runs.c.id == run["id"]).values(**run_values))
    return None if waiting else int(new_id)


def backoff(kind: StepType | None, attempts: int, doc: Mapping[str, Any] | None = None) -> float:
    base = float(((doc or {}).get("retry") or {}).get("backoff_seconds", kind.backoff_seconds if kind else 2.0))
    return min(MAX_BACKOFF, base * (2 ** max(0, attempts - 1)))


def max_attempts(kind: StepType | None, doc: Mapping[str, Any] | None = None) -> int:
    return int(((doc or {}).get("retry") or {}).get("max_attempts", kind.max_attempts if kind else 3))


def _fail(services: Services, row: Mapping[str, Any], exc: BaseException, now: datetime, *, attempts: int,
          retry: bool, kind: StepType | None = None, fence: int | None = None) -> None:
    """Record a failed attempt: back to `ready` after a backoff, or the step and its run failed."""
    if not isinstance(exc, MetaCRMError):
        log.warning("workflow step %s (run %s) failed: %s", row["id"], row["run_id"], exc)
    error = _error(exc)
    with services.engine.begin() as conn:
        loaded = _load(conn, row["id"], lock=True)
        if loaded is None:
            return
        _current, run = loaded
        doc = None
        with contextlib.suppress(MetaCRMError):
            doc = load_workflow(conn, run["workflow"], run["version"]).step(row["step"])
        step_doc = doc.doc if doc is not None else None
        where = [steps.c.id == row["id"]]
        if fence is not None:
            where += [steps.c.status == StepStatus.RUNNING, steps.c.attempts == fence]
        else:
            where += [steps.c.status.in_(StepStatus.OPEN), steps.c.attempts == row["attempts"]]
        if retry and attempts < max_attempts(kind, step_doc) and run["status"] in RunStatus.OPEN:
            due = now + timedelta(seconds=backoff(kind, attempts, step_doc))
            conn.execute(update(steps).where(*where).values(
                status=StepStatus.READY, attempts=attempts, due_at=due, enqueued_at=None, lease_until=None,
                error=error))
            return
        result = conn.execute(update(steps).where(*where).values(
            status=StepStatus.FAILED, attempts=attempts, error=error, finished_at=now, lease_until=None))
        if result.rowcount == 1 and run["status"] in RunStatus.OPEN:
            conn.execute(update(runs).where(runs.c.id == run["id"]).values(
                status=RunStatus.FAILED, finished_at=now, updated_at=now,
                error={**error, "step": row["step"], "attempts": attempts}))
