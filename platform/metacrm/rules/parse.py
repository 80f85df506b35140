"""JSON rule -> validated AST, with every problem named by its JSON pointer.

Validation and parsing are one pass: a rule that parses is valid for its object, and the visitors
never meet an unknown field, an operator its type does not allow or a value of the wrong type.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from ..errors import Problem
from ..meta.fields import BIGINT_MAX, CoercionError, rfc3339
from ..meta.jsonvalue import TooDeep, json_leaves
from ..meta.tag_names import ambiguous
from .catalog import Catalog
from .model import (
    AggRef,
    All,
    AnyOf,
    Compare,
    DayValue,
    Exists,
    FieldInfo,
    FieldRef,
    HasTag,
    Node,
    Not,
    Relation,
    Relative,
)

MAX_DEPTH = 24
MAX_NODES = 500
MAX_LIST = 1000
MAX_TEXT = 1000
MAX_ITEMS = 50_000
"""Values in one rule's JSON, all lists together (checked before anything walks the rule)."""
_JSON_DEPTH = 2 * MAX_DEPTH + 4  # one rule level takes at most two JSON levels: {"all": [...]}
UNITS = ("day", "week", "month")
NO_VALUE_OPS = frozenset({"is_empty", "is_not_empty", "this_month"})
LIST_OPS = frozenset({"in", "not_in"})
AGGREGATES = ("exists", "count", "sum", "max", "min")
_COUNT_OPS = ("eq", "ne", "lt", "lte", "gt", "gte", "between", "in", "not_in")
_AGG_FIELD_OPS = frozenset({"eq", "ne", "in", "not_in", "lt", "lte", "gt", "gte", "between", "before", "after", "within_last",
                            "within_next", "on_weekday", "this_month", "is_empty", "is_not_empty"})
_RULE_KEYS = {"all", "any", "not", "field", "op", "value", "related", "agg", "where"}
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ISO_DATETIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
                           r"([Zz]|[+-][0-9]{2}:[0-9]{2})")
_DECIMAL = re.compile(r"-?[0-9]{1,30}(\.[0-9]{1,12})?")
_COUNT_FIELD = FieldInfo("count", "integer", "integer", _COUNT_OPS, nullable=False)


def limits_problem(rule: Any) -> Problem | None:
    """too_deep / too_large for a rule past the limits, found by one loop without recursion, so
    that nothing (a cache key, the parser, a visitor) ever recurses into a hostile rule."""
    count = 0
    try:
        for _ in json_leaves(rule, _JSON_DEPTH):
            count += 1
            if count > MAX_ITEMS:
                return Problem("/", "too_large", f"a rule may hold at most {MAX_ITEMS} values")
    except TooDeep:
        return Problem("/", "too_deep", f"a rule may nest at most {MAX_DEPTH} levels")
    return None


