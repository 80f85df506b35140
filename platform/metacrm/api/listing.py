"""Record lists: rule filter, sort, field selection, keyset cursors and counts, within scope.

One query builder serves `/records/{object}` and `/segments/{name}/records`. The data scope and
soft deletion are always part of the WHERE clause; the rule compiler gets the same scope as
`row_filter`, so related-record and tag conditions never count rows the caller cannot see.
Cursors are keyset positions (the sort values of the last row plus its id), so a page costs the
same at row 50 and at row 1,000,000; NULLs sort last in both directions on both back ends.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, and_, case, false, func, or_, select

from ..auth.permissions import Permission
from ..auth.principal import Principal
from ..engines import tags as tag_engine
from ..engines.scope import base_where as base_where
from ..engines.scope import compile_rule as compile_rule
from ..errors import BadRequest, Problem
from ..meta.objects import ObjectDef
from ..store.definitions import Snapshot
from ..store.records import RecordService
from .access import visible
from .jsonio import parse_json

SYSTEM_SORTABLE = ("id", "created_at", "updated_at", "owner_id", "created_by", "version")
NOT_NULL = frozenset({"id", "created_at", "updated_at", "version"})
UNSORTABLE = frozenset({"multiselect", "json", "textarea"})
MAX_LIMIT = 1000


@dataclass(frozen=True)
class ListQuery:
    rule: Any = None
    sort: tuple[tuple[str, bool], ...] = (("id", True),)  # (field, descending)
    fields: tuple[str, ...] | None = None
    limit: int = 50
    cursor: str | None = None
    count: bool = False


def parse_rule(raw: str | None) -> Any:
    if raw is None or raw.strip() == "":
        return None
    rule = parse_json(raw, "filter")
    if not isinstance(rule, dict):
        raise BadRequest("'filter' must be a rule (a JSON object)", [Problem("filter", "type", "a JSON object")])
    return rule


def parse_sort(raw: str | None, obj: ObjectDef, perm: Permission) -> tuple[tuple[str, bool], ...]:
    if raw is None or raw.strip() == "":
        return (("id", True),)
    keys: list[tuple[str, bool]] = []
    problems = []
    for part in raw.split(","):
        part = part.strip()
        desc = part.startswith("-")
        name = part.lstrip("-+")
        f = obj.fields.get(name)
        ok = name in SYSTEM_SORTABLE or (f is not None and f.type.name not in UNSORTABLE and name not in perm.hidden)
        if not ok:
            problems.append(Problem("sort", "unknown_field", f"cannot sort by '{name[:64]}'"))
        elif name in (k for k, _ in keys):
            problems.append(Problem("sort", "duplicate_field", f"'{name}' is sorted twice"))
        else:
            keys.append((name, desc))
    if problems:
        raise BadRequest("invalid sort", problems)
    if keys[-1][0] != "id" and "id" not in (k for k, _ in keys):
        keys.append(("id", keys[0][1]))
    return tuple(keys)


def parse_fields(raw: str | None, obj: ObjectDef, perm: Permission) -> tuple[str, ...] | None:
    if raw is None or raw.strip() == "":
        return None
    names = tuple(dict.fromkeys(n.strip() for n in raw.split(",") if n.strip()))
    allowed = set(obj.fields) - perm.hidden | {"id", "created_at", "updated_at", "owner_id", "created_by",
                                                "version", "deleted_at", "tags"}
    bad = [n for n in names if n not in allowed]
    if bad or not names:
        raise BadRequest("invalid field selection", [Problem("fields", "unknown_field", f"no field '{n[:64]}'")
                                                     for n in bad] or [Problem("fields", "empty", "no fields")])
    return names


def _encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _bad_cursor() -> BadRequest:
    return BadRequest("the cursor is not valid for this list", [Problem("cursor", "invalid_cursor",
                      "use next_cursor from the previous page, with the same sort")])


def _decode_cursor(cursor: str, sort: tuple[tuple[str, bool], ...], obj: ObjectDef) -> list[Any]:
    try:
        values = parse_json(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)), "cursor")
    except (binascii.Error, ValueError, BadRequest):
        raise _bad_cursor() from None
    if not isinstance(values, list) or len(values) != len(sort):
        raise _bad_cursor()
    out = []
    for (name, _), value in zip(sort, values, strict=True):
        if value is None:
            if name in NOT_NULL:
                raise _bad_cursor()
            out.append(None)
            continue
        try:
            if name in ("created_at", "updated_at", "deleted_at"):
                parsed: Any = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
                if parsed.tzinfo is None:
                    raise ValueError
            elif name in SYSTEM_SORTABLE:
                parsed = _checked(value, ("integer",))
            else:
                f = obj.fields[name]
                parsed = f.stored(_checked(value, f.type.json_types))
        except Exception:
            raise _bad_cursor() from None
        out.append(parsed)
    return out


_JSON_TYPES: dict[str, tuple[type, ...]] = {"string": (str,), "integer": (int,), "number": (int, float),
                                           "boolean": (bool,)}


def _checked(value: Any, json_types: tuple[str, ...]) -> Any:
    """The cursor value if it has one of the field's JSON types (a forged cursor must not reach SQL)."""
    for name in json_types:
        kinds = _JSON_TYPES.get(name, ())
        if isinstance(value, kinds) and (name == "boolean" or not isinstance(value, bool)):
            if isinstance(value, int) and not isinstance(value, bool) and not -2**63 < value < 2**63:
                raise ValueError("out of range")
            return value
    raise ValueError("wrong type")


