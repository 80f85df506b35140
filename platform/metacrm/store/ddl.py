"""DDL for table migrations on both back ends, run inside the caller's transaction.

- PostgreSQL: every statement runs under a short `lock_timeout` in a savepoint and is retried, so
  a long read transaction holding the table never queues every other session behind the
  migration; a type change is `ALTER COLUMN ... TYPE ... USING <explicit conversion>`; a foreign
  key is added `NOT VALID` and validated afterwards (validation takes no exclusive lock).
- SQLite: columns have affinities, so a type change rebuilds the column: a new column of the new
  type, filled with the explicit conversion, the old one dropped and the new one renamed; the
  indexes and triggers on the table are recreated exactly as they were (a DBA's included).

Identifiers come from validated definitions; they are quoted by the dialect, values are bound or
rendered by SQLAlchemy.
"""

from __future__ import annotations

import re
import time
from typing import Any

from sqlalchemy import Column, Connection, Table
from sqlalchemy.exc import OperationalError
from sqlalchemy.schema import CreateColumn
from sqlalchemy.sql.elements import ColumnElement

from ..errors import DestructiveChange, Problem, ServiceUnavailable

LOCK_TIMEOUT_MS = 2000
LOCK_RETRIES = 5


def quote(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


def _sql(conn: Connection, expr: ColumnElement[Any]) -> str:
    return str(expr.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))


def run(conn: Connection, statement: str) -> None:
    """One DDL statement; on PostgreSQL bounded by lock_timeout and retried with backoff."""
    if conn.dialect.name != "postgresql":
        conn.exec_driver_sql(statement)
        return
    for attempt in range(LOCK_RETRIES):
        try:
            with conn.begin_nested():
                conn.exec_driver_sql(f"SET LOCAL lock_timeout = {LOCK_TIMEOUT_MS}")
                conn.exec_driver_sql(statement)
            conn.exec_driver_sql("SET LOCAL lock_timeout = 0")
            return
        except OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) != "55P03":  # lock_not_available
                raise
            time.sleep(0.2 * (attempt + 1))
    raise ServiceUnavailable("the table is busy (a long transaction holds it); nothing was changed, try again")


def column_ddl(conn: Connection, column: Column[Any], name: str | None = None) -> str:
    """`name TYPE [REFERENCES target (id)]` for ADD COLUMN."""
    copy = Column(name or column.name, column.type, nullable=True)
    ddl = str(CreateColumn(copy).compile(dialect=conn.dialect))
    for fk in column.foreign_keys:
        ref = fk.column
        ddl += f" REFERENCES {quote(conn, ref.table.name)} ({quote(conn, ref.name)})"
    return ddl


def add_column(conn: Connection, table: Table, column: Column[Any]) -> None:
    run(conn, f"ALTER TABLE {quote(conn, table.name)} ADD COLUMN {column_ddl(conn, column)}")


def change_type(conn: Connection, table: Table, name: str, using: ColumnElement[Any]) -> None:
    """Give column `name` the type of `table.c[name]`, converting every value with `using`."""
    column = table.c[name]
    if conn.dialect.name == "sqlite":
        rebuild_sqlite_column(conn, table, name, using)
        return
    type_sql = column.type.compile(dialect=conn.dialect)
    run(conn, f"ALTER TABLE {quote(conn, table.name)} ALTER COLUMN {quote(conn, name)} TYPE {type_sql} "
              f"USING {_sql(conn, using)}")


def retarget(conn: Connection, table: Table, name: str, live_fk: str | None) -> None:
    """Point the foreign key of relation column `name` at its new target (stored ids were checked)."""
    column = table.c[name]
    if conn.dialect.name == "sqlite":
        for fk in column.foreign_keys:
            _sqlite_retarget(conn, table.name, name, str(fk.target_fullname).split(".")[0])
        return
    t = quote(conn, table.name)
    if live_fk:
        run(conn, f"ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {quote(conn, live_fk)}")
    for fk in column.foreign_keys:
        fk_name = str(fk.name or f"fk_{table.name}_{name}")
        run(conn, f"ALTER TABLE {t} ADD CONSTRAINT {quote(conn, fk_name)} FOREIGN KEY ({quote(conn, name)}) "
                  f"REFERENCES {quote(conn, fk.column.table.name)} ({quote(conn, fk.column.name)}) NOT VALID")
        conn.exec_driver_sql(f"ALTER TABLE {t} VALIDATE CONSTRAINT {quote(conn, fk_name)}")


def _sqlite_retarget(conn: Connection, table: str, name: str, target: str) -> None:
    """SQLite: point the foreign key at another table by rewriting the stored CREATE TABLE, the
    procedure SQLite documents for changing a foreign key (the rows on disk do not change)."""
    col = re.escape(name)
    patterns = (rf'(FOREIGN KEY\s*\(\s*"?{col}"?\s*\)\s*REFERENCES\s+)("?\w+"?)',
                rf'((?:^|[(,\s])"?{col}"?\s+BIGINT\s+REFERENCES\s+)("?\w+"?)')
    _rewrite_sqlite_table(conn, table, patterns, quote(conn, target), f"the one foreign key of {table}.{name}")


