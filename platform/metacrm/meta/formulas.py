"""Formula and roll-up fields: parse, type-check, order (DAG), evaluate in memory, compile to SQL.

A formula (`x-field: formula`) is a JSON expression over the record's own fields:

    literal                      1, 2.5, "text", true, null
    {"field": "amount"}          a field of the record (system fields: owner_id, created_by, created_at, updated_at)
    {"add"|"sub"|"mul": [a, b, ...]}, {"div": [a, b]}     arithmetic (division by zero is null)
    {"neg": a}, {"round": [a, digits]}
    {"concat": [a, b, ...]}      text (null parts count as "")
    {"coalesce": [a, b, ...]}    the first non-null
    {"if": [cond, then, else]}   a null condition takes the else branch
    {"eq"|"ne"|"lt"|"lte"|"gt"|"gte": [a, b]}, {"and"|"or": [...]}, {"not": a}, {"is_null": a}
    {"days_between": [from, to]} whole days from a date (or datetime, by its UTC date) to another
    {"today": {}}, {"now": {}}   volatile: the formula is computed when read, never stored

One AST, two visitors: `evaluate` (Python, exact decimals) and `to_sql` (SQLAlchemy). Null in,
null out, three-valued logic in both. A declared result type (`x-result`) is checked against the
inferred one when the definition is validated. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
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

from ..errors import Problem
from .sqltypes import UTCDateTime

RESULT_TYPES = ("integer", "decimal", "text", "boolean", "date", "datetime")
AGGS = ("count", "sum", "avg", "min", "max", "count_distinct")
MAX_DEPTH = 5
"""Longest chain of computed fields reading computed fields (a -> b -> c ...)."""
MAX_INPUTS = 10
"""Distinct fields one formula reads."""
MAX_NODES = 200
MAX_NESTING = 20
_TEXT_TYPES = {"text", "textarea", "email", "phone", "url", "select", "region"}
_SYSTEM = {"owner_id": "integer", "created_by": "integer", "created_at": "datetime",
           "updated_at": "datetime"}
_ARITH = ("add", "sub", "mul")
_CMP = ("eq", "ne", "lt", "lte", "gt", "gte")
_VARIADIC = {"add", "sub", "mul", "concat", "coalesce", "and", "or"}
_NUMERIC = ("integer", "decimal")
_WIDE = Context(prec=40)


# --- the AST ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Expr:
    """One node: `op` with typed `args` (Exprs), or a literal/field/volatile leaf in `value`."""

    op: str  # literal | field | today | now | add | ... (the JSON key)
    type: str  # integer | decimal | text | boolean | date | datetime | null
    args: tuple[Expr, ...] = ()
    value: Any = None


def value_type(schema: Mapping[str, Any]) -> str | None:
    """The formula type of a field declaration (None: a formula cannot read it)."""
    kind = schema.get("x-field")
    if kind in ("formula", "rollup"):
        return result_type(schema)
    if kind in _TEXT_TYPES:
        return "text"
    if kind == "relation":
        return "integer"
    if kind in ("integer", "decimal", "boolean", "date", "datetime"):
        return str(kind)
    return None


def result_type(schema: Mapping[str, Any]) -> str:
    """The declared (or, for a roll-up, implied) result type of a computed field."""
    declared = schema.get("x-result")
    if declared:
        return str(declared)
    agg = (schema.get("x-rollup") or {}).get("agg")
    return "integer" if agg in ("count", "count_distinct") else "decimal"


def is_volatile(expr: Any) -> bool:
    """Whether a formula's JSON reads the clock (today / now) anywhere."""
    if isinstance(expr, Mapping):
        if "today" in expr or "now" in expr:
            return True
        return any(is_volatile(v) for v in expr.values())
    if isinstance(expr, list):
        return any(is_volatile(v) for v in expr)
    return False


