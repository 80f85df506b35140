"""Report definitions: what a report or dashboard may say (checked with JSON pointers when saved),
the limits, the names of its dimensions and measures, and who may see it. Pure: no queries (the
report engine, engines/reports.py, runs what this module accepted)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..auth.principal import Principal
from ..errors import NotFound, PermissionDenied, Problem, ValidationError
from ..meta.kinds import DefinitionSet, Kind, register_kind
from ..meta.objects import ObjectDef
from ..rules import validate_rule
from ..rules.catalog import fields_of
from ..rules.model import FieldInfo
from ..store.definitions import Snapshot
from .scope import hidden_in_rule

MAX_DIMENSIONS = 3
MAX_MEASURES = 10
LIMIT_CAP = 10_000
DEFAULT_LIMIT = 1_000
MAX_BINS = 200
MAX_TOP = 100
OTHER = "__other__"
OTHER_LABEL = {"en": "Other", "zh": "其他"}
EMPTY_LABEL = {"en": "(empty)", "zh": "（空）"}
BOOLEAN_LABELS = {"true": {"en": "Yes", "zh": "是"}, "false": {"en": "No", "zh": "否"}}
"""A yes/no dimension's keys as the web app writes them (String(true)) and their labels."""
NUMERIC = frozenset({"integer", "decimal"})
ORDERED = NUMERIC | {"date", "datetime"}
UNGROUPABLE = frozenset({"multi", "json"})
AGGREGATES = ("count", "count_distinct", "sum", "avg", "min", "max", "ratio")
PARAMETER_TYPES = ("date_range", "owner", "team", "value")


# --- reading a definition ---------------------------------------------------------------------

def dimension_name(dim: Mapping[str, Any]) -> str:
    if dim.get("name"):
        return str(dim["name"])
    return f"{dim.get('field')}_{dim['bucket']}" if dim.get("bucket") else str(dim.get("field"))


def measure_name(m: Mapping[str, Any]) -> str:
    if m.get("name"):
        return str(m["name"])
    return f"{m['agg']}_{m['field']}" if m.get("field") else str(m["agg"])


def _field_problems(fields: Mapping[str, FieldInfo], name: Any, where: str, obj_name: str) -> list[Problem]:
    if not isinstance(name, str) or "." in name:
        return [Problem(where, "unknown_field", f"'{name}' is not a field of {obj_name} (relation paths are not "
                                                f"supported yet: group by the relation itself)")]
    info = fields.get(name)
    if info is None:
        return [Problem(where, "unknown_field", f"'{name}' is not a field of {obj_name}")]
    if getattr(info, "compute", None) is not None:
        return [Problem(where, "not_stored", f"'{name}' is computed when read; reports group stored fields")]
    return []


