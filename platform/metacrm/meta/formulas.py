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

One AST, two visitors: `evaluate` (Python, exact decimals) and `to_sql` (SQLAlchemy, formula_sql.py). Null in,
null out, three-valued logic in both. A declared result type (`x-result`) is checked against the
inferred one when the definition is validated. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from typing import Any

from ..errors import Problem

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
        from .formula_sql import finish_sql, to_sql  # the SQL visitor imports this module

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