def fields_read(expr: Any) -> list[str]:
    """Field names a formula's JSON reads, in order of first appearance."""
    out: list[str] = []

    def walk(e: Any) -> None:
        if isinstance(e, Mapping):
            if "field" in e and isinstance(e["field"], str):
                if e["field"] not in out:
                    out.append(e["field"])
                return
            for v in e.values():
                walk(v)
        elif isinstance(e, list):
            for v in e:
                walk(v)
    walk(expr)
    return out


class Parser:
    """JSON -> Expr with every problem named by its JSON pointer (relative to the expression)."""

    def __init__(self, types: Mapping[str, str | None]) -> None:
        self.types = types  # field name -> formula type (None: not readable)
        self.problems: list[Problem] = []
        self.nodes = 0

    def bad(self, at: str, code: str, message: str) -> Expr:
        self.problems.append(Problem(at or "/", code, message))
        return Expr("literal", "null")

    def parse(self, e: Any, at: str = "", depth: int = 0) -> Expr:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            return self.bad(at, "too_large", f"a formula has at most {MAX_NODES} parts")
        if depth > MAX_NESTING:
            return self.bad(at, "too_deep", f"a formula nests at most {MAX_NESTING} levels")
        if e is None:
            return Expr("literal", "null")
        if isinstance(e, bool):
            return Expr("literal", "boolean", value=e)
        if isinstance(e, int):
            return Expr("literal", "integer", value=e)
        if isinstance(e, float):
            try:
                return Expr("literal", "decimal", value=Decimal(repr(e)))
            except InvalidOperation:
                return self.bad(at, "invalid_number", "not a finite number")
        if isinstance(e, str):
            return Expr("literal", "text", value=e)
        if not isinstance(e, Mapping) or len(e) != 1:
            return self.bad(at, "invalid_formula", "a formula part is a literal or an object with one key")
        op, arg = next(iter(e.items()))
        here = f"{at}/{op}"
        if op == "field":
            if not isinstance(arg, str) or arg not in self.types:
                return self.bad(here, "unknown_field", f"the object has no field '{arg}'")
            kind = self.types[arg]
            if kind is None:
                return self.bad(here, "type_mismatch", f"'{arg}' cannot be read by a formula (multiselect or json)")
            return Expr("field", kind, value=arg)
        if op in ("today", "now"):
            if arg not in ({}, None):
                return self.bad(here, "invalid_formula", f"'{op}' takes {{}}")
            return Expr(op, "date" if op == "today" else "datetime")
        if op in ("neg", "not", "is_null"):
            inner = self.parse(arg, here, depth + 1)
            return self._unary(op, inner, here)
        if not isinstance(arg, list):
            return self.bad(here, "invalid_formula", f"'{op}' takes a list")
        if op == "round":
            if len(arg) != 2 or not isinstance(arg[1], int) or isinstance(arg[1], bool) or not 0 <= arg[1] <= 12:
                return self.bad(here, "invalid_formula", "round takes [number, digits 0..12]")
            inner = self.parse(arg[0], here + "/0", depth + 1)
            if inner.type not in (*_NUMERIC, "null"):
                return self.bad(here + "/0", "type_mismatch", f"round needs a number, not {inner.type}")
            return Expr("round", "decimal", (inner,), arg[1])
        args = tuple(self.parse(a, f"{here}/{i}", depth + 1) for i, a in enumerate(arg))
        return self._nary(op, args, arg, here)

    def _unary(self, op: str, inner: Expr, at: str) -> Expr:
        if op == "neg":
            if inner.type not in (*_NUMERIC, "null"):
                return self.bad(at, "type_mismatch", f"neg needs a number, not {inner.type}")
            return Expr("neg", inner.type, (inner,))
        if op == "not":
            if inner.type not in ("boolean", "null"):
                return self.bad(at, "type_mismatch", f"not needs a condition, not {inner.type}")
            return Expr("not", "boolean", (inner,))
        return Expr("is_null", "boolean", (inner,))

    def _nary(self, op: str, args: tuple[Expr, ...], raw: list[Any], at: str) -> Expr:
        types = [a.type for a in args if a.type != "null"]
        if op in _VARIADIC and not 1 <= len(args) <= 50:
            return self.bad(at, "invalid_formula", f"'{op}' takes 1 to 50 parts")
        if op in _ARITH or op == "div":
            if op == "div" and len(args) != 2:
                return self.bad(at, "invalid_formula", "div takes [dividend, divisor]")
            for i, a in enumerate(args):
                if a.type not in (*_NUMERIC, "null"):
                    return self.bad(f"{at}/{i}", "type_mismatch", f"{op} needs numbers, not {a.type}")
            kind = "decimal" if op == "div" or "decimal" in types else "integer"
            return Expr(op, kind, args)
        if op == "concat":
            for i, a in enumerate(args):
                if a.type not in ("text", "integer", "null"):
                    return self.bad(f"{at}/{i}", "type_mismatch", f"concat joins text and whole numbers, not {a.type}")
            return Expr(op, "text", args)
        if op in ("and", "or"):
            for i, a in enumerate(args):
                if a.type not in ("boolean", "null"):
                    return self.bad(f"{at}/{i}", "type_mismatch", f"{op} needs conditions, not {a.type}")
            return Expr(op, "boolean", args)
        if op in _CMP:
            if len(args) != 2:
                return self.bad(at, "invalid_formula", f"{op} takes two parts")
            kind = _common(types)
            if kind is None:
                return self.bad(at, "type_mismatch", f"cannot compare {' with '.join(types)}")
            if kind in ("text", "boolean") and op not in ("eq", "ne"):
                return self.bad(at, "type_mismatch", f"{kind} values compare with eq or ne only")
            return Expr(op, "boolean", args)
        if op == "coalesce":
            kind = _common(types)
            if kind is None:
                return self.bad(at, "type_mismatch", f"coalesce mixes {', '.join(types)}")
            return Expr(op, kind, args)
        if op == "if":
            if len(args) != 3:
                return self.bad(at, "invalid_formula", "if takes [condition, then, else]")
            if args[0].type not in ("boolean", "null"):
                return self.bad(at + "/0", "type_mismatch", f"the condition is {args[0].type}, not a condition")
            kind = _common([a.type for a in args[1:] if a.type != "null"])
            if kind is None:
                return self.bad(at, "type_mismatch", "then and else have different types")
            return Expr(op, kind, args)
        if op == "days_between":
            if len(args) != 2:
                return self.bad(at, "invalid_formula", "days_between takes [from, to]")
            for i, a in enumerate(args):
                if a.type not in ("date", "datetime", "null"):
                    return self.bad(f"{at}/{i}", "type_mismatch", f"days_between needs dates, not {a.type}")
            return Expr(op, "integer", args)
        return self.bad(at, "unknown_function", f"'{op}' is not a formula function")


