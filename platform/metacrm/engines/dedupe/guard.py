"""Who may see and touch what in the data factory: the caller's scope and field rules applied to
duplicate pairs, merges, undo and merge history (the same rules as the record list).

A record outside the caller's scope does not exist for them (404); a merge or an undo needs
`update` on every record it writes (the survivor, the merged records and every related record it
re-points) and writes only fields the caller may write; history shows only records and fields the
caller may read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, select

from ...auth.principal import Principal
from ...errors import NotFound, PermissionDenied, Problem
from ...store.bulk import is_in
from ...store.definitions import Snapshot


def visible_ids(snap: Snapshot, who: Principal | None, object_name: str) -> Select[Any] | None:
    """The ids of `object_name` the caller may read, as a subquery (None: every id)."""
    if who is None:
        return None
    table = snap.tables[object_name]
    scope = who.row_filter(object_name, table)
    return None if scope is None else select(table.c.id).where(scope)


def require_touch(snap: Snapshot, conn: Connection, who: Principal | None, object_name: str,
                  ids: Iterable[int], fields: Iterable[str] = ()) -> None:
    """404 for a record the caller cannot see, 403 without `update` or for a field they may not write."""
    if who is None:
        return
    ids = list(dict.fromkeys(ids))
    perm = who.permission(object_name)
    table = snap.tables[object_name]
    owners = {int(r.id): r.owner_id for r in conn.execute(
        select(table.c.id, table.c.owner_id).where(is_in(table.c.id, ids, conn.dialect.name)))}
    for rid in ids:
        if rid not in owners or not who.sees_owner(object_name, owners[rid]):
            raise NotFound(f"{object_name} {rid} does not exist", [Problem("id", "not_found", str(rid))])
    if not perm.update:
        raise PermissionDenied(f"you may not update {object_name} records",
                               [Problem("object", "forbidden", f"update {object_name}")])
    bad = [f for f in fields if not perm.writable(f)]
    if bad:
        raise PermissionDenied("you may not change some of these fields",
                               [Problem(f, "readonly", "you may not change this field") for f in bad])


def writable_changes(who: Principal | None, object_name: str, changes: Mapping[str, Any]) -> dict[str, Any]:
    """The merge's changes limited to fields the caller may write (the others keep the survivor's value)."""
    if who is None:
        return dict(changes)
    perm = who.permission(object_name)
    return {k: v for k, v in changes.items() if perm.writable(k)}


def scope_clause(snap: Snapshot, who: Principal | None, object_name: str,
                 column: Any) -> ColumnElement[bool] | None:
    """`column` (holding ids of `object_name`) limited to ids the caller may read."""
    ids = visible_ids(snap, who, object_name)
    return None if ids is None else column.in_(ids)


def merge_view(snap: Snapshot, conn: Connection, who: Principal | None, m: dict[str, Any]) -> dict[str, Any] | None:
    """A merge as the caller may see it: None when they cannot read the survivor; merged and
    re-pointed records they cannot read, and fields they may not read, left out."""
    if who is None:
        return m
    obj_name = m["object"]
    if not _readable(snap, conn, who, obj_name, [m["survivor_id"]]):
        return None
    hidden = who.permission(obj_name).hidden
    seen = _readable(snap, conn, who, obj_name, m["merged_ids"])
    out = {**m, "merged_ids": [i for i in m["merged_ids"] if i in seen],
           "before": {k: v for k, v in (m.get("before") or {}).items() if k not in hidden},
           "after": {k: v for k, v in (m.get("after") or {}).items() if k not in hidden}}
    moved = []
    for other, rid, field, old in m.get("repointed") or []:
        if other in snap.tables and field not in who.permission(other).hidden \
                and _readable(snap, conn, who, other, [rid]):
            moved.append([other, rid, field, old if old in seen or old == m["survivor_id"] else None])
    out["repointed"] = moved
    return out


def _readable(snap: Snapshot, conn: Connection, who: Principal, object_name: str, ids: list[int]) -> set[int]:
    table = snap.tables.get(object_name)
    if table is None or not ids or not who.permission(object_name).read:
        return set()
    query = select(table.c.id).where(is_in(table.c.id, ids, conn.dialect.name))
    scope = who.row_filter(object_name, table)
    if scope is not None:
        query = query.where(scope)
    return {int(r) for r in conn.execute(query).scalars()}
