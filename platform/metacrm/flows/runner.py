"""Executing steps: claim, run, record the outcome, go on to the next step.

One job (`workflows.run_steps`) takes a batch of step ids and runs each as far as it can go: a
step that is due right away after the previous one runs in the same job. Database steps run in one
transaction with their claim and completion, so a crash rolls back the effect together with the
claim; the database steps that follow at once join that transaction, each in a savepoint (one
commit for update -> branch -> notify, not three); external steps (webhooks) commit their claim first (a
lease), then call out with their idempotency key, then commit the completion fenced by the
attempt number. Failures retry with exponential backoff up to the step type's limit, then fail
the run with the error kept.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, or_, select, update

from ..errors import MetaCRMError
from .conditions import rule_matches
from .events import at_wake
from .jobs import enqueue, job
from .lifecycle import exit_runs, exit_runs_in
from .model import Step, Workflow
from .runs import ORIGIN, load_workflow, utcnow
from .steps import DEFAULT, StepContext, StepFailed, StepResult, StepType, step_type
from .steps.wait import due_or_policy
from .tables import RunStatus, StepStatus, runs, steps
from .triggers import record_dict

if TYPE_CHECKING:
    from ..store.services import Services

log = logging.getLogger(__name__)

MAX_CHAIN = 50
CHAIN = 20
"""How many database steps of one run may share a transaction (MAX_CHAIN transactions per job)."""
MAX_BACKOFF = 3600.0


class Lost(Exception):
    """Our claim on the step is gone (another worker took over after our lease ran out)."""


class RecordGone(StepFailed):
    """The run's record was deleted: the run exits quietly (`record_deleted`), it does not fail."""


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


_RUN_COLUMNS = [c.label(f"run__{c.name}") for c in runs.c]


def _load(conn: Connection, step_id: int, lock: bool = False) -> tuple[Mapping[str, Any], Mapping[str, Any]] | None:
    """The step row and its run row, in one statement (row-locked with `lock`)."""
    query = select(steps, *_RUN_COLUMNS).join(runs, runs.c.id == steps.c.run_id).where(steps.c.id == step_id)
    if lock:
        query = query.with_for_update()
    found = conn.execute(query).first()
    if found is None:
        return None
    data = found._mapping
    row = {c.name: data[c.name] for c in steps.c}
    run = {c.name: data[f"run__{c.name}"] for c in runs.c}
    return row, run


def _is_claimable(row: Mapping[str, Any], now: datetime) -> bool:
    if row["status"] == StepStatus.READY:
        return bool(row["due_at"] <= now)
    return row["status"] == StepStatus.RUNNING and row["lease_until"] is not None and row["lease_until"] < now


def execute_step(services: Services, step_id: int, now: datetime | None = None) -> int | None:
    """Run one step if it is claimable, and the database steps after it; return the id of the
    next step when it is due right away but must start a transaction of its own (external).

    Database steps: claim, effect and completion in one transaction, and the following database
    steps of the same run that are due at once join that transaction (up to CHAIN), each in a
    savepoint: a failing one rolls back alone, the steps before it commit, and its failed attempt is
    recorded as before. So a run of update -> branch -> notify costs one transaction, not three.
    The chain splits only where it must: at waits (the next step is not due yet), at external
    steps (webhooks: their claim commits first, with a lease) and at retries. External steps: the
    claim (with a lease) commits here, the effect and the completion follow in `_finish_external`.
    """
    now = now or utcnow()
    row: Mapping[str, Any] = {}
    kind: StepType | None = None
    failed: tuple[Mapping[str, Any], BaseException, StepType | None] | None = None
    seen: dict[str, Any] = {}  # the snapshot and record read by the chain's previous step (_context)
    try:
        with services.engine.begin() as conn:
            loaded = _load(conn, step_id, lock=True)
            if loaded is None:
                return None
            row, run = loaded
            if not _is_claimable(row, now):
                return None
            for chained in range(CHAIN):
                prepared = _prepare(services, conn, row, run, now)
                if prepared is None:
                    return None
                row, workflow, step, kind = prepared
                if kind.effect == "external":
                    if chained:  # the chain so far commits; the caller claims this one with a lease
                        return int(row["id"])
                    lease = now + timedelta(seconds=services.settings.job_lease_seconds)
                    if not _claim(conn, step_id, now, lease):
                        return None
                    break
                if chained == 0:  # a failure rolls back the whole transaction, claim included
                    nxt = _run_db_step(services, conn, run, workflow, step, kind, row, now, seen)
                else:
                    savepoint = conn.begin_nested()
                    try:
                        nxt = _run_db_step(services, conn, run, workflow, step, kind, row, now, seen)
                    except Exception as exc:  # this step alone rolls back; the ones before commit
                        savepoint.rollback()
                        failed = (row, exc, kind)
                        break
                    savepoint.commit()
                if nxt is None or nxt.due:
                    return None
                row, run = nxt.row, nxt.run  # written by this transaction: nobody else sees it yet
            else:  # a long chain: commit it and let the caller go on in a new transaction
                return int(row["id"])
    except RecordGone:
        exit_runs(services, [int(row["run_id"])], "record_deleted", now)
        return None
    except Exception as exc:  # the transaction rolled back (claim included): record the failed attempt
        if not row:
            raise
        _fail(services, row, exc, now, attempts=row["attempts"] + 1,
              retry=_retryable(exc) and kind is not None, kind=kind)
        return None
    if failed is not None:
        row, exc, kind = failed
        if isinstance(exc, RecordGone):
            exit_runs(services, [int(row["run_id"])], "record_deleted", now)
        else:
            _fail(services, row, exc, now, attempts=row["attempts"] + 1, retry=_retryable(exc), kind=kind)
        return None
    assert kind is not None
    return _finish_external(services, kind, run, workflow, step, row, now)