def _common(types: list[str]) -> str | None:
    """The one type a list of types shares (integer widens to decimal); 'null' when empty."""
    found = set(types)
    if not found:
        return "null"
    if found <= set(_NUMERIC):
        return "decimal" if "decimal" in found else "integer"
    return found.pop() if len(found) == 1 else None


def accepts(declared: str, inferred: str) -> bool:
    """Whether a formula of the inferred type may be stored as the declared result type."""
    return inferred == declared or inferred == "null" or (declared == "decimal" and inferred == "integer")


def parse(expr: Any, types: Mapping[str, str | None]) -> tuple[Expr | None, list[Problem]]:
    parser = Parser(types)
    node = parser.parse(expr)
    return (None if parser.problems else node), parser.problems


def field_types(properties: Mapping[str, Mapping[str, Any]]) -> dict[str, str | None]:
    """Formula types of an object's declared fields and its system fields."""
    out: dict[str, str | None] = dict(_SYSTEM)
    for name, decl in properties.items():
        out[name] = value_type(decl)
    return out


# --- definition checks (called from meta.objects.check_object) -----------------------------------

RuleValidator = Callable[[Any, str, Any], list[Problem]]
_RULES: list[RuleValidator] = []


def set_rule_validator(fn: RuleValidator) -> None:
    """The rules layer (above meta) hands in `validate_rule` so roll-up filters are checked here."""
    _RULES[:] = [fn]


