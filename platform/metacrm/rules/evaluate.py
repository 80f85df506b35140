"""The in-memory visitor: rule AST -> a Python function over one record (a JSON-shaped dict).

A compiled matcher is a tree of closures, built once per rule and reused; the record's values
are read as the API shows them (ISO dates, decimal strings) or as Python values. Related-record
aggregates and tags are not in the record: they are read through the connection, with the same
subqueries the SQL visitor builds, unless the record carries its tags under "tags".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, literal, literal_column, select

from .model import AggRef, All, AnyOf, Compare, Exists, FieldInfo, FieldRef, HasTag, Node, Not
from .sql import RowFilter, SqlCompiler, tag_links
from .timeutil import Prim, ascii_lower, is_relative, lower

Record = Mapping[str, Any]
Matcher = Callable[[Record, "EvalContext"], bool]
Getter = Callable[[Record, "EvalContext"], Any]


@dataclass
class EvalContext:
    """What one evaluation may need besides the record."""

    obj: str
    now: datetime
    tz: tzinfo
    conn: Connection | None = None
    tables: Mapping[str, Any] | None = None
    row_filter: RowFilter | None = None
    memo: dict[Any, Any] = field(default_factory=dict)

    def compiler(self) -> SqlCompiler:
        if self.tables is None:
            raise ValueError("related-record rules need the snapshot's tables")
        return SqlCompiler(self.tables, self.now, self.tz, self.row_filter)


# --- reading values ------------------------------------------------------------------------------

def _as_decimal(v: Any) -> Any:
    if v is None or isinstance(v, Decimal):
        return v
    return Decimal(repr(v)) if isinstance(v, float) else Decimal(str(v))


def _as_date(v: Any) -> Any:
    if v is None or (isinstance(v, date) and not isinstance(v, datetime)):
        return v
    return date.fromisoformat(v)


def _as_datetime(v: Any) -> Any:
    if v is None:
        return None
    if not isinstance(v, datetime):
        v = datetime.fromisoformat(v)
    return v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)


_READERS: dict[str, Callable[[Any], Any]] = {"decimal": _as_decimal, "date": _as_date, "datetime": _as_datetime}


def _field_getter(info: FieldInfo) -> Getter:
    name = info.name
    reader = _READERS.get(info.kind)
    compute = info.compute
    if compute is not None:  # a volatile formula: computed from the record, with the context's `now`
        read = reader or (lambda v: v)
        return lambda rec, ctx: read(compute.value(rec, ctx.now, ctx.tz))
    if reader is None:
        return lambda rec, ctx: rec.get(name)
    return lambda rec, ctx: reader(rec.get(name))


def _agg_getter(ref: AggRef) -> Getter:
    def get(rec: Record, ctx: EvalContext) -> Any:
        record_id = rec.get("id")
        if record_id is None or ctx.conn is None:
            if record_id is not None:
                raise ValueError("related-record rules need a connection")
            return 0 if ref.agg in ("count", "sum") else None
        query = ctx.compiler().aggregate(ref, literal(record_id))
        return ctx.conn.execute(query).scalar()
    return get


# --- building matchers ---------------------------------------------------------------------------

def build(node: Node) -> Matcher:
    """The matcher of a parsed rule (pure; evaluation needs an EvalContext)."""
    if isinstance(node, All):
        parts = [build(n) for n in node.items]
        return lambda rec, ctx: all(p(rec, ctx) for p in parts)
    if isinstance(node, AnyOf):
        parts = [build(n) for n in node.items]
        return lambda rec, ctx: any(p(rec, ctx) for p in parts)
    if isinstance(node, Not):
        inner = build(node.item)
        return lambda rec, ctx: not inner(rec, ctx)
    if isinstance(node, HasTag):
        tag = node.tag
        return lambda rec, ctx: tag in _tags(rec, ctx)
    if isinstance(node, Exists):
        return _exists(node)
    assert isinstance(node, Compare)
    info = node.operand.field
    getter = _field_getter(info) if isinstance(node.operand, FieldRef) else _agg_getter(node.operand)
    if not (is_relative(node.op) or info.kind == "datetime"):  # else it depends on now or the zone
        test = _prim(lower(info, node.op, node.value, datetime.now(UTC), UTC), info)
        return lambda rec, ctx: test(getter(rec, ctx), ctx)
    key = object()

    def relative(rec: Record, ctx: EvalContext) -> bool:
        test = ctx.memo.get(key)
        if test is None:
            test = ctx.memo[key] = _prim(lower(info, node.op, node.value, ctx.now, ctx.tz), info)
        return test(getter(rec, ctx), ctx)
    return relative


def _exists(node: Exists) -> Matcher:
    def check(rec: Record, ctx: EvalContext) -> bool:
        record_id = rec.get("id")
        if record_id is None:
            return False
        if ctx.conn is None:
            raise ValueError("related-record rules need a connection")
        sub, conds = ctx.compiler().related(node.relation, literal(record_id))
        return bool(ctx.conn.execute(select(select(literal_column("1")).select_from(sub).where(*conds).exists())).scalar())
    return check


def _tags(rec: Record, ctx: EvalContext) -> Any:
    tags = rec.get("tags")
    if tags is not None:
        return tags
    record_id = rec.get("id")
    if record_id is None:
        return ()
    cached = ctx.memo.get(("tags", record_id))
    if cached is None:
        if ctx.conn is None:
            raise ValueError("tag rules need the record's tags or a connection")
        cached = ctx.memo[("tags", record_id)] = frozenset(ctx.conn.execute(
            select(tag_links.c.tag).where(tag_links.c.object == ctx.obj, tag_links.c.record_id == record_id)
        ).scalars())
    return cached


Test = Callable[[Any, EvalContext], bool]


def _prim(p: Prim, info: FieldInfo) -> Test:
    tag = p[0]
    if tag in ("and", "or"):
        parts = [_prim(q, info) for q in p[1]]
        if tag == "and":
            return lambda v, ctx: all(t(v, ctx) for t in parts)
        return lambda v, ctx: any(t(v, ctx) for t in parts)
    if tag == "const":
        constant = bool(p[1])
        return lambda v, ctx: constant
    if tag in ("empty", "not_empty"):
        if info.kind in ("multi", "json"):
            def empty(v: Any, ctx: EvalContext) -> bool:
                return v is None or len(v) == 0
        elif info.textual:
            def empty(v: Any, ctx: EvalContext) -> bool:
                return v is None or v == ""
        else:
            def empty(v: Any, ctx: EvalContext) -> bool:
                return v is None
        return empty if tag == "empty" else (lambda v, ctx: not empty(v, ctx))
    if tag == "cmp":
        return _cmp(p[1], p[2], info)
    if tag in ("in", "not_in"):
        values = frozenset(p[1])
        if tag == "in":
            return lambda v, ctx: v is not None and v in values
        if info.textual:
            return lambda v, ctx: v is not None and v != "" and v not in values
        return lambda v, ctx: v is not None and v not in values
    if tag == "contains":
        needle = p[1]
        return lambda v, ctx: v is not None and needle in ascii_lower(v)
    if tag == "starts_with":
        prefix = p[1]
        return lambda v, ctx: v is not None and ascii_lower(v).startswith(prefix)
    if tag == "has_any":
        wanted = tuple(p[1])
        return lambda v, ctx: v is not None and any(w in v for w in wanted)
    if tag == "has_all":
        wanted = tuple(p[1])
        return lambda v, ctx: v is not None and all(w in v for w in wanted)
    if tag == "weekday":
        days = frozenset(p[1])
        if info.kind == "datetime":
            return lambda v, ctx: v is not None and v.astimezone(ctx.tz).isoweekday() in days
        return lambda v, ctx: v is not None and v.isoweekday() in days
    raise AssertionError(f"unknown primitive {tag}")


def _cmp(op: str, x: Any, info: FieldInfo) -> Test:
    if op == "eq":
        return lambda v, ctx: v is not None and v == x
    if op == "ne":
        if info.textual:
            return lambda v, ctx: v is not None and v != "" and v != x
        return lambda v, ctx: v is not None and v != x
    if op == "lt":
        return lambda v, ctx: v is not None and v < x
    if op == "lte":
        return lambda v, ctx: v is not None and v <= x
    if op == "gt":
        return lambda v, ctx: v is not None and v > x
    return lambda v, ctx: v is not None and v >= x
