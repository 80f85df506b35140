"""The SQL visitor: rule AST -> one SQLAlchemy boolean expression over the object's table.

Two-valued logic on a three-valued database: a condition on a missing value is false, so `not`
of it is true. In WHERE, NULL already behaves as false under AND/OR; only under `not` could a
NULL comparison leak through, so conditions there (negative polarity) are wrapped in
coalesce(..., false). Positive conditions stay bare and keep using indexes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from decimal import ROUND_CEILING, ROUND_FLOOR, Context, Decimal
from typing import Any

from sqlalchemy import (
    Numeric,
    Table,
    and_,
    bindparam,
    column,
    false,
    func,
    literal_column,
    not_,
    or_,
    select,
    table,
    true,
)
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.util import ClauseAdapter

from .model import AggRef, All, AnyOf, Compare, Exists, FieldInfo, FieldRef, HasTag, Node, Not, Relation
from .sqlfuncs import IsoWeekday, JsonArrayHas, JsonEmpty, TagLinked, ascii_lower
from .timeutil import Prim, lower, zone_name

TAG_LINK_TABLE = "sys_tag_link"
# The tag links as rules see them; the tags engine owns the real table (same name and columns).
tag_links = table(TAG_LINK_TABLE, column("object"), column("record_id"), column("tag"))

RowFilter = Callable[[str], Any]
_NUMERIC = Numeric(38, 12)


@dataclass
class SqlCompiler:
    """One compilation: the snapshot's tables, `now`, the zone and the data-scope filter."""

    tables: Mapping[str, Table]
    now: datetime
    tz: tzinfo
    row_filter: RowFilter | None = None
    _aliases: int = field(default=0)

    def node(self, node: Node, tbl: Any, obj: str, neg: bool = False) -> ColumnElement[bool]:
        if isinstance(node, All):
            return and_(*(self.node(n, tbl, obj, neg) for n in node.items))
        if isinstance(node, AnyOf):
            return or_(*(self.node(n, tbl, obj, neg) for n in node.items))
        if isinstance(node, Not):
            return not_(self.node(node.item, tbl, obj, not neg))
        if isinstance(node, HasTag):
            same = (tag_links.c.object == obj, tag_links.c.tag == node.tag)
            links = select(tag_links.c.record_id).where(*same)
            probe = select(literal_column("1")).select_from(tag_links).where(
                *same, tag_links.c.record_id == tbl.c.id).correlate(tbl).exists()
            return TagLinked(tbl.c.id.in_(links), probe)
        if isinstance(node, Exists):
            sub, conds = self.related(node.relation, tbl.c.id)
            return select(literal_column("1")).select_from(sub).where(*conds).correlate(tbl).exists()
        assert isinstance(node, Compare)
        operand, nullable = self.operand(node.operand, tbl)
        info = node.operand.field
        prim = lower(info, node.op, node.value, self.now, self.tz)
        return self.prim(prim, operand, info, neg and nullable)

    def operand(self, ref: FieldRef | AggRef, tbl: Any) -> tuple[Any, bool]:
        if isinstance(ref, FieldRef):
            if ref.field.compute is not None:  # a volatile formula: computed here, with this `now`
                return ref.field.compute.sql(tbl, self.now, self.tz), True
            return tbl.c[ref.field.name], ref.field.nullable
        return self.aggregate(ref, tbl.c.id).correlate(tbl).scalar_subquery(), ref.nullable

    def aggregate(self, ref: AggRef, anchor: Any) -> Any:
        """SELECT <agg> FROM related WHERE via = anchor ... (a correlated scalar subquery when anchored)."""
        sub, conds = self.related(ref.relation, anchor)
        if ref.agg == "count":
            value: Any = func.count()
        else:
            col = sub.c[ref.field.name]
            if ref.agg == "sum":
                value = func.coalesce(func.sum(col), 0, type_=col.type)
                if ref.field.kind == "decimal":  # SQLite sums floats: round to the field's scale
                    value = func.round(value, ref.field.scale, type_=col.type)
            else:
                value = getattr(func, ref.agg)(col, type_=col.type)
        return select(value).select_from(sub).where(*conds)

    def related(self, rel: Relation, anchor: Any) -> tuple[Any, list[Any]]:
        self._aliases += 1
        sub = _alias(self.tables[rel.object], f"rel{self._aliases}")
        conds: list[Any] = [sub.c[rel.via] == anchor, sub.c.deleted_at.is_(None)]
        if rel.where is not None:
            conds.append(self.node(rel.where, sub, rel.object))
        if self.row_filter is not None:
            scope = self.row_filter(rel.object)
            if scope is not None:
                conds.append(ClauseAdapter(sub).traverse(scope))
        return sub, conds

    def prim(self, p: Prim, col: Any, info: FieldInfo, guard: bool) -> ColumnElement[bool]:
        tag = p[0]
        if tag == "and":
            return and_(*(self.prim(q, col, info, guard) for q in p[1]))
        if tag == "or":
            return or_(*(self.prim(q, col, info, guard) for q in p[1]))
        if tag == "const":
            return true() if p[1] else false()
        if tag == "empty":
            return _empty(col, info)
        if tag == "not_empty":
            return not_(_empty(col, info)) if info.kind in ("multi", "json") else _not_empty(col, info)
        expr = self.leaf(p, col, info)
        return func.coalesce(expr, false()) if guard else expr

    def leaf(self, p: Prim, col: Any, info: FieldInfo) -> ColumnElement[bool]:
        tag = p[0]
        if info.kind == "decimal" and tag in ("cmp", "in", "not_in"):
            return _decimal_leaf(p, col, info)
        if tag == "cmp":
            op, value = p[1], _bind(info, p[2])
            if op == "eq":
                return col == value
            if op == "ne":
                return and_(col != value, col != "") if info.textual else col != value
            return {"lt": col < value, "lte": col <= value, "gt": col > value, "gte": col >= value}[op]
        if tag in ("in", "not_in"):
            values = [_bind(info, v) for v in p[1]]
            if tag == "in":
                return col.in_(values)
            return and_(col.not_in(values), col != "") if info.textual else col.not_in(values)
        if tag == "contains":
            return ascii_lower(col).contains(p[1], autoescape=True)
        if tag == "starts_with":
            return ascii_lower(col).startswith(p[1], autoescape=True)
        if tag in ("has_any", "has_all"):
            return JsonArrayHas(col, p[1], "any" if tag == "has_any" else "all")
        if tag == "weekday":
            return IsoWeekday(col, zone_name(self.tz) if info.kind == "datetime" else None).in_(list(p[1]))
        raise AssertionError(f"unknown primitive {tag}")


