"""Duplicate handling on create: a record listener that flags or refuses duplicates of new records.

It runs inside the creating transaction, so "skip" refuses the whole write with a Conflict naming
the existing record. Imports do their own (richer) duplicate handling and switch this off for
their batches with `dedupe_handled()`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import Connection, select

from ...errors import Conflict, Problem
from ...store.bulk import is_in
from ...store.definitions import Snapshot
from ...store.events import RecordEvent
from .definition import DedupeDef
from .incoming import find_duplicates
from .matching import PairSet
from .review import add_candidates

_handled: ContextVar[bool] = ContextVar("metacrm_dedupe_handled", default=False)
_cache: dict[int, dict[str, list[DedupeDef]]] = {}


@contextmanager
def dedupe_handled() -> Iterator[None]:
    """Within this block the caller deals with duplicates itself; the create listener stays out."""
    token = _handled.set(True)
    try:
        yield
    finally:
        _handled.reset(token)


def _on_create_defs(snap: Snapshot) -> dict[str, list[DedupeDef]]:
    defs = _cache.get(snap.revision)
    if defs is None:
        defs = {}
        for _, doc in snap.definitions.items("dedupe"):
            dd = DedupeDef.from_doc(doc)
            if any(r.on_create != "none" for r in dd.rules):
                defs.setdefault(dd.object, []).append(dd)
        _cache.clear()
        _cache[snap.revision] = defs
    return defs


def on_create(conn: Connection, snap: Snapshot, events: list[RecordEvent]) -> None:
    if _handled.get():
        return
    defs = _on_create_defs(snap)
    if not defs:
        return
    created: dict[str, list[int]] = {}
    for event in events:
        if event.kind == "create" and event.object in defs:
            created.setdefault(event.object, []).append(event.record_id)
    for obj_name, ids in created.items():
        table = snap.tables[obj_name]
        rows = [dict(r._mapping) for r in conn.execute(
            select(table).where(is_in(table.c.id, ids, conn.dialect.name)).order_by(table.c.id))]
        for dd in defs[obj_name]:
            hits = find_duplicates(conn, snap, dd, rows, "create", exclude=set(ids), within=False)
            refused = [h for h in hits.values() if h.action == "skip"]
            if refused:
                raise Conflict(f"{len(refused)} new {obj_name} record(s) duplicate existing ones", [
                    Problem(h.rule.field_names[0], "duplicate",
                            f"looks like {obj_name} {h.record_id} (rule {h.rule.name}, score {h.score:.2f})")
                    for h in refused])
            pairs = PairSet()
            for h in hits.values():
                if h.action == "flag" and h.record_id is not None:
                    pairs.add(int(rows[h.index]["id"]), h.record_id, h.score, h.rule)
            add_candidates(conn, obj_name, pairs, "create")
