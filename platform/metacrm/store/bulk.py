"""Set-based inserts: COPY on PostgreSQL and plain tuples on SQLite for larger batches.

COPY moves rows several times faster than executemany on PostgreSQL (PERFORMANCE.md). It runs on
the same DBAPI connection, so it belongs to the caller's transaction like any other statement.
Column values go through the same bind processing as SQLAlchemy would apply.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import JSON, Connection, Table
from sqlalchemy.types import TypeDecorator

from .db import json_dumps

COPY_MIN_ROWS = 50


def insert_many(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows (all with the same keys) in the caller's transaction."""
    if not rows:
        return
    fast = len(rows) >= COPY_MIN_ROWS and _no_python_defaults(table, rows[0])
    if fast and conn.dialect.name == "postgresql":
        _copy(conn, table, rows)
    elif fast and conn.dialect.name == "sqlite":
        _executemany(conn, table, rows)
    else:
        conn.execute(table.insert(), list(rows))


def _no_python_defaults(table: Table, row: dict[str, Any]) -> bool:
    """True when no column left out of the rows needs a default computed by SQLAlchemy."""
    return all(c.name in row or (c.default is None and c.onupdate is None) for c in table.columns)


def _executemany(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """SQLite: one compiled INSERT and plain tuples through the driver's executemany.

    SQLAlchemy's executemany builds a parameter dict per row and runs each value through its type
    in a generic loop: for a batch of records and their events that was a third of the write time.
    Here each column's bind processor (the same one SQLAlchemy would apply) is looked up once.
    """
    names = list(rows[0])
    compiled = table.insert().compile(dialect=conn.dialect, column_keys=names)
    order = [names.index(key) for key in compiled.positiontup or ()]
    procs = [_last_value(table.c[names[i]].type.dialect_impl(conn.dialect).bind_processor(conn.dialect))
             for i in order]
    plan = list(zip(order, procs, strict=True))
    params = [tuple(row[names[i]] if proc is None or row[names[i]] is None else proc(row[names[i]])
                    for i, proc in plan) for row in rows]
    conn.exec_driver_sql(str(compiled), params)


def _converter(conn: Connection, column: Any) -> Any:
    from psycopg.types.json import Jsonb

    col_type = column.type
    if isinstance(col_type, TypeDecorator):
        process = col_type.process_bind_param
        return lambda v: process(v, conn.dialect)
    if isinstance(col_type.dialect_impl(conn.dialect), JSON):
        return lambda v: None if v is None else Jsonb(v, dumps=json_dumps)
    return None


def _copy(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    from psycopg import sql

    names = list(rows[0])
    columns = [table.c[n] for n in names]
    converters = [(i, f) for i, f in enumerate(_converter(conn, c) for c in columns) if f is not None]
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(sql.Identifier(n) for n in names))
    raw = conn.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            values = [row[n] for n in names]
            for i, convert in converters:
                values[i] = convert(values[i])
            copy.write_row(values)


def _last_value(process: Any) -> Any:
    """The processor, skipping the work when a value is the very object it last saw (a batch's `now`)."""
    if process is None:
        return None
    last: list[Any] = [object(), None]

    def run(value: Any) -> Any:
        if value is not last[0]:
            last[0], last[1] = value, process(value)
        return last[1]

    return run


def is_in(column: Any, values: Sequence[Any], dialect_name: str) -> Any:
    """`column IN values`; on PostgreSQL as `= ANY(array)`, one parameter instead of hundreds."""
    if dialect_name == "postgresql":
        from sqlalchemy import any_, bindparam
        from sqlalchemy.dialects.postgresql import ARRAY

        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(list(values))


def insert_new(conn: Connection, table: Table, rows: Sequence[dict[str, Any]],
               keys: Sequence[str]) -> set[tuple[Any, ...]]:
    """Insert rows, skipping those whose key is already there (a concurrent writer's, too):
    INSERT ... ON CONFLICT DO NOTHING on PostgreSQL and SQLite. Returns the keys actually inserted,
    so a caller reports (and emits events for) only its own rows, and a race is never an error."""
    if not rows:
        return set()
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    columns = [table.c[k] for k in keys]
    inserted: set[tuple[Any, ...]] = set()
    for start in range(0, len(rows), 500):
        stmt = insert(table).values(list(rows[start:start + 500])).on_conflict_do_nothing().returning(*columns)
        inserted.update(tuple(r) for r in conn.execute(stmt))
    return inserted
