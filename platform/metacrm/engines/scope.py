"""The one access path for reading records in bulk: data scope and field rules as SQL.

The list endpoint, segments, exports and the report engine all build their WHERE clause here, so
a chart can never count a row the same caller's list would not show, and a rule (a filter, a
drill-down, a report's filters) that reads a field the caller may not see is refused, not
silently evaluated. api.listing and api.access re-export these names for the API modules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, Table

from ..auth.principal import Principal
from ..errors import Problem, ValidationError
from ..meta.objects import ObjectDef
from ..rules import to_sql, validate_rule
from ..store.definitions import Snapshot

RowFilter = Callable[[str], ColumnElement[bool] | None]


def row_filter(snap: Snapshot, who: Principal) -> RowFilter:
    """`row_filter(object_name)` for the rule compiler: the caller's scope on any object."""

    def scope(object_name: str) -> ColumnElement[bool] | None:
        table = snap.tables.get(object_name)
        return None if table is None else who.row_filter(object_name, table)

    return scope


def hidden_in_rule(rule: Any, object_name: str, who: Principal) -> list[str]:
    """Fields a rule reads that the caller may not see (filtering on them would leak values),
    on this object and on the related objects its related-record conditions read."""
    found: list[str] = []

    def walk(node: Any, obj: str) -> None:
        if not isinstance(node, dict):
            return
        related = node.get("related")
        if isinstance(related, dict):
            target = related.get("object")
            if isinstance(target, str):
                perm = who.permission(target)
                if not perm.read:
                    found.append(f"{target}")
                for name in (node.get("field"), related.get("via")):
                    if isinstance(name, str) and name in perm.hidden:
                        found.append(f"{target}.{name}")
                walk(node.get("where"), target)
            return
        name = node.get("field")
        if isinstance(name, str) and name in who.permission(obj).hidden:
            found.append(name if obj == object_name else f"{obj}.{name}")
        for key in ("all", "any"):
            if isinstance(node.get(key), list):
                for child in node[key]:
                    walk(child, obj)
        walk(node.get("not"), obj)

    walk(rule, object_name)
    return found


def compile_rule(rule: Any, obj: ObjectDef, snap: Snapshot, who: Principal, tz: str,
                 where: str = "filter") -> ColumnElement[bool]:
    """The rule as SQL over the object's table, validated, within the caller's scope everywhere."""
    problems = validate_rule(rule, obj.name, snap)
    if problems:
        raise ValidationError(f"the {where} rule is invalid",
                              [Problem(f"{where}{p.field if p.field.startswith('/') else '/' + p.field}",
                                       p.code, p.message) for p in problems])
    hidden = hidden_in_rule(rule, obj.name, who)
    if hidden:
        raise ValidationError(f"the {where} rule reads fields you may not see",
                              [Problem(where, "forbidden_field", name) for name in hidden])
    return to_sql(rule, obj.name, snap, tz=tz, row_filter=row_filter(snap, who))


def base_where(obj: ObjectDef, table: Table, who: Principal, deleted: bool = False) -> list[ColumnElement[bool]]:
    """The caller's scope over live rows (or, for the trash, soft-deleted ones)."""
    where: list[ColumnElement[bool]] = [table.c.deleted_at.is_not(None) if deleted else table.c.deleted_at.is_(None)]
    scope = who.row_filter(obj.name, table)
    if scope is not None:
        where.append(scope)
    return where
