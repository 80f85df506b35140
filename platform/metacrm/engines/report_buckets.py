"""Report dimensions as SQL group keys: date buckets in a time zone, number bins, plain values.

A date bucket is a text label computed in the database: `2026-03-05` (day), `2026-W10` (ISO
week), `2026-03` (month), `2026-Q1` (quarter), `2026` (year). PostgreSQL knows every zone's
offsets (`timezone(zone, ts)`); SQLite does not, so there the label comes from a Python function
registered on the connection (zoneinfo), which gives the same label for the same instant, daylight
saving included. Every label turns back into a half-open range [start, end) for the drill-down
rule: a datetime range as instants with their offset, so the list finds exactly the cell's rows
whatever the installation's zone.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Connection, String, and_, bindparam, case, event, func, literal
from sqlalchemy.engine import Engine
from sqlalchemy.ext.compiler import compiles

DATE_BUCKETS = ("day", "week", "month", "quarter", "year")
_PG_FORMAT = {"day": "YYYY-MM-DD", "week": 'IYYY-"W"IW', "month": "YYYY-MM", "quarter": 'YYYY-"Q"Q', "year": "YYYY"}
_PG_TRUNC = {"day": "day", "week": "week", "month": "month", "quarter": "quarter", "year": "year"}


def label_of(day: date, unit: str) -> str:
    """The bucket label of a local calendar day."""
    if unit == "day":
        return day.isoformat()
    if unit == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if unit == "month":
        return f"{day.year}-{day.month:02d}"
    if unit == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    return str(day.year)


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _sqlite_bucket(value: Any, unit: str, tz: str | None) -> str | None:
    """SQLite's bucket function: a stored date ('YYYY-MM-DD') or UTC timestamp, labelled in `tz`."""
    if value is None or value == "":
        return None
    text = str(value)
    try:
        if tz is None or len(text) == 10:
            day = date.fromisoformat(text[:10])
        else:
            moment = datetime.fromisoformat(text)
            moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
            day = moment.astimezone(_zone(tz)).date()
    except ValueError:
        return None
    return label_of(day, unit)


def install_sqlite(dbapi_conn: Any) -> None:
    dbapi_conn.create_function("metacrm_bucket", 3, _sqlite_bucket, deterministic=True)


@event.listens_for(Engine, "connect")
def _register(dbapi_conn: Any, record: Any) -> None:
    if isinstance(dbapi_conn, sqlite3.Connection):
        install_sqlite(dbapi_conn)


def ensure_functions(conn: Connection) -> None:
    """Pooled SQLite connections opened before this module was imported get the function too."""
    if conn.dialect.name == "sqlite":
        raw = conn.connection.dbapi_connection
        if isinstance(raw, sqlite3.Connection):
            install_sqlite(raw)


class DateBucket(ColumnElement[str]):
    """The bucket label of a date or (UTC) datetime column; `tz` None for a date column."""

    type = String()
    inherit_cache = False

    def __init__(self, column: ColumnElement[Any], unit: str, tz: str | None) -> None:
        self.column = column
        self.unit = unit
        self.tz = tz


