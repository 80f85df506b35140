"""Why a branch went where it went: a rule's result with each condition's value, for the run debugger.

`explain` evaluates every leaf condition of a rule on its own (so the debugger can show which one
failed) and the whole rule once; the whole rule's result is the one that chose the branch.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime, tzinfo
from typing import TYPE_CHECKING, Any

from .conditions import rule_matches

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from ..store.definitions import Snapshot

MAX_CONDITIONS = 50


def _leaves(rule: Any) -> Iterator[Mapping[str, Any]]:
    if not isinstance(rule, Mapping):
        return
    if "all" in rule or "any" in rule:
        for part in rule.get("all") or rule.get("any") or ():
            yield from _leaves(part)
    else:  # a field condition, a related-record condition or a `not`: one condition each
        yield rule


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def explain(rule: Any, record: Mapping[str, Any], object_name: str, snapshot: Snapshot,
            conn: Connection | None, now: datetime, tz: tzinfo) -> dict[str, Any]:
    """{"result": bool, "conditions": [{field, op, value, actual, result}]} for `rule` on `record`."""
    result = rule_matches(rule, record, object_name, snapshot, conn, now, tz)
    conditions = []
    for leaf in list(_leaves(rule))[:MAX_CONDITIONS]:
        field = leaf.get("field")
        related = leaf.get("related")
        conditions.append({
            "field": field if field else (f"{related['object']}.{related['via']}" if related else None),
            "op": leaf.get("op") or leaf.get("agg") or ("not" if "not" in leaf else None),
            "value": _plain(leaf.get("value")),
            "actual": _plain(record.get(field)) if field else None,
            "result": rule_matches(leaf, record, object_name, snapshot, conn, now, tz),
        })
    return {"result": bool(result), "conditions": conditions}