def rule_validator(defs: Any) -> Callable[[Any, str], list[Problem]] | None:
    if not _RULES:
        return None
    fn = _RULES[0]
    return lambda rule, obj: fn(rule, obj, defs)


def check_computed(doc: Mapping[str, Any], lookup: Callable[[str], Mapping[str, Any] | None],
                   validate_rule: Callable[[Any, str], list[Problem]] | None = None) -> Iterator[Problem]:
    """Formula and roll-up declarations of one object definition: types, cycles, depth, inputs.

    `lookup(object_name)` gives another object's definition (roll-up children); `validate_rule`
    checks a roll-up's filter rule against its child object (None: not checked here).
    """
    properties: Mapping[str, Mapping[str, Any]] = doc["properties"]
    types = field_types(properties)
    reads: dict[str, list[str]] = {}
    for name, decl in properties.items():
        at = f"/properties/{name}"
        kind = decl.get("x-field")
        if kind == "formula":
            yield from _check_formula(at, decl, types, reads, name)
        elif kind == "rollup":
            yield from _check_rollup(at, doc["$id"], decl, lookup, validate_rule)
        else:
            for key in ("x-formula", "x-rollup", "x-result", "x-stored"):
                if key in decl:
                    yield Problem(f"{at}/{key}", "keyword_not_allowed", f"'{key}' belongs to formula and roll-up fields")
    yield from _check_graph(reads, properties)


def _check_formula(at: str, decl: Mapping[str, Any], types: Mapping[str, str | None],
                   reads: dict[str, list[str]], name: str) -> Iterator[Problem]:
    if "x-formula" not in decl:
        yield Problem(at, "required", "a formula field needs 'x-formula'")
        return
    declared = decl.get("x-result")
    if declared not in RESULT_TYPES:
        yield Problem(f"{at}/x-result", "required", f"a formula field declares 'x-result': one of {', '.join(RESULT_TYPES)}")
        return
    node, problems = parse(decl["x-formula"], types)
    for p in problems:
        yield Problem(f"{at}/x-formula{'' if p.field == '/' else p.field}", p.code, p.message)
    if node is None:
        return
    if not accepts(declared, node.type):
        yield Problem(f"{at}/x-result", "type_mismatch", f"the formula gives {node.type}, not {declared}")
    volatile = is_volatile(decl["x-formula"])
    if volatile and decl.get("x-stored") is True:
        yield Problem(f"{at}/x-stored", "volatile_stored",
                      "a formula that reads today or now changes by itself: it is computed when read, never stored")
    used = fields_read(decl["x-formula"])
    if len(used) > MAX_INPUTS:
        yield Problem(f"{at}/x-formula", "too_many_inputs", f"a formula reads at most {MAX_INPUTS} fields, not {len(used)}")
    reads[name] = used


def _check_graph(reads: Mapping[str, list[str]], properties: Mapping[str, Mapping[str, Any]]) -> Iterator[Problem]:
    """Cycles (refused with their path) and chains longer than MAX_DEPTH among formulas."""
    state: dict[str, int] = {}
    depth: dict[str, int] = {}
    reported: set[str] = set()

    def visit(name: str, path: list[str]) -> Iterator[Problem]:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = [*path[path.index(name):], name]
            if not reported & set(cycle):
                reported.update(cycle)
                yield Problem(f"/properties/{cycle[0]}/x-formula", "cycle",
                              "formulas read each other in a cycle: " + " → ".join(cycle))
            return
        state[name] = 1
        deepest = 0
        for dep in reads.get(name, ()):
            if dep in reads:
                yield from visit(dep, [*path, name])
                deepest = max(deepest, depth.get(dep, 0))
        state[name] = 2
        depth[name] = deepest + 1
        if depth[name] > MAX_DEPTH and name not in reported:
            reported.add(name)
            yield Problem(f"/properties/{name}/x-formula", "too_deep",
                          f"computed fields chain at most {MAX_DEPTH} deep")
        volatile_deps = [d for d in reads.get(name, ()) if d in reads and is_volatile_field(d, properties, reads)]
        if volatile_deps and properties[name].get("x-stored") is True:
            yield Problem(f"/properties/{name}/x-stored", "volatile_stored",
                          f"reads the volatile formula '{volatile_deps[0]}': it cannot be stored")

    for name in reads:
        yield from visit(name, [])