def _after(table: Table, sort: tuple[tuple[str, bool], ...], values: list[Any]) -> ColumnElement[bool]:
    """Rows strictly after the position `values` in the order `sort` (NULLs last)."""
    parts: list[tuple[Any, Any, bool]] = []
    for (name, desc), value in zip(sort, values, strict=True):
        col = table.c[name]
        if name not in NOT_NULL:
            parts.append((case((col.is_(None), 1), else_=0), 1 if value is None else 0, False))
        parts.append((col, value, desc))
    ors = []
    for i, (expr, value, desc) in enumerate(parts):
        if value is None:
            continue
        equal = [e.is_(None) if v is None else e == v for e, v, _ in parts[:i]]
        ors.append(and_(*equal, expr < value if desc else expr > value))
    if not ors:
        return false()
    first, value, desc = parts[0]
    if sort[0][0] in NOT_NULL:
        # The same set, plus a plain range on the leading column: the OR above alone is not a
        # range an index can seek to, so deep pages sorted by created_at scanned from the top.
        return and_(first <= value if desc else first >= value, or_(*ors))
    return or_(*ors)


def _order_by(table: Table, sort: tuple[tuple[str, bool], ...]) -> list[Any]:
    out: list[Any] = []
    for name, desc in sort:
        col = table.c[name]
        if name not in NOT_NULL:
            out.append(case((col.is_(None), 1), else_=0))
        out.append(col.desc() if desc else col.asc())
    return out


def run_list(conn: Connection, records: RecordService, snap: Snapshot, obj: ObjectDef, perm: Permission,
             who: Principal, q: ListQuery, tz: str, extra: list[ColumnElement[bool]] = (),
             deleted: bool = False) -> dict[str, Any]:
    table = snap.tables[obj.name]
    where = base_where(obj, table, who, deleted) + list(extra)
    if q.rule is not None:
        where.append(compile_rule(q.rule, obj, snap, who, tz))
    page_where = list(where)
    if q.cursor:
        page_where.append(_after(table, q.sort, _decode_cursor(q.cursor, q.sort, obj)))
    query = select(table).where(*page_where).order_by(*_order_by(table, q.sort)).limit(q.limit + 1)
    rows = conn.execute(query).all()
    more = len(rows) > q.limit
    rows = rows[:q.limit]
    items = []
    want_tags = q.fields is None or "tags" in q.fields
    tags = tag_engine.tags_of(conn, obj.name, [r.id for r in rows]) if want_tags and rows else {}
    for row in rows:
        record = visible(records.to_dict(obj, row._mapping), perm)
        if want_tags:
            record["tags"] = tags[row.id]
        if q.fields is not None:
            record = {"id": record["id"], **{n: record.get(n) for n in q.fields}}
        items.append(record)
    next_cursor = None
    if more and rows:
        last = rows[-1]._mapping
        next_cursor = _encode_cursor([_cursor_value(obj, name, last[name]) for name, _ in q.sort])
    out: dict[str, Any] = {"items": items, "next_cursor": next_cursor}
    if q.count:
        out["count"] = int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())
    return out


def _cursor_value(obj: ObjectDef, name: str, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    if name in obj.fields:
        return obj.fields[name].shown(value)
    return value
