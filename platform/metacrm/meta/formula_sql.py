"""Formulas compiled to SQL (SQLAlchemy): the second visitor of meta/formulas.py's AST, with the same
answers as `evaluate` (null in, null out, division by zero null); `days_between` per dialect."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Numeric,
    String,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal_column,
    not_,
    or_,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement

from .formulas import _CMP, Clock, Expr
from .sqltypes import UTCDateTime

# --- SQL ----------------------------------------------------------------------------------------

class DaysBetween(ColumnElement[int]):
    """Whole days from one date (or UTC date of a datetime) to another, on either back end."""

    type = BigInteger()
    inherit_cache = False

    def __init__(self, start: Any, end: Any) -> None:
        self.start = start
        self.end = end


@compiles(DaysBetween)
def _days_sqlite(element: DaysBetween, compiler: Any, **kw: Any) -> str:
    a, b = compiler.process(element.start, **kw), compiler.process(element.end, **kw)
    return f"CAST(julianday(date({b})) - julianday(date({a})) AS INTEGER)"


@compiles(DaysBetween, "postgresql")
def _days_pg(element: DaysBetween, compiler: Any, **kw: Any) -> str:
    def day(e: Any) -> str:
        sql = compiler.process(e, **kw)
        if isinstance(getattr(e, "type", None), UTCDateTime):
            return f"CAST(timezone('UTC', {sql}) AS DATE)"
        return f"CAST({sql} AS DATE)"
    return f"({day(element.end)} - {day(element.start)})"


_SQL_TYPES: dict[str, Any] = {"integer": BigInteger(), "decimal": Numeric(38, 12), "text": String(),
                              "boolean": Boolean(), "date": Date(), "datetime": UTCDateTime()}


def to_sql(e: Expr, column: Callable[[str], Any], clock: Clock) -> Any:
    """The formula as a SQLAlchemy expression; `column(name)` gives a field's expression."""
    op = e.op
    if op == "literal":
        if e.value is None:
            return literal_column("NULL")
        return bindparam(None, e.value, type_=_SQL_TYPES[e.type])
    if op == "field":
        return column(e.value)
    if op == "today":
        return bindparam(None, clock.today, type_=Date())
    if op == "now":
        return bindparam(None, clock.now, type_=UTCDateTime())
    args = [to_sql(a, column, clock) for a in e.args]
    if op == "add":
        out = args[0]
        for a in args[1:]:
            out = out + a
        return out
    if op == "sub":
        out = args[0]
        for a in args[1:]:
            out = out - a
        return out
    if op == "mul":
        out = args[0]
        for a in args[1:]:
            out = out * a
        return out
    if op == "neg":
        return -args[0]
    if op == "div":
        return (args[0] * literal_column("1.0")) / func.nullif(args[1], 0)
    if op == "round":
        return func.round(cast(args[0], Numeric()), int(e.value), type_=Numeric())
    if op == "concat":
        parts = [func.coalesce(cast(a, String()), "", type_=String()) for a in args]
        out = parts[0]
        for part in parts[1:]:
            out = out.op("||", return_type=String())(part)
        return out
    if op == "coalesce":
        if len(args) == 1:  # SQLite's coalesce takes two or more
            return args[0]
        return func.coalesce(*args, type_=_SQL_TYPES.get(e.type, String()))
    if op == "if":
        return case((args[0], args[1]), else_=args[2])
    if op == "and":
        return and_(*args)
    if op == "or":
        return or_(*args)
    if op == "not":
        return not_(args[0])
    if op == "is_null":
        return args[0].is_(None)
    if op in _CMP:
        a, b = args
        if e.args[0].type in ("date", "datetime") and e.args[0].type != e.args[1].type:
            a, b = DaysBetween(b, a), literal_column("0")  # compare the UTC days: days from b to a vs 0
        return {"eq": a == b, "ne": a != b, "lt": a < b, "lte": a <= b, "gt": a > b, "gte": a >= b}[op]
    if op == "days_between":
        return DaysBetween(args[0], args[1])
    raise AssertionError(f"unknown formula op {op}")


def finish_sql(expr: Any, declared: str, scale: int) -> Any:
    """The SQL value as the declared type stores it (decimals rounded to the field's scale)."""
    if declared == "decimal":
        return func.round(cast(expr, Numeric()), scale, type_=Numeric(38, scale))
    return expr
