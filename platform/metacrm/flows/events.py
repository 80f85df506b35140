"""Events a waiting run listens for ("wait until a reply, at most 3 days").

A wait with `event` writes its next node due at the timeout, remembering the wait
(`wf_step.wait_step`). `deliver` (API, inbound webhooks, engines) brings those rows forward to
now and notes the event in the run's context; at wake, `at_wake` decides: the event came -> the
wait's `next`; the timeout passed without it -> `on_timeout` (if given). The wait's own output
gets `received` or `timed_out`, so the debugger shows which one happened.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from .model import Workflow
from .runs import dispatch_later, load_workflow, utcnow
from .tables import RunStatus, StepStatus, runs, steps


def deliver(conn: Connection, object_name: str, record_id: int, event: str, now: datetime | None = None) -> list[int]:
    """Wake the runs of this record waiting for `event`; return their run ids."""
    now = now or utcnow()
    rows = list(conn.execute(
        select(steps.c.id, steps.c.wait_step, runs.c.id.label("run_id"), runs.c.workflow, runs.c.version, runs.c.context)
        .join(runs, runs.c.id == steps.c.run_id)
        .where(runs.c.object == object_name, runs.c.record_id == record_id, runs.c.status.in_(RunStatus.OPEN),
               steps.c.status == StepStatus.READY, steps.c.wait_step.is_not(None))
        .with_for_update()))
    woken, step_ids = [], []
    for row in rows:
        wait = load_workflow(conn, row.workflow, row.version).step(row.wait_step)
        if wait is None or wait.doc.get("event") != event:
            continue
        context = dict(row.context or {})
        context["events"] = {**(context.get("events") or {}), event: now.isoformat()}
        conn.execute(update(runs).where(runs.c.id == row.run_id).values(context=context, updated_at=now))
        conn.execute(update(steps).where(steps.c.id == row.id).values(due_at=now, enqueued_at=now))
        woken.append(int(row.run_id))
        step_ids.append(int(row.id))
    dispatch_later(conn, step_ids)
    return woken


def at_wake(conn: Connection, run: Mapping[str, Any], workflow: Workflow, row: Mapping[str, Any],
            now: datetime) -> dict[str, Any]:
    """The row to run now: the same (event received) or moved to the wait's `on_timeout` node."""
    wait = workflow.step(str(row["wait_step"]))
    if wait is None or "event" not in wait.doc:
        return dict(row)
    event = wait.doc["event"]
    received = event in ((run.get("context") or {}).get("events") or {})
    waited = conn.execute(select(steps.c.id, steps.c.output).where(
        steps.c.run_id == row["run_id"], steps.c.step == wait.id, steps.c.status == StepStatus.DONE)
        .order_by(steps.c.seq.desc()).limit(1)).first()
    if waited is not None:
        conn.execute(update(steps).where(steps.c.id == waited.id).values(
            output={**(waited.output or {}), "received" if received else "timed_out": now.isoformat()}))
    out = dict(row)
    target = wait.doc.get("on_timeout")
    if not received and target and workflow.step(target) is not None:
        node = workflow.step(target)
        assert node is not None
        conn.execute(update(steps).where(steps.c.id == row["id"]).values(step=node.id, type=node.type, wait_step=None))
        out.update(step=node.id, type=node.type)
    out["wait_step"] = None
    return out
