"""Many-to-many relations: a link table per declared relation, listed and changed from both sides.

An object declares `x-links` (its own name for the relation, the target object, the target's
name for it, extra columns typed by the field type registry):

    "x-links": {"accounts": {"x-target": "account", "x-inverse": "contacts",
                             "x-columns": {"role": {"x-field": "select", "enum": ["buyer", "user"]}}}}

gives the table `lnk_contact_accounts` {id, a_id -> contact, b_id -> account, role, created_at,
created_by, UNIQUE (a_id, b_id), index (b_id, a_id)}. A person linked to a second company keeps
the first link. Adding an existing link is a no-op (its extra columns are left as they are); a
missing id is a 422 naming it. Each change adds one event to the addressed record's timeline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    ForeignKey,
    Index,
    MetaData,
    Table,
    UniqueConstraint,
    delete,
    select,
)

from ..errors import NotFound, Problem, ValidationError
from ..meta.fields import CoerceContext
from ..meta.links import columns_doc
from ..meta.objects import ObjectDef
from ..meta.sqltypes import UTCDateTime
from .bulk import insert_many, is_in
from .events import RecordEvent, append_events
from .system import ID
from .tables import constraint_name

MAX_LINKS = 1000
"""Links changed by one call."""


@dataclass(frozen=True)
class LinkDef:
    """One many-to-many relation: `owner.name` <-> `target.inverse`."""

    owner: str
    name: str
    target: str
    inverse: str
    columns: ObjectDef

    @property
    def table_name(self) -> str:
        return constraint_name("lnk", self.owner, [self.name])


@dataclass(frozen=True)
class Side:
    """A relation seen from one object: its link, and which column holds this side's ids."""

    link: LinkDef
    mine: str  # a_id | b_id
    other: str
    other_object: str


_CACHE: dict[int, tuple[Any, dict[tuple[str, str], Side], list[Table]]] = {}


def _build(snap: Any) -> tuple[dict[tuple[str, str], Side], list[Table]]:
    hit = _CACHE.get(id(snap))
    if hit is not None and hit[0] is snap:
        return hit[1], hit[2]
    sides: dict[tuple[str, str], Side] = {}
    tables: list[Table] = []
    md = MetaData()
    for obj in snap.objects.values():
        for name, decl in (obj.doc.get("x-links") or {}).items():
            link = LinkDef(obj.name, name, decl["x-target"], decl["x-inverse"],
                           ObjectDef.from_doc(columns_doc(obj.name, name, decl)))
            sides[(obj.name, name)] = Side(link, "a_id", "b_id", link.target)
            sides[(link.target, link.inverse)] = Side(link, "b_id", "a_id", link.owner)
            owner_t, target_t = snap.tables[link.owner], snap.tables[link.target]
            cols = [Column(n, f.type.column(f.schema), nullable=True) for n, f in link.columns.fields.items()]
            tname = link.table_name
            tables.append(Table(
                tname, md,
                Column("id", ID, primary_key=True, autoincrement=True),
                Column("a_id", BigInteger, ForeignKey(owner_t.c.id, name=constraint_name("fk", tname, ["a"])), nullable=False),
                Column("b_id", BigInteger, ForeignKey(target_t.c.id, name=constraint_name("fk", tname, ["b"])), nullable=False),
                *cols,
                Column("created_at", UTCDateTime(), nullable=False),
                Column("created_by", BigInteger, nullable=True),
                UniqueConstraint("a_id", "b_id", name=constraint_name("uq", tname, ["a_id", "b_id"])),
                Index(constraint_name("ix", tname, ["b_id", "a_id"]), "b_id", "a_id"),
            ))
    if len(_CACHE) > 16:
        _CACHE.clear()
    _CACHE[id(snap)] = (snap, sides, tables)
    return sides, tables


def side(snap: Any, object_name: str, name: str) -> Side:
    found = _build(snap)[0].get((object_name, name))
    if found is None:
        raise NotFound(f"{object_name} has no link '{name}'", [Problem("link", "unknown_link", name)])
    return found


def sides_of(snap: Any, object_name: str) -> dict[str, Side]:
    """Every many-to-many relation of an object, by its name on this side."""
    return {n: s for (o, n), s in _build(snap)[0].items() if o == object_name}


def table_of(snap: Any, link: LinkDef) -> Table:
    return next(t for t in _build(snap)[1] if t.name == link.table_name)


def ensure_tables(conn: Connection, snap: Any) -> None:
    """Create the link tables that do not exist yet (after definitions are applied)."""
    for table in _build(snap)[1]:
        table.create(conn, checkfirst=True)


# --- reading and changing links ----------------------------------------------------------------

