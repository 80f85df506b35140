"""The duplicate review queue: candidate pairs with their score and matched fields, merged or dismissed.

Pairs come from scans, imports and creates. A pair is stored once per object (left < right); a
dismissed pair is never proposed again, so people decide each pair once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Select, select, update

from ...auth.principal import Principal
from ...errors import Conflict, NotFound, Problem
from ...store.bulk import insert_many, is_in
from ...store.services import Services
from .definition import DedupeDef, definition
from .matching import Pair
from .merge import merge_records
from .tables import candidates

STATUSES = ("pending", "merged", "dismissed")


def add_candidates(conn: Connection, object_name: str, pairs: Iterable[Pair], source: str) -> int:
    """Queue pairs not seen before; return how many were added."""
    wanted = {(p.left, p.right): p for p in pairs}
    if not wanted:
        return 0
    ids = sorted({p.left for p in wanted.values()})
    known: set[tuple[int, int]] = set()
    for start in range(0, len(ids), 1000):
        known.update((int(a), int(b)) for a, b in conn.execute(
            select(candidates.c.left_id, candidates.c.right_id).where(
                candidates.c.object == object_name,
                is_in(candidates.c.left_id, ids[start:start + 1000], conn.dialect.name))))
    now = datetime.now(UTC)
    rows = [{"object": object_name, "left_id": p.left, "right_id": p.right, "score": float(p.score),
             "rules": list(p.rules), "fields": list(p.fields), "status": "pending", "source": source,
             "created_at": now, "decided_at": None, "decided_by": None, "merge_id": None}
            for key, p in wanted.items() if key not in known]
    for start in range(0, len(rows), 5000):
        insert_many(conn, candidates, rows[start:start + 5000])
    return len(rows)


def _dict(row: Any) -> dict[str, Any]:
    out = dict(row._mapping)
    for key in ("created_at", "decided_at"):
        if out.get(key) is not None:
            out[key] = out[key].isoformat().replace("+00:00", "Z")
    return out


def list_candidates(services: Services, conn: Connection, object_name: str, status: str = "pending",
                    limit: int = 50, after_id: int | None = None, with_records: bool = True,
                    visible: Select[Any] | None = None) -> list[dict[str, Any]]:
    """The queue, best score first (then id), with both records when asked; with `visible` (a
    subquery of the ids the caller may read) only pairs of two such records."""
    query = (_scoped(select(candidates), visible)
             .where(candidates.c.object == object_name, candidates.c.status == status)
             .order_by(candidates.c.score.desc(), candidates.c.id).limit(max(1, min(limit, 500))))
    if after_id is not None:
        query = query.where(candidates.c.id > after_id)
    out = [_dict(r) for r in conn.execute(query)]
    if with_records:
        for item in out:
            for side in ("left", "right"):
                try:
                    item[side] = services.records.get(object_name, item[f"{side}_id"], include_deleted=True, conn=conn)
                except NotFound:
                    item[side] = None
    return out


def _scoped(query: Select[Any], visible: Select[Any] | None) -> Select[Any]:
    if visible is None:
        return query
    return query.where(candidates.c.left_id.in_(visible), candidates.c.right_id.in_(visible))


def get_candidate(conn: Connection, candidate_id: int) -> dict[str, Any]:
    row = conn.execute(select(candidates).where(candidates.c.id == candidate_id)).first()
    if row is None:
        raise NotFound(f"no duplicate candidate {candidate_id}", [Problem("candidate", "not_found", str(candidate_id))])
    return _dict(row)


def _pending(conn: Connection, candidate_id: int) -> dict[str, Any]:
    item = get_candidate(conn, candidate_id)
    if item["status"] != "pending":
        raise Conflict(f"candidate {candidate_id} is already {item['status']}",
                       [Problem("status", "already_decided", item["status"])])
    return item


def dismiss(conn: Connection, candidate_id: int, actor_id: int | None = None) -> dict[str, Any]:
    _pending(conn, candidate_id)
    conn.execute(update(candidates).where(candidates.c.id == candidate_id).values(
        status="dismissed", decided_at=datetime.now(UTC), decided_by=actor_id))
    return get_candidate(conn, candidate_id)


def merge_candidate(services: Services, conn: Connection, candidate_id: int, survivor_id: int | None = None,
                    actor_id: int | None = None, who: Principal | None = None) -> dict[str, Any]:
    """Merge the pair; the survivor is the one named, else the older (or newer, per the definition)."""
    item = _pending(conn, candidate_id)
    snap = services.registry.current(conn)
    dd = dedupe_for(snap.definitions, item["object"])
    pair = [item["left_id"], item["right_id"]]
    if survivor_id is None:
        survivor_id = pair[0] if dd.survivor == "oldest" else pair[1]
    elif survivor_id not in pair:
        raise Conflict("the survivor must be one of the pair", [Problem("survivor_id", "not_in_pair", str(survivor_id))])
    other = pair[1] if survivor_id == pair[0] else pair[0]
    return merge_records(services, conn, dd, survivor_id, [other], actor_id=actor_id, source="review",
                         note=f"candidate {candidate_id}", who=who)


def dedupe_for(defs: Any, object_name: str) -> DedupeDef:
    return definition(defs, object_name)


def count_candidates(conn: Connection, object_name: str, visible: Select[Any] | None = None) -> dict[str, int]:
    from sqlalchemy import func

    rows = conn.execute(_scoped(select(candidates.c.status, func.count()), visible)
                        .where(candidates.c.object == object_name).group_by(candidates.c.status))
    out = dict.fromkeys(STATUSES, 0)
    out.update({s: int(n) for s, n in rows})
    return out
