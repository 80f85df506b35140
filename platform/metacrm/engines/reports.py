"""Reports: dimensions x measures over one object, on the list endpoint's own access path.

A report (kind `report`) names an object, up to MAX_DIMENSIONS dimensions (a field; a date
bucket in a time zone; number bins; top N + other), measures (count, count_distinct, sum, avg,
min, max, each with an optional filter rule; ratio = one measure over another, null over zero),
filters (a rule), parameters (date range, owner, team, value), sort, limit and a chart.

Access: the WHERE clause is `engines.scope.base_where` plus `engines.scope.compile_rule`, the very
functions the list endpoint uses, so a cell never counts a row the viewer's list would not show.
A report reading a field the viewer may not see is refused (403 naming it), never blanked.

Drill-down: every cell turns back into one rule (filters + parameters + the cell's dimension
values + the measure's filter); that rule sent to the list endpoint gives exactly the cell's
rows (its total is the cell's count, the sum of its field the cell's sum).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import IO, Any

from sqlalchemy import ColumnElement, Connection, Float, and_, case, cast, func, literal, null, select

from ..auth.principal import Principal
from ..auth.tables import team_members, teams
from ..errors import Problem, ValidationError
from ..meta.fields import USER_TARGET
from ..meta.objects import ObjectDef
from ..meta.regions import region_by_code, region_label
from ..rules.catalog import fields_of
from ..rules.model import FieldInfo
from ..store.definitions import Snapshot
from ..store.system import users
from .exports import label_in
from .report_buckets import (
    bin_edges,
    bin_index,
    bin_rule,
    bucket_rule,
    date_bucket,
    ensure_functions,
    province_codes,
    province_of,
)
from .report_cache import cache_key, cached, clear_cache, keep, on_record_events  # noqa: F401
from .report_definitions import (  # noqa: F401  (re-exported: the report API and tests read them here)
    AGGREGATES,
    BOOLEAN_LABELS,
    DEFAULT_LIMIT,
    EMPTY_LABEL,
    LIMIT_CAP,
    MAX_BINS,
    MAX_DIMENSIONS,
    MAX_MEASURES,
    MAX_TOP,
    OTHER,
    OTHER_LABEL,
    PARAMETER_TYPES,
    check_dashboard,
    check_report,
    dimension_name,
    fields_read,
    measure_name,
    report_doc,
    require_readable,
    validate_report,
)
from .scope import base_where, compile_rule, row_filter
from .sheets import write_csv, write_xlsx

# --- parameters -------------------------------------------------------------------------------

def parameter_rules(conn: Connection, doc: Mapping[str, Any], values: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """(pointer, rule) for each parameter given (or defaulted); 422 for a value of the wrong shape."""
    if not isinstance(values, Mapping):
        raise ValidationError("parameters must be an object", [Problem("/parameters", "type", "an object")])
    declared = {p["name"]: p for p in doc.get("parameters") or []}
    unknown = [k for k in values if k not in declared]
    if unknown:
        raise ValidationError("unknown parameters", [Problem(f"/parameters/{k[:64]}", "unknown_parameter", k[:64])
                                                     for k in unknown])
    out = []
    for name, p in declared.items():
        value = values.get(name, p.get("default"))
        ptr = f"/parameters/{name}"
        if value is None or value == "" or value == []:
            if p.get("required"):
                raise ValidationError(f"parameter '{name}' is required", [Problem(ptr, "required", name)])
            continue
        kind = p["type"]
        if kind == "date_range":
            if not isinstance(value, Mapping) or not set(value) <= {"from", "to"}:
                raise ValidationError("a date range is {\"from\": ..., \"to\": ...}",
                                      [Problem(ptr, "type", "{from, to}")])
            parts = []
            if value.get("from"):
                parts.append({"field": p["field"], "op": "gte", "value": value["from"]})
            if value.get("to"):
                parts.append({"field": p["field"], "op": "lte", "value": value["to"]})
            if parts:
                out.append((ptr, {"all": parts}))
        elif kind == "owner":
            ids = value if isinstance(value, list) else [value]
            if not ids or not all(isinstance(i, int) and not isinstance(i, bool) and 0 < i < 2**63 for i in ids):
                raise ValidationError("owner is a user id or a list of them", [Problem(ptr, "type", "user ids")])
            out.append((ptr, {"field": p.get("field") or "owner_id", "op": "in", "value": ids}))
        elif kind == "team":
            out.append((ptr, {"field": p.get("field") or "owner_id", "op": "in",
                              "value": _team_user_ids(conn, value, ptr)}))
        else:
            op = "in" if isinstance(value, list) else "eq"
            out.append((ptr, {"field": p["field"], "op": op, "value": value}))
    return out


def _team_user_ids(conn: Connection, team: Any, ptr: str) -> list[int]:
    if isinstance(team, int) and not isinstance(team, bool) and 0 < team < 2**63:
        team_id = team
    elif isinstance(team, str):
        found = conn.execute(select(teams.c.id).where(teams.c.name == team[:64])).scalar()
        if found is None:
            raise ValidationError(f"no team named '{team[:64]}'", [Problem(ptr, "unknown_team", team[:64])])
        team_id = int(found)
    else:
        raise ValidationError("team is a team id or name", [Problem(ptr, "type", "a team id or name")])
    return sorted(int(u) for u in conn.execute(select(team_members.c.user_id).where(team_members.c.team_id == team_id)))


# --- the query --------------------------------------------------------------------------------

@dataclass
class _Plan:
    """One run's query: group keys and measure inputs computed per row in a subquery (so the outer
    GROUP BY names plain columns: PostgreSQL would not match two copies of an expression whose
    bound values differ), then aggregated; plus what the drill-down needs to rebuild a cell."""

    obj: ObjectDef
    where: list[ColumnElement[bool]]
    base_rule: list[Any]  # filters + parameter rules, as rules (for the drill-down)
    rows: Any  # the per-row subquery: k0.. (group keys), o0.. (top-N "other" flags), v0.. (measure inputs)
    keys: list[str]  # dimension names, in order (column k<i>)
    flagged: list[str]  # top-N dimension names (column o<j>)
    tops: dict[str, list[Any]]
    edges: dict[str, list[float]]
    measures: list[tuple[str, ColumnElement[Any]]]  # (name, aggregate over `rows`)


def _zone(doc: Mapping[str, Any], tz: str) -> str:
    return str(doc.get("time_zone") or tz)


def _measure_input(table: Any, m: Mapping[str, Any], cond: ColumnElement[bool] | None,
                   info: FieldInfo | None) -> ColumnElement[Any]:
    """What a measure aggregates, per row: 1 or the field's value, NULL when its filter says no."""
    if m["agg"] == "count":
        return literal(1) if cond is None else case((cond, literal(1)))
    column: Any = table.c[m["field"]]
    if m["agg"] == "avg" and info is not None and info.kind == "integer":
        column = cast(column, Float)
    return column if cond is None else case((cond, column))


