"""The field type registry: the one place that says what each `x-field` type is.

For every type: the JSON Schema it implies, its SQL column, its marshmallow field, how an input
value is coerced to what is stored, how a stored value is shown, which rule operators apply,
which widget edits it, and which changes of its declaration are safe widenings. Adding a type is
adding one entry to FIELD_TYPES.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import phonenumbers
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email
from marshmallow import fields as mf
from marshmallow import validate as mv
from sqlalchemy import BigInteger, Boolean, Date, String, Text
from sqlalchemy.types import TypeEngine

from .jsonvalue import text_problem, unstorable
from .regions import find_region
from .sqltypes import ExactDecimal, JSONType, UTCDateTime

Schema = Mapping[str, Any]

BIGINT_MAX = 2**63 - 1
DEFAULT_TEXT_LENGTH = 255
DECIMAL_PATTERN = r"^-?[0-9]{1,30}(\.[0-9]{1,12})?$"
_QUANTA = [Decimal(1).scaleb(-s) for s in range(13)]


class CoercionError(ValueError):
    """A value that passed the JSON Schema but is not a valid value of its field type."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class CoerceContext:
    """What coercion may depend on besides the value: installation settings."""

    default_region: str = "CN"
    exact_digits: int | None = None
    """Significant digits the database keeps of a decimal (SQLite: 15, as a double); None = all."""


# --- coercers: JSON input (already schema-valid) -> stored Python value -------------------------

def _no_nul(value: str) -> str:
    """Text both databases can store: no U+0000, no lone surrogate (`meta.jsonvalue`)."""
    problem = text_problem(value)
    if problem:
        raise CoercionError("invalid_character", problem)
    return value


def _text(value: Any, schema: Schema, ctx: CoerceContext) -> Any:
    return _no_nul(value)


def _multiple_of(number: Decimal | int, schema: Schema) -> None:
    """`multipleOf` in exact decimal arithmetic (as binary floats, 19.99 is no multiple of 0.01)."""
    step = schema.get("multipleOf")
    if step is not None:
        try:
            remainder = Decimal(number) % Decimal(str(step))
        except InvalidOperation:  # the quotient has more digits than any context holds
            raise CoercionError("multipleOf", f"must be a multiple of {step}") from None
        if remainder != 0:
            raise CoercionError("multipleOf", f"must be a multiple of {step}")


def _integer(value: Any, schema: Schema, ctx: CoerceContext) -> int:
    number = int(value)
    if not -BIGINT_MAX <= number <= BIGINT_MAX:
        raise CoercionError("out_of_range", "is outside the 64-bit integer range")
    _multiple_of(number, schema)
    return number


def decimal_scale(schema: Schema) -> tuple[int, int]:
    return int(schema.get("x-precision", 18)), int(schema.get("x-scale", 2))


def _decimal(value: Any, schema: Schema, ctx: CoerceContext) -> Decimal:
    precision, scale = decimal_scale(schema)
    try:
        number = value if isinstance(value, Decimal) else Decimal(value if isinstance(value, str) else str(value))
    except InvalidOperation:
        raise CoercionError("invalid_decimal", "is not a decimal number") from None
    if not number.is_finite():
        raise CoercionError("invalid_decimal", "must be a finite number")
    if number.adjusted() >= precision - scale:
        raise CoercionError("out_of_range", f"has more than {precision - scale} digits before the point")
    try:
        quantized = number.quantize(_QUANTA[scale])
    except InvalidOperation:
        raise CoercionError("out_of_range", f"has more than {precision} digits") from None
    if quantized != number:
        raise CoercionError("too_many_decimals", f"has more than {scale} decimal places")
    if ctx.exact_digits is not None and quantized and len(quantized.normalize().as_tuple().digits) > ctx.exact_digits:
        raise CoercionError("out_of_range", f"has more than {ctx.exact_digits} significant digits, which this "
                            "database (SQLite) cannot store exactly; PostgreSQL can")
    _multiple_of(quantized, schema)
    if "minimum" in schema and quantized < Decimal(str(schema["minimum"])):
        raise CoercionError("minimum", f"must not be less than {schema['minimum']}")
    if "maximum" in schema and quantized > Decimal(str(schema["maximum"])):
        raise CoercionError("maximum", f"must not be greater than {schema['maximum']}")
    return quantized


_RFC3339 = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?"
                      r"(?:[Zz]|([+-])([0-9]{2}):([0-9]{2}))")
_MM_DATE = mf.Date()
_MM_DATETIME = mf.AwareDateTime(default_timezone=None)