def is_volatile_field(name: str, properties: Mapping[str, Mapping[str, Any]],
                      reads: Mapping[str, list[str]] | None = None, seen: frozenset[str] = frozenset()) -> bool:
    """Whether a formula field is volatile: it reads the clock, or reads a volatile formula."""
    decl = properties.get(name) or {}
    if decl.get("x-field") != "formula" or name in seen:
        return False
    if is_volatile(decl.get("x-formula")):
        return True
    deps = reads[name] if reads is not None and name in reads else fields_read(decl.get("x-formula"))
    return any(is_volatile_field(d, properties, reads, seen | {name}) for d in deps)


def _check_rollup(at: str, parent: str, decl: Mapping[str, Any], lookup: Callable[[str], Mapping[str, Any] | None],
                  validate_rule: Callable[[Any, str], list[Problem]] | None) -> Iterator[Problem]:
    spec = decl.get("x-rollup")
    if not isinstance(spec, Mapping):
        yield Problem(at, "required", "a roll-up field needs 'x-rollup'")
        return
    at += "/x-rollup"
    if "link" in spec:
        child_name = _linked_object(parent, str(spec["link"]), lookup)
        if child_name is None or "object" in spec or "via" in spec:
            yield Problem(at + "/link", "unknown_link", f"'{spec['link']}' is not a many-to-many relation of {parent} "
                          "(and a link roll-up takes no object or via)")
            return
        child = lookup(child_name)
        if child is None:
            return
    else:
        child_name = spec.get("object")
        child = lookup(str(child_name)) if isinstance(child_name, str) else None
        if child is None:
            yield Problem(at + "/object", "unknown_object", f"no object named '{child_name}'")
            return
        via = spec.get("via")
        link = child["properties"].get(str(via)) if isinstance(via, str) else None
        if link is None or link.get("x-field") != "relation" or link.get("x-target") != parent:
            yield Problem(at + "/via", "unknown_relation", f"'{via}' is not a relation of {child_name} to {parent}")
    props: Mapping[str, Mapping[str, Any]] = child["properties"]
    agg = spec.get("agg")
    if agg not in AGGS:
        yield Problem(at + "/agg", "invalid_value", f"agg is one of {', '.join(AGGS)}")
        return
    target = spec.get("field")
    declared = result_type(decl)
    if agg == "count":
        if target is not None:
            yield Problem(at + "/field", "keyword_not_allowed", "count counts records: it takes no field")
        elif declared != "integer":
            yield Problem(at.replace("/x-rollup", "/x-result"), "type_mismatch", "a count is an integer")
    else:
        tdecl = props.get(str(target)) if isinstance(target, str) else None
        ttype = value_type(tdecl) if tdecl is not None and tdecl.get("x-field") not in ("formula", "rollup") else None
        if tdecl is None:
            yield Problem(at + "/field", "unknown_field", f"{child_name} has no field '{target}'")
        elif ttype is None or (agg in ("sum", "avg") and ttype not in _NUMERIC) or ttype == "boolean":
            yield Problem(at + "/field", "type_mismatch", f"cannot {agg} a {tdecl.get('x-field')} field")
        elif agg == "count_distinct" and declared != "integer":
            yield Problem(at.replace("/x-rollup", "/x-result"), "type_mismatch", "a distinct count is an integer")
        elif agg in ("min", "max") and not accepts(declared, ttype):
            yield Problem(at.replace("/x-rollup", "/x-result"), "type_mismatch",
                          f"the {agg} of {target} is {ttype}, not {declared}")
        elif (agg in ("sum", "avg") and declared not in _NUMERIC) or (agg == "avg" and declared != "decimal"):
            yield Problem(at.replace("/x-rollup", "/x-result"), "type_mismatch", f"a {agg} is a number (avg: decimal)")
        elif agg == "sum" and declared == "integer" and ttype == "decimal":
            yield Problem(at.replace("/x-rollup", "/x-result"), "type_mismatch", "the sum of decimals is a decimal")
    rule = spec.get("filter")
    if rule is not None and validate_rule is not None:
        for p in validate_rule(rule, str(child_name)):
            yield Problem(f"{at}/filter{'' if p.field == '/' else p.field}", p.code, p.message)
    for name, path in _rule_fields(rule) if rule is not None else ():
        decl = props.get(name) or {}
        if decl.get("x-field") == "rollup" or (decl.get("x-field") == "formula" and is_volatile_field(name, props)):
            yield Problem(f"{at}/filter/{'/'.join(map(str, path))}", "not_row_local",
                          f"'{name}' changes without the {child_name} being written (a roll-up or a volatile "
                          "formula): a roll-up filter cannot read it")


