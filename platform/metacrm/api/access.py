"""Access control applied to records: object verbs, data scope and field rules, in one place.

Every records, segments, tags and timeline endpoint goes through these helpers, so a user never
reads a row outside their scope or a field their roles hide, and never writes a hidden or
read-only field or gives a record to an owner outside their scope.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import ColumnElement

from ..auth.permissions import Permission
from ..auth.principal import Principal
from ..errors import NotFound, PermissionDenied, Problem
from ..meta.objects import ObjectDef
from ..store.definitions import Snapshot

RowFilter = Callable[[str], ColumnElement[bool] | None]


def object_for(snap: Snapshot, who: Principal, name: str, verb: str = "read") -> tuple[ObjectDef, Permission]:
    """The object and the caller's permission on it; 404 if unknown, 403 if the verb is denied."""
    obj = snap.object(name)
    return obj, who.require(obj.name, verb)


def row_filter(snap: Snapshot, who: Principal) -> RowFilter:
    """`row_filter(object_name)` for the rule compiler: the caller's scope on any object."""

    def scope(object_name: str) -> ColumnElement[bool] | None:
        table = snap.tables.get(object_name)
        return None if table is None else who.row_filter(object_name, table)

    return scope


def visible(record: Mapping[str, Any], perm: Permission) -> dict[str, Any]:
    """The record without the fields the caller may not see."""
    if not perm.hidden:
        return dict(record)
    return {k: v for k, v in record.items() if k not in perm.hidden}


def require_in_scope(who: Principal, obj: ObjectDef, record: Mapping[str, Any]) -> None:
    """A record outside the caller's scope does not exist for them (404, not 403: no leak)."""
    if not who.sees_owner(obj.name, record.get("owner_id")):
        raise NotFound(f"{obj.name} {record.get('id')} does not exist",
                       [Problem("id", "not_found", str(record.get("id")))])


def check_write(who: Principal, obj: ObjectDef, perm: Permission, data: Mapping[str, Any],
                prefix: str = "") -> list[Problem]:
    """Problems for fields the caller may not write and for owners outside their scope."""
    problems = []
    for name in data:
        if name in perm.hidden or name in perm.readonly:
            problems.append(Problem(prefix + name, "readonly", "you may not change this field"))
    owner = data.get("owner_id")
    if "owner_id" in data and isinstance(owner, int) and not who.may_own(obj.name, owner):
        problems.append(Problem(prefix + "owner_id", "out_of_scope",
                                f"you may not give records to user {owner} ({perm.scope} scope)"))
    return problems


def require_writable(who: Principal, obj: ObjectDef, perm: Permission, rows: Iterable[Mapping[str, Any]],
                     many: bool = False) -> None:
    problems = []
    for i, data in enumerate(rows):
        if isinstance(data, Mapping):
            problems += check_write(who, obj, perm, data, f"/{i}/" if many else "")
    if problems:
        raise PermissionDenied("you may not write some of these fields", problems)


def with_owner(who: Principal, obj: ObjectDef, data: Any) -> Any:
    """A new record's owner defaults to its creator."""
    if isinstance(data, Mapping) and "owner_id" not in data:
        return {**data, "owner_id": who.id}
    return int_owner(data)


def int_owner(data: Any) -> Any:
    """`owner_id` 7.0 is the JSON number 7 (JSON has one number type); the database wants an int."""
    if isinstance(data, Mapping):
        owner = data.get("owner_id")
        if isinstance(owner, float) and owner.is_integer() and abs(owner) < 2**63:
            return {**data, "owner_id": int(owner)}
    return data


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