def _aggregate(agg: str, value: Any) -> Any:
    if agg == "count":
        return func.count(value)
    if agg == "count_distinct":
        return func.count(value.distinct())
    if agg == "sum":
        return func.coalesce(func.sum(value), 0)
    if agg == "avg":
        return func.avg(value)
    return func.min(value) if agg == "min" else func.max(value)


def _plan(conn: Connection, snap: Snapshot, doc: Mapping[str, Any], who: Principal,
          params: Mapping[str, Any], tz: str) -> _Plan:
    stale = list(check_report(doc, snap))
    if stale:  # the object changed after the report was saved (a field removed or retyped)
        raise ValidationError("the report no longer fits its object", stale)
    obj = snap.object(doc["object"])
    table = snap.tables[obj.name]
    fields = fields_of(obj)
    where = base_where(obj, table, who)
    base_rule: list[Any] = []
    if doc.get("filters") is not None:
        where.append(compile_rule(doc["filters"], obj, snap, who, tz, "filters"))
        base_rule.append(doc["filters"])
    for ptr, rule in parameter_rules(conn, doc, params):
        where.append(compile_rule(rule, obj, snap, who, tz, ptr.lstrip("/")))
        base_rule.append(rule)
    zone = _zone(doc, tz)
    inputs: list[Any] = []
    plain = [m for m in doc["measures"] if m["agg"] != "ratio"]
    for i, m in enumerate(doc["measures"]):
        if m["agg"] == "ratio":
            continue
        cond = None if m.get("filter") is None else compile_rule(m["filter"], obj, snap, who, tz, f"measures/{i}/filter")
        inputs.append(_measure_input(table, m, cond, fields.get(m.get("field") or "")).label(f"v{len(inputs)}"))
    raw: list[Any] = []
    edges: dict[str, list[float]] = {}
    dims = doc.get("dimensions") or []
    for i, dim in enumerate(dims):
        name = dimension_name(dim)
        info = fields[dim["field"]]
        column = table.c[dim["field"]]
        if dim.get("bucket"):
            expr: Any = date_bucket(column, dim["bucket"], zone if info.kind == "datetime" else None)
        elif dim.get("bins") is not None:
            low, high = conn.execute(select(func.min(column), func.max(column)).where(*where)).one()
            try:
                edges[name] = bin_edges(dim["bins"], low, high, MAX_BINS)
            except OverflowError:
                raise ValidationError("too many bins for this data", [Problem(
                    f"/dimensions/{i}/bins", "too_many_bins", f"at most {MAX_BINS} bins; widen them")]) from None
            expr = bin_index(column, edges[name])
        elif dim.get("level") == "province":
            expr = province_of(column)
        else:
            # free text may hold "" (empty, as the rule language says); an option never does
            expr = case((column == "", null()), else_=column) if info.kind == "text" and not info.options else column
        raw.append(expr.label(f"r{i}"))
    first = select(*raw, *inputs).select_from(table).where(*where).subquery("report_rows")
    by_name = {measure_name(m): j for j, m in enumerate(plain)}
    tops: dict[str, list[Any]] = {}
    keys: list[Any] = []
    flags: list[Any] = []
    flagged: list[str] = []
    for i, dim in enumerate(dims):
        name, col = dimension_name(dim), first.c[f"r{i}"]
        if dim.get("top") is None:
            keys.append(col.label(f"k{i}"))
            continue
        top = dim["top"] if isinstance(dim["top"], dict) else {"n": dim["top"]}
        by = top.get("by")
        rank = _aggregate(plain[by_name[by]]["agg"], first.c[f"v{by_name[by]}"]) if by in by_name else func.count()
        tops[name] = [r[0] for r in conn.execute(select(col).where(col.is_not(None)).group_by(col)
                                                 .order_by(rank.desc(), col).limit(int(top["n"])))]
        if tops[name]:
            keys.append(case((col.in_(tops[name]), col), else_=null()).label(f"k{i}"))
            flags.append(case((and_(col.is_not(None), col.not_in(tops[name])), literal(1)),
                              else_=literal(0)).label(f"o{len(flags)}"))
        else:
            keys.append(null().label(f"k{i}"))
            flags.append(literal(0).label(f"o{len(flags)}"))
        flagged.append(name)
    rows = select(*keys, *flags, *[first.c[f"v{j}"] for j in range(len(inputs))]).subquery("report_keys")
    aggs = {measure_name(m): _aggregate(m["agg"], rows.c[f"v{j}"]) for j, m in enumerate(plain)}
    measures = []
    for m in doc["measures"]:
        name = measure_name(m)
        if m["agg"] == "ratio":
            measures.append((name, cast(aggs[m["of"]], Float) / func.nullif(cast(aggs[m["over"]], Float), 0)))
        else:
            measures.append((name, aggs[name]))
    return _Plan(obj, where, base_rule, rows, [dimension_name(d) for d in dims], flagged, tops, edges, measures)


