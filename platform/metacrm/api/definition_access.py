"""What a caller may see of a definition: secrets never, and non-admins only what they need.

Administrators read every kind, with secrets masked (meta.secrets). Other users read objects,
forms, tags, tag groups, segments, pipelines and lead pools of objects they may read, without
the fields their roles hide (an object's properties and indexes, a form's layout, a rule that
reads a hidden field); the other kinds (workflows, assignment, dedupe, conversion and any kind
added later) are for administrators only (403).
"""

from __future__ import annotations

from typing import Any

from ..auth.permissions import Permission
from ..auth.principal import Principal
from ..errors import PermissionDenied, Problem
from ..meta.secrets import masked
from .access import hidden_in_rule

READER_KINDS = frozenset({"object", "form", "tag", "tag_group", "segment", "pipeline", "lead_pool"})
"""Kinds a user who is not an administrator may read (filtered per object and field)."""


def require_kind_readable(who: Principal, kind: str) -> None:
    if not who.is_admin and kind not in READER_KINDS:
        raise PermissionDenied(f"only administrators may read {kind} definitions",
                               [Problem("kind", "admin_only", kind[:64])])


def object_for_reader(doc: dict[str, Any], perm: Permission) -> dict[str, Any]:
    """An object definition without the caller's hidden fields (properties, required, indexes)."""
    if not perm.hidden:
        return doc
    out = {k: v for k, v in doc.items() if k not in ("properties", "required", "x-indexes")}
    out["properties"] = {n: d for n, d in (doc.get("properties") or {}).items() if n not in perm.hidden}
    if "required" in doc:
        out["required"] = [n for n in doc["required"] if n not in perm.hidden]
    if "x-indexes" in doc:
        out["x-indexes"] = [ix for ix in doc["x-indexes"]
                            if not (set(_index_fields(ix)) & perm.hidden)]
    if out.get("x-title-field") in perm.hidden:
        out.pop("x-title-field")
    return out


def _index_fields(index: Any) -> list[str]:
    if isinstance(index, dict):
        fields = index.get("fields") or index.get("columns") or []
        return [f for f in fields if isinstance(f, str)]
    if isinstance(index, list):
        return [f for f in index if isinstance(f, str)]
    return []


def _entry_field(entry: Any) -> Any:
    return entry.get("field") if isinstance(entry, dict) else entry


def form_for_reader(doc: dict[str, Any], perm: Permission) -> dict[str, Any]:
    """A form without the caller's hidden fields (empty sections dropped); read-only fields marked so."""
    if not perm.hidden and not perm.readonly:
        return doc
    sections = []
    for section in doc.get("sections") or []:
        entries = []
        for entry in section.get("fields") or []:
            name = _entry_field(entry)
            if name in perm.hidden:
                continue
            if name in perm.readonly:
                entry = {**entry, "readonly": True} if isinstance(entry, dict) else {"field": name, "readonly": True}
            entries.append(entry)
        if entries:
            sections.append({**section, "fields": entries})
    return {**doc, "sections": sections}


def _objects_of(kind: str, doc: dict[str, Any]) -> list[str]:
    if kind == "object":
        return [str(doc.get("$id"))]
    if kind == "tag":
        return [o for o in doc.get("objects") or [] if isinstance(o, str)]
    obj = doc.get("object")
    return [obj] if isinstance(obj, str) else []


def for_reader(kind: str, doc: dict[str, Any], who: Principal) -> dict[str, Any] | None:
    """The definition as `who` may see it, or None when they may not see it at all."""
    if who.is_admin:
        return masked(doc)
    if kind not in READER_KINDS:
        return None
    objects = _objects_of(kind, doc)
    if kind != "tag_group" and not any(who.permission(o).read for o in objects):
        return None
    if kind == "object":
        doc = object_for_reader(doc, who.permission(objects[0]))
    elif kind == "form":
        doc = form_for_reader(doc, who.permission(objects[0]))
    elif kind in ("segment", "tag") and isinstance(doc.get("rule"), dict) and \
            any(hidden_in_rule(doc["rule"], o, who) for o in objects if who.permission(o).read):
        doc = {k: v for k, v in doc.items() if k != "rule"}
    return masked(doc)
