"""Permissions: what a role may do with an object's records, merged over a user's roles.

A grant gives verbs (read/create/update/delete), a data scope (own: records the user owns;
team: records owned by anyone in the user's teams; all) and field rules (hidden: never shown nor
written; readonly: shown, never written). A user's roles merge generously, since a role adds
rights and never removes them: any verb any role grants, the widest scope, and a field stays
hidden (or read-only) only when every role that grants reading (writing) hides it (keeps it
read-only).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Table, false

VERBS = ("read", "create", "update", "delete")
SCOPES = ("own", "team", "all")
WILDCARD = "*"


@dataclass(frozen=True)
class Permission:
    read: bool = False
    create: bool = False
    update: bool = False
    delete: bool = False
    scope: str = "own"
    hidden: frozenset[str] = field(default_factory=frozenset)
    readonly: frozenset[str] = field(default_factory=frozenset)

    def allows(self, verb: str) -> bool:
        return bool(getattr(self, verb))

    def writable(self, name: str) -> bool:
        return name not in self.hidden and name not in self.readonly

    def to_dict(self) -> dict[str, Any]:
        return {"read": self.read, "create": self.create, "update": self.update, "delete": self.delete,
                "scope": self.scope, "hidden_fields": sorted(self.hidden),
                "readonly_fields": sorted(self.readonly)}


FULL = Permission(True, True, True, True, "all")
NONE = Permission()


def merge(perms: Iterable[Permission]) -> Permission:
    perms = list(perms)
    if not perms:
        return NONE
    if len(perms) == 1:
        return perms[0]
    # only roles that let one see (write) a field can make it visible (writable)
    readers = [p for p in perms if p.read] or perms
    writers = [p for p in perms if p.create or p.update] or perms
    hidden = frozenset.intersection(*(p.hidden for p in readers))
    readonly = frozenset.intersection(*(p.readonly | p.hidden for p in writers)) - hidden
    return Permission(
        read=any(p.read for p in perms), create=any(p.create for p in perms),
        update=any(p.update for p in perms), delete=any(p.delete for p in perms),
        scope=max((p.scope for p in perms), key=SCOPES.index), hidden=hidden, readonly=readonly)


def from_row(row: Mapping[str, Any]) -> Permission:
    return Permission(bool(row["can_read"]), bool(row["can_create"]), bool(row["can_update"]),
                      bool(row["can_delete"]), row["scope"] if row["scope"] in SCOPES else "own",
                      frozenset(row["hidden_fields"] or ()), frozenset(row["readonly_fields"] or ()))


def scope_clause(perm: Permission, user_id: int, team_user_ids: frozenset[int],
                 table: Table) -> ColumnElement[bool] | None:
    """The SQL condition limiting `table` to the rows this permission may see (None: all rows)."""
    if not perm.read:
        return false()
    if perm.scope == "all":
        return None
    if perm.scope == "team":
        return table.c.owner_id.in_(sorted(team_user_ids | {user_id}))
    return table.c.owner_id == user_id


def in_scope(perm: Permission, user_id: int, team_user_ids: frozenset[int], owner_id: Any) -> bool:
    """The same decision as `scope_clause`, for one record's owner (in memory)."""
    if perm.scope == "all":
        return True
    if owner_id is None:
        return False
    if perm.scope == "team":
        return owner_id == user_id or owner_id in team_user_ids
    return owner_id == user_id