def _order(doc: Mapping[str, Any], plan: _Plan) -> list[Any]:
    keys = {n: plan.rows.c[f"k{i}"] for i, n in enumerate(plan.keys)}
    columns = keys | dict(plan.measures)
    out: list[Any] = []
    for s in doc.get("sort") or []:
        expr = columns[s["by"]]
        out += [case((expr.is_(None), 1), else_=0), expr.desc() if s.get("desc") else expr.asc()]
    for name, expr in keys.items():
        if name in plan.flagged:
            out.append(plan.rows.c[f"o{plan.flagged.index(name)}"])
        out += [case((expr.is_(None), 1), else_=0), expr]
    return out


def _number(value: Any, info: FieldInfo | None) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, Decimal):
        value = float(round(value, info.scale if info is not None else 6))
    if isinstance(value, float):
        scale = info.scale if info is not None and info.kind == "decimal" else 6
        value = round(value, scale)
        return int(value) if value.is_integer() and info is not None and info.kind != "decimal" else value
    return value


def _key_value(name: str, value: Any, plan: _Plan, flag: Any) -> Any:
    if name in plan.flagged and flag:
        return OTHER
    if name in plan.edges:
        if value is None:
            return None
        edges, i = plan.edges[name], int(value)
        lo = edges[i - 1] if i > 0 else ""
        hi = edges[i] if i < len(edges) else ""
        fmt = [("" if x == "" else (int(x) if float(x).is_integer() else x)) for x in (lo, hi)]
        return f"[{fmt[0]},{fmt[1]})"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def _execute(conn: Connection, snap: Snapshot, doc: Mapping[str, Any], who: Principal, params: Mapping[str, Any],
             tz: str, limit: int) -> tuple[_Plan, list[list[Any]], bool]:
    ensure_functions(conn)
    plan = _plan(conn, snap, doc, who, params, tz)
    r = plan.rows
    group = [r.c[f"k{i}"] for i in range(len(plan.keys))] + [r.c[f"o{j}"] for j in range(len(plan.flagged))]
    query = select(*group, *[e.label(f"m{i}") for i, (_, e) in enumerate(plan.measures)]).select_from(r)
    if group:
        query = query.group_by(*group).order_by(*_order(doc, plan))
    rows = conn.execute(query.limit(limit + 1)).all()
    truncated = len(rows) > limit
    fields = fields_of(plan.obj)
    infos = [fields.get(m.get("field") or "") if m["agg"] in ("sum", "avg", "min", "max") else None
             for m in doc["measures"]]
    out = []
    n_keys, n_flags = len(plan.keys), len(plan.flagged)
    for row in rows[:limit]:
        flag_values = dict(zip(plan.flagged, row[n_keys:n_keys + n_flags], strict=True))
        keys = [_key_value(n, row[i], plan, flag_values.get(n)) for i, n in enumerate(plan.keys)]
        values = []
        for j, m in enumerate(doc["measures"]):
            v = row[n_keys + n_flags + j]
            if m["agg"] in ("count", "count_distinct"):
                values.append(int(v or 0))
            elif m["agg"] == "ratio":
                values.append(None if v is None else round(float(v), 6))
            elif hasattr(v, "isoformat"):
                values.append(v.isoformat())
            else:
                values.append(_number(v, infos[j]))
        out.append(keys + values)
    return plan, out, truncated