def check_report(doc: Mapping[str, Any], defs: DefinitionSet | Snapshot) -> Iterator[Problem]:
    """What the meta-schema cannot say: fields exist, aggregates fit their types, limits hold."""
    if isinstance(defs, DefinitionSet):
        obj_doc = defs.get("object", doc["object"])
        found = ObjectDef.from_doc(obj_doc) if obj_doc is not None else None
    else:  # a live snapshot (a saved report checked again when it runs)
        found = defs.objects.get(doc["object"])
    if found is None:
        yield Problem("/object", "unknown_object", f"no object named '{doc['object']}'")
        return
    obj = found
    fields = fields_of(obj)
    dims = doc.get("dimensions") or []
    if len(dims) > MAX_DIMENSIONS:
        yield Problem("/dimensions", "too_many_dimensions", f"at most {MAX_DIMENSIONS} dimensions")
    names: set[str] = set()
    for i, dim in enumerate(dims):
        where = f"/dimensions/{i}"
        bad = _field_problems(fields, dim.get("field"), where + "/field", obj.name)
        yield from bad
        name = dimension_name(dim)
        if name in names:
            yield Problem(where + "/name", "duplicate_name", f"'{name}' names two columns")
        names.add(name)
        if bad:
            continue
        info = fields[dim["field"]]
        if info.kind in UNGROUPABLE:
            yield Problem(where + "/field", "not_groupable", f"a {info.type_name} field cannot be a dimension")
        if dim.get("bucket") and info.kind not in ("date", "datetime"):
            yield Problem(where + "/bucket", "bucket_needs_date",
                          f"a date bucket needs a date or datetime field; '{info.name}' is {info.type_name}")
        if dim.get("bins") is not None:
            if info.kind not in NUMERIC:
                yield Problem(where + "/bins", "bins_need_number",
                              f"number bins need an integer or decimal field; '{info.name}' is {info.type_name}")
            elif info.kind == "integer" and any(not float(v).is_integer() for v in
                                                [*dim["bins"].get("edges", []), dim["bins"].get("width", 1),
                                                 dim["bins"].get("start", 0)]):
                yield Problem(where + "/bins", "integer_bins", "bins of an integer field need whole numbers")
        if dim.get("level") and info.type_name != "region":
            yield Problem(where + "/level", "level_needs_region", f"'{info.name}' is not a region field")
        if sum(1 for k in ("bucket", "bins", "top") if dim.get(k) is not None) > 1:
            yield Problem(where, "one_grouping", "use one of bucket, bins and top")
    measures = doc["measures"]
    if len(measures) > MAX_MEASURES:
        yield Problem("/measures", "too_many_measures", f"at most {MAX_MEASURES} measures")
    by_name = {measure_name(m): m for m in measures}
    for i, m in enumerate(measures):
        where = f"/measures/{i}"
        name = measure_name(m)
        if name in names:
            yield Problem(where + "/name", "duplicate_name", f"'{name}' names two columns")
        names.add(name)
        agg = m["agg"]
        if agg == "ratio":
            for key in ("of", "over"):
                other = by_name.get(m.get(key) or "")
                if other is None:
                    yield Problem(f"{where}/{key}", "unknown_measure", f"ratio needs '{key}': another measure's name")
                elif other["agg"] == "ratio":
                    yield Problem(f"{where}/{key}", "ratio_of_ratio", "a ratio divides two plain measures")
            continue
        if agg != "count" and not m.get("field"):
            yield Problem(where + "/field", "required", f"{agg} needs a field")
        if m.get("field"):
            bad = _field_problems(fields, m["field"], where + "/field", obj.name)
            yield from bad
            if not bad:
                info = fields[m["field"]]
                if agg in ("sum", "avg") and info.kind not in NUMERIC:
                    yield Problem(where + "/agg", "aggregate_not_allowed",
                                  f"{agg} needs an integer or decimal field; '{info.name}' is {info.type_name}")
                elif agg in ("min", "max") and info.kind not in ORDERED:
                    yield Problem(where + "/agg", "aggregate_not_allowed",
                                  f"{agg} needs a number, date or datetime field; '{info.name}' is {info.type_name}")
                elif agg == "count_distinct" and info.kind in UNGROUPABLE:
                    yield Problem(where + "/agg", "aggregate_not_allowed", f"count_distinct of a {info.type_name} field")
        if m.get("filter") is not None:
            for p in validate_rule(m["filter"], obj.name, defs):
                yield Problem(f"{where}/filter" + ("" if p.field == "/" else p.field), p.code, p.message)
    if doc.get("filters") is not None:
        for p in validate_rule(doc["filters"], obj.name, defs):
            yield Problem("/filters" + ("" if p.field == "/" else p.field), p.code, p.message)
    for i, dim in enumerate(dims):
        top = dim.get("top")
        if isinstance(top, dict) and top.get("by") and top["by"] not in by_name:
            yield Problem(f"/dimensions/{i}/top/by", "unknown_measure", f"no measure named '{top['by']}'")
    for i, p in enumerate(doc.get("parameters") or []):
        if p["type"] in ("date_range", "value") and not p.get("field"):
            yield Problem(f"/parameters/{i}/field", "required", f"a {p['type']} parameter needs a field")
        if p.get("field"):
            bad = _field_problems(fields, p["field"], f"/parameters/{i}/field", obj.name)
            yield from bad
            if not bad and p["type"] == "date_range" and fields[p["field"]].kind not in ("date", "datetime"):
                yield Problem(f"/parameters/{i}/field", "needs_date", "a date range needs a date or datetime field")
    for i, s in enumerate(doc.get("sort") or []):
        if s["by"] not in names:
            yield Problem(f"/sort/{i}/by", "unknown_column", f"no dimension or measure named '{s['by']}'")
    limit = doc.get("limit")
    if limit is not None and limit > LIMIT_CAP:
        yield Problem("/limit", "limit_above_cap", f"at most {LIMIT_CAP} rows")


