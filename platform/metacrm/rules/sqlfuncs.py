"""SQL constructs whose spelling differs between SQLite and PostgreSQL.

Each is one expression class with a default (SQLite) and a PostgreSQL rendering, so the compiler
builds one dialect-neutral tree and the engine that runs it picks the words. SQLite gets one
Python function (the ISO weekday of a UTC timestamp in a named zone), registered on every
SQLite connection, because it has no time zone database.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Boolean, Engine, Integer, String, bindparam, event
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

# --- lower() of ASCII letters only ---------------------------------------------------------------


class ascii_lower(FunctionElement[str]):
    """lower() that folds A-Z only, the same on both back ends and in Python (timeutil.ascii_lower)."""

    type = String()
    name = "ascii_lower"
    inherit_cache = True


@compiles(ascii_lower)
def _ascii_lower_default(element: ascii_lower, compiler: Any, **kw: Any) -> str:
    return f"lower({compiler.process(element.clauses, **kw)})"


@compiles(ascii_lower, "postgresql")
def _ascii_lower_pg(element: ascii_lower, compiler: Any, **kw: Any) -> str:
    return f'lower(({compiler.process(element.clauses, **kw)}) COLLATE "C")'


# --- JSON arrays (multiselect) and JSON emptiness ---------------------------------------------


class JsonArrayHas(ColumnElement[bool]):
    """A JSON array column holds any (mode "any") or all (mode "all") of some strings."""

    type = Boolean()
    inherit_cache = False
    _is_implicitly_boolean = True  # a predicate: no "= 1" appended on SQLite (that hides indexes)

    def __init__(self, column: ColumnElement[Any], values: Sequence[str], mode: str) -> None:
        self.column = column
        self.values = list(values)
        self.mode = mode


@compiles(JsonArrayHas)
def _json_has_sqlite(element: JsonArrayHas, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    binds = ", ".join(compiler.process(bindparam(None, v, type_=String()), **kw) for v in element.values)
    if element.mode == "any":
        return f"EXISTS (SELECT 1 FROM json_each({column}) AS je WHERE je.value IN ({binds}))"
    return (f"((SELECT count(DISTINCT je.value) FROM json_each({column}) AS je WHERE je.value IN ({binds})) "
            f"= {len(element.values)})")


@compiles(JsonArrayHas, "postgresql")
def _json_has_pg(element: JsonArrayHas, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    values = compiler.process(bindparam(None, element.values, type_=ARRAY(String())), **kw)
    return f"({column} {'?|' if element.mode == 'any' else '?&'} {values})"


class JsonEmpty(ColumnElement[bool]):
    """A JSON column is NULL, [] or {} (never NULL itself)."""

    type = Boolean()
    inherit_cache = False
    _is_implicitly_boolean = True  # a predicate: no "= 1" appended on SQLite (that hides indexes)

    def __init__(self, column: ColumnElement[Any]) -> None:
        self.column = column


@compiles(JsonEmpty)
def _json_empty_sqlite(element: JsonEmpty, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    return f"({column} IS NULL OR NOT EXISTS (SELECT 1 FROM json_each({column})))"


@compiles(JsonEmpty, "postgresql")
def _json_empty_pg(element: JsonEmpty, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    return f"({column} IS NULL OR {column} IN ('[]'::jsonb, '{{}}'::jsonb))"


# --- tag membership ------------------------------------------------------------------------


class TagLinked(ColumnElement[bool]):
    """A record has a tag: `id IN (links)` on SQLite, a correlated EXISTS on PostgreSQL.

    SQLite runs IN as one hashed list and EXISTS as a probe per row (five times slower here).
    PostgreSQL hashes an IN list only while it fits work_mem; under OR a larger one falls back to
    a scan of the list per row (quadratic: over 30 minutes at 1M leads), while EXISTS probes the
    (object, tag, record_id) index per row and is pulled up into a semi-join under AND.
    """

    type = Boolean()
    inherit_cache = False
    _is_implicitly_boolean = True  # a predicate: no "= 1" appended on SQLite (that hides indexes)

    def __init__(self, as_in: ColumnElement[bool], as_exists: ColumnElement[bool]) -> None:
        self.as_in = as_in
        self.as_exists = as_exists


@compiles(TagLinked)
def _tag_linked_default(element: TagLinked, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.as_in, **kw)


@compiles(TagLinked, "postgresql")
def _tag_linked_pg(element: TagLinked, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.as_exists, **kw)


# --- ISO weekday ----------------------------------------------------------------------------


class IsoWeekday(ColumnElement[int]):
    """ISO weekday (1 = Monday) of a date, or of a UTC timestamp seen in zone `tz`."""

    type = Integer()
    inherit_cache = False

    def __init__(self, column: ColumnElement[Any], tz: str | None) -> None:
        self.column = column
        self.tz = tz


@compiles(IsoWeekday)
def _weekday_sqlite(element: IsoWeekday, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    if element.tz is None or element.tz == "UTC":
        return f"((CAST(strftime('%w', {column}) AS INTEGER) + 6) % 7 + 1)"
    tz = compiler.process(bindparam(None, element.tz, type_=String()), **kw)
    return f"metacrm_isodow({column}, {tz})"


@compiles(IsoWeekday, "postgresql")
def _weekday_pg(element: IsoWeekday, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    if element.tz is None:
        return f"CAST(EXTRACT(ISODOW FROM {column}) AS INTEGER)"
    tz = compiler.process(bindparam(None, element.tz, type_=String()), **kw)
    return f"CAST(EXTRACT(ISODOW FROM timezone({tz}, {column})) AS INTEGER)"


def _sqlite_isodow(value: str | None, tz: str) -> int | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(value).replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(tz)).isoweekday()


@event.listens_for(Engine, "connect")
def _register_sqlite_functions(dbapi_conn: Any, record: Any) -> None:
    if isinstance(dbapi_conn, sqlite3.Connection):
        dbapi_conn.create_function("metacrm_isodow", 2, _sqlite_isodow, deterministic=True)