def list_links(conn: Connection, snap: Any, s: Side, record_id: int, scope: Any = None) -> list[dict[str, Any]]:
    """The live records linked to `record_id`, with the link's columns (other side's `scope` applied)."""
    t = table_of(snap, s.link)
    other = snap.tables[s.other_object]
    query = (select(t).join(other, other.c.id == t.c[s.other])
             .where(t.c[s.mine] == record_id, other.c.deleted_at.is_(None)).order_by(t.c[s.other]))
    if scope is not None:
        query = query.where(scope)
    out = []
    for row in conn.execute(query):
        m = row._mapping
        item = {"id": m[s.other], **s.link.columns.shown(m),
                "created_at": m["created_at"].isoformat().replace("+00:00", "Z"), "created_by": m["created_by"]}
        out.append(item)
    return out


def _items(s: Side, items: Any, ctx: CoerceContext) -> list[tuple[int, dict[str, Any]]]:
    """[(other id, stored extra columns)] from [{"id": 5, "role": "buyer"}, 6, ...], or a 422."""
    if not isinstance(items, list) or len(items) > MAX_LINKS:
        raise ValidationError("'links' must be a list", [Problem("links", "type", f"a list of at most {MAX_LINKS} links")])
    out: list[tuple[int, dict[str, Any]]] = []
    problems: list[Problem] = []
    for i, item in enumerate(items):
        if isinstance(item, int) and not isinstance(item, bool):
            item = {"id": item}
        rid = item.get("id") if isinstance(item, Mapping) else None
        if not isinstance(rid, int) or isinstance(rid, bool) or rid < 1:
            problems.append(Problem(f"links/{i}/id", "type", "a record id"))
            continue
        stored, found = s.link.columns.prepare({k: v for k, v in item.items() if k != "id"}, False, ctx)
        problems += [Problem(f"links/{i}/{p.field}", p.code, p.message) for p in found]
        out.append((rid, stored))
    if problems:
        raise ValidationError("some links are invalid", problems)
    return out


def _require_records(conn: Connection, snap: Any, object_name: str, ids: Sequence[int], scope: Any,
                     pointer: str) -> None:
    """Every id is a live record of `object_name` the caller may read, else a 422 naming the missing ones."""
    if not ids:
        return
    t = snap.tables[object_name]
    query = select(t.c.id).where(is_in(t.c.id, list(ids), conn.dialect.name), t.c.deleted_at.is_(None))
    if scope is not None:
        query = query.where(scope)
    found = set(conn.execute(query).scalars())
    missing = [i for i in ids if i not in found]
    if missing:
        raise ValidationError(f"no {object_name} with id {', '.join(map(str, missing))}",
                              [Problem(pointer, "unknown_reference", f"no {object_name} with id {i}") for i in missing])


def change(conn: Connection, snap: Any, s: Side, record_id: int, add: Any = (), remove: Sequence[int] = (),
           replace: bool = False, actor_id: int | None = None, other_scope: Any = None,
           ctx: CoerceContext | None = None, notify: Any = None) -> dict[str, list[int]]:
    """Add and remove links of one record (replace: the given links become all of them).

    Returns {"added": ids, "removed": ids}. The caller has checked the record itself.
    """
    t = table_of(snap, s.link)
    wanted = _items(s, list(add), ctx or CoerceContext())
    _require_records(conn, snap, s.other_object, sorted({i for i, _ in wanted}), other_scope, "links")
    have = set(conn.execute(select(t.c[s.other]).where(t.c[s.mine] == record_id)).scalars())
    gone = set(remove)
    if replace:
        gone |= have - {i for i, _ in wanted}
    gone &= have
    if gone:
        conn.execute(delete(t).where(t.c[s.mine] == record_id, is_in(t.c[s.other], sorted(gone), conn.dialect.name)))
    now = datetime.now(UTC)
    new_rows, seen = [], set()
    for other, extra in wanted:
        if other in have - gone or other in seen:
            continue
        seen.add(other)
        new_rows.append({s.mine: record_id, s.other: other, **{n: extra.get(n) for n in s.link.columns.fields},
                         "created_at": now, "created_by": actor_id})
    if new_rows:
        insert_many(conn, t, new_rows)
    added = sorted(r[s.other] for r in new_rows)
    if added or gone:
        from .rollups import links_changed

        def pair(other: int) -> tuple[int, int]:
            return (record_id, other) if s.mine == "a_id" else (other, record_id)
        links_changed(conn, snap, s.link, [pair(i) for i in added], [pair(i) for i in sorted(gone)], notify)
        obj_name = s.link.owner if s.mine == "a_id" else s.link.target
        name = s.link.name if s.mine == "a_id" else s.link.inverse
        events = [RecordEvent(obj_name, record_id, "links", {"before": {}, "after": {
            name: {"added": added, "removed": sorted(gone)}}}, actor_id, now)]
        append_events(conn, events)
        if notify is not None:
            notify(events)
    return {"added": added, "removed": sorted(gone)}