# --- labels -----------------------------------------------------------------------------------

def _labels(conn: Connection, snap: Snapshot, doc: Mapping[str, Any], plan: _Plan, rows: Sequence[list[Any]],
            who: Principal, language: str) -> dict[str, dict[str, str]]:
    """Readable labels of dimension values: options, relation titles (within scope), users, bins."""
    out: dict[str, dict[str, str]] = {}
    for i, dim in enumerate(doc.get("dimensions") or []):
        name = dimension_name(dim)
        values = {r[i] for r in rows}
        labels: dict[str, str] = {}
        if None in values:
            labels[""] = label_in(EMPTY_LABEL, language, "(empty)")
        if OTHER in values:
            labels[OTHER] = label_in(OTHER_LABEL, language, "Other")
        f = plan.obj.fields.get(dim["field"])
        plain = [v for v in values if v is not None and v != OTHER]
        if name in plan.edges:
            for v in plain:
                lo, hi = str(v)[1:-1].split(",")
                labels[str(v)] = f"< {hi}" if lo == "" else (f"≥ {lo}" if hi == "" else f"{lo} – {hi}")
        elif f is not None and f.type.name == "region":
            for v in plain:
                region = region_by_code(str(v))
                # the province map matches short names (广东); elsewhere the official name in the reader's language
                labels[str(v)] = (region.short if language.startswith("zh") or dim.get("level") else region.pinyin) \
                    if region is not None and region.is_province else region_label(str(v), language)
        elif f is not None and f.type.name == "boolean":
            labels.update({key: label_in(text, language, key) for key, text in BOOLEAN_LABELS.items()})
        elif f is not None and f.options:
            option_labels = f.schema.get("x-option-labels") or {}
            labels.update({str(v): label_in(option_labels.get(v) or {}, language, str(v)) for v in plain})
        elif dim["field"] in ("owner_id", "created_by") or (f is not None and f.type.is_relation
                                                            and f.target == USER_TARGET):
            ids = [int(v) for v in plain]
            if ids:
                for uid, display, username in conn.execute(select(users.c.id, users.c.display_name, users.c.username)
                                                           .where(users.c.id.in_(ids))):
                    labels[str(uid)] = display or username
        elif f is not None and f.type.is_relation:
            target = snap.objects.get(str(f.target))
            title = target.title_field if target is not None else None
            if target is not None and title and title not in who.permission(target.name).hidden and plain:
                t = snap.tables[target.name]
                query = select(t.c.id, t.c[title]).where(t.c.id.in_([int(v) for v in plain]))
                scope = row_filter(snap, who)(target.name)
                if scope is not None:
                    query = query.where(scope)
                labels.update({str(rid): str(text) for rid, text in conn.execute(query) if text is not None})
        if labels:
            out[name] = labels
    return out


