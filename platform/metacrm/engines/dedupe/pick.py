"""Merge a review pair keeping, per field, the value of the record the reviewer picked.

The pair is merged as usual (engines/dedupe/review.py), then the survivor takes the picked values of
the other record, in the same transaction. The merge's before/after record those fields too, so
undoing the merge restores the survivor's own values and the merged-away record, without `force`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Connection, update

from ...auth.principal import Principal
from ...errors import Problem, ValidationError
from ...store.services import Services
from .merge import get_merge
from .review import get_candidate, merge_candidate
from .tables import merges


def picked_values(keep: Any, pair: list[int], survivor: int, other: Mapping[str, Any],
                  writable: Callable[[str], bool], fields: Mapping[str, Any]) -> dict[str, Any]:
    """The other record's values of the fields `keep` ({field: record id}) assigns to it; every choice is
    checked (the field exists and the caller may write it, the id is one of the pair)."""
    if not isinstance(keep, dict):
        raise ValidationError("keep is {field: record id}", [Problem("keep", "type", "object")])
    problems, values = [], {}
    for name, rid in keep.items():
        if name not in fields or name == "id":
            problems.append(Problem(f"keep/{name}", "unknown_field", str(name)[:64]))
        elif rid not in pair or isinstance(rid, bool):
            problems.append(Problem(f"keep/{name}", "not_in_pair", str(rid)[:32]))
        elif not writable(name):
            problems.append(Problem(f"keep/{name}", "readonly", "you may not write this field"))
        elif rid != survivor:
            values[name] = other.get(name)
    if problems:
        raise ValidationError("invalid field choices", problems)
    return values


def merge_picking(services: Services, conn: Connection, candidate_id: int, survivor_id: int, keep: Any,
                  writable: Callable[[str], bool], actor_id: int | None, who: Principal | None) -> dict[str, Any]:
    """Merge candidate `candidate_id` into `survivor_id`, then apply `keep`; returns the merge."""
    item = get_candidate(conn, candidate_id)
    obj_name, pair = item["object"], [item["left_id"], item["right_id"]]
    if survivor_id not in pair:
        raise ValidationError("the survivor is one of the pair", [Problem("survivor_id", "not_in_pair", str(survivor_id)[:32])])
    other_id = pair[1] if survivor_id == pair[0] else pair[0]
    fields = services.registry.current(conn).object(obj_name).fields
    before = services.records.get(obj_name, survivor_id, conn=conn)
    other = services.records.get(obj_name, other_id, conn=conn)
    values = picked_values(keep, pair, survivor_id, other, writable, fields)
    done = merge_candidate(services, conn, candidate_id, survivor_id, actor_id, who=who)
    if not values:
        return done
    services.records.update(obj_name, survivor_id, values, actor_id=actor_id, conn=conn)
    now = services.records.get(obj_name, survivor_id, conn=conn)
    m = get_merge(conn, done["id"])
    old = {**{n: before.get(n) for n in values}, **(m["before"] or {})}
    new = {**(m["after"] or {}), **{n: now.get(n) for n in values}}
    conn.execute(update(merges).where(merges.c.id == done["id"]).values(before=old, after=new))
    return get_merge(conn, done["id"])
