"""Record titles for people: what a relation value, a picker row or a search hit shows.

A title is the object's title field; a subtitle tells namesakes apart (the first phone field, then
the company or the first e-mail field), each left out when the caller's roles hide it. Every
read here is limited by the caller's data scope (`Principal.row_filter`, the list's own scope)
and leaves out soft-deleted records, so an id the caller may not see is simply absent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, Table, func, or_, select

from ..auth.permissions import Permission
from ..auth.principal import Principal
from ..meta.fields import USER_TARGET
from ..meta.objects import ObjectDef
from ..store.bulk import is_in
from ..store.definitions import Snapshot
from ..store.system import users

Title = dict[str, Any]


def title_field(obj: ObjectDef, perm: Permission) -> str | None:
    name = obj.title_field
    return name if name is not None and name not in perm.hidden else None


def subtitle_fields(obj: ObjectDef, perm: Permission) -> list[str]:
    """The fields that tell two records with the same title apart, visible to the caller."""
    names = [n for n, f in obj.fields.items() if f.type.name == "phone"][:1]
    company = "company" if "company" in obj.fields else next(
        (n for n, f in obj.fields.items() if f.type.name == "email"), None)
    if company is not None:
        names.append(company)
    return [n for n in names if n not in perm.hidden and n != obj.title_field]


def scoped(obj: ObjectDef, table: Table, who: Principal) -> list[ColumnElement[bool]]:
    """Live rows the caller may read (the list endpoint's own WHERE: scope and soft deletion)."""
    where: list[ColumnElement[bool]] = [table.c.deleted_at.is_(None)]
    scope = who.row_filter(obj.name, table)
    if scope is not None:
        where.append(scope)
    return where


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def describe_rows(obj: ObjectDef, perm: Permission, rows: Iterable[Mapping[str, Any]]) -> dict[int, Title]:
    """{id: {"title", "subtitle"}} from rows that hold the title and subtitle columns."""
    title = title_field(obj, perm)
    subs = subtitle_fields(obj, perm)
    out: dict[int, Title] = {}
    for row in rows:
        rid = int(row["id"])
        shown = _text(obj.fields[title].shown(row[title])) if title else ""
        parts = [_text(obj.fields[n].shown(row[n])) for n in subs if row[n] not in (None, "")]
        out[rid] = {"title": shown or f"#{rid}", "subtitle": " · ".join(parts) or None}
    return out


def title_select(obj: ObjectDef, table: Table, perm: Permission) -> Select[Any]:
    cols = [table.c.id] + [table.c[n] for n in ([title_field(obj, perm)] if title_field(obj, perm) else [])]
    cols += [table.c[n] for n in subtitle_fields(obj, perm)]
    return select(*cols)


def titles(conn: Connection, snap: Snapshot, who: Principal, object_name: str,
           ids: Sequence[int]) -> dict[int, Title]:
    """Titles of the records `ids` of one object that the caller may read (others are absent)."""
    wanted = sorted({i for i in ids if 0 < i < 2**63})
    if not wanted:
        return {}
    if object_name == USER_TARGET:
        rows = conn.execute(select(users.c.id, users.c.display_name, users.c.username)
                            .where(is_in(users.c.id, wanted, conn.dialect.name)))
        return {int(r.id): {"title": r.display_name or r.username, "subtitle": None} for r in rows}
    obj = snap.object(object_name)
    perm = who.permission(obj.name)
    if not perm.read:
        return {}
    table = snap.tables[obj.name]
    query = title_select(obj, table, perm).where(is_in(table.c.id, wanted, conn.dialect.name),
                                                 *scoped(obj, table, who))
    return describe_rows(obj, perm, (r._mapping for r in conn.execute(query)))


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def lookup(conn: Connection, snap: Snapshot, who: Principal, object_name: str, q: str,
           limit: int = 20) -> list[Title]:
    """Records of one object whose title or subtitle fields contain `q` (case-insensitive), for a
    picker: titles starting with `q` first, then by title. `user` gives active users."""
    q = q.strip()
    if object_name == USER_TARGET:
        query = select(users.c.id, users.c.display_name, users.c.username).where(users.c.active.is_(True))
        if q:
            query = query.where(or_(func.lower(users.c.display_name).like(_like(q.lower()), escape="\\"),
                                    func.lower(users.c.username).like(_like(q.lower()), escape="\\")))
        rows = conn.execute(query.order_by(users.c.display_name, users.c.id).limit(limit))
        return [{"id": int(r.id), "title": r.display_name or r.username, "subtitle": r.username} for r in rows]
    obj = snap.object(object_name)
    perm = who.require(obj.name, "read")
    table = snap.tables[obj.name]
    title = title_field(obj, perm)
    query = title_select(obj, table, perm).where(*scoped(obj, table, who))
    if q:
        searchable = [n for n in ([title] if title else []) + subtitle_fields(obj, perm)]
        pattern = _like(q.lower())
        query = query.where(or_(*(func.lower(table.c[n]).like(pattern, escape="\\") for n in searchable)))
    order: list[Any] = []
    if title:
        if q:
            starts = func.lower(table.c[title]).like(_like(q.lower())[1:], escape="\\")
            order.append(starts.desc())
        order.append(table.c[title])
    rows = conn.execute(query.order_by(*order, table.c.id).limit(limit))
    described = describe_rows(obj, perm, (r._mapping for r in rows))
    return [{"id": rid, **t} for rid, t in described.items()]
