"""Deleting a definition (tag, segment, form, dedupe rule set, workflow, ...): a soft delete that keeps its
versions, refused while another definition refers to it.

The live row leaves `sys_definition`; a version with action `delete` keeps the last body, so history
shows it and re-applying the file brings it back. Objects are never deleted this way (their tables
and data stay; remove fields instead). References are found by walking every other live definition
for the name under a key that names the kind (`tag`, `tags`, `add_tags`, `segment`, `form`, ...).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, func, select, update

from ..errors import Conflict, NotFound, Problem, ValidationError
from ..meta.kinds import DefinitionSet
from ..meta.tag_names import normal, tag_keys
from ..store import system
from ..store.definitions import read_definitions, read_revision

NOT_DELETABLE = frozenset({"object"})
KEY_HINTS = {"tag": ("tag",), "tag_group": ("group",), "segment": ("segment",), "form": ("form",),
             "dedupe": ("dedupe",), "workflow": ("workflow", "flow"), "pipeline": ("pipeline",),
             "lead_pool": ("pool",), "assignment": ("assignment",), "conversion": ("conversion",)}


def _walk(value: Any, path: str, key: str) -> Iterator[tuple[str, str, Any]]:
    if isinstance(value, dict):
        op = value.get("op") if isinstance(value.get("op"), str) else ""
        for k, v in value.items():  # a rule's value is named by its operator: {"op": "has_tag", "value": "vip"}
            yield from _walk(v, f"{path}/{k}", f"{op}.{k}" if k == "value" and op else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk(v, f"{path}/{i}", key)
    else:
        yield path, key, value


def references(defs: DefinitionSet, kind: str, name: str) -> list[dict[str, str]]:
    """Every place another live definition names `kind` `name`: [{kind, name, path}]."""
    hints = KEY_HINTS.get(kind, (kind,))
    labels: set[str] = set()
    if kind == "tag":  # rules, steps and the API may name a tag by its label (meta.tag_names)
        own = (defs.get("tag", name) or {}).get("label") or {}
        labels = {normal(v) for v in own.values() if isinstance(v, str)}
    found = []
    for other_kind in defs.kinds():
        for other_name, doc in defs.items(other_kind):
            if (other_kind, other_name) == (kind, name):
                continue
            for path, key, value in _walk(doc, "", ""):
                named = value == name or (labels and isinstance(value, str) and normal(value) in labels
                                          and name in tag_keys(defs, value))
                if named and any(h in key.lower() for h in hints):
                    found.append({"kind": other_kind, "name": other_name, "path": path or "/"})
    return found


def delete_definition(conn: Connection, kind: str, name: str, actor_id: int | None = None,
                      note: str | None = None) -> dict[str, Any]:
    """Soft-delete a live definition in `conn`'s transaction; returns {kind, name, version, revision}."""
    if kind in NOT_DELETABLE:
        raise ValidationError("record types are not deleted: remove their fields instead (columns and data are kept)",
                              [Problem("kind", "not_deletable", kind)])
    state = system.meta_state
    if conn.execute(select(state.c.id).where(state.c.id == 1).with_for_update()).first() is None:
        conn.execute(state.insert().values(id=1, revision=0))
    d, v = system.definitions, system.definition_versions
    row = conn.execute(select(d).where(d.c.kind == kind, d.c.name == name)).first()
    if row is None:
        raise NotFound(f"no {kind} named '{name}'", [Problem("name", "not_found", f"{kind}/{name}")])
    used = references(read_definitions(conn), kind, name)
    if used:
        raise Conflict(f"{kind} '{name}' is still used; change these first",
                       [Problem(f"{u['kind']}/{u['name']}", "in_use", u["path"]) for u in used])
    version = (conn.execute(select(func.max(v.c.version)).where(v.c.kind == kind, v.c.name == name)).scalar() or 0) + 1
    conn.execute(v.insert().values(kind=kind, name=name, version=version, checksum=row.checksum, body=row.body,
                                   action="delete", created_at=datetime.now(UTC), created_by=actor_id, note=note))
    conn.execute(delete(d).where(d.c.kind == kind, d.c.name == name))
    conn.execute(update(state).where(state.c.id == 1).values(revision=state.c.revision + 1))
    return {"kind": kind, "name": name, "version": version, "revision": read_revision(conn),
            "body": json.loads(row.body)}