@compiles(DateBucket)
def _bucket_sqlite(element: DateBucket, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    if element.tz in (None, "UTC") and element.unit != "week":
        # a stored date ('YYYY-MM-DD') or UTC timestamp ('YYYY-MM-DD HH:MM:SS...') already reads as
        # its UTC calendar day: plain text functions, no Python call per row
        if element.unit == "day":
            return f"substr({column}, 1, 10)"
        if element.unit == "month":
            return f"substr({column}, 1, 7)"
        if element.unit == "year":
            return f"substr({column}, 1, 4)"
        return (f"(substr({column}, 1, 4) || '-Q' || "
                f"((CAST(substr({column}, 6, 2) AS INTEGER) + 2) / 3))")
    unit = compiler.process(bindparam(None, element.unit, type_=String()), **kw)
    tz = compiler.process(bindparam(None, element.tz, type_=String()), **kw) if element.tz else "NULL"
    return f"metacrm_bucket({column}, {unit}, {tz})"


@compiles(DateBucket, "postgresql")
def _bucket_pg(element: DateBucket, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    if element.tz is not None:
        tz = compiler.process(bindparam(None, element.tz, type_=String()), **kw)
        column = f"timezone({tz}, {column})"
    # the unit and format are fixed strings from the tables above, never input
    trunc, fmt = _PG_TRUNC[element.unit], _PG_FORMAT[element.unit]
    return f"to_char(date_trunc('{trunc}', {column}), '{fmt}')"


def date_bucket(column: ColumnElement[Any], unit: str, tz: str | None) -> ColumnElement[str]:
    if unit not in DATE_BUCKETS:
        raise ValueError(f"unknown date bucket {unit!r}")
    return DateBucket(column, unit, tz)


_LABEL = {"day": re.compile(r"(\d{4})-(\d{2})-(\d{2})"), "week": re.compile(r"(\d{4})-W(\d{2})"),
          "month": re.compile(r"(\d{4})-(\d{2})"), "quarter": re.compile(r"(\d{4})-Q([1-4])"),
          "year": re.compile(r"(\d{4})")}


def bucket_days(label: str, unit: str) -> tuple[date, date]:
    """The local days [first, following) a bucket label covers (ValueError for a bad label)."""
    m = _LABEL[unit].fullmatch(label)
    if m is None:
        raise ValueError(f"'{label}' is not a {unit} bucket")
    g = [int(x) for x in m.groups()]
    if unit == "day":
        first = date(g[0], g[1], g[2])
        return first, first + timedelta(days=1)
    if unit == "week":
        first = date.fromisocalendar(g[0], g[1], 1)
        return first, first + timedelta(days=7)
    if unit == "month":
        first = date(g[0], g[1], 1)
        return first, date(g[0] + g[1] // 12, g[1] % 12 + 1, 1)
    if unit == "quarter":
        month = (g[1] - 1) * 3 + 1
        first = date(g[0], month, 1)
        return first, date(g[0] + (month + 2) // 12, (month + 2) % 12 + 1, 1)
    return date(g[0], 1, 1), date(g[0] + 1, 1, 1)


def bucket_rule(field: str, label: str, unit: str, tz: str | None) -> dict[str, Any]:
    """The rule for the rows in one bucket: [start, end) as dates, or as instants in zone `tz`."""
    first, following = bucket_days(label, unit)
    if tz is None:
        lo: str = first.isoformat()
        hi: str = following.isoformat()
    else:
        zone = _zone(tz)
        lo = datetime(first.year, first.month, first.day, tzinfo=zone).isoformat()
        hi = datetime(following.year, following.month, following.day, tzinfo=zone).isoformat()
    return {"all": [{"field": field, "op": "gte", "value": lo}, {"field": field, "op": "lt", "value": hi}]}


# --- regions -------------------------------------------------------------------------------

def province_of(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """A region value's province code (GB/T 2260: a city 440300 is in 440000); free text stays itself."""
    is_code = and_(func.length(column) == 6, column >= "100000", column <= "999999")
    return case((is_code, func.substr(column, 1, 2).concat("0000")), else_=column)


def province_codes(code: str) -> list[str]:
    """The province and every city code under it, for the drill-down's `in` (free text: itself)."""
    from ..meta.regions import _table, region_by_code  # the table has no public "cities of" yet

    region = region_by_code(code)
    if region is None or not region.is_province:
        return [code]
    return [code, *sorted(c for c, r in _table().by_code.items() if r.province == code and c != code)]


# --- number bins ---------------------------------------------------------------------------

def bin_edges(spec: dict[str, Any], low: Any, high: Any, max_bins: int) -> list[float]:
    """Edges of the bins: given, or `width` apart from `start` covering [low, high]."""
    if "edges" in spec:
        return sorted(float(e) for e in spec["edges"])
    width = float(spec["width"])
    start = float(spec.get("start", 0))
    if low is None or high is None:
        return [start]
    k0 = int((float(low) - start) // width)
    k1 = int((float(high) - start) // width)
    if k1 - k0 + 1 > max_bins:
        raise OverflowError(k1 - k0 + 1)
    return [start + k * width for k in range(k0, k1 + 2)]


def bin_index(column: ColumnElement[Any], edges: list[float]) -> ColumnElement[Any]:
    """0 below the first edge, i for [edges[i-1], edges[i]), len(edges) at or above the last; NULL stays NULL."""
    whens = [(column.is_(None), literal(None))]
    whens += [(column < edge, literal(i)) for i, edge in enumerate(edges)]
    return case(*whens, else_=literal(len(edges)))


def _num(value: float) -> Any:
    return int(value) if float(value).is_integer() else value


def bin_rule(field: str, index: int, edges: list[float]) -> dict[str, Any]:
    parts = []
    if index > 0:
        parts.append({"field": field, "op": "gte", "value": _num(edges[index - 1])})
    if index < len(edges):
        parts.append({"field": field, "op": "lt", "value": _num(edges[index])})
    return {"all": parts}