def _linked_object(parent: str, name: str, lookup: Callable[[str], Mapping[str, Any] | None]) -> str | None:
    """The object on the other side of `parent`'s many-to-many relation `name` (declared on either side)."""
    own = lookup(parent) or {}
    decl = (own.get("x-links") or {}).get(name)
    if decl is not None:
        return str(decl.get("x-target"))
    for other in _all_objects(lookup):
        for d in (other.get("x-links") or {}).values():
            if d.get("x-target") == parent and d.get("x-inverse") == name:
                return str(other["$id"])
    return None


def _all_objects(lookup: Callable[[str], Mapping[str, Any] | None]) -> list[Mapping[str, Any]]:
    every = getattr(lookup, "every", None)
    return list(every()) if every is not None else []


# --- in memory ----------------------------------------------------------------------------------

def _num(v: Any) -> Any:
    if isinstance(v, Decimal | int) and not isinstance(v, bool):
        return v
    if isinstance(v, float):
        return Decimal(repr(v))
    return Decimal(str(v))


def _day(v: Any) -> date:
    if isinstance(v, datetime):
        return (v if v.tzinfo is None else v.astimezone(UTC)).date()
    if isinstance(v, date):
        return v
    text = str(v)
    if len(text) == 10:
        return date.fromisoformat(text)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (moment if moment.tzinfo is None else moment.astimezone(UTC)).date()


def read(kind: str, v: Any) -> Any:
    """A record's value (stored Python value or JSON as the API shows it) as the formula type."""
    if v is None:
        return None
    if kind == "decimal":
        return _num(v)
    if kind == "date" and not isinstance(v, date):
        return date.fromisoformat(str(v))
    if kind == "datetime" and not isinstance(v, datetime):
        moment = datetime.fromisoformat(str(v).replace("Z", "+00:00"))
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return v


@dataclass(frozen=True)
class Clock:
    """`now` fixed once per evaluation, and the date it is in the installation's zone."""

    now: datetime
    tz: tzinfo = UTC

    @property
    def today(self) -> date:
        return self.now.astimezone(self.tz).date()


