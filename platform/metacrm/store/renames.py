"""Renames that carry data: a renamed field keeps its column, a renamed option its stored values.

A field declared with `x-renamed-from: old` renames the column `old` (ALTER TABLE ... RENAME COLUMN on
both back ends: no value is copied), instead of retiring it and adding an empty one. A select or
multiselect field declared with `x-option-renames: {old: new}` rewrites the stored values `old` to
`new`, in batches of `BATCH` rows (a multiselect keeps every other value of its list, and the order).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table, bindparam, case, cast, column, exists, func, select, table, update
from sqlalchemy.dialects.postgresql import JSONB, array

BATCH = 2000


def _raw(table_name: str, name: str) -> Any:
    return table(table_name, column(name)).c[name]


def _holds_any(conn: Connection, col: Any, olds: list[str], multi: bool) -> Any:
    """A condition: the stored value of `col` is (select) or contains (multiselect) one of `olds`."""
    if not multi:
        return col.in_(olds)
    if conn.dialect.name == "postgresql":
        return cast(col, JSONB).has_any(array(olds))
    each = func.json_each(col).table_valued("value")
    return exists(select(1).select_from(each).where(each.c.value.in_(olds)))


def count_renamed(conn: Connection, table_name: str, name: str, olds: list[str], multi: bool) -> int:
    """How many rows (deleted records included) store one of the renamed option values."""
    col = _raw(table_name, name)
    where = col.is_not(None) & _holds_any(conn, col, olds, multi)
    return int(conn.execute(select(func.count()).select_from(col.table).where(where)).scalar_one())


def rewrite_options(conn: Connection, tbl: Table, name: str, mapping: dict[str, str], multi: bool) -> int:
    """Rewrite stored option values old -> new in batches of BATCH rows; returns the rows changed."""
    col, ident = tbl.c[name], tbl.c.id
    olds = sorted(mapping)
    done, last = 0, None
    while True:
        query = select(ident, col).where(col.is_not(None), _holds_any(conn, col, olds, multi))
        if last is not None:
            query = query.where(ident > last)
        rows = conn.execute(query.order_by(ident).limit(BATCH)).all()
        if not rows:
            return done
        if multi:  # lists are rewritten in Python: one executemany per batch
            conn.execute(update(tbl).where(ident == bindparam("b_id")).values({name: bindparam("b_value")}),
                         [{"b_id": rid, "b_value": _renamed(value, mapping, multi)} for rid, value in rows])
        else:
            conn.execute(update(tbl).where(ident.in_([r[0] for r in rows])).values({name: case(mapping, value=col)}))
        done += len(rows)
        last = rows[-1][0]


def _renamed(value: Any, mapping: dict[str, str], multi: bool) -> Any:
    if not multi:
        return mapping.get(value, value)
    out: list[Any] = []
    for item in value:
        item = mapping.get(item, item) if isinstance(item, str) else item
        if item not in out:
            out.append(item)
    return out
