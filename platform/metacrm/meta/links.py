"""Many-to-many relation declarations (`x-links` of an object): what the meta-schema cannot check.

Storage and the link operations live in store/links.py.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..errors import Problem
from .names import identifier_problem

COLUMN_TYPES = frozenset({"text", "select", "integer", "decimal", "boolean", "date"})
"""Field types a link's extra columns may have."""


def columns_doc(owner: str, name: str, decl: Mapping[str, Any]) -> dict[str, Any]:
    """The extra columns of a link as an object definition (validated and coerced like records)."""
    return {"$id": f"{owner}_{name}_link", "type": "object", "properties": dict(decl.get("x-columns") or {})}


def check_links(doc: Mapping[str, Any], defs: Any) -> Iterator[Problem]:
    """What the meta-schema cannot say about `x-links` (called from the object check)."""
    for name, decl in (doc.get("x-links") or {}).items():
        at = f"/x-links/{name}"
        problem = identifier_problem(name)
        if problem:
            yield Problem(at, "invalid_name", problem)
        if name in doc["properties"]:
            yield Problem(at, "duplicate_name", f"'{name}' is already a field of this object")
        target = defs.get("object", decl.get("x-target")) if doc["$id"] != decl.get("x-target") else doc
        if target is None:
            yield Problem(at + "/x-target", "unknown_object", f"no object named '{decl.get('x-target')}'")
            continue
        inverse = decl.get("x-inverse")
        if inverse in target["properties"] or (target is not doc and inverse in (target.get("x-links") or {})):
            yield Problem(at + "/x-inverse", "duplicate_name", f"'{inverse}' is already a field or link of {target['$id']}")
        for col, cdecl in (decl.get("x-columns") or {}).items():
            if cdecl.get("x-field") not in COLUMN_TYPES:
                yield Problem(f"{at}/x-columns/{col}", "type_mismatch",
                              f"a link column is one of {', '.join(sorted(COLUMN_TYPES))}")
            if col in ("id", "a_id", "b_id", "created_at", "created_by") or identifier_problem(col):
                yield Problem(f"{at}/x-columns/{col}", "invalid_name", f"'{col}' cannot name a link column")


