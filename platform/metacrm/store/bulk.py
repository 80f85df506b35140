"""Set-based inserts: plain executemany everywhere, COPY on PostgreSQL for larger batches.

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
    if conn.dialect.name == "postgresql" and len(rows) >= COPY_MIN_ROWS:
        _copy(conn, table, rows)
    else:
        conn.execute(table.insert(), list(rows))


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


def is_in(column: Any, values: Sequence[Any], dialect_name: str) -> Any:
    """`column IN values`; on PostgreSQL as `= ANY(array)`, one parameter instead of hundreds."""
    if dialect_name == "postgresql":
        from sqlalchemy import any_, bindparam
        from sqlalchemy.dialects.postgresql import ARRAY

        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(list(values))
