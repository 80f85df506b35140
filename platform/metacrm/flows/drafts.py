"""Workflow drafts and their problems: the builder's working copy, apart from published versions.

A draft is saved even when it has problems (the admin is still drawing); `problems` lists them
per node: `{node, code, message, pointer}` where `node` is the node id a JSON pointer under
`/steps/<i>` names, or "trigger" / "workflow" for the rest of the document.
"""

from __future__ import annotations

import copy
import re
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select

from ..errors import NotFound, Problem, ValidationError
from ..meta.secret_box import SecretBox, box_for, seal, unsealed_count
from .runs import utcnow
from .tables import drafts

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from ..store.services import Services

MAX_DRAFT_BYTES = 512 * 1024
WORKFLOW_NAME = re.compile(r"[a-z][a-z0-9_]{0,47}")  # common.json identifier


def published_version(conn: Connection, name: str) -> int | None:
    from ..store.system import definitions

    found = conn.execute(select(definitions.c.version).where(definitions.c.kind == "workflow",
                                                             definitions.c.name == name)).scalar()
    return None if found is None else int(found)


def _node_of(doc: dict[str, Any], pointer: str) -> str:
    parts = pointer.lstrip("/").split("/")
    if parts and parts[0] == "steps" and len(parts) > 1 and parts[1].isdigit():
        steps = doc.get("steps") or []
        index = int(parts[1])
        if index < len(steps) and isinstance(steps[index], dict) and isinstance(steps[index].get("id"), str):
            return steps[index]["id"]
        return f"#{index}"
    if parts and parts[0] in ("trigger", "goal"):
        return parts[0]
    return "workflow"


def problems(services: Services, name: str, doc: Any) -> list[dict[str, Any]]:
    """Every problem of `doc` as the workflow `name` (meta-schema, steps, rules, graph), per node."""
    if not isinstance(doc, dict):
        return [{"node": "workflow", "code": "type", "message": "the definition must be a JSON object", "pointer": "/"}]
    live = services.registry.current().definitions
    found = services.metadata.validate([("workflow", name, doc)], live)
    out = []
    for p in found:
        pointer = p.field.split("#", 1)[1] if "#" in p.field else p.field
        pointer = pointer or "/"
        out.append({"node": _node_of(doc, pointer), "code": p.code, "message": p.message, "pointer": pointer})
    return out


def as_error(name: str, found: list[dict[str, Any]]) -> ValidationError:
    """The 422 for a publish refused: code invalid_workflow, one error per problem naming the node."""
    errors = [Problem(f"steps.{p['node']}" if p["node"] not in ("workflow", "trigger", "goal") else p["node"],
                      p["code"], p["message"]) for p in found]
    return ValidationError(f"workflow {name} is not valid: {found[0]['node']}: {found[0]['message']}", errors,
                           code="invalid_workflow")


def normalised(name: str, doc: Any) -> Any:
    if isinstance(doc, dict):
        doc = copy.deepcopy(doc)
        doc.setdefault("name", name)
    return doc


def get_draft(services: Services, name: str) -> dict[str, Any]:
    """The draft if there is one, else the published definition (`draft: false`)."""
    with services.engine.connect() as conn:
        row = conn.execute(select(drafts).where(drafts.c.workflow == name)).first()
        version = published_version(conn, name)
    if row is not None:
        return {"name": name, "definition": row.body, "draft": True, "updated_at": row.updated_at.isoformat(),
                "updated_by": row.updated_by, "published_version": version, "base_version": row.base_version}
    doc = services.registry.current().definitions.get("workflow", name)
    if doc is None:
        raise NotFound(f"no workflow or draft named '{name[:64]}'", [Problem("workflow", "not_found", name[:64])])
    return {"name": name, "definition": doc, "draft": False, "updated_at": None, "updated_by": None,
            "published_version": version, "base_version": version}