class _Bad(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Parser:
    """One parse of one rule: collects problems instead of stopping at the first."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.problems: list[Problem] = []
        self.nodes = 0

    def fail(self, at: str, code: str, message: str) -> None:
        self.problems.append(Problem(at or "/", code, message))

    def rule(self, rule: Any, obj: str, at: str, depth: int = 0) -> Node | None:
        self.nodes += 1
        if self.nodes == MAX_NODES + 1:
            self.fail(at, "too_large", f"a rule may have at most {MAX_NODES} conditions")
        if depth > MAX_DEPTH:
            self.fail(at, "too_deep", f"a rule may nest at most {MAX_DEPTH} levels")
            return None
        if not isinstance(rule, Mapping):
            self.fail(at, "invalid_rule", "a rule is a JSON object")
            return None
        unknown = sorted(set(rule) - _RULE_KEYS)
        for key in unknown:
            self.fail(f"{at}/{key}", "unknown_key", f"'{key}' is not part of a rule")
        if unknown:
            return None
        shape = [k for k in ("all", "any", "not", "field", "related") if k in rule]
        if "related" in rule and "field" in rule:  # the aggregated field of a related condition
            shape.remove("field")
        if "op" in rule and not shape and rule["op"] in ("has_tag", "not_has_tag"):
            return self._tag(rule, obj, at)
        if len(shape) != 1:
            self.fail(at, "invalid_rule", "a rule has exactly one of: all, any, not, field, related, "
                      "or op has_tag/not_has_tag")
            return None
        kind = shape[0]
        if kind in ("all", "any", "not"):
            extra = sorted(set(rule) - {kind})
            if extra:
                self.fail(f"{at}/{extra[0]}", "unknown_key", f"'{extra[0]}' does not belong next to '{kind}'")
                return None
        if kind == "not":
            item = self.rule(rule["not"], obj, f"{at}/not", depth + 1)
            return None if item is None else Not(item)
        if kind in ("all", "any"):
            items = rule[kind]
            if not isinstance(items, list) or not items:
                self.fail(f"{at}/{kind}", "invalid_rule", f"'{kind}' takes a non-empty list of rules")
                return None
            parsed = [self.rule(r, obj, f"{at}/{kind}/{i}", depth + 1) for i, r in enumerate(items)]
            if any(p is None for p in parsed):
                return None
            nodes = tuple(p for p in parsed if p is not None)
            return All(nodes) if kind == "all" else AnyOf(nodes)
        if kind == "field":
            return self._field(rule, obj, at)
        return self._related(rule, obj, at, depth)

    # --- tags ------------------------------------------------------------------------------

    def _tag(self, rule: Mapping[str, Any], obj: str, at: str) -> Node | None:
        extra = sorted(set(rule) - {"op", "value"})
        if extra:
            self.fail(f"{at}/{extra[0]}", "unknown_key", f"'{extra[0]}' does not belong in a tag condition")
            return None
        tag = rule.get("value")
        if not isinstance(tag, str) or not tag:
            self.fail(f"{at}/value", "invalid_value", "a tag condition names one tag")
            return None
        if self.catalog.knows_tags:
            keys = self.catalog.tag_keys(tag)  # the key, or a label in any language
            if not keys:
                self.fail(f"{at}/value", "unknown_tag", f"no tag named '{tag[:64]}'")
                return None
            if len(keys) > 1:
                self.fail(f"{at}/value", "ambiguous_tag", ambiguous(tag, keys))
                return None
            tag = keys[0]
            doc = self.catalog.tag(tag) or {}
            objects = doc.get("objects")
            if objects and obj not in objects:
                self.fail(f"{at}/value", "tag_not_for_object", f"tag '{tag}' does not apply to {obj}")
                return None
        node = HasTag(tag)
        return node if rule["op"] == "has_tag" else Not(node)

    # --- fields ----------------------------------------------------------------------------

    def _field(self, rule: Mapping[str, Any], obj: str, at: str) -> Node | None:
        extra = sorted(set(rule) - {"field", "op", "value"})
        if extra:
            self.fail(f"{at}/{extra[0]}", "unknown_key", f"'{extra[0]}' does not belong in a field condition")
            return None
        fields = self.catalog.fields(obj)
        if fields is None:
            self.fail(at, "unknown_object", f"no object named '{obj}'")
            return None
        name = rule["field"]
        info = fields.get(name) if isinstance(name, str) else None
        if info is None:
            self.fail(f"{at}/field", "unknown_field", f"'{name}' is not a field of {obj}")
            return None
        return self._compare(FieldRef(info), info, info.operators, rule, at)

    def _compare(self, operand: FieldRef | AggRef, info: FieldInfo, allowed: tuple[str, ...] | frozenset[str],
                 rule: Mapping[str, Any], at: str) -> Node | None:
        op = rule.get("op")
        if not isinstance(op, str):
            self.fail(f"{at}/op", "missing_operator", "an operator (op) is required")
            return None
        if op not in allowed:
            self.fail(f"{at}/op", "invalid_operator",
                      f"'{op}' does not apply to {info.type_name} ({', '.join(allowed)})")
            return None
        has_value = "value" in rule
        if op in NO_VALUE_OPS:
            if has_value:
                self.fail(f"{at}/value", "unexpected_value", f"'{op}' takes no value")
                return None
            return Compare(operand, op)
        if not has_value:
            self.fail(f"{at}/value", "missing_value", f"'{op}' needs a value")
            return None
        try:
            value = parse_value(info, op, rule["value"])
        except _Bad as bad:
            self.fail(f"{at}/value", bad.code, bad.message)
            return None
        return Compare(operand, op, value)

    # --- related records -------------------------------------------------------------------

    def _related(self, rule: Mapping[str, Any], obj: str, at: str, depth: int) -> Node | None:
        spec = rule["related"]
        if not isinstance(spec, Mapping) or set(spec) != {"object", "via"}:
            self.fail(f"{at}/related", "invalid_rule", "related takes {\"object\": ..., \"via\": ...}")
            return None
        other, via = spec["object"], spec["via"]
        other_fields = self.catalog.fields(other) if isinstance(other, str) else None
        if other_fields is None:
            self.fail(f"{at}/related/object", "unknown_object", f"no object named '{other}'")
            return None
        target = other_fields.get(via) if isinstance(via, str) else None
        target_obj = self.catalog.object(other)
        declared = target_obj.fields.get(via) if target_obj is not None and isinstance(via, str) else None
        if target is None or declared is None or not declared.type.is_relation or declared.target != obj:
            self.fail(f"{at}/related/via", "not_a_relation",
                      f"'{via}' is not a relation field of {other} that points at {obj}")
            return None
        agg = rule.get("agg", "exists")
        if agg not in AGGREGATES:
            self.fail(f"{at}/agg", "invalid_aggregate", f"agg is one of {', '.join(AGGREGATES)}")
            return None
        where = None
        if "where" in rule:
            where = self.rule(rule["where"], other, f"{at}/where", depth + 1)
            if where is None:
                return None
        relation = Relation(other, via, where)
        if agg == "exists":
            extra = sorted(set(rule) & {"field", "op", "value"})
            if extra:
                self.fail(f"{at}/{extra[0]}", "unexpected_key", f"'{extra[0]}' does not apply to agg exists")
                return None
            return Exists(relation)
        if agg == "count":
            if "field" in rule:
                self.fail(f"{at}/field", "unexpected_key", "count takes no field")
                return None
            return self._compare(AggRef(relation, "count", _COUNT_FIELD), _COUNT_FIELD, _COUNT_OPS, rule, at)
        name = rule.get("field")
        info = other_fields.get(name) if isinstance(name, str) else None
        if info is None:
            self.fail(f"{at}/field", "unknown_field", f"'{name}' is not a field of {other}")
            return None
        wanted = ("integer", "decimal") if agg == "sum" else ("integer", "decimal", "date", "datetime")
        if info.kind not in wanted:
            self.fail(f"{at}/field", "invalid_aggregate", f"{agg} needs a field of type {' or '.join(wanted)}")
            return None
        if agg == "sum":
            info = FieldInfo(info.name, info.type_name, info.kind, info.operators, scale=info.scale, nullable=False)
        allowed = tuple(o for o in info.operators if o in _AGG_FIELD_OPS)
        if agg == "sum":
            allowed = tuple(o for o in allowed if o not in ("is_empty", "is_not_empty"))
        return self._compare(AggRef(relation, agg, info), info, allowed, rule, at)


# --- values ------------------------------------------------------------------------------------

def parse_value(info: FieldInfo, op: str, raw: Any) -> Any:
    """The rule value for `op` on a field, as the Python value both back ends compare with."""
    if op in LIST_OPS or op in ("has_any", "has_all"):
        if not isinstance(raw, list):
            raise _Bad("invalid_value", f"'{op}' takes a list (an empty one: in and has_any match nothing, "
                       "not_in and has_all everything)")
        if len(raw) > MAX_LIST:
            raise _Bad("invalid_value", f"at most {MAX_LIST} values")
        if op in ("has_any", "has_all"):
            return tuple(dict.fromkeys(_option(info, v) for v in raw))
        return tuple(dict.fromkeys(scalar(info, v, op) for v in raw))
    if op == "between":
        if not isinstance(raw, list) or len(raw) != 2:
            raise _Bad("invalid_value", "'between' takes [low, high]")
        lo, hi = scalar(info, raw[0], op), scalar(info, raw[1], op)
        if _sort_key(lo) > _sort_key(hi):
            raise _Bad("invalid_value", "'between' needs low <= high")
        return (lo, hi)
    if op in ("within_last", "within_next"):
        if (not isinstance(raw, Mapping) or set(raw) != {"amount", "unit"} or raw["unit"] not in UNITS
                or not isinstance(raw["amount"], int) or isinstance(raw["amount"], bool)
                or not 0 <= raw["amount"] <= 100_000):
            raise _Bad("invalid_value", f"'{op}' takes {{\"amount\": 0..100000, \"unit\": day|week|month}}")
        return Relative(raw["amount"], raw["unit"])
    if op == "on_weekday":
        if (not isinstance(raw, list) or not raw
                or any(not isinstance(d, int) or isinstance(d, bool) or not 1 <= d <= 7 for d in raw)):
            raise _Bad("invalid_value", "'on_weekday' takes a list of ISO weekdays 1 (Monday) .. 7 (Sunday)")
        return tuple(sorted(set(raw)))
    if op in ("contains", "starts_with"):
        if not isinstance(raw, str) or not raw or len(raw) > MAX_TEXT or "\x00" in raw:
            raise _Bad("invalid_value", f"'{op}' takes a non-empty text")
        return raw
    return scalar(info, raw, op)


def _sort_key(value: Any) -> Any:
    if isinstance(value, DayValue):
        return datetime(value.day.year, value.day.month, value.day.day, tzinfo=UTC)
    return value


def _option(info: FieldInfo, raw: Any) -> Any:
    if info.options and raw not in info.options:
        raise _Bad("unknown_option", f"{raw!r} is not an option of {info.name}")
    return raw


def scalar(info: FieldInfo, raw: Any, op: str) -> Any:
    """One comparison value of the field's kind."""
    kind = info.kind
    if kind == "text":
        if not isinstance(raw, str) or not raw or len(raw) > MAX_TEXT or "\x00" in raw:
            raise _Bad("invalid_value", "takes a non-empty text (use is_empty for empty values)")
        if info.type_name == "select":
            return _option(info, raw)
        if info.normalize is not None and op in ("eq", "ne", "in", "not_in"):
            try:
                return info.normalize(raw)
            except (CoercionError, ValueError) as exc:
                raise _Bad("invalid_value", str(exc)) from None
        return raw
    if kind in ("integer", "relation"):
        if not isinstance(raw, int) or isinstance(raw, bool) or not -BIGINT_MAX <= raw <= BIGINT_MAX:
            raise _Bad("invalid_value", "takes a whole number")
        if kind == "relation" and raw <= 0:
            raise _Bad("invalid_value", "takes a positive record id")
        return raw
    if kind == "decimal":
        return _decimal(raw)
    if kind == "boolean":
        if not isinstance(raw, bool):
            raise _Bad("invalid_value", "takes true or false")
        return raw
    if kind == "date":
        return _date(raw)
    if kind == "datetime":
        if isinstance(raw, str) and _ISO_DATE.fullmatch(raw):
            return DayValue(_date(raw))
        return _datetime(raw)
    raise _Bad("invalid_value", f"{info.type_name} fields take no comparison value")


def _decimal(raw: Any) -> Decimal:
    if isinstance(raw, bool):
        raise _Bad("invalid_value", "takes a number")
    if isinstance(raw, int):
        return Decimal(raw)
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise _Bad("invalid_value", "takes a finite number")
        return Decimal(repr(raw))
    if isinstance(raw, str) and _DECIMAL.fullmatch(raw):
        try:
            return Decimal(raw)
        except InvalidOperation:
            pass
    raise _Bad("invalid_value", "takes a number or a decimal string like \"12.50\"")


def _date(raw: Any) -> date:
    if isinstance(raw, str) and _ISO_DATE.fullmatch(raw):
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass
    raise _Bad("invalid_value", "takes a date YYYY-MM-DD")


def _datetime(raw: Any) -> datetime:
    if isinstance(raw, str) and _ISO_DATETIME.fullmatch(raw):
        try:
            parsed = rfc3339(raw.replace(" ", "T")) or datetime.fromisoformat(raw.replace(" ", "T"))
            return parsed.astimezone(UTC)
        except (ValueError, OverflowError):
            pass
    raise _Bad("invalid_value", "takes an ISO 8601 date-time with a time zone (e.g. 2026-01-31T09:00:00+08:00) "
               "or a date YYYY-MM-DD (the whole local day)")