def _date(value: Any, schema: Schema, ctx: CoerceContext) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if len(value) == 10:  # the schema's "date" format already holds; skip the generic parser
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    try:
        return _MM_DATE.deserialize(value)
    except Exception:
        raise CoercionError("invalid_date", "is not a date (YYYY-MM-DD)") from None


def rfc3339(value: str) -> datetime | None:
    """An RFC 3339 date-time (lower-case t and z allowed) as an aware datetime, or None.

    A leap second (`23:59:60`) is read as the next minute's `:00`, as PostgreSQL reads it; a
    fraction finer than microseconds is rounded. Raises ValueError for impossible dates.
    """
    found = _RFC3339.fullmatch(value)
    if found is None:
        return None
    year, month, day, hour, minute, second = (int(found[i]) for i in range(1, 7))
    if second > 60:
        raise ValueError("second out of range")
    offset = UTC
    if found[8]:
        hours, minutes = int(found[9]), int(found[10])
        if hours > 23 or minutes > 59:
            raise ValueError("offset out of range")
        delta = timedelta(hours=hours, minutes=minutes)
        offset = timezone(-delta if found[8] == "-" else delta)
    fraction = found[7] or ""
    micros = round(int(fraction.ljust(9, "0")) / 1000) if fraction else 0
    parsed = datetime(year, month, day, hour, minute, min(second, 59), tzinfo=offset)
    return parsed + timedelta(seconds=second - min(second, 59), microseconds=micros)


def _datetime(value: Any, schema: Schema, ctx: CoerceContext) -> datetime:
    try:
        if isinstance(value, datetime):
            parsed: datetime | None = value
        else:
            parsed = rfc3339(value)
            if parsed is None:
                parsed = _MM_DATETIME.deserialize(value)
        if parsed.tzinfo is None:
            raise CoercionError("invalid_datetime", "needs a time zone (e.g. Z or +08:00)")
        return parsed.astimezone(UTC)
    except CoercionError:
        raise
    except OverflowError:
        raise CoercionError("out_of_range", "is outside the years 1 to 9999 (UTC)") from None
    except Exception:
        raise CoercionError("invalid_datetime", "is not an ISO 8601 date-time with a time zone "
                            "(e.g. 2026-01-31T09:00:00+08:00)") from None


# Plain ASCII addresses (the vast majority) whose normal form is known without the full IDNA
# machinery. Anything else goes through email-validator; tests/meta/test_fields.py checks both
# paths agree. Addresses are stored in lower case: mail systems treat them so, and uniqueness and
# dedupe must not split "Wang@x.com" from "wang@x.com".
_PLAIN_EMAIL = re.compile(
    r"(?P<local>[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,64}(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,64})*)"
    r"@(?P<domain>(?:(?![A-Za-z0-9-]{2}--)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})")


def _email(value: Any, schema: Schema, ctx: CoerceContext) -> str:
    value = _no_nul(value).strip()
    plain = _PLAIN_EMAIL.fullmatch(value)
    if (plain and len(value) <= 254 and len(plain["local"]) <= 64
            and plain["domain"].rsplit(".", 1)[-1].lower() not in SPECIAL_USE_DOMAIN_NAMES):
        return value.lower()
    try:
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise CoercionError("invalid_email", str(exc)) from None
    return result.normalized.lower()


_NATIONAL_DIGITS = re.compile(r"[1-9][0-9]{5,16}")


@lru_cache(maxsize=256)
def _region_patterns(region: str) -> tuple[int, re.Pattern[str] | None, re.Pattern[str],
                                           list[tuple[re.Pattern[str], frozenset[int]]]] | None:
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if meta is None or meta.general_desc is None or not meta.general_desc.national_number_pattern:
        return None
    prefix = re.compile(meta.national_prefix_for_parsing) if meta.national_prefix_for_parsing else None
    types = [(re.compile(d.national_number_pattern), frozenset(d.possible_length or ()))
             for d in (meta.mobile, meta.fixed_line) if d is not None and d.national_number_pattern]
    return meta.country_code, prefix, re.compile(meta.general_desc.national_number_pattern), types