def columns_of(doc: Mapping[str, Any], obj: ObjectDef, language: str) -> list[dict[str, Any]]:
    out = []
    for dim in doc.get("dimensions") or []:
        f = obj.fields.get(dim["field"])
        label = label_in(dim.get("label") or (f.label if f else {}), language, dimension_name(dim))
        out.append({"name": dimension_name(dim), "label": label, "role": "dimension", "field": dim["field"],
                    "bucket": dim.get("bucket"), "type": f.type.name if f else "system"})
    for m in doc["measures"]:
        f = obj.fields.get(m.get("field") or "")
        fallback = f"{m['agg']} {label_in(f.label, language, m['field'])}" if f else measure_name(m)
        out.append({"name": measure_name(m), "label": label_in(m.get("label") or {}, language, fallback),
                    "role": "measure", "agg": m["agg"], "field": m.get("field")})
    return out


# --- running ----------------------------------------------------------------------------------

def run_report(conn: Connection, snap: Snapshot, doc: Mapping[str, Any], who: Principal,
               params: Mapping[str, Any] | None = None, *, tz: str = "UTC", language: str = "en",
               limit: int | None = None, use_cache: bool = True) -> dict[str, Any]:
    """The report's rows as the caller may see them: [dimension keys..., measure values...]."""
    params = dict(params or {})
    require_readable(doc, who)
    limit = _limit(doc, limit)
    key = cache_key(doc, who, params, tz, limit, language)
    hit, generation = cached(key)
    if use_cache and hit is not None:
        return {**hit, "cached": True}
    plan, rows, truncated = _execute(conn, snap, doc, who, params, tz, limit)
    if not doc.get("sort") and not truncated:
        rows = _option_order(doc, plan.obj, rows)
    result = {"report": doc.get("name"), "label": doc.get("label"), "object": plan.obj.name,
              "chart": doc.get("chart") or {"type": "table"}, "drill": doc.get("drill", True) is not False,
              "columns": columns_of(doc, plan.obj, language), "rows": rows,
              "labels": _labels(conn, snap, doc, plan, rows, who, language), "truncated": truncated,
              "parameters": params, "time_zone": _zone(doc, tz)}
    previous = previous_parameters(doc, params)
    if previous is not None:  # chart.compare_previous: the same report over the period just before
        _, before, _ = _execute(conn, snap, doc, who, previous, tz, limit)
        result["previous"] = {"parameters": previous,
                              "rows": before if doc.get("sort") else _option_order(doc, plan.obj, before)}
        result["labels"] = _labels(conn, snap, doc, plan, [*rows, *before], who, language)
    if use_cache:
        keep(key, generation, result)
    return {**result, "cached": False}


