"""The rule language: one JSON condition language, two back ends with one semantics.

    validate_rule(rule, obj_name, snapshot) -> [Problem]        (pointers relative to the rule)
    to_sql(rule, obj_name, snapshot, *, now, tz, row_filter)   -> SQLAlchemy boolean expression
    matches(rule, record, obj_name, snapshot, conn, *, now, tz, row_filter) -> bool

Semantics (the same in SQL and in memory; tests/rules/test_agreement.py checks it):
- Missing values: a condition on a NULL (or, for text, empty "") value is false, whatever the
  operator, except is_empty / is_not_empty. So `ne "x"` means "has a value and it is not x", and
  `{"not": ...}` is plain boolean negation: `not (city eq x)` matches records without a city.
- Empty: text is empty when NULL or ""; multiselect when NULL or []; json when NULL, [] or {};
  other types when NULL. Comparison values may not be "" (use is_empty).
- Case: eq, ne, in, not_in are exact (case-sensitive). contains and starts_with ignore the case
  of ASCII letters A-Z only (other letters compare exactly), on both databases and in Python.
  email, phone and url values in eq/ne/in/not_in are normalised like stored values.
- Time: datetimes are instants (stored UTC); values need a zone offset. "Today", "this month",
  weekdays, and a date (YYYY-MM-DD) used against a datetime field (the whole local day) are
  taken in the zone `tz` (the installation's METACRM_TIMEZONE). within_last/within_next N
  days/weeks/months run from `now` back/forward N calendar units of local wall-clock time,
  ends included; this_month is [first of month, first of next month). `now` defaults to the
  current time and is fixed once per call, so one statement sees one `now`.
- Related records: only live (not soft-deleted) related records count; count and sum of no
  records are 0; max/min of no records (or of NULLs only) are missing, so comparisons are false.
  Decimal sums are rounded to the field's scale (SQLite adds floats).
- Tags: has_tag / not_has_tag test the record's current tag links (manual and automatic).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.sql.elements import ColumnElement

from ..errors import Problem, ValidationError
from ..meta import formula_checks as _formula_checks
from .analysis import Reads, RelatedRead, reads
from .catalog import Catalog, catalog_of
from .evaluate import EvalContext, Matcher, build
from .model import Node
from .parse import Parser, limits_problem
from .sql import TAG_LINK_TABLE, RowFilter, SqlCompiler, tag_links
from .timeutil import resolve_now, zone

__all__ = [
    "TAG_LINK_TABLE",
    "Catalog",
    "EvalContext",
    "Reads",
    "RelatedRead",
    "RowFilter",
    "catalog_of",
    "compile_rule",
    "matcher",
    "matches",
    "parse_rule",
    "rule_reads",
    "tag_links",
    "to_sql",
    "validate_rule",
]

_MAX_CACHED = 512


def _key(rule: Any, obj_name: str) -> tuple[str, str] | None:
    """A cache key: repr() is exact for JSON values (1, 1.0 and True differ) and fast."""
    if not isinstance(rule, dict | list):
        return None
    return repr(rule), obj_name


def _parse(rule: Any, obj_name: str, source: Any) -> tuple[Node | None, list[Problem]]:
    too_big = limits_problem(rule)  # before the cache key: repr() of a 2,000-level rule recurses
    if too_big is not None:
        return None, [too_big]
    catalog = catalog_of(source)
    cache: dict[Any, tuple[Node | None, list[Problem]]] = catalog.__dict__.setdefault("_parsed", {})
    key = _key(rule, obj_name)
    if key is not None and key in cache:
        return cache[key]
    parser = Parser(catalog)
    if catalog.fields(obj_name) is None:
        result: tuple[Node | None, list[Problem]] = (None, [Problem("/", "unknown_object",
                                                                    f"no object named '{obj_name}'")])
    else:
        node = parser.rule(rule, obj_name, "")
        result = (node if not parser.problems else None, parser.problems)
    if key is not None:
        if len(cache) >= _MAX_CACHED:
            cache.clear()
        cache[key] = result
    return result


def validate_rule(rule: Any, obj_name: str, snapshot: Any) -> list[Problem]:
    """Every problem of `rule` on object `obj_name`, each with a JSON pointer into the rule."""
    return _parse(rule, obj_name, snapshot)[1]


def parse_rule(rule: Any, obj_name: str, snapshot: Any) -> Node:
    """The parsed rule, or ValidationError naming every problem."""
    node, problems = _parse(rule, obj_name, snapshot)
    if node is None:
        raise ValidationError(f"the rule is not valid for {obj_name}", problems)
    return node


def rule_reads(rule: Any, obj_name: str, snapshot: Any) -> Reads:
    """The fields, tags and related objects a valid rule reads."""
    return reads(parse_rule(rule, obj_name, snapshot))


def to_sql(rule: Any, obj_name: str, snapshot: Any, *, now: datetime | None = None,
           tz: str | tzinfo | None = "UTC", row_filter: RowFilter | None = None,
           table: Any = None) -> ColumnElement[bool]:
    """The rule as a boolean expression over `snapshot.tables[obj_name]` (or `table`, an alias of it).

    `row_filter(object_name)` returns a data-scope expression over that object's table, or None;
    it is applied inside every related-record subquery.
    """
    node = parse_rule(rule, obj_name, snapshot)
    return compile_rule(node, obj_name, snapshot, now=now, tz=tz, row_filter=row_filter, table=table)


def compile_rule(node: Node, obj_name: str, snapshot: Any, *, now: datetime | None = None,
                 tz: str | tzinfo | None = "UTC", row_filter: RowFilter | None = None,
                 table: Any = None) -> ColumnElement[bool]:
    compiler = SqlCompiler(snapshot.tables, resolve_now(now), zone(tz), row_filter)
    return compiler.node(node, snapshot.tables[obj_name] if table is None else table, obj_name)


def matcher(rule: Any, obj_name: str, snapshot: Any) -> Matcher:
    """A reusable in-memory matcher `fn(record, EvalContext) -> bool` (cached per rule and snapshot)."""
    too_big = limits_problem(rule)
    if too_big is not None:
        raise ValidationError(f"the rule is not valid for {obj_name}", [too_big])
    catalog = catalog_of(snapshot)
    cache: dict[Any, Matcher] = catalog.__dict__.setdefault("_matchers", {})
    key = _key(rule, obj_name)
    hit = cache.get(key) if key is not None else None
    if hit is not None:
        return hit
    built = build(parse_rule(rule, obj_name, snapshot))
    if key is not None:
        if len(cache) >= _MAX_CACHED:
            cache.clear()
        cache[key] = built
    return built


def matches(rule: Any, record: Mapping[str, Any], obj_name: str, snapshot: Any, conn: Connection | None = None,
            *, now: datetime | None = None, tz: str | tzinfo | None = "UTC",
            row_filter: RowFilter | None = None) -> bool:
    """Whether one record (as the API shows it, with "id") satisfies the rule.

    Tags come from record["tags"] when present, else through `conn`; related-record conditions
    query through `conn`.
    """
    fn = matcher(rule, obj_name, snapshot)
    ctx = EvalContext(obj_name, resolve_now(now), zone(tz), conn, getattr(snapshot, "tables", None), row_filter)
    return fn(record, ctx)


def _rollup_filter_problems(rule: Any, obj_name: str, source: Any) -> list[Problem]:
    """A roll-up filter reads only the child's own fields and not the clock: anything else could
    change without the child being written, and the stored roll-up would drift."""
    problems = validate_rule(rule, obj_name, source)
    if problems:
        return problems
    found = rule_reads(rule, obj_name, source)
    if found.tags or found.related or getattr(found, "clock", False):
        return [Problem("/", "not_row_local", "a roll-up filter reads only the child's own fields "
                        "(no tags, related records or relative dates)")]
    return []


_formula_checks.set_rule_validator(_rollup_filter_problems)  # roll-up filters are rules over the child object