def _prepare(services: Services, conn: Connection, row: Mapping[str, Any], run: Mapping[str, Any],
             now: datetime) -> tuple[Mapping[str, Any], Workflow, Step, StepType] | None:
    """The checks before a step runs (run still open, event or date wait woken, goal not reached);
    None when the step must not run now (what was decided is written on `conn`). The row comes
    back as the wake left it (an event wait's timeout may move it to another node)."""
    if run["status"] not in RunStatus.OPEN:
        _cancel_step(conn, int(row["id"]), now)
        return None
    workflow = load_workflow(conn, run["workflow"], run["version"])
    if row.get("wait_step"):  # an event wait: the event came, or its timeout (maybe another node)
        row = at_wake(conn, run, workflow, row, now) if _is_event_wait(workflow, row) else row
    step = workflow.step(row["step"])
    if step is None:
        raise StepFailed(f"step '{row['step']}' is not in {workflow.name} version {workflow.version}",
                         retry=False, code="unknown_step")
    if row.get("wait_step") and _not_yet(services, conn, run, workflow, row, now):
        return None
    if workflow.doc.get("goal") is not None and _goal_reached(services, conn, run, workflow, row, now):
        exit_runs_in(conn, [int(run["id"])], "goal_reached", now)
        return None
    return row, workflow, step, step_type(step.type)


def _run_db_step(services: Services, conn: Connection, run: Mapping[str, Any], workflow: Workflow, step: Step,
                 kind: StepType, row: Mapping[str, Any], now: datetime, seen: dict[str, Any]) -> Next | None:
    """A database step's effect and completion on `conn` (the transaction is its claim).

    `seen` carries the snapshot and the record from one step of a chain to the next: a step whose
    effect is "none" (branch, end) leaves the record as it was, so the next one need not read it."""
    ctx = _context(services, conn, run, workflow, row, row["attempts"] + 1, now, seen=seen)
    conn.info[ORIGIN] = {"run_id": run["id"], "depth": run["depth"], "workflow": run["workflow"]}
    try:
        result = kind.run(ctx, step.doc)
    finally:
        conn.info.pop(ORIGIN, None)
    if kind.effect != "none":
        seen.pop("record", None)
    return _advance(conn, run, row, workflow, step, result, now, fence=None)


def _context(services: Services, conn: Connection, run: Mapping[str, Any], workflow: Workflow,
             row: Mapping[str, Any], attempt: int, now: datetime, external: bool = False,
             seen: dict[str, Any] | None = None) -> StepContext:
    if seen is not None and "snapshot" in seen:  # the same transaction: the same definitions
        snapshot = seen["snapshot"]
    else:
        snapshot = services.registry.current(conn)
    record = None
    if seen is not None and "record" in seen:
        record = seen["record"]
    elif run["record_id"] is not None:
        obj = snapshot.object(run["object"])
        table = snapshot.tables[obj.name]
        found = conn.execute(select(table).where(table.c.id == run["record_id"])).first()
        deleted_trigger = workflow.trigger.get("type") == "record_deleted"
        if found is None or (found.deleted_at is not None and not deleted_trigger):
            raise RecordGone(f"{run['object']} {run['record_id']} was deleted", retry=False, code="record_gone")
        record = record_dict(obj, found._mapping)
    if seen is not None:
        seen.update(snapshot=snapshot, record=record)
    return StepContext(services, None if external else conn, run, workflow, snapshot, record,
                       step_key(run["id"], row["step"], row["seq"]), attempt, now,
                       ZoneInfo(services.settings.timezone), row["step"])


def _is_event_wait(workflow: Workflow, row: Mapping[str, Any]) -> bool:
    wait = workflow.step(str(row["wait_step"]))
    return wait is not None and "event" in wait.doc


def _not_yet(services: Services, conn: Connection, run: Mapping[str, Any], workflow: Workflow,
             row: Mapping[str, Any], now: datetime) -> bool:
    """Re-check a wait that follows a record date field at wake: if the field moved later, move the
    step's due time (and say so); an empty field follows the wait's `if_empty` policy."""
    wait = workflow.step(str(row["wait_step"]))
    if wait is None:
        return False
    ctx = _context(services, conn, run, workflow, row, row["attempts"], now)
    due = due_or_policy(wait.doc, ctx.record, now, ctx.tz)
    if due <= now:
        return False
    conn.execute(update(steps).where(steps.c.id == row["id"]).values(due_at=due, enqueued_at=None))
    conn.execute(update(runs).where(runs.c.id == run["id"]).values(status=RunStatus.WAITING, updated_at=now))
    return True