def previous_parameters(doc: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any] | None:
    """With `chart.compare_previous` and a date range given from and to (YYYY-MM-DD): the parameters
    of the period of the same length just before it; else None."""
    if not (doc.get("chart") or {}).get("compare_previous"):
        return None
    for p in doc.get("parameters") or []:
        value = params.get(p["name"])
        if p["type"] != "date_range" or not isinstance(value, Mapping):
            continue
        try:
            start, end = date.fromisoformat(str(value.get("from"))), date.fromisoformat(str(value.get("to")))
        except ValueError:
            return None
        days = (end - start).days + 1
        if days < 1:
            return None
        shifted = {"from": (start - timedelta(days=days)).isoformat(), "to": (start - timedelta(days=1)).isoformat()}
        return {**params, p["name"]: shifted}
    return None


def _option_order(doc: Mapping[str, Any], obj: ObjectDef, rows: list[list[Any]]) -> list[list[Any]]:
    """Without a sort, a select dimension follows its options' order (a funnel's stages), not the alphabet."""
    dims = doc.get("dimensions") or []
    orders = [{o: i for i, o in enumerate(obj.fields[d["field"]].options)} if d["field"] in obj.fields
              and obj.fields[d["field"]].options and not d.get("top") else None for d in dims]
    if not any(orders):
        return rows

    def key(row: list[Any]) -> tuple[Any, ...]:
        out: list[Any] = []
        for i, order in enumerate(orders):
            v = row[i]
            rank = (order.get(v, len(order)) if order is not None else 0) if v not in (None, OTHER) else 0
            out += [v is None, v == OTHER, rank, "" if order is not None else (v if v not in (None, OTHER) else 0)]
        return tuple(out)

    try:
        return sorted(rows, key=key)
    except TypeError:
        return rows


def _limit(doc: Mapping[str, Any], limit: Any) -> int:
    if limit is None:
        return int(doc.get("limit") or DEFAULT_LIMIT)
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise ValidationError("limit is a positive integer", [Problem("/limit", "type", "a positive integer")])
    if limit > LIMIT_CAP:
        raise ValidationError(f"at most {LIMIT_CAP} rows", [Problem("/limit", "limit_above_cap", str(LIMIT_CAP))])
    return limit


