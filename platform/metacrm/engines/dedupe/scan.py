"""Scanning the pool for duplicates: one streamed, block-ordered pass per rule.

The database sorts the live records by each rule's blocking key, and we read them in that order
holding one block at a time, so memory stays bounded by the largest block and the work by the
sum of (bounded) block sizes squared, not by the square of the pool.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Table, and_, func, select

from ...store.db import reading
from ...store.services import Services
from .definition import DedupeDef, MatchRule, definition
from .matching import PairSet, block_key, compare_block, groups, rule_values
from .review import add_candidates

_TEXTUAL = frozenset({"text", "textarea", "email", "phone", "url", "select"})
STREAM_ROWS = 10_000


@dataclass
class ScanResult:
    object: str
    definition: str
    records: int = 0
    pairs: int = 0
    queued: int = 0
    groups: list[list[int]] = field(default_factory=list)
    comparisons: int = 0
    seconds: float = 0.0
    by_rule: dict[str, int] = field(default_factory=dict)

    def to_dict(self, max_groups: int = 100) -> dict[str, Any]:
        return {"object": self.object, "definition": self.definition, "records": self.records,
                "pairs": self.pairs, "queued": self.queued, "group_count": len(self.groups),
                "groups": self.groups[:max_groups], "comparisons": self.comparisons,
                "seconds": round(self.seconds, 3), "by_rule": self.by_rule}


def _ordered_rows(conn: Connection, table: Table, rule: MatchRule, textual: set[str]) -> Iterator[Any]:
    def key(name: str, prefix: int | None = None) -> Any:
        col = table.c[name]
        if prefix:
            col = func.substr(col, 1, prefix)
        return func.lower(col) if name in textual else col

    order = [key(f.field) for f in rule.exact]
    if rule.block_prefix:
        order += [key(f.field, rule.block_prefix) for f in rule.fuzzy]
    query = (select(table.c.id, *(table.c[n] for n in rule.field_names))
             .where(table.c.deleted_at.is_(None), and_(*(table.c[n].is_not(None) for n in rule.field_names)))
             .order_by(*order, table.c.id))
    yield from conn.execution_options(yield_per=STREAM_ROWS).execute(query)


def scan_rule(conn: Connection, table: Table, rule: MatchRule, textual: set[str], pairs: PairSet) -> tuple[int, int]:
    """Pairs of one rule; return (records read, comparisons made)."""
    names = rule.field_names
    current: tuple[Any, ...] | None = None
    block: list[tuple[int, tuple[str, ...]]] = []
    read = made = 0
    for row in _ordered_rows(conn, table, rule, textual):
        read += 1
        values = rule_values(rule, dict(zip(names, row[1:], strict=True)))
        if values is None:
            continue
        key = block_key(rule, values)
        if key != current:
            made += compare_block(rule, block, pairs)
            block, current = [], key
        block.append((int(row[0]), values[1]))
    made += compare_block(rule, block, pairs)
    return read, made


def scan_pool(services: Services, name: str, queue: bool = True) -> ScanResult:
    """Find the duplicate pairs and groups of an object's live records; queue new pairs for review.

    The scan reads on a read-only connection (no write lock held on SQLite while it runs); the
    new pairs are queued in one short write transaction afterwards.
    """
    started = time.perf_counter()
    with reading(services.engine) as c:
        snap = services.registry.current(c)
        dd: DedupeDef = definition(snap.definitions, name)
        obj = snap.object(dd.object)
        table = snap.tables[obj.name]
        textual = {n for n, f in obj.fields.items() if f.type.name in _TEXTUAL}
        result = ScanResult(obj.name, dd.name)
        pairs = PairSet()
        for rule in dd.rules:
            before = len(pairs)
            read, made = scan_rule(c, table, rule, textual, pairs)
            result.records = max(result.records, read)
            result.comparisons += made
            result.by_rule[rule.name] = len(pairs) - before
        result.pairs = len(pairs)
        result.groups = groups(pairs)
    if queue:
        with services.engine.begin() as w:
            result.queued = add_candidates(w, obj.name, pairs, "scan")
    result.seconds = time.perf_counter() - started
    return result