_SQLITE_TYPE = r"(?:VARCHAR|NVARCHAR|CHAR|TEXT|CLOB|NUMERIC|DECIMAL)(?:\s*\(\s*\d+\s*(?:,\s*\d+\s*)?\))?"


def sqlite_same_affinity(conn: Connection, table: Table, name: str) -> None:
    """SQLite: give column `name` the declared type of `table.c[name]` when only its length or digits
    change (VARCHAR(50) -> VARCHAR(100) or TEXT, NUMERIC(10,2) -> NUMERIC(20,4)): the affinity and
    every stored value stay as they are, so the stored CREATE TABLE is rewritten instead of copying
    the column (instant on any size; SQLite never enforces lengths or digits)."""
    type_sql = str(table.c[name].type.compile(dialect=conn.dialect))
    pattern = rf'((?:^|[(,])\s*"?{re.escape(name)}"?\s+)({_SQLITE_TYPE})'
    _rewrite_sqlite_table(conn, table.name, (pattern,), type_sql, f"the column {table.name}.{name}")


def _rewrite_sqlite_table(conn: Connection, table: str, patterns: tuple[str, ...], replacement: str,
                          what: str) -> None:
    """Replace group 2 of the one match of `patterns` in the stored CREATE TABLE of `table`."""
    sql = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).scalar_one()
    new_sql, done = sql, 0
    for pattern in patterns:
        new_sql, n = re.subn(pattern, lambda m: m.group(1) + replacement, new_sql, flags=re.IGNORECASE)
        done += n
    if done != 1:
        raise DestructiveChange(f"cannot find {what} in the table's definition; nothing was changed",
                                [Problem(f"table {table}", "apply_failed", f"{what} not found once in its CREATE TABLE")])
    version = int(conn.exec_driver_sql("PRAGMA schema_version").scalar_one())
    conn.exec_driver_sql("PRAGMA writable_schema = ON")
    conn.exec_driver_sql("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?", (new_sql, table))
    conn.exec_driver_sql(f"PRAGMA schema_version = {version + 1}")
    conn.exec_driver_sql("PRAGMA writable_schema = OFF")


def rebuild_sqlite_column(conn: Connection, table: Table, name: str, using: ColumnElement[Any]) -> None:
    """SQLite: replace column `name` by one declared as `table.c[name]`, filled with `using`."""
    t = quote(conn, table.name)
    temp = f"{name}__new"
    dependents = conn.exec_driver_sql(
        "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = ? AND type IN ('index', 'trigger') "
        "AND sql IS NOT NULL ORDER BY type", (table.name,)).all()
    for kind, dep, _ in dependents:
        conn.exec_driver_sql(f"DROP {kind.upper()} {quote(conn, dep)}")
    conn.exec_driver_sql(f"ALTER TABLE {t} ADD COLUMN {column_ddl(conn, table.c[name], temp)}")
    conn.exec_driver_sql(f"UPDATE {t} SET {quote(conn, temp)} = {_sql(conn, using)}")
    conn.exec_driver_sql(f"ALTER TABLE {t} DROP COLUMN {quote(conn, name)}")
    conn.exec_driver_sql(f"ALTER TABLE {t} RENAME COLUMN {quote(conn, temp)} TO {quote(conn, name)}")
    for _, _, sql in dependents:
        conn.exec_driver_sql(sql)


def add_required_check(conn: Connection, table: Table, name: str, check: str, empty: bool = False,
                       validate: bool = True) -> None:
    """PostgreSQL: NULL impossible in a live record's column, for every writer. Added NOT VALID (a
    short lock) and validated afterwards (no exclusive lock; with `validate=False` the caller validates
    after its commit, store.online); on an empty table in one step."""
    t, c = quote(conn, table.name), quote(conn, check)
    condition = f"deleted_at IS NOT NULL OR {quote(conn, name)} IS NOT NULL"
    run(conn, f"ALTER TABLE {t} ADD CONSTRAINT {c} CHECK ({condition})" + ("" if empty else " NOT VALID"))
    if not empty and validate:
        conn.exec_driver_sql(f"ALTER TABLE {t} VALIDATE CONSTRAINT {c}")


def drop_constraint(conn: Connection, table: Table, name: str) -> None:
    run(conn, f"ALTER TABLE {quote(conn, table.name)} DROP CONSTRAINT IF EXISTS {quote(conn, name)}")


def drop_index(conn: Connection, name: str) -> None:
    run(conn, f"DROP INDEX {quote(conn, name)}")


def rename_column(conn: Connection, table: Table, old: str, new: str, checks: dict[str, str]) -> None:
    """RENAME COLUMN (both back ends: the values stay where they are), and on PostgreSQL the checks
    named after the column (`checks`: old constraint name -> new) follow it."""
    t = quote(conn, table.name)
    run(conn, f"ALTER TABLE {t} RENAME COLUMN {quote(conn, old)} TO {quote(conn, new)}")
    if conn.dialect.name == "postgresql":
        for before, after in checks.items():
            run(conn, f"ALTER TABLE {t} RENAME CONSTRAINT {quote(conn, before)} TO {quote(conn, after)}")