def drill_rule(conn: Connection, snap: Snapshot, doc: Mapping[str, Any], who: Principal,
               params: Mapping[str, Any] | None, cell: Mapping[str, Any], measure: str | None = None,
               *, tz: str = "UTC") -> dict[str, Any]:
    """The rule for one cell's rows: filters + parameters + its dimension values + the measure's filter.

    Sent to the list endpoint (`filter=`), its total is the cell's count and the sum of the
    measure's field over its rows the cell's sum."""
    require_readable(doc, who)
    if not isinstance(cell, Mapping):
        raise ValidationError("cell is {dimension: value}", [Problem("/cell", "type", "an object")])
    ensure_functions(conn)
    plan = _plan(conn, snap, doc, who, dict(params or {}), tz)
    fields = fields_of(plan.obj)
    parts = list(plan.base_rule)
    zone = _zone(doc, tz)
    dims = {dimension_name(d): d for d in doc.get("dimensions") or []}
    unknown = [k for k in cell if k not in dims]
    if unknown:
        raise ValidationError("unknown dimensions in the cell",
                              [Problem(f"/cell/{k[:64]}", "unknown_dimension", k[:64]) for k in unknown])
    for name, dim in dims.items():
        if name not in cell:
            continue  # a total over this dimension
        value, field, ptr = cell[name], dim["field"], f"/cell/{name}"
        info = fields[field]
        try:
            if value is None:
                parts.append({"field": field, "op": "is_empty"})
            elif value == OTHER and name in plan.tops:
                parts.append({"all": [{"field": field, "op": "is_not_empty"},
                                      {"field": field, "op": "not_in", "value": plan.tops[name]}]})
            elif dim.get("bucket"):
                parts.append(bucket_rule(field, str(value), dim["bucket"], zone if info.kind == "datetime" else None))
            elif name in plan.edges:
                parts.append(_bin_rule_of(field, str(value), plan.edges[name]))
            elif dim.get("level") == "province":
                parts.append({"field": field, "op": "in", "value": province_codes(str(value))})
            else:
                parts.append({"field": field, "op": "eq", "value": value})
        except (ValueError, KeyError, StopIteration, TypeError):
            raise ValidationError(f"'{str(value)[:64]}' is not a value of {name}",
                                  [Problem(ptr, "invalid_cell", str(value)[:64])]) from None
    if measure is not None:
        found = [m for m in doc["measures"] if measure_name(m) == measure]
        if not found:
            raise ValidationError(f"no measure named '{measure[:64]}'", [Problem("/measure", "unknown_measure",
                                                                                  measure[:64])])
        m = found[0]
        if m["agg"] == "ratio":  # a ratio's rows are those of its denominator
            m = next(x for x in doc["measures"] if measure_name(x) == m["over"])
        if m.get("filter") is not None:
            parts.append(m["filter"])
    rule: dict[str, Any] = {"all": parts} if parts else {"all": [{"field": "id", "op": "is_not_empty"}]}
    compile_rule(rule, plan.obj, snap, who, tz, "cell")  # refuses a value the field cannot hold (422)
    return rule


def _bin_rule_of(field: str, key: str, edges: list[float]) -> dict[str, Any]:
    lo, hi = key.strip("[)").split(",")
    index = len(edges) if hi == "" else next(i for i, e in enumerate(edges) if float(hi) == e)
    if lo != "" and (index == 0 or float(lo) != edges[index - 1]):
        raise ValueError(key)
    return bin_rule(field, index, edges)


# --- export -----------------------------------------------------------------------------------

def export_report(conn: Connection, snap: Snapshot, doc: Mapping[str, Any], who: Principal, out: IO[bytes],
                  fmt: str = "xlsx", params: Mapping[str, Any] | None = None, *, tz: str = "UTC",
                  language: str = "en", sheet_rows: int | None = None) -> int:
    """The report's table as .xlsx (streamed, write-only) or CSV, labels in `language`; returns rows."""
    if fmt not in ("xlsx", "csv"):
        raise ValidationError("format is xlsx or csv", [Problem("format", "enum", str(fmt)[:16])])
    result = run_report(conn, snap, doc, who, params, tz=tz, language=language, limit=LIMIT_CAP)
    header = [c["label"] for c in result["columns"]]
    n_dims = len(doc.get("dimensions") or [])
    names = [c["name"] for c in result["columns"]]
    labels = result["labels"]

    def rows() -> Iterator[list[Any]]:
        for row in result["rows"]:
            yield [labels.get(names[i], {}).get("" if v is None else str(v), v) if i < n_dims else v
                   for i, v in enumerate(row)]

    title = label_in(doc.get("label") or {}, language, str(doc.get("name") or "report"))
    if fmt == "csv":
        return write_csv(out, header, rows())
    return write_xlsx(out, header, rows(), title=title, sheet_rows=sheet_rows)
