"""Additive, in-place migrations of object tables (and system tables).

`plan_object` compares the old and new definition of an object and the table as it really is in
the database, and returns the actions that would bring the table in line, plus the problems that
refuse the change. Nothing is ever dropped: a removed field (only with force) keeps its column and
data. `apply_actions` runs the actions inside the caller's transaction, so a failing migration
leaves nothing half-done (DDL is transactional on both back ends, see db.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Column, Connection, Table, func, inspect, select
from sqlalchemy.schema import CreateColumn

from ..errors import Problem
from ..meta.objects import MISSING, FieldDef, ObjectDef


@dataclass(frozen=True)
class TableAction:
    """One step of a table migration, described for people and runnable against a connection."""

    op: str  # create_table | add_column | alter_type | add_index | drop_index | retire_column | backfill
    table: str
    target: str
    description: str
    destructive: bool = False
    value: Any = field(default=None, compare=False)

    def __str__(self) -> str:
        return f"{self.op} {self.table}.{self.target}: {self.description}"


# Indexes the search engine keeps itself (engines/search.py); no object definition declares them,
# so the planner must never offer to drop them.
SEARCH_INDEX_PREFIX = "ix_search_"

def _existing(conn: Connection, table: str) -> tuple[dict[str, dict[str, Any]], set[str]] | None:
    insp = inspect(conn)
    if not insp.has_table(table):
        return None
    columns = {c["name"]: c for c in insp.get_columns(table)}
    indexes = {i["name"] for i in insp.get_indexes(table) if i["name"]}
    indexes |= {u["name"] for u in insp.get_unique_constraints(table) if u["name"]}
    return columns, indexes


def _length(f: FieldDef) -> int | None:
    return getattr(f.type.column(f.schema), "length", None)


def _type_change(old: FieldDef, new: FieldDef) -> tuple[str | None, bool]:
    """(problem, needs_alter) for a field whose declaration changed."""
    if old.type.name == new.type.name:
        check = new.type.change_problem
        problem = check(old.schema, new.schema) if check else None
    elif new.type.name in old.type.widens_to:
        problem = None
    else:
        return f"changing type {old.type.name} -> {new.type.name} is not a safe widening", False
    old_len, new_len = _length(old), _length(new)
    if problem is None and old_len and new_len and new_len < old_len:
        problem = f"column length shrinks from {old_len} to {new_len}"
    old_sql = repr(old.type.column(old.schema))
    new_sql = repr(new.type.column(new.schema))
    return problem, old_sql != new_sql


def plan_object(conn: Connection, old: ObjectDef | None, new: ObjectDef, table: Table,
                force: bool = False) -> tuple[list[TableAction], list[Problem]]:
    """What applying `new` over `old` does to the object's table, and what refuses it."""
    at = f"object {new.name}"
    existing = _existing(conn, table.name)
    if existing is None:
        return [TableAction("create_table", table.name, "*",
                            f"create table with {len(new.fields)} fields")], []
    columns, indexes = existing
    actions: list[TableAction] = []
    problems: list[Problem] = []
    alive = table.c.deleted_at.is_(None)

    def refuse(name: str, code: str, message: str, forceable: bool, action: TableAction | None = None) -> None:
        if forceable and force:
            if action:
                actions.append(action)
            return
        hint = " (use force to apply anyway; no data is dropped)" if forceable else ""
        problems.append(Problem(f"{at}/properties/{name}", code, message + hint))

    for name, f in new.fields.items():
        before = old.fields.get(name) if old else None
        if name not in columns:
            actions.append(TableAction("add_column", table.name, name, f"add {f.type.name} column"))
            if f.default is not MISSING:
                actions.append(TableAction("backfill", table.name, name, f"fill existing records with {f.default!r}",
                                           value=f.stored(f.default)))
            elif f.required and _count(conn, table, alive):
                refuse(name, "required_without_default",
                       f"new required field '{name}' has no default for the existing records", True)
            continue
        if before is None:
            continue  # a column kept from an earlier, retired field of this name comes back
        problem, needs_alter = _type_change(before, f)
        if problem:
            refuse(name, "narrowing_change", f"field '{name}': {problem}", True,
                   TableAction("alter_type", table.name, name, problem, destructive=True) if needs_alter else None)
        elif needs_alter:
            actions.append(TableAction("alter_type", table.name, name,
                                       f"widen {before.type.name} -> {f.type.name}"))
        if f.required and not before.required:
            empty = _count(conn, table, alive & table.c[name].is_(None))
            if empty:
                refuse(name, "required_has_empty", f"{empty} record(s) have no value for '{name}'", True)
        if f.unique and not before.unique:
            dupes = _duplicates(conn, table, name)
            if dupes:
                refuse(name, "unique_has_duplicates",
                       f"{dupes} value(s) of '{name}' occur more than once; merge them first", False)
    for name in (old.fields if old else {}):
        if name not in new.fields:
            refuse(name, "field_removed", f"removing field '{name}' hides its data", True,
                   TableAction("retire_column", table.name, name,
                               "field removed from the definition; column and data kept", destructive=True))
    wanted = {ix.name: ix for ix in table.indexes}
    for name, ix in wanted.items():
        if name not in indexes:
            actions.append(TableAction("add_index", table.name, str(name),
                                       ("unique " if ix.unique else "") + "index on " + ", ".join(c.name for c in ix.columns)))
    for name in sorted(indexes - set(wanted)):
        if name.startswith(("ix_", "uq_")) and not name.startswith(SEARCH_INDEX_PREFIX):
            actions.append(TableAction("drop_index", table.name, name, "index no longer declared"))
    return actions, problems


