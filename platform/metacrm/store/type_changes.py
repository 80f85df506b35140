"""What a column type change does to the stored values, measured before anything runs.

`assess` compares a column as it is (its live shape) with the shape a new declaration wants and
reads the stored data where it matters: the values longer than a shrunk length, the numbers with
more digits than a smaller decimal holds, the values that would not convert to a new type. Any
value that would be cut, rounded or lost refuses the change whatever the flags; `--force` never
means "truncate". A change that loses nothing carries the explicit conversion to run
(`convert_expression`: the `USING` of PostgreSQL, the copy of SQLite's column rebuild).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Date,
    Numeric,
    String,
    Text,
    case,
    cast,
    column,
    func,
    null,
    select,
    table,
)
from sqlalchemy.sql.elements import ColumnElement

from .columns import DATE, DECIMAL, INTEGER, JSON, TEXT, ColumnShape

EXAMPLES = 3
_CUT = 60  # characters of a value quoted in a message
_INT_RE = re.compile(r"\s*[+-]?\d+\s*")
_DEC_RE = re.compile(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)\s*")
_DATE_RE = re.compile(r"\s*\d{4}-\d{2}-\d{2}\s*")
BIGINT_MAX = 2**63 - 1

# Conversions that never need the admin's confirmation when no stored value is lost.
SAFE_CONVERSIONS = frozenset({(INTEGER, DECIMAL), (INTEGER, TEXT), (DECIMAL, TEXT), (DATE, TEXT)})


@dataclass(frozen=True)
class Assessment:
    """The effect of a type change on stored data."""

    change: str  # none | widen | narrow | convert
    reason: str = ""
    lost: int = 0  # stored values that would be cut, rounded or not convert
    examples: list[str] = field(default_factory=list)

    @property
    def loses_data(self) -> bool:
        return self.lost > 0


def quote_value(value: Any) -> str:
    """A stored value cited in a message: shortened, never a whole document."""
    text = str(value)
    if len(text) > _CUT:
        return repr(text[:_CUT]) + f"... ({len(text)} characters)"
    return repr(text)


def _raw(table_name: str, name: str) -> ColumnElement[Any]:
    """The column without any type processing: values exactly as stored."""
    return table(table_name, column(name)).c[name]


# --- checks of one stored value against the new shape ------------------------------------------

def _digits_fit(number: Decimal, shape: ColumnShape) -> bool:
    precision, scale = shape.precision or 18, shape.scale or 0
    if not number.is_finite():
        return False
    if number != 0 and number.adjusted() >= precision - scale:
        return False
    return number == number.quantize(Decimal(1).scaleb(-scale))


def _to_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return abs(value) <= BIGINT_MAX
    if isinstance(value, (Decimal, float)):
        number = Decimal(str(value))
        return number.is_finite() and number == number.to_integral_value() and abs(number) <= BIGINT_MAX
    if isinstance(value, str) and _INT_RE.fullmatch(value):
        return abs(int(value)) <= BIGINT_MAX
    return False


def _to_decimal(shape: ColumnShape) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        if isinstance(value, bool):
            return False
        if isinstance(value, str) and not _DEC_RE.fullmatch(value):
            return False
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            return False
        return _digits_fit(number, shape)
    return check


def _to_date(value: Any) -> bool:
    if isinstance(value, date):
        return True
    if not isinstance(value, str) or not _DATE_RE.fullmatch(value):
        return False
    try:
        date.fromisoformat(value.strip())
    except ValueError:
        return False
    return True


def _to_text(shape: ColumnShape, source: ColumnShape) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        return shape.length is None or len(render_text(value, source)) <= shape.length
    return check


def render_text(value: Any, source: ColumnShape) -> str:
    """A stored value as the conversion to text writes it."""
    if source.family == DECIMAL:
        return f"{Decimal(str(value)):.{source.scale or 0}f}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def value_check(live: ColumnShape, new: ColumnShape) -> Callable[[Any], bool] | None:
    """Whether one stored value survives the conversion; None when no conversion exists."""
    pair = (live.family, new.family)
    if new.family == INTEGER and live.family in (TEXT, DECIMAL):
        return _to_integer
    if new.family == DECIMAL and live.family in (TEXT, INTEGER, DECIMAL):
        return _to_decimal(new)
    if new.family == TEXT and live.family in (TEXT, INTEGER, DECIMAL, DATE):
        return _to_text(new, live)
    if pair == (TEXT, DATE):
        return _to_date
    if pair == (TEXT, JSON):  # select -> multiselect: each value becomes a list of itself
        return lambda value: True
    return None


# --- reading the stored data -------------------------------------------------------------------

def count_lost(conn: Connection, table_name: str, name: str, check: Callable[[Any], bool]) -> tuple[int, list[str]]:
    """How many stored values (deleted records included) fail `check`, with a few examples."""
    col = _raw(table_name, name)
    query = select(col, func.count()).where(col.is_not(None)).group_by(col)
    lost, examples = 0, []
    for value, count in conn.execute(query.execution_options(yield_per=2000)):
        if not check(value):
            lost += int(count)
            if len(examples) < EXAMPLES:
                examples.append(quote_value(value))
    return lost, examples


def has_values(conn: Connection, table_name: str, name: str) -> bool:
    col = _raw(table_name, name)
    return conn.execute(select(col).where(col.is_not(None)).limit(1)).first() is not None


def _text_shrink(conn: Connection, table_name: str, name: str, live: ColumnShape, new: ColumnShape) -> Assessment:
    col = _raw(table_name, name)
    limit = int(new.length or 0)
    over = func.length(col) > limit
    lost = int(conn.execute(select(func.count()).where(over)).scalar_one())
    before = live.length if live.length else "unbounded"
    if not lost:
        return Assessment("narrow", f"maxLength shrinks from {before} to {limit}; no stored value is longer")
    longest = conn.execute(select(col).where(over).order_by(func.length(col).desc()).limit(1)).scalar_one()
    return Assessment("narrow", f"maxLength shrinks from {before} to {limit}: {lost} stored value(s) are longer "
                                f"and would be cut; the longest has {len(str(longest))} characters",
                      lost, [quote_value(longest)])


def _decimal_narrow(conn: Connection, table_name: str, name: str, live: ColumnShape, new: ColumnShape) -> Assessment:
    precision, scale = new.precision or 18, new.scale or 0
    col = _raw(table_name, name)
    too_big = func.abs(col) >= Decimal(10) ** (precision - scale)
    rounded = col != func.round(col, scale)
    lost = int(conn.execute(select(func.count()).where(col.is_not(None), too_big | rounded)).scalar_one())
    parts = []
    if (new.scale or 0) < (live.scale or 0):
        parts.append(f"scale shrinks from {live.scale} to {new.scale}")
    if precision - scale < (live.precision or 18) - (live.scale or 0):
        parts.append(f"integer digits shrink from {(live.precision or 18) - (live.scale or 0)} to {precision - scale}")
    reason = "; ".join(parts)
    if not lost:
        return Assessment("narrow", reason + "; every stored value fits")
    examples = [quote_value(v) for v in conn.execute(
        select(col).where(col.is_not(None), too_big | rounded).limit(EXAMPLES)).scalars()]
    return Assessment("narrow", f"{reason}: {lost} stored value(s) do not fit decimal({precision},{scale})",
                      lost, examples)


def assess(conn: Connection, table_name: str, name: str, live: ColumnShape, new: ColumnShape) -> Assessment:
    """The effect on stored data of changing column `name` from its live shape to `new`."""
    if live.family == new.family == TEXT:
        if live.length == new.length:
            return Assessment("none")
        if new.length is None or (live.length is not None and new.length > live.length):
            return Assessment("widen", f"maxLength grows from {live.length} to {new.length or 'unbounded'}")
        return _text_shrink(conn, table_name, name, live, new)
    if live.family == new.family == DECIMAL:
        if (live.precision, live.scale) == (new.precision, new.scale):
            return Assessment("none")
        lp, ls, np_, ns = live.precision or 18, live.scale or 0, new.precision or 18, new.scale or 0
        if ns >= ls and np_ - ns >= lp - ls:
            return Assessment("widen", f"decimal({lp},{ls}) -> decimal({np_},{ns})")
        return _decimal_narrow(conn, table_name, name, live, new)
    if live.family == new.family:
        return Assessment("none")
    reason = f"converting {live} to {new}"
    check = value_check(live, new)
    if check is None:
        if has_values(conn, table_name, name):
            return Assessment("convert", f"no conversion from {live} to {new} for the stored values",
                              lost=int(conn.execute(select(func.count()).where(
                                  _raw(table_name, name).is_not(None))).scalar_one()))
        return Assessment("convert", reason + " (no stored values)")
    lost, examples = count_lost(conn, table_name, name, check)
    if lost:
        return Assessment("convert", f"{reason}: {lost} stored value(s) would not convert", lost, examples)
    return Assessment("convert", reason + "; every stored value converts")


# --- the conversion itself ---------------------------------------------------------------------

def convert_expression(dialect: str, name: str, live: ColumnShape, new: ColumnShape) -> ColumnElement[Any]:
    """The SQL that converts the stored value of column `name` (unqualified) to the new shape."""
    col = column(name)
    if not _convertible(live, new):
        return cast(None, _sql_type(new))  # only planned for a column without values
    if (live.family, new.family) == (TEXT, JSON):
        wrap = func.jsonb_build_array(col) if dialect == "postgresql" else func.json_array(col)
        return case((col.is_(None), null()), else_=wrap)
    if live.family == TEXT and new.family != TEXT:
        col = func.trim(col)
    if dialect == "sqlite":
        if new.family == TEXT and live.family == DECIMAL:
            # printf renders NULL as 0.00: empty stays empty
            return case((column(name).is_(None), null()), else_=func.printf(f"%.{live.scale or 0}f", column(name)))
        if new.family == DATE:
            return col
    return cast(col, _sql_type(new))


def _convertible(live: ColumnShape, new: ColumnShape) -> bool:
    return live.family == new.family or value_check(live, new) is not None


def _sql_type(shape: ColumnShape) -> Any:
    if shape.family == INTEGER:
        return BigInteger()
    if shape.family == DECIMAL:
        return Numeric(shape.precision or 18, shape.scale or 0)
    if shape.family == DATE:
        return Date()
    if shape.family == TEXT:
        return String(shape.length) if shape.length else Text()
    return String()