_ALIASES: dict[tuple[int, str], tuple[Table, Any]] = {}


def _alias(base: Table, name: str) -> Any:
    """A reusable alias of a table: building one (its column proxies) costs far more than a query."""
    key = (id(base), name)
    hit = _ALIASES.get(key)
    if hit is not None and hit[0] is base:
        return hit[1]
    if len(_ALIASES) > 4096:
        _ALIASES.clear()
    alias = base.alias(name)
    alias.c  # noqa: B018  (build the column collection once, here)
    _ALIASES[key] = (base, alias)
    return alias


def _bind(info: FieldInfo, value: Any) -> Any:
    """Decimals bind as plain numerics: the column's own type would round them to its scale."""
    if info.kind == "decimal":
        return bindparam(None, value, type_=_NUMERIC)
    return value


_WIDE = Context(prec=80)


def _on_scale(value: Decimal, scale: int, rounding: str) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-scale), rounding=rounding, context=_WIDE)


def _decimal_leaf(p: Prim, col: Any, info: FieldInfo) -> ColumnElement[bool]:
    """A decimal comparison with the value moved onto the field's scale, exactly.

    Stored values (and sums) are multiples of 10^-scale, so `col < 12.345` is `col < 12.35` and
    `col = 12.345` is false: the database then only compares values of the column's own kind, and
    SQLite (which keeps at most 15 significant digits, see CoerceContext.exact_digits) gives the
    answer Python's exact Decimal gives.
    """
    scale = info.scale
    if p[0] in ("in", "not_in"):
        values = [_bind(info, v) for v in p[1] if _on_scale(v, scale, ROUND_FLOOR) == v]
        if p[0] == "in":
            return col.in_(values) if values else false()
        return col.not_in(values) if values else col.is_not(None)
    op, value = p[1], p[2]
    floor, ceiling = _on_scale(value, scale, ROUND_FLOOR), _on_scale(value, scale, ROUND_CEILING)
    if op in ("eq", "ne"):
        if floor != value:  # no stored value equals it
            return false() if op == "eq" else col.is_not(None)
        return col == _bind(info, value) if op == "eq" else col != _bind(info, value)
    bound = {"lt": ceiling, "lte": floor, "gt": floor, "gte": ceiling}[op]
    return {"lt": col < _bind(info, bound), "lte": col <= _bind(info, bound), "gt": col > _bind(info, bound),
            "gte": col >= _bind(info, bound)}[op]


def _empty(col: Any, info: FieldInfo) -> ColumnElement[bool]:
    if info.kind in ("multi", "json"):
        return JsonEmpty(col)
    if info.textual:
        return or_(col.is_(None), col == "")
    return col.is_(None)


def _not_empty(col: Any, info: FieldInfo) -> ColumnElement[bool]:
    if info.textual:
        return and_(col.is_not(None), col != "")
    return col.is_not(None)