def _count(conn: Connection, table: Table, where: Any) -> int:
    return int(conn.execute(select(func.count()).select_from(table).where(where)).scalar_one())


def _duplicates(conn: Connection, table: Table, name: str) -> int:
    col = table.c[name]
    grouped = (select(col).where(table.c.deleted_at.is_(None), col.is_not(None))
               .group_by(col).having(func.count() > 1).subquery())
    return int(conn.execute(select(func.count()).select_from(grouped)).scalar_one())


def _quote(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


def _add_column(conn: Connection, table: Table, column: Column) -> None:
    ddl = str(CreateColumn(column).compile(dialect=conn.dialect))
    for fk in column.foreign_keys:
        ref = fk.column
        ddl += f" REFERENCES {_quote(conn, ref.table.name)} ({_quote(conn, ref.name)})"
    conn.exec_driver_sql(f"ALTER TABLE {_quote(conn, table.name)} ADD COLUMN {ddl}")


def _alter_type(conn: Connection, table: Table, column: Column) -> None:
    if conn.dialect.name == "sqlite":
        return  # SQLite columns take any value of their affinity; widening needs no DDL there
    type_sql = column.type.compile(dialect=conn.dialect)
    name = _quote(conn, column.name)
    conn.exec_driver_sql(f"ALTER TABLE {_quote(conn, table.name)} ALTER COLUMN {name} TYPE {type_sql} "
                         f"USING {name}::{type_sql}")


def apply_actions(conn: Connection, table: Table, actions: list[TableAction]) -> None:
    """Run planned actions in the caller's transaction. Identifiers were validated with the definition."""
    for action in actions:
        if action.op == "create_table":
            continue  # new tables are created together by the caller (MetadataService.apply)
        if action.op == "add_column":
            _add_column(conn, table, table.c[action.target])
        elif action.op == "backfill":
            col = table.c[action.target]
            conn.execute(table.update().where(col.is_(None)).values({action.target: action.value}))
        elif action.op == "alter_type":
            _alter_type(conn, table, table.c[action.target])
        elif action.op == "add_index":
            next(ix for ix in table.indexes if ix.name == action.target).create(conn)
        elif action.op == "drop_index":
            conn.exec_driver_sql(f"DROP INDEX {_quote(conn, action.target)}")
        elif action.op == "retire_column":
            pass  # the column stays with its data: nothing is dropped silently


def sync_table(conn: Connection, table: Table) -> list[str]:
    """Bring a system table up to its declaration: create it, or add missing columns and indexes."""
    existing = _existing(conn, table.name)
    if existing is None:
        table.create(conn)
        return [f"created {table.name}"]
    columns, indexes = existing
    done = []
    for column in table.columns:
        if column.name not in columns:
            _add_column(conn, table, column)
            done.append(f"added {table.name}.{column.name}")
    for ix in table.indexes:
        if ix.name not in indexes:
            ix.create(conn)
            done.append(f"added index {ix.name}")
    return done