def evaluate(e: Expr, row: Mapping[str, Any], clock: Clock,
             other: Callable[[str, Mapping[str, Any]], Any] | None = None) -> Any:
    """The value of a formula for one record; `other(name, row)` gives a volatile formula's value."""
    op = e.op
    if op == "literal":
        return e.value
    if op == "field":
        if other is not None:
            found = other(e.value, row)
            if found is not _NOT_COMPUTED:
                return found
        return read(e.type, row.get(e.value))
    if op == "today":
        return clock.today
    if op == "now":
        return clock.now
    if op in ("if", "and", "or"):  # short-circuit like SQL's CASE (the value only)
        if op == "if":
            return evaluate(e.args[1] if evaluate(e.args[0], row, clock, other) is True else e.args[2], row, clock, other)
        values = [evaluate(a, row, clock, other) for a in e.args]
        if op == "and":
            return False if False in values else (None if None in values else True)
        return True if True in values else (None if None in values else False)
    vals = [evaluate(a, row, clock, other) for a in e.args]
    if op == "coalesce":
        return next((v for v in vals if v is not None), None)
    if op == "concat":
        return "".join("" if v is None else str(v) for v in vals)
    if op == "is_null":
        return vals[0] is None
    if None in vals:
        return None
    if op == "not":
        return not vals[0]
    if op == "neg":
        return -vals[0]
    if op in _ARITH:
        total = _num(vals[0])
        for v in vals[1:]:
            v = _num(v)
            total = (_WIDE.add(total, v) if isinstance(total, Decimal) or isinstance(v, Decimal) else total + v) \
                if op == "add" else (_WIDE.subtract(total, v) if isinstance(total, Decimal) or isinstance(v, Decimal)
                                     else total - v) if op == "sub" else \
                (_WIDE.multiply(total, v) if isinstance(total, Decimal) or isinstance(v, Decimal) else total * v)
        return total
    if op == "div":
        divisor = _num(vals[1])
        if divisor == 0:
            return None
        return _WIDE.divide(Decimal(_num(vals[0])), Decimal(divisor))
    if op == "round":
        return Decimal(_num(vals[0])).quantize(Decimal(1).scaleb(-int(e.value)), rounding=ROUND_HALF_UP, context=_WIDE)
    if op in _CMP:
        a, b = vals
        if e.args[0].type in ("date", "datetime") and e.args[0].type != e.args[1].type:
            a, b = _day(a), _day(b)
        return {"eq": a == b, "ne": a != b, "lt": a < b, "lte": a <= b, "gt": a > b, "gte": a >= b}[op]
    if op == "days_between":
        return (_day(vals[1]) - _day(vals[0])).days
    raise AssertionError(f"unknown formula op {op}")


_NOT_COMPUTED: Any = object()
NOT_COMPUTED = _NOT_COMPUTED
"""What `other` answers for a field that is not a volatile formula (its stored value is read)."""


def finish(value: Any, declared: str, scale: int) -> Any:
    """A formula's value as its declared type stores it (decimals rounded half away from zero)."""
    if value is None:
        return None
    if declared == "decimal":
        out = Decimal(_num(value)).quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP, context=_WIDE)
        return out.copy_abs() if out.is_zero() else out  # no -0.00: the databases store 0.00
    if declared == "integer":
        return int(value)
    return value


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


# --- an object's formulas, ordered ---------------------------------------------------------------

@dataclass(frozen=True)
class FormulaField:
    """One valid formula field of an object, parsed, with how it is kept."""

    name: str
    node: Expr
    declared: str
    scale: int
    volatile: bool
    reads: tuple[str, ...]

    def value(self, row: Mapping[str, Any], clock: Clock, other: Callable[[str, Mapping[str, Any]], Any] | None = None) -> Any:
        """The value for one row; ArithmeticError (an overflow) is the caller's to report."""
        return finish(evaluate(self.node, row, clock, other), self.declared, int(self.scale))


@dataclass(frozen=True)
class ObjectFormulas:
    """The formula fields of one object in dependency order, stored ones and volatile ones."""

    ordered: tuple[FormulaField, ...]

    @property
    def stored(self) -> tuple[FormulaField, ...]:
        return tuple(f for f in self.ordered if not f.volatile)

    @property
    def volatile(self) -> dict[str, FormulaField]:
        return {f.name: f for f in self.ordered if f.volatile}

    def compute_stored(self, row: dict[str, Any], clock: Clock) -> dict[str, Any]:
        """Stored formula values of a full row (stored Python values), in order, written into `row`."""
        out: dict[str, Any] = {}
        for f in self.ordered:
            if not f.volatile:
                row[f.name] = out[f.name] = f.value(row, clock)
        return out

    def compute_volatile(self, row: Mapping[str, Any], clock: Clock) -> dict[str, Any]:
        """Volatile formula values of a row (as stored or as shown)."""
        done: dict[str, Any] = {}
        vol = self.volatile

        def other(name: str, r: Mapping[str, Any]) -> Any:
            if name in done:
                return done[name]
            return NOT_COMPUTED
        for f in self.ordered:
            if f.name in vol:
                done[f.name] = f.value(row, clock, other)
        return done

    def column_sql(self, name: str, column: Callable[[str], Any], clock: Clock) -> Any:
        """A formula field as SQL over a table; volatile formulas it reads are inlined."""
        vol = self.volatile

        def col(n: str) -> Any:
            if n in vol:
                f = vol[n]
                return finish_sql(to_sql(f.node, col, clock), f.declared, f.scale)
            return column(n)
        f = next(x for x in self.ordered if x.name == name)
        return finish_sql(to_sql(f.node, col, clock), f.declared, f.scale)