def _phone_fast(value: str, region: str) -> str | None:
    """E.164 for a plain national number that is a valid mobile or fixed line of the region.

    This is the branch phonenumbers itself takes for such input (no country code, no national
    prefix to strip); everything else gets the full parse. Checked against phonenumbers in tests.
    """
    digits = value.replace(" ", "").replace("-", "")
    if not _NATIONAL_DIGITS.fullmatch(digits):
        return None
    patterns = _region_patterns(region)
    if patterns is None:
        return None
    country_code, prefix, general, types = patterns
    if (prefix is not None and prefix.match(digits)) or not general.fullmatch(digits):
        return None
    for pattern, lengths in types:
        if (not lengths or len(digits) in lengths) and pattern.fullmatch(digits):
            return f"+{country_code}{digits}"
    return None


def _phone(value: Any, schema: Schema, ctx: CoerceContext) -> str:
    region = schema.get("x-region", ctx.default_region)
    fast = _phone_fast(_no_nul(value), region)
    if fast is not None:
        return fast
    try:
        number = phonenumbers.parse(_no_nul(value), region)
    except phonenumbers.NumberParseException:
        raise CoercionError("invalid_phone", "is not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise CoercionError("invalid_phone", f"is not a valid phone number (default region {region})")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _url(value: Any, schema: Schema, ctx: CoerceContext) -> str:
    parts = urlsplit(_no_nul(value).strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise CoercionError("invalid_url", "must be an http or https address")
    return parts.geturl()


def _region(value: Any, schema: Schema, ctx: CoerceContext) -> str:
    """A province or city of China as its GB/T 2260 code (any of its names matches), else free text
    for a place outside the list, spacing tidied; a 6-digit text must be a known code."""
    text = " ".join(_no_nul(value).split())
    if not text:
        raise CoercionError("invalid_region", "is empty (send null to clear it)")
    found = find_region(text)
    if found is not None:
        return found.code
    if text.isdigit():
        raise CoercionError("invalid_region", "is not a GB/T 2260 province or city code")
    return text


def _relation(value: Any, schema: Schema, ctx: CoerceContext) -> int:
    number = int(value)  # JSON Schema counts 7.0 as an integer; the database must get 7
    if not 0 < number <= BIGINT_MAX:
        raise CoercionError("invalid_reference", "must be a positive 64-bit record id")
    return number


def coerce_owner(value: Any) -> int | None:
    """The system field owner_id: a user id, coerced like a relation."""
    return None if value is None else _relation(value, {}, CoerceContext())


def _json(value: Any, schema: Schema, ctx: CoerceContext) -> Any:
    """Any JSON the databases can store, checked as the API's parser checks a body
    (`meta.jsonvalue.unstorable`: no NUL or lone surrogate, 64-bit integers, finite numbers, the
    API's nesting limit), since the CLI, imports, workflow steps and bulk calls bypass that parser."""
    found = unstorable(value)
    if found is not None:
        raise CoercionError(*found)
    return value


# --- dumpers: stored Python value -> JSON ------------------------------------------------------

def _dump_iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return value.isoformat()


def _dump_decimal(value: Decimal) -> str:
    return str(value)


# --- columns ------------------------------------------------------------------------------------

def _text_column(schema: Schema) -> TypeEngine[Any]:
    return String(int(schema.get("maxLength", DEFAULT_TEXT_LENGTH)))


def _decimal_column(schema: Schema) -> TypeEngine[Any]:
    return ExactDecimal(*decimal_scale(schema))


# --- safe widenings within a type ---------------------------------------------------------------

def _length_change(old: Schema, new: Schema) -> str | None:
    old_len = int(old.get("maxLength", DEFAULT_TEXT_LENGTH))
    new_len = int(new.get("maxLength", DEFAULT_TEXT_LENGTH))
    if new_len < old_len:
        return f"maxLength shrinks from {old_len} to {new_len}"
    return None


def _enum_change(old: Schema, new: Schema) -> str | None:
    old_options = set(_options(old))
    removed = old_options - set(_options(new))
    if removed:
        return f"options removed: {', '.join(sorted(map(str, removed)))}"
    return None


def _decimal_change(old: Schema, new: Schema) -> str | None:
    (op, os_), (np_, ns) = decimal_scale(old), decimal_scale(new)
    if ns < os_:
        return f"scale shrinks from {os_} to {ns}"
    if np_ - ns < op - os_:
        return f"integer digits shrink from {op - os_} to {np_ - ns}"
    return None


def _target_change(old: Schema, new: Schema) -> str | None:
    if old.get("x-target") != new.get("x-target"):
        return f"relation target changes from {old.get('x-target')} to {new.get('x-target')}"
    return None


def _options(schema: Schema) -> list[Any]:
    if "enum" in schema:
        return list(schema["enum"])
    items = schema.get("items")
    if isinstance(items, Mapping) and "enum" in items:
        return list(items["enum"])
    return []


def options_of(schema: Schema) -> list[Any]:
    """The declared options of a select or multiselect field."""
    return _options(schema)


# --- computed fields (formula, rollup: meta/formulas.py) ----------------------------------------

def _computed_column(schema: Schema) -> TypeEngine[Any]:
    """The column of a formula or roll-up: that of its result type (text results are unbounded)."""
    from .formulas import result_type

    kind = result_type(schema)
    if kind == "text":
        return Text()
    return FIELD_TYPES[kind].column(schema)


def _dump_computed(value: Any) -> Any:
    if isinstance(value, Decimal):
        return _dump_decimal(value)
    if isinstance(value, date):
        return _dump_iso(value)
    return value


def _result_change(old: Schema, new: Schema) -> str | None:
    from .formulas import result_type

    before, after = result_type(old), result_type(new)
    if before != after and (before, after) != ("integer", "decimal"):  # a whole number widens to a decimal
        return f"result type changes from {before} to {after}"
    return _decimal_change(old, new) if before == after == "decimal" else None


# --- the registry -------------------------------------------------------------------------------

TEXT_OPS = ("eq", "ne", "in", "not_in", "contains", "starts_with", "is_empty", "is_not_empty")
NUMBER_OPS = ("eq", "ne", "in", "not_in", "lt", "lte", "gt", "gte", "between", "is_empty", "is_not_empty")
DATE_OPS = ("eq", "ne", "lt", "lte", "gt", "gte", "between", "before", "after", "within_last",
            "within_next", "on_weekday", "this_month", "is_empty", "is_not_empty")
CHOICE_OPS = ("eq", "ne", "in", "not_in", "is_empty", "is_not_empty")
MULTI_OPS = ("has_any", "has_all", "is_empty", "is_not_empty")
EMPTY_OPS = ("is_empty", "is_not_empty")
_COMPUTED_OPS = EMPTY_OPS
"""What holds whatever the result type; the rules catalog gives a computed field all the operators
of its result type (rules/catalog.py)."""


@dataclass(frozen=True)
class FieldType:
    """What one `x-field` type means, in every layer that handles it."""

    name: str
    json_types: tuple[str, ...]
    fragment: Mapping[str, Any]
    column: Callable[[Schema], TypeEngine[Any]]
    marshmallow: Callable[[Schema], mf.Field]
    operators: tuple[str, ...]
    widget: str
    coerce: Callable[[Any, Schema, CoerceContext], Any] | None = None
    dump: Callable[[Any], Any] | None = None
    change_problem: Callable[[Schema, Schema], str | None] | None = None
    widens_to: frozenset[str] = field(default_factory=frozenset)
    is_relation: bool = False
    computed: bool = False
    """Written by the record service, never by input (formula, rollup): 422 read_only_field."""

    def json_schema(self, declared: Schema) -> dict[str, Any]:
        """The declaration completed with what the type implies (declared keywords win)."""
        return {**self.fragment, **declared}


def _f(constant: Callable[..., mf.Field], **kw: Any) -> Callable[[Schema], mf.Field]:
    return lambda schema: constant(**kw)


FIELD_TYPES: dict[str, FieldType] = {t.name: t for t in (
    FieldType("text", ("string",), {"type": "string", "maxLength": DEFAULT_TEXT_LENGTH}, _text_column,
              lambda s: mf.String(validate=mv.Length(max=int(s.get("maxLength", DEFAULT_TEXT_LENGTH)))),
              TEXT_OPS, "text", _text, None, _length_change, frozenset({"textarea"})),
    FieldType("textarea", ("string",), {"type": "string", "maxLength": 65535}, lambda s: Text(),
              _f(mf.String), TEXT_OPS, "textarea", _text),
    FieldType("integer", ("integer",), {"type": "integer"}, lambda s: BigInteger(),
              _f(mf.Integer, strict=True), NUMBER_OPS, "number", _integer, None, None,
              frozenset({"decimal"})),
    FieldType("decimal", ("number", "string"), {"type": ["number", "string"], "pattern": DECIMAL_PATTERN},
              _decimal_column, lambda s: mf.Decimal(places=decimal_scale(s)[1], as_string=True),
              NUMBER_OPS, "decimal", _decimal, _dump_decimal, _decimal_change),
    FieldType("boolean", ("boolean",), {"type": "boolean"}, lambda s: Boolean(), _f(mf.Boolean),
              ("eq", "ne", "is_empty", "is_not_empty"), "checkbox"),
    FieldType("date", ("string",), {"type": "string", "format": "date"}, lambda s: Date(), _f(mf.Date),
              DATE_OPS, "date", _date, _dump_iso),
    FieldType("datetime", ("string",), {"type": "string", "format": "date-time"}, lambda s: UTCDateTime(),
              _f(mf.AwareDateTime), DATE_OPS, "datetime", _datetime, _dump_iso),
    FieldType("email", ("string",), {"type": "string", "maxLength": 254}, lambda s: String(254),
              _f(mf.Email), TEXT_OPS, "email", _email, None, None, frozenset({"text"})),
    FieldType("phone", ("string",), {"type": "string", "maxLength": 40}, lambda s: String(40),
              _f(mf.String), TEXT_OPS, "phone", _phone, None, None, frozenset({"text"})),
    FieldType("url", ("string",), {"type": "string", "maxLength": 2048}, lambda s: String(2048),
              _f(mf.Url), TEXT_OPS, "url", _url),
    FieldType("select", ("string",), {"type": "string"}, lambda s: String(DEFAULT_TEXT_LENGTH),
              lambda s: mf.String(validate=mv.OneOf(_options(s))), CHOICE_OPS, "select", _text, None,
              _enum_change, frozenset({"text", "region", "multiselect"})),
    FieldType("region", ("string",), {"type": "string", "maxLength": 120, "minLength": 1},
              lambda s: String(DEFAULT_TEXT_LENGTH), _f(mf.String), TEXT_OPS, "text", _region, None, None,
              frozenset({"text"})),
    FieldType("multiselect", ("array",), {"type": "array", "uniqueItems": True}, lambda s: JSONType,
              lambda s: mf.List(mf.String(validate=mv.OneOf(_options(s)))), MULTI_OPS, "checkboxes",
              None, None, _enum_change),
    FieldType("relation", ("integer",), {"type": "integer", "minimum": 1}, lambda s: BigInteger(),
              _f(mf.Integer, strict=True), CHOICE_OPS, "relation", _relation, None, _target_change,
              is_relation=True),
    FieldType("json", ("object", "array"), {"type": ["object", "array"]}, lambda s: JSONType, _f(mf.Raw), EMPTY_OPS, "json",
              _json),
    FieldType("formula", ("integer", "number", "string", "boolean"), {"readOnly": True}, _computed_column,
              _f(mf.Raw, dump_only=True), _COMPUTED_OPS, "readonly", None, _dump_computed, _result_change,
              computed=True),
    FieldType("rollup", ("integer", "number", "string"), {"readOnly": True}, _computed_column,
              _f(mf.Raw, dump_only=True), _COMPUTED_OPS, "readonly", None, _dump_computed, _result_change,
              computed=True),
)}

_STRING_KEYWORDS = frozenset({"maxLength", "minLength", "pattern", "format"})
_NUMBER_KEYWORDS = frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"})
EXACT_KEYWORDS = frozenset({"multipleOf"})
"""Checked by the coercer in decimal arithmetic, never by the (binary float) JSON Schema validator."""
_ARRAY_KEYWORDS = frozenset({"items", "minItems", "maxItems", "uniqueItems"})
_OWN_KEYWORDS = {"enum": {"select"}, "x-option-labels": {"select", "multiselect"},
                 "x-option-renames": {"select", "multiselect"}, "x-precision": {"decimal", "formula", "rollup"},
                 "x-scale": {"decimal", "formula", "rollup"}, "x-region": {"phone"}, "x-target": {"relation"}}


def keyword_allowed(field_type: FieldType, keyword: str) -> bool:
    """Whether a declaration keyword means anything for this field type (else it is refused)."""
    if keyword in _OWN_KEYWORDS:
        return field_type.name in _OWN_KEYWORDS[keyword]
    types = set(field_type.json_types)
    if keyword in _STRING_KEYWORDS:
        return "string" in types and field_type.name != "decimal"
    if keyword in _NUMBER_KEYWORDS:
        return bool(types & {"integer", "number"}) and not field_type.is_relation
    if keyword in _ARRAY_KEYWORDS:
        return field_type.name == "multiselect"
    return True


USER_TARGET = "user"
"""A relation whose `x-target` is `user` points at the system users table, not an object."""


def field_type(name: str) -> FieldType:
    try:
        return FIELD_TYPES[name]
    except KeyError:
        raise KeyError(f"unknown field type {name!r}") from None
