"""Values computed from a record without eval: literals, field copies, templates, relative times.

Forms (a value that is not a JSON object is a literal):
- `{"value": X}`: X literally (to write a JSON object);
- `{"field": "name"}`: the record's value of a field;
- `{"template": "Call {name} at {phone}"}`: text with `{field}` places filled from the record;
- `{"now": {"amount": 2, "unit": "day"}}` / `{"today": {...}}`: a datetime / date relative to now
  (`{"now": {}}` is now), in the installation's time zone;
- `{"add": [a, b, ...]}`: the sum of numbers (each an expression), e.g. score + 10.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

from dateutil.relativedelta import relativedelta

from ..errors import Problem

UNITS = ("minute", "hour", "day", "week", "month")
_PLACE = re.compile(r"\{([a-z][a-z0-9_]{0,63})\}")

EXPRESSION_SCHEMA: dict[str, Any] = {
    "$defs": {
        "offset": {
            "type": "object",
            "properties": {"amount": {"type": "integer", "minimum": -100000, "maximum": 100000},
                           "unit": {"enum": list(UNITS)}},
            "additionalProperties": False,
        },
        "expr": {
            "anyOf": [
                {"type": ["string", "number", "boolean", "null", "array"]},
                {"type": "object", "required": ["value"], "properties": {"value": {}}, "additionalProperties": False},
                {"type": "object", "required": ["field"], "properties": {"field": {"type": "string"}},
                 "additionalProperties": False},
                {"type": "object", "required": ["template"],
                 "properties": {"template": {"type": "string", "maxLength": 5000}}, "additionalProperties": False},
                {"type": "object", "required": ["now"], "properties": {"now": {"$ref": "#/$defs/offset"}},
                 "additionalProperties": False},
                {"type": "object", "required": ["today"], "properties": {"today": {"$ref": "#/$defs/offset"}},
                 "additionalProperties": False},
                {"type": "object", "required": ["add"],
                 "properties": {"add": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/expr"}}},
                 "additionalProperties": False},
            ]
        },
    }
}


def shift(moment: datetime, offset: Mapping[str, Any] | None) -> datetime:
    """`moment` moved by {"amount", "unit"} (months are calendar months)."""
    if not offset:
        return moment
    amount = int(offset.get("amount", 0))
    unit = offset.get("unit", "day")
    if unit == "month":
        return moment + relativedelta(months=amount)
    return moment + timedelta(**{unit + "s": amount})


def render(template: str, values: Mapping[str, Any]) -> str:
    """`{field}` places filled with values (missing ones become empty); nothing else is interpreted."""

    def place(match: re.Match[str]) -> str:
        value = values.get(match.group(1))
        return "" if value is None else str(value)

    return _PLACE.sub(place, template)


def fields_used(expr: Any) -> list[str]:
    """Field names an expression reads (for checking them against the object)."""
    if not isinstance(expr, Mapping):
        return []
    if "field" in expr:
        return [str(expr["field"])]
    if "template" in expr:
        return _PLACE.findall(str(expr["template"]))
    if "add" in expr:
        return [f for part in expr["add"] for f in fields_used(part)]
    return []


def evaluate(expr: Any, record: Mapping[str, Any], now: datetime, tz: tzinfo) -> Any:
    """The JSON value of an expression for one record."""
    if not isinstance(expr, Mapping):
        return expr
    if "value" in expr:
        return expr["value"]
    if "field" in expr:
        return record.get(str(expr["field"]))
    if "template" in expr:
        return render(str(expr["template"]), record)
    if "now" in expr:
        return shift(now, expr["now"]).astimezone(UTC).isoformat().replace("+00:00", "Z")
    if "today" in expr:
        local = now.astimezone(tz)
        moved: date = shift(local, expr["today"]).date()
        return moved.isoformat()
    if "add" in expr:
        total = Decimal(0)
        for part in expr["add"]:
            value = evaluate(part, record, now, tz)
            if value is None:
                continue
            try:
                total += Decimal(str(value))
            except InvalidOperation:
                raise ValueError(f"cannot add {value!r}: not a number") from None
        return int(total) if total == total.to_integral_value() else str(total)
    raise ValueError(f"unknown expression {dict(expr)!r}")


def expression_problems(expr: Any, fields: Mapping[str, Any], pointer: str) -> list[Problem]:
    """Fields an expression reads that the object does not have."""
    known = set(fields) | {"id", "owner_id", "created_at", "updated_at", "created_by", "version"}
    return [Problem(pointer, "unknown_field", f"the object has no field '{name}'")
            for name in fields_used(expr) if name not in known]
