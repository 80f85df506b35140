"""Access control applied to records: object verbs, data scope and field rules, in one place.

Every records, segments, tags and timeline endpoint goes through these helpers, so a user never
reads a row outside their scope or a field their roles hide, and never writes a hidden or
read-only field or gives a record to an owner outside their scope.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..auth.permissions import Permission
from ..auth.principal import Principal
from ..engines.scope import RowFilter as RowFilter
from ..engines.scope import hidden_in_rule as hidden_in_rule
from ..engines.scope import row_filter as row_filter
from ..errors import NotFound, PermissionDenied, Problem
from ..meta.objects import ObjectDef
from ..store.definitions import Snapshot


def object_for(snap: Snapshot, who: Principal, name: str, verb: str = "read") -> tuple[ObjectDef, Permission]:
    """The object and the caller's permission on it; 404 if unknown, 403 if the verb is denied."""
    obj = snap.object(name)
    return obj, who.require(obj.name, verb)


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