def check_dashboard(doc: Mapping[str, Any], defs: DefinitionSet) -> Iterator[Problem]:
    for i, w in enumerate(doc.get("widgets") or []):
        if defs.get("report", w["report"]) is None:
            yield Problem(f"/widgets/{i}/report", "unknown_report", f"no report named '{w['report']}'")


register_kind(Kind("report", "reports", check=check_report, refers_to=("object", "tag")))
register_kind(Kind("dashboard", "dashboards", check=check_dashboard, refers_to=("report",)))


def report_doc(snap: Snapshot, name: str) -> dict[str, Any]:
    doc = snap.definitions.get("report", name)
    if doc is None:
        raise NotFound(f"no report named '{name[:64]}'", [Problem("report", "not_found", name[:64])])
    return doc


def validate_report(doc: Any, snap: Snapshot) -> dict[str, Any]:
    """An unsaved definition (the live preview), checked exactly as a save would check it."""
    from ..meta.kinds import validate_definition

    problems = validate_definition("report", doc, snap.definitions)
    if problems:
        raise ValidationError("the report definition is invalid", problems)
    return doc


# --- who may see a report ---------------------------------------------------------------------

def fields_read(doc: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(pointer, field) of every field a report's dimensions, measures and parameters read."""
    out = [(f"/dimensions/{i}/field", d["field"]) for i, d in enumerate(doc.get("dimensions") or [])]
    out += [(f"/measures/{i}/field", m["field"]) for i, m in enumerate(doc["measures"]) if m.get("field")]
    out += [(f"/parameters/{i}/field", p["field"]) for i, p in enumerate(doc.get("parameters") or [])
            if p.get("field")]
    out += [(f"/parameters/{i}/field", "owner_id") for i, p in enumerate(doc.get("parameters") or [])
            if p["type"] in ("owner", "team") and not p.get("field")]
    return out


def require_readable(doc: Mapping[str, Any], who: Principal) -> None:
    """403 naming every field (and rule) of the report the caller may not see: refused, never blanked."""
    obj = doc["object"]
    who.require(obj, "read")
    roles = doc.get("visible_to")
    if roles and not who.is_admin and not set(roles) & set(who.roles):
        raise PermissionDenied("this report is not shared with your roles",
                               [Problem("/visible_to", "not_shared", ", ".join(roles)[:200])])
    hidden = who.permission(obj).hidden
    problems = [Problem(ptr, "forbidden_field", name) for ptr, name in fields_read(doc) if name in hidden]
    rules = [("/filters", doc.get("filters"))] + [(f"/measures/{i}/filter", m.get("filter"))
                                                  for i, m in enumerate(doc["measures"])]
    for ptr, rule in rules:
        if rule is not None:
            problems += [Problem(ptr, "forbidden_field", name) for name in hidden_in_rule(rule, obj, who)]
    if problems:
        raise PermissionDenied("this report reads fields you may not see", problems)