def _goal_reached(services: Services, conn: Connection, run: Mapping[str, Any], workflow: Workflow,
                  row: Mapping[str, Any], now: datetime) -> bool:
    """The workflow's goal rule, checked before every step (and on every write, lifecycle.py)."""
    if run["record_id"] is None:
        return False
    ctx = _context(services, conn, run, workflow, row, row["attempts"], now)
    return rule_matches(workflow.doc["goal"], ctx.record or {}, workflow.object, ctx.snapshot, conn, now, ctx.tz)


def _claim(conn: Connection, step_id: int, now: datetime, lease_until: datetime | None) -> bool:
    values: dict[str, Any] = {"status": StepStatus.RUNNING, "attempts": steps.c.attempts + 1, "started_at": now,
                              "lease_until": lease_until}
    # the row is locked and was checked claimable in this transaction: no condition needed here
    result = conn.execute(update(steps).where(steps.c.id == step_id).values(**values))
    return result.rowcount == 1


def _cancel_step(conn: Connection, step_id: int, now: datetime) -> None:
    conn.execute(update(steps).where(steps.c.id == step_id, steps.c.status.in_(StepStatus.OPEN))
                 .values(status=StepStatus.CANCELLED, finished_at=now, lease_until=None))


def _finish_external(services: Services, kind: StepType, run: Mapping[str, Any], workflow: Workflow, step: Step,
                     row: Mapping[str, Any], now: datetime) -> int | None:
    """Call out (no transaction open), then commit the completion fenced by our attempt number."""
    attempt = row["attempts"] + 1
    try:
        with services.engine.connect() as read:
            ctx = _context(services, read, run, workflow, row, attempt, now, external=True)
        result = kind.run(ctx, step.doc)
    except Exception as exc:
        _fail(services, row, exc, utcnow(), attempts=attempt, retry=_retryable(exc), kind=kind, fence=attempt)
        return None
    try:
        with services.engine.begin() as conn:
            loaded = _load(conn, row["id"], lock=True)
            if loaded is None:
                return None
            return _complete(conn, loaded[1], row, workflow, step, result, utcnow(), fence=attempt)
    except Lost:
        log.info("step %s was taken over by another worker; its completion is theirs", row["id"])
        return None


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, StepFailed):
        return exc.retry
    return not isinstance(exc, MetaCRMError)  # our own errors are about the data: retrying will not help


def _error(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, MetaCRMError):
        return {"code": exc.code, "message": exc.message, "problems": [p.to_dict() for p in exc.problems]}
    return {"code": "internal", "message": f"{type(exc).__name__}: {exc}"}


@dataclass(frozen=True)
class Next:
    """The step a completion wrote, with its run as the completion left it (no need to read them back)."""

    row: dict[str, Any]
    run: dict[str, Any]
    due: bool  # waiting for a later time: not to run now


def _complete(conn: Connection, run: Mapping[str, Any], row: Mapping[str, Any], workflow: Workflow, step: Step,
              result: StepResult, now: datetime, fence: int | None) -> int | None:
    """Mark the step done, write the next step (or finish the run); return the next id if due now."""
    nxt = _advance(conn, run, row, workflow, step, result, now, fence)
    return None if nxt is None or nxt.due else int(nxt.row["id"])


def _advance(conn: Connection, run: Mapping[str, Any], row: Mapping[str, Any], workflow: Workflow, step: Step,
             result: StepResult, now: datetime, fence: int | None) -> Next | None:
    """Mark the step done, write the next step (or finish the run); return what was written."""
    where = [steps.c.id == row["id"]]
    if fence is not None:
        where += [steps.c.status == StepStatus.RUNNING, steps.c.attempts == fence]
    values: dict[str, Any] = {"status": StepStatus.DONE, "output": result.output, "error": None,
                               "finished_at": now, "lease_until": None}
    if fence is None:  # a database step: this transaction is its claim too
        values.update(attempts=steps.c.attempts + 1, started_at=now)
    done = conn.execute(update(steps).where(*where).values(**values))
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
    seq = steps_done  # unique within the run (it only grows), the same for every attempt
    due = result.due_at or now
    waiting = due > now
    new_row: dict[str, Any] = {
        "run_id": run["id"], "step": next_id, "type": nxt.type, "seq": int(seq), "status": StepStatus.READY,
        "attempts": 0, "due_at": due, "enqueued_at": None if waiting else now, "created_at": now,
        "wait_step": step.id if result.follows and waiting else None}
    new_row["id"] = int(conn.execute(steps.insert().values(**new_row).returning(steps.c.id)).scalar_one())
    run_values["status"] = RunStatus.WAITING if waiting else RunStatus.RUNNING
    conn.execute(update(runs).where(runs.c.id == run["id"]).values(**run_values))
    full_row = {c.name: new_row.get(c.name) for c in steps.c}
    return Next(full_row, {**run, **run_values}, waiting)


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