def save_draft(services: Services, name: str, doc: Any, actor_id: int | None) -> dict[str, Any]:
    """Save the draft (even with problems); return it with its problems."""
    import json

    if not isinstance(doc, dict):
        raise ValidationError("definition must be a JSON object", [Problem("definition", "type", "object")])
    if not WORKFLOW_NAME.fullmatch(name):
        raise ValidationError("a workflow name is lower-case letters, digits and _ (at most 48, starting with a letter)",
                              [Problem("name", "pattern", WORKFLOW_NAME.pattern)])
    if len(json.dumps(doc)) > MAX_DRAFT_BYTES:
        raise ValidationError("the definition is too large", [Problem("definition", "too_large",
                                                                       f"at most {MAX_DRAFT_BYTES} bytes")])
    doc = normalised(name, doc)
    if doc.get("name") != name:
        raise ValidationError("the definition's name differs from the workflow's",
                              [Problem("definition.name", "name_mismatch", name[:64])])
    now = utcnow()
    with services.engine.begin() as conn:
        version = published_version(conn, name)
        exists = conn.execute(select(drafts.c.workflow, drafts.c.body).where(drafts.c.workflow == name)).first()
        before = exists.body if exists is not None else services.registry.current(conn).definitions.get("workflow", name)
        doc, unreadable = seal(doc, before, box_for(services.settings.secret_key))  # secrets stored encrypted
        values = {"body": doc, "updated_at": now, "updated_by": actor_id}
        if exists is None:
            conn.execute(drafts.insert().values(workflow=name, base_version=version, **values))
        else:
            conn.execute(drafts.update().where(drafts.c.workflow == name).values(**values))
    found = [{"node": _node_of(doc, p.field), "code": p.code, "message": p.message, "pointer": p.field}
             for p in unreadable] + problems(services, name, doc)
    return {"name": name, "definition": doc, "draft": True, "updated_at": now.isoformat(), "updated_by": actor_id,
            "published_version": version, "problems": found}


def seal_drafts(conn: Connection, box: SecretBox) -> list[str]:
    """Encrypt in place the secrets of drafts saved in clear (before secrets were encrypted); their names."""
    sealed = []
    for workflow, body in conn.execute(select(drafts.c.workflow, drafts.c.body)).all():
        if isinstance(body, dict) and unsealed_count(body):
            conn.execute(drafts.update().where(drafts.c.workflow == workflow).values(body=seal(body, None, box)[0]))
            sealed.append(f"workflow draft {workflow}")
    return sealed


def summaries(services: Services, archived: bool = False) -> list[dict[str, Any]]:
    """Every workflow the builder knows, published or draft-only, with its state and run counts.

    `state`: `draft` (never published), `published`, or `changed` (published, with an unpublished
    draft). Archived workflows are left out unless `archived`.
    """
    from sqlalchemy import func

    from ..store.system import definitions
    from .tables import runs

    live = services.registry.current().definitions
    with services.engine.connect() as conn:
        versions = dict(conn.execute(select(definitions.c.name, definitions.c.version)
                                     .where(definitions.c.kind == "workflow")).all())
        pending = {r.workflow: r for r in conn.execute(select(drafts.c.workflow, drafts.c.body, drafts.c.updated_at))}
        counts: dict[str, dict[str, int]] = {}
        for name, status, n in conn.execute(select(runs.c.workflow, runs.c.status, func.count())
                                            .group_by(runs.c.workflow, runs.c.status)):
            counts.setdefault(name, {})[status] = int(n)
    out = []
    for name in sorted(set(live.names("workflow")) | set(pending)):
        published = live.get("workflow", name)
        row = pending.get(name)
        doc = published if published is not None else (row.body if isinstance(row.body, dict) else {})
        if published is not None and published.get("archived") and not archived:
            continue
        trigger = doc.get("trigger")
        out.append({"name": name, "label": doc.get("label"), "object": doc.get("object"),
                    "trigger": trigger if isinstance(trigger, dict) else None,
                    "enabled": bool(published and published.get("enabled", True) and not published.get("archived")),
                    "archived": bool(published and published.get("archived")),
                    "steps": len(doc.get("steps") or ()) if isinstance(doc.get("steps"), list) else 0,
                    "runs": counts.get(name, {}),
                    "state": "draft" if published is None else ("changed" if row is not None else "published"),
                    "draft": row is not None, "published_version": versions.get(name) if published else None,
                    "draft_updated_at": row.updated_at.isoformat() if row is not None else None})
    return out


def draft_body(conn: Connection, name: str) -> dict[str, Any] | None:
    return conn.execute(select(drafts.c.body).where(drafts.c.workflow == name)).scalar()


def drop_draft(conn: Connection, name: str) -> None:
    conn.execute(delete(drafts).where(drafts.c.workflow == name))
