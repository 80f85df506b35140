"""Starting runs: the rows a trigger writes in the caller's transaction, and which workflow version runs.

A run pins the workflow version it started with (steps are read from `sys_definition_version`),
so editing a workflow never changes runs in flight. Its first step is written `ready` in the same
transaction and handed to a worker after commit (aftercommit.py). The loop guard lives here: a
write made by a run's step carries that run's depth on the connection (`ORIGIN`), and a run it
triggers starts one level deeper; past the limit the run is recorded failed with a clear error.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Table, func, select

from ..errors import NotFound, Problem
from ..store.bulk import insert_many
from ..store.definitions import Snapshot
from ..store.system import definition_versions, definitions
from .aftercommit import later
from .model import Workflow
from .tables import RunStatus, StepStatus, runs, steps

if TYPE_CHECKING:
    from ..store.services import Services

ORIGIN = "metacrm.workflow.origin"
MAX_DEPTH = 5
DISPATCH_CHUNK = 20
RUN_STEPS_JOB = "workflows.run_steps"


def utcnow() -> datetime:
    return datetime.now(UTC)


# --- workflow versions -----------------------------------------------------------------------

_versions: dict[tuple[str, str, int], Workflow] = {}
_current: dict[int, tuple[Snapshot, dict[str, Workflow]]] = {}
_lock = threading.Lock()


def load_workflow(conn: Connection, name: str, version: int) -> Workflow:
    """The workflow as it was at `version` (cached per database: versions never change)."""
    key = (str(conn.engine.url), name, version)
    found = _versions.get(key)
    if found is not None:
        return found
    v = definition_versions
    body = conn.execute(select(v.c.body).where(v.c.kind == "workflow", v.c.name == name,
                                               v.c.version == version)).scalar()
    if body is None:
        raise NotFound(f"workflow {name} version {version} does not exist",
                       [Problem("workflow", "unknown_workflow", name)])
    wf = Workflow(name, version, json.loads(body))
    with _lock:
        _versions[key] = wf
    return wf


def current_workflows(conn: Connection, snapshot: Snapshot) -> dict[str, Workflow]:
    """The live workflows with their version numbers, cached per snapshot (one per metadata revision)."""
    found = _current.get(id(snapshot))
    if found is not None and found[0] is snapshot:
        return found[1]
    names = snapshot.definitions.names("workflow")
    out: dict[str, Workflow] = {}
    if names:
        d = definitions
        versions = dict(conn.execute(select(d.c.name, d.c.version).where(d.c.kind == "workflow")).all())
        for name, doc in snapshot.definitions.items("workflow"):
            out[name] = Workflow(name, int(versions.get(name, 0)), doc)
    with _lock:
        if len(_current) > 16:
            _current.clear()
        _current[id(snapshot)] = (snapshot, out)
    return out


def current_workflow(conn: Connection, snapshot: Snapshot, name: str) -> Workflow:
    wf = current_workflows(conn, snapshot).get(name)
    if wf is None:
        raise NotFound(f"no workflow named '{name}'", [Problem("workflow", "unknown_workflow", name)])
    return wf


# --- starting runs ---------------------------------------------------------------------------

@dataclass
class RunSpec:
    workflow: Workflow
    record_id: int | None
    trigger: str
    context: dict[str, Any] | None = None
    key: str | None = None
    depth: int = 0
    parent_run_id: int | None = None
    error: dict[str, Any] | None = field(default=None)
    start: str | None = None  # the node to begin at (re-runs from a step); default the workflow's start
    rerun_of: int | None = None


def origin_of(conn: Connection) -> Mapping[str, Any] | None:
    """The run whose step is writing on this connection, if any."""
    return conn.info.get(ORIGIN)


def depth_limit(workflow: Workflow) -> int:
    return int((workflow.doc.get("limits") or {}).get("max_depth", MAX_DEPTH))


def guard(spec: RunSpec, origin: Mapping[str, Any] | None) -> RunSpec:
    """Give the run its depth from the writing run; past the limit, mark it refused with the reason."""
    if origin is None:
        return spec
    spec.depth = int(origin["depth"]) + 1
    spec.parent_run_id = int(origin["run_id"])
    limit = depth_limit(spec.workflow)
    if spec.depth > limit:
        spec.error = {"code": "loop_limit", "message":
                      f"not started: run {origin['run_id']} ({origin['workflow']}) triggered it at depth "
                      f"{spec.depth}, over the limit of {limit}; a workflow is probably re-triggering itself"}
    return spec


def allocate_ids(conn: Connection, table: Table, count: int) -> list[int]:
    """Ids for rows inserted in bulk: from the sequence on PostgreSQL, after the highest on SQLite.

    SQLite is safe because our transactions hold its write lock from BEGIN IMMEDIATE on.
    """
    if count == 0:
        return []
    if conn.dialect.name == "postgresql":
        sequence = func.pg_get_serial_sequence(table.name, "id")
        return list(conn.execute(select(func.nextval(sequence)).select_from(
            func.generate_series(1, count))).scalars())
    start = int(conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()) + 1
    return list(range(start, start + count))


def start_runs(conn: Connection, specs: Sequence[RunSpec], now: datetime | None = None) -> list[int]:
    """Write runs and their first steps in the caller's transaction; dispatch them after commit."""
    if not specs:
        return []
    now = now or utcnow()
    run_ids = allocate_ids(conn, runs, len(specs))
    run_rows, step_rows = [], []
    for run_id, spec in zip(run_ids, specs, strict=True):
        wf = spec.workflow
        begin = spec.start or wf.start
        first = wf.step(begin) if begin else None
        refused = spec.error is not None
        status = RunStatus.FAILED if refused else (RunStatus.RUNNING if first else RunStatus.COMPLETED)
        run_rows.append({
            "id": run_id, "workflow": wf.name, "version": wf.version, "object": wf.object,
            "record_id": spec.record_id, "status": status, "trigger": spec.trigger, "key": spec.key,
            "depth": spec.depth, "parent_run_id": spec.parent_run_id, "context": spec.context,
            "error": spec.error, "steps_done": 0, "created_at": now, "updated_at": now, "rerun_of": spec.rerun_of,
            "finished_at": now if status != RunStatus.RUNNING else None})
        if first is not None and not refused:
            step_rows.append({"run_id": run_id, "step": first.id, "type": first.type, "seq": 0,
                              "status": StepStatus.READY, "attempts": 0, "due_at": now, "enqueued_at": now,
                              "lease_until": None, "output": None, "error": None, "created_at": now,
                              "started_at": None, "finished_at": None})
    insert_many(conn, runs, run_rows)
    step_ids = allocate_ids(conn, steps, len(step_rows))
    for row, sid in zip(step_rows, step_ids, strict=True):
        row["id"] = sid
    insert_many(conn, steps, step_rows)
    dispatch_later(conn, step_ids)
    return run_ids


def dispatch_later(conn: Connection, step_ids: Sequence[int]) -> None:
    for start in range(0, len(step_ids), DISPATCH_CHUNK):
        later(conn, RUN_STEPS_JOB, step_ids=list(step_ids[start:start + DISPATCH_CHUNK]))


def start_child_run(conn: Connection, services: Services, snapshot: Snapshot, workflow_name: str,
                    parent: Mapping[str, Any], key: str) -> int:
    """A `start_workflow` step's run: same record, one level deeper; once per step execution."""
    existing = conn.execute(select(runs.c.id).where(runs.c.key == key)).scalar()
    if existing is not None:
        return int(existing)
    wf = current_workflow(conn, snapshot, workflow_name)
    spec = guard(RunSpec(wf, parent["record_id"], "start_workflow", key=key),
                 {"run_id": parent["id"], "depth": parent["depth"], "workflow": parent["workflow"]})
    return start_runs(conn, [spec])[0]
