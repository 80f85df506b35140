"""The run debugger: a run with every step's input, output, error, attempts, timings, foreach
iteration and rule evaluation; re-running from a step; testing one node on a sample record.

A re-run is a new run linked to the original (`rerun_of`), on the original's version, with its
record and context, starting at the chosen node. Nodes with side effects from there on (writes,
messages, webhooks) need `confirm_side_effects`, else 409 `confirm_side_effects` lists them.

Testing a node runs it inside a transaction that is rolled back, so database effects (record
updates, messages put in the outbox, notifications) are shown and never kept; external steps
(webhooks) are not called at all: the output says what would have been sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ..errors import Conflict, MetaCRMError, NotFound, Problem, ValidationError
from ..meta.secrets import masked
from .model import Workflow, edges
from .runs import RunSpec, load_workflow, start_runs, utcnow
from .service import _iso, _row, _run
from .steps import DEFAULT, STEP_TYPES, StepContext, StepFailed
from .tables import runs, steps
from .triggers import record_dict

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from ..store.services import Services


def _kind(type_name: str) -> str:
    found = STEP_TYPES.get(type_name)
    return found.kind if found is not None else "action"


def step_rows(conn: Connection, run_id: int, workflow: Workflow | None) -> list[dict[str, Any]]:
    """The run's step executions in order, in the debugger's shape."""
    out: list[dict[str, Any]] = []
    loops: dict[str, dict[str, Any]] = {}  # open foreach nodes -> their current pass
    for row in conn.execute(select(steps).where(steps.c.run_id == run_id).order_by(steps.c.seq, steps.c.id)):
        data = _row(row)
        output = row.output if isinstance(row.output, Mapping) else None
        node = workflow.step(row.step) if workflow is not None else None
        iteration = None
        if row.type == "foreach" and output is not None:
            if output.get("done"):
                loops.pop(row.step, None)
            elif "index" in output:
                loops[row.step] = {"foreach": row.step, "index": output["index"], "count": output.get("count")}
        elif loops:
            iteration = dict(list(loops.values())[-1])
        out.append({**data, "node": row.step, "kind": _kind(row.type),
                    "input": masked({k: v for k, v in (node.doc if node else {}).items() if k not in ("id", "ui")}),
                    "evaluation": (output or {}).get("evaluation"), "iteration": iteration})
    return out


def run_detail(services: Services, run_id: int) -> dict[str, Any]:
    with services.engine.connect() as conn:
        run = _run(conn, run_id)
        try:
            wf: Workflow | None = load_workflow(conn, run.workflow, run.version)
        except NotFound:
            wf = None
        out = _row(run)
        out["steps"] = step_rows(conn, run_id, wf)
        out["reruns"] = [int(i) for i in conn.execute(select(runs.c.id).where(runs.c.rerun_of == run_id)
                                                      .order_by(runs.c.id)).scalars()]
    return out


def side_effect_nodes(workflow: Workflow, start: str) -> list[str]:
    """Nodes reachable from `start` whose step type writes or calls out."""
    graph = edges(workflow)
    seen, todo = {start}, [start]
    while todo:
        for _, target in graph.get(todo.pop(), ()):
            if target is not None and target not in seen and workflow.step(target) is not None:
                seen.add(target)
                todo.append(target)
    return [s.id for s in workflow.steps if s.id in seen and (t := STEP_TYPES.get(s.type)) is not None
            and t.effect != "none"]


def rerun(services: Services, run_id: int, from_node: str, confirm_side_effects: bool = False,
          actor_id: int | None = None) -> dict[str, Any]:
    with services.engine.begin() as conn:
        original = _run(conn, run_id)
        wf = load_workflow(conn, original.workflow, original.version)
        if wf.step(from_node) is None:
            raise ValidationError(f"version {wf.version} of {wf.name} has no node '{from_node[:64]}'",
                                  [Problem("from_node", "unknown_node", from_node[:64])])
        effects = side_effect_nodes(wf, from_node)
        if effects and not confirm_side_effects:
            raise Conflict("these nodes write data or send messages again: " + ", ".join(effects) +
                           "; repeat with confirm_side_effects: true",
                           [Problem("confirm_side_effects", "confirm_side_effects", ", ".join(effects))],
                           code="confirm_side_effects")
        if original.record_id is not None:
            services.records.get(wf.object, int(original.record_id), conn=conn)  # 404 when the record is gone
        context = {**(original.context or {}), "rerun_of": run_id, "from_node": from_node, "actor_id": actor_id}
        new_id = start_runs(conn, [RunSpec(wf, original.record_id, "rerun", context=context, start=from_node,
                                           rerun_of=run_id)])[0]
        new = _row(_run(conn, new_id))
    return {"run": new, "rerun_of": run_id}


def test_node(services: Services, workflow: Workflow, node_id: str, record_id: int | None) -> dict[str, Any]:
    """Run one node on a record in a rolled-back transaction; never call out."""
    node = workflow.step(node_id)
    if node is None:
        raise ValidationError(f"no node '{node_id[:64]}' in the definition", [Problem("node", "unknown_node", node_id[:64])])
    kind = STEP_TYPES.get(node.type)
    if kind is None:
        raise ValidationError(f"unknown step type '{node.type}'", [Problem("node", "unknown_step_type", node.type)])
    now = utcnow()
    tz = ZoneInfo(services.settings.timezone)
    out: dict[str, Any] = {"dry_run": True, "node": node_id, "kind": kind.kind, "output": None, "next": None,
                           "evaluation": None, "error": None}
    with services.engine.connect() as conn:
        trans = conn.begin()
        try:
            snapshot = services.registry.current(conn)
            record = None
            if record_id is not None:
                obj = snapshot.object(workflow.object)
                table = snapshot.tables[obj.name]
                found = conn.execute(select(table).where(table.c.id == record_id, table.c.deleted_at.is_(None))).first()
                if found is None:
                    raise NotFound(f"{workflow.object} {record_id} does not exist",
                                   [Problem("record_id", "not_found", str(record_id))])
                record = record_dict(obj, found._mapping)
            run = {"id": 0, "workflow": workflow.name, "version": workflow.version, "object": workflow.object,
                   "record_id": record_id, "depth": 0, "context": {"test": True}, "status": "running"}
            ctx = StepContext(services, conn, run, workflow, snapshot, record, f"test-{node_id}", 1, now, tz, node_id)
            if kind.effect == "external":
                out["output"] = {"would_call": masked({k: v for k, v in node.doc.items() if k not in ("id", "ui")})}
            else:
                try:
                    result = kind.run(ctx, node.doc)
                except StepFailed as exc:
                    out["error"] = {"code": exc.code, "message": exc.message}
                else:
                    out["output"] = result.output
                    out["evaluation"] = (result.output or {}).get("evaluation")
                    nxt = workflow.next_of(node, result.next, default=result.next is DEFAULT)
                    out["next"] = nxt
                    out["due_at"] = _iso(result.due_at)
        except MetaCRMError as exc:
            if isinstance(exc, NotFound):
                raise
            out["error"] = {"code": exc.code, "message": exc.message}
        finally:
            trans.rollback()
    return out



def split_stats(services: Services, name: str) -> dict[str, Any]:
    """Runs and conversions (runs that reached the workflow's goal) per arm of every split node."""
    query = (select(steps.c.step, steps.c.output, runs.c.outcome).join(runs, runs.c.id == steps.c.run_id)
             .where(runs.c.workflow == name, steps.c.type == "split", steps.c.status == "done"))
    out: dict[str, dict[str, dict[str, int]]] = {}
    with services.engine.connect() as conn:
        for row in conn.execute(query):
            arm = (row.output or {}).get("arm")
            if arm is None:
                continue
            counts = out.setdefault(row.step, {}).setdefault(str(arm), {"runs": 0, "converted": 0})
            counts["runs"] += 1
            counts["converted"] += int(row.outcome == "goal_reached")
    return {"workflow": name, "splits": out}
