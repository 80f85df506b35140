"""Publishing a workflow: validate, write an immutable version, then deal with runs of older versions.

Runs are pinned to the version they started on (runs.py). The policy for runs still open in
older versions:
- continue (default): they finish on their own version; nothing changes for them;
- move: a run whose pending node ids all exist in the new version goes on there (its version is
  changed, the pending step keeps its due time); a run whose node is gone, or whose step is
  running right now, stays on its version and is listed in `stayed`;
- cancel: they are cancelled (pending steps cancelled, outcome `version_cancelled`).

Nothing is published half-valid: the whole document is checked first (drafts.problems), and a
single problem refuses the publish with 422 `invalid_workflow` naming the node and the reason.
Archiving and disabling publish a version too (with `archived` / `enabled`), so they keep runs.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from ..errors import Conflict, NotFound, Problem, ValidationError
from .drafts import as_error, draft_body, drop_draft, normalised, problems, published_version
from .lifecycle import exit_runs_in
from .runs import load_workflow, utcnow
from .tables import RunStatus, StepStatus, runs, steps

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from ..store.services import Services

POLICIES = ("continue", "move", "cancel")
CHUNK = 500


def publish(services: Services, name: str, policy: str = "continue", actor_id: int | None = None,
            definition: dict[str, Any] | None = None) -> dict[str, Any]:
    """Publish the draft (or `definition`) as the next version and apply `policy` to older runs."""
    if policy not in POLICIES:
        raise ValidationError("unknown publish policy", [Problem("policy", "enum", ", ".join(POLICIES))])
    with services.engine.connect() as conn:
        doc = definition if definition is not None else draft_body(conn, name)
    if doc is None:
        doc = services.registry.current().definitions.get("workflow", name)
        if doc is None:
            raise NotFound(f"no draft of workflow '{name[:64]}' to publish", [Problem("workflow", "no_draft", name[:64])])
    doc = normalised(name, doc)
    found = problems(services, name, doc)
    if found:
        raise as_error(name, found)
    services.metadata.apply([("workflow", name, doc)], actor_id=actor_id, note=f"published ({policy})")
    with services.engine.begin() as conn:
        version = published_version(conn, name) or 0
        drop_draft(conn, name)
        outcome = apply_policy(conn, name, version, policy)
    return {"version": version, **outcome}


def _older_open_runs(conn: Connection, name: str, version: int) -> list[int]:
    return [int(i) for i in conn.execute(select(runs.c.id).where(
        runs.c.workflow == name, runs.c.version < version, runs.c.status.in_(RunStatus.OPEN)).order_by(runs.c.id))
        .scalars()]


def apply_policy(conn: Connection, name: str, version: int, policy: str) -> dict[str, Any]:
    ids = _older_open_runs(conn, name, version)
    out: dict[str, Any] = {"policy": policy, "continued": 0, "moved": 0, "stayed": [], "cancelled": 0}
    if policy == "continue":
        out["continued"] = len(ids)
    elif policy == "cancel":
        now = utcnow()
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start:start + CHUNK]
            conn.execute(update(steps).where(steps.c.run_id.in_(chunk), steps.c.status == StepStatus.READY)
                         .values(status=StepStatus.CANCELLED, finished_at=now))
            out["cancelled"] += int(conn.execute(update(runs).where(
                runs.c.id.in_(chunk), runs.c.status.in_(RunStatus.OPEN)).values(
                status=RunStatus.CANCELLED, outcome="version_cancelled", finished_at=now, updated_at=now)).rowcount)
    else:
        moved, stayed = _move(conn, name, version, ids)
        out["moved"], out["stayed"] = moved, stayed
    return out


def _move(conn: Connection, name: str, version: int, ids: list[int]) -> tuple[int, list[int]]:
    """Move runs whose pending nodes exist in `version`; the others stay (returned)."""
    new = load_workflow(conn, name, version)
    moved, stayed = 0, []
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        pending: dict[int, list[Any]] = defaultdict(list)
        for row in conn.execute(select(steps.c.id, steps.c.run_id, steps.c.step, steps.c.status, steps.c.wait_step)
                                .where(steps.c.run_id.in_(chunk), steps.c.status.in_(StepStatus.OPEN))
                                .with_for_update()):
            pending[int(row.run_id)].append(row)
        ok: list[int] = []
        for run_id in chunk:
            rows = pending.get(run_id, [])
            fits = bool(rows) and all(
                r.status == StepStatus.READY and new.step(r.step) is not None
                and (r.wait_step is None or new.step(r.wait_step) is not None) for r in rows)
            (ok if fits else stayed).append(run_id)
        if ok:
            conn.execute(update(runs).where(runs.c.id.in_(ok), runs.c.status.in_(RunStatus.OPEN))
                         .values(version=version, updated_at=utcnow()))
            for run_id in ok:  # the node's type may differ in the new version
                for r in pending[run_id]:
                    node = new.step(r.step)
                    if node is not None:
                        conn.execute(update(steps).where(steps.c.id == r.id).values(type=node.type))
            moved += len(ok)
    return moved, stayed


def _republish(services: Services, name: str, changes: dict[str, Any], actor_id: int | None, note: str) -> int:
    doc = services.registry.current().definitions.get("workflow", name)
    if doc is None:
        raise NotFound(f"no workflow named '{name[:64]}'", [Problem("workflow", "not_found", name[:64])])
    services.metadata.apply([("workflow", name, {**doc, **changes})], actor_id=actor_id, note=note)
    with services.engine.connect() as conn:
        return published_version(conn, name) or 0


def archive(services: Services, name: str, actor_id: int | None = None) -> dict[str, Any]:
    """Archive: starts nothing more, hidden from the default list; runs (open ones too) are kept."""
    version = _republish(services, name, {"archived": True, "enabled": False}, actor_id, "archived")
    return {"archived": True, "version": version}


def set_enabled(services: Services, name: str, enabled: bool, waiting: str = "finish",
                actor_id: int | None = None) -> dict[str, Any]:
    """Enable or disable; on disable, waiting runs finish (`finish`) or exit now (`exit`, workflow_disabled)."""
    if waiting not in ("finish", "exit"):
        raise ValidationError("waiting must be finish or exit", [Problem("waiting", "enum", "finish, exit")])
    doc = services.registry.current().definitions.get("workflow", name)
    if doc is not None and doc.get("archived") and enabled:
        raise Conflict(f"workflow {name} is archived", [Problem("workflow", "archived", name[:64])])
    version = _republish(services, name, {"enabled": enabled}, actor_id, "enabled" if enabled else "disabled")
    exited = 0
    if not enabled and waiting == "exit":
        with services.engine.begin() as conn:
            ids = [int(i) for i in conn.execute(select(runs.c.id).where(
                runs.c.workflow == name, runs.c.status.in_(RunStatus.OPEN))).scalars()]
            for start in range(0, len(ids), CHUNK):
                exited += exit_runs_in(conn, ids[start:start + CHUNK], "workflow_disabled")
    return {"enabled": enabled, "version": version, "exited": exited}