_OBJECT_CACHE: dict[int, tuple[Any, ObjectFormulas]] = {}


def object_formulas(properties: Mapping[str, Mapping[str, Any]]) -> ObjectFormulas:
    """The formulas of a valid object definition's `properties` (cached per definition)."""
    hit = _OBJECT_CACHE.get(id(properties))
    if hit is not None and hit[0] is properties:
        return hit[1]
    types = field_types(properties)
    parsed: dict[str, FormulaField] = {}
    for name, decl in properties.items():
        if decl.get("x-field") != "formula":
            continue
        node, _ = parse(decl.get("x-formula"), types)
        if node is None:
            continue
        volatile = is_volatile_field(name, properties) or decl.get("x-stored") is False
        parsed[name] = FormulaField(name, node, str(decl.get("x-result")), int(decl.get("x-scale", 2)), volatile,
                                    tuple(fields_read(decl.get("x-formula"))))
    ordered: list[FormulaField] = []
    seen: set[str] = set()

    def place(f: FormulaField, stack: frozenset[str]) -> None:
        if f.name in seen or f.name in stack:
            return
        for dep in f.reads:
            if dep in parsed:
                place(parsed[dep], stack | {f.name})
        seen.add(f.name)
        ordered.append(f)
    for f in parsed.values():
        place(f, frozenset())
    built = ObjectFormulas(tuple(ordered))
    if len(_OBJECT_CACHE) > 256:
        _OBJECT_CACHE.clear()
    _OBJECT_CACHE[id(properties)] = (properties, built)
    return built


# --- who uses a field: roll-ups of other objects over this one (meta/usage.py) -----------------------

def _rule_fields(rule: Any) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """(field, path) for each own-field condition of a roll-up filter rule."""
    stack: list[tuple[Any, tuple[Any, ...]]] = [(rule, ())]
    while stack:
        node, at = stack.pop()
        if isinstance(node, Mapping):
            if isinstance(node.get("field"), str) and "related" not in node:
                yield node["field"], (*at, "field")
            for k, v in node.items():
                if k in ("all", "any", "not"):
                    stack.append((v, (*at, k)))
        elif isinstance(node, list):
            stack.extend((v, (*at, i)) for i, v in enumerate(node))


def rollup_usage(conn: Any, defs: Any, obj: str, fields: set[str]) -> list[Any]:
    """Roll-ups of other objects that read `fields` of `obj` (its relation, field or filter): removing
    one is refused like any field in use (a roll-up would no longer know what to add up)."""
    from .kinds import pointer
    from .usage import Usage

    found = []
    for parent, doc in defs.items("object"):
        for name, decl in (doc.get("properties") or {}).items():
            spec = decl.get("x-rollup") if isinstance(decl, Mapping) and decl.get("x-field") == "rollup" else None
            if not isinstance(spec, Mapping):
                continue
            child = spec.get("object") or _linked_object(parent, str(spec.get("link")), lambda n: defs.get("object", n))
            if child != obj:
                continue
            at = ("properties", name, "x-rollup")
            for key in ("via", "field"):
                if spec.get(key) in fields:
                    found.append(Usage("object", parent, pointer((*at, key)), str(spec[key])))
            for f, path in _rule_fields(spec.get("filter")):
                if f in fields:
                    found.append(Usage("object", parent, pointer((*at, "filter", *path)), f))
    return found
