"""The one place workflows reach the rule language (metacrm.rules): validate and evaluate rules."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

from ..errors import Problem

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from ..store.definitions import Snapshot


def rule_problems(rule: Any, object_name: str, snapshot: Snapshot, pointer: str) -> list[Problem]:
    """Problems of a rule for the object, with pointers under `pointer` (e.g. "/steps/2/rule")."""
    from .. import rules

    validate = getattr(rules, "validate_rule", None)
    if validate is None:  # the rule language has not landed in this build: shape was checked already
        return []
    out = []
    for p in validate(rule, object_name, snapshot):
        where = p.field if p.field.startswith("/") or not p.field else "/" + p.field
        out.append(Problem(pointer + ("" if where == "/" else where), p.code, p.message))
    return out


def rule_matches(rule: Any, record: Mapping[str, Any], object_name: str, snapshot: Snapshot,
                 conn: Connection | None, now: datetime, tz: tzinfo) -> bool:
    from .. import rules

    matches = getattr(rules, "matches", None)
    if matches is None:
        raise RuntimeError("the rule language (metacrm.rules.matches) is not available")
    return bool(matches(rule, dict(record), object_name, snapshot, conn, now=now, tz=tz))


def rule_sql(rule: Any, object_name: str, snapshot: Snapshot, now: datetime, tz: tzinfo) -> Any:
    """The rule as a SQL condition over the object's table (schedules select their records with it)."""
    from .. import rules

    to_sql = getattr(rules, "to_sql", None)
    if to_sql is None:
        raise RuntimeError("the rule language (metacrm.rules.to_sql) is not available")
    return to_sql(rule, object_name, snapshot, now=now, tz=tz)


def segment_rule(snapshot: Snapshot, name: str) -> Any:
    """The rule of a segment definition (None when it has none: every record of its object)."""
    doc = snapshot.definitions.get("segment", name)
    return None if doc is None else doc.get("rule")


def rule_reads(rule: Any, object_name: str, snapshot: Snapshot) -> Any:
    """What a valid rule reads (fields, tags, related records, the clock); see rules.analysis."""
    from .. import rules

    return rules.rule_reads(rule, object_name, snapshot)


def rule_reads_only_fields(rule: Any, object_name: str, snapshot: Snapshot) -> bool:
    """Whether the rule's answer before a write can be computed from the write's field changes."""
    found = rule_reads(rule, object_name, snapshot)
    return not (found.tags or found.related or found.nested)
