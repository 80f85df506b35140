"""Live column introspection: what a table really is in the database, not what was last declared.

The planner compares a field's new declaration with the column as the database reports it
(type family, length, precision and scale, nullability), its indexes and its foreign keys, so
that an earlier forced change or a hand-made edit can never make a "widening" cut stored values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, inspect, text
from sqlalchemy import types as sqltypes

from ..meta.sqltypes import ExactDecimal, UTCDateTime

TEXT, INTEGER, DECIMAL, BOOLEAN, DATE, DATETIME, JSON, OTHER = (
    "text", "integer", "decimal", "boolean", "date", "datetime", "json", "other")


@dataclass(frozen=True)
class ColumnShape:
    """The facts about a column type that decide whether values fit: family, length, digits."""

    family: str
    length: int | None = None  # characters; None = unbounded (TEXT)
    precision: int | None = None
    scale: int | None = None

    def __str__(self) -> str:
        if self.family == TEXT:
            return f"text({self.length})" if self.length else "text(unbounded)"
        if self.family == DECIMAL:
            return f"decimal({self.precision},{self.scale})"
        return self.family


@dataclass(frozen=True)
class LiveColumn:
    name: str
    shape: ColumnShape
    nullable: bool


@dataclass(frozen=True)
class LiveTable:
    columns: dict[str, LiveColumn]
    indexes: dict[str, tuple[str, ...]]  # name -> columns (unique constraints included)
    foreign_keys: dict[str, tuple[str | None, str]]  # column -> (constraint name, referred table)
    checks: frozenset[str] = frozenset()  # names of check constraints
    unvalidated: frozenset[str] = frozenset()  # PostgreSQL: checks added NOT VALID and not validated yet


def shape_of(type_: sqltypes.TypeEngine[Any]) -> ColumnShape:
    """The shape of a declared or reflected SQLAlchemy type."""
    if isinstance(type_, ExactDecimal):
        return ColumnShape(DECIMAL, precision=type_.precision, scale=type_.scale)
    if isinstance(type_, UTCDateTime):
        return ColumnShape(DATETIME)
    if isinstance(type_, sqltypes.TypeDecorator):
        return shape_of(type_.impl_instance)
    if isinstance(type_, sqltypes.JSON):
        return ColumnShape(JSON)
    if isinstance(type_, sqltypes.Boolean):
        return ColumnShape(BOOLEAN)
    if isinstance(type_, sqltypes.Integer):
        return ColumnShape(INTEGER)
    if isinstance(type_, sqltypes.Float):
        return ColumnShape(OTHER)
    if isinstance(type_, sqltypes.Numeric):
        return ColumnShape(DECIMAL, precision=type_.precision, scale=type_.scale)
    if isinstance(type_, sqltypes.DateTime):
        return ColumnShape(DATETIME)
    if isinstance(type_, sqltypes.Date):
        return ColumnShape(DATE)
    if isinstance(type_, sqltypes.String):
        return ColumnShape(TEXT, length=type_.length)
    return ColumnShape(OTHER)


def live_table(conn: Connection, table: str) -> LiveTable | None:
    """The table as the database reports it, or None when it does not exist."""
    insp = inspect(conn)
    if not insp.has_table(table):
        return None
    columns = {c["name"]: LiveColumn(c["name"], shape_of(c["type"]), bool(c.get("nullable", True)))
               for c in insp.get_columns(table)}
    indexes = {i["name"]: tuple(n for n in i["column_names"] if n) for i in insp.get_indexes(table) if i["name"]}
    indexes |= {u["name"]: tuple(u["column_names"]) for u in insp.get_unique_constraints(table) if u["name"]}
    fks = {fk["constrained_columns"][0]: (fk.get("name"), fk["referred_table"])
           for fk in insp.get_foreign_keys(table) if len(fk["constrained_columns"]) == 1}
    checks = frozenset(c["name"] for c in insp.get_check_constraints(table) if c.get("name"))
    unvalidated: frozenset[str] = frozenset()
    if conn.dialect.name == "postgresql":
        unvalidated = frozenset(conn.execute(text(
            "SELECT conname FROM pg_constraint WHERE contype = 'c' AND NOT convalidated "
            "AND conrelid = CAST(:t AS regclass)"), {"t": conn.dialect.identifier_preparer.quote(table)}).scalars())
    return LiveTable(columns, indexes, fks, checks, unvalidated)
