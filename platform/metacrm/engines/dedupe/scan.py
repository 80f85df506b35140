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
from .matching import FORMS_LONGEST, PairSet, compare_block, compare_key, groups
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
    found: list[tuple[int, int]] = field(default_factory=list, repr=False)
    """Every (left, right) pair found, for callers that check them (benchmarks, tests)."""

    def to_dict(self, max_groups: int = 100) -> dict[str, Any]:
        return {"object": self.object, "definition": self.definition, "records": self.records,
                "pairs": self.pairs, "queued": self.queued, "group_count": len(self.groups),
                "groups": self.groups[:max_groups], "comparisons": self.comparisons,
                "seconds": round(self.seconds, 3), "by_rule": self.by_rule}


def _ordered_rows(conn: Connection, table: Table, rule: MatchRule, textual: set[str]) -> Iterator[Any]:
    """Live rows with every rule field set, in blocking-key order.

    An exact-only rule lets the database find the repeated keys first (GROUP BY ... HAVING), so
    only rows that have a twin are read: a unique mobile column costs one aggregate, not a pass.
    """
    def key(name: str, prefix: int | None = None) -> Any:
        col = table.c[name]
        if prefix:
            col = func.substr(col, 1, prefix)
        return func.lower(col) if name in textual else col

    order = [key(f.field) for f in rule.exact]
    if rule.fuzzy:  # blocks follow compare_key: spellings of one company with and without 有限公司 sort together
        order = [_without_forms(k) if f.field in textual else k for f, k in zip(rule.exact, order, strict=True)]
    if rule.block_prefix:
        order += [key(f.field, rule.block_prefix) for f in rule.fuzzy]
    alive = [table.c.deleted_at.is_(None), *(table.c[n].is_not(None) for n in rule.field_names)]
    names = [f.field for f in (*rule.exact, *rule.fuzzy)]
    query = select(table.c.id, *(table.c[n] for n in names)).where(*alive)
    if not rule.fuzzy:
        labels = [k.label(f"k{i}") for i, k in enumerate(order)]
        twins = select(*labels).where(*alive).group_by(*order).having(func.count() > 1).subquery()
        query = query.join(twins, and_(*(k == twins.c[f"k{i}"] for i, k in enumerate(order))))
    yield from conn.execution_options(yield_per=STREAM_ROWS).execute(query.order_by(*order, table.c.id))


def _without_forms(expr: Any) -> Any:
    """The SQL twin of matching.without_legal_form for ordering (removes the forms anywhere: a
    name that has one inside only sorts apart, never together with another company)."""
    for form in FORMS_LONGEST:
        expr = func.replace(expr, form, "")
    return expr


def scan_rule(conn: Connection, table: Table, rule: MatchRule, textual: set[str], pairs: PairSet) -> tuple[int, int]:
    """Pairs of one rule; return (records read, comparisons made)."""
    n_exact = len(rule.exact)
    prefix = rule.block_prefix
    current: tuple[Any, ...] | None = None
    block: list[tuple[int, tuple[str, ...]]] = []
    read = made = 0
    for row in _ordered_rows(conn, table, rule, textual):
        read += 1
        keys = [compare_key(v) for v in row[1:]]  # the query reads exact fields, then fuzzy ones
        if None in keys:
            continue
        fuzzy = tuple(str(k) for k in keys[n_exact:])
        key = (*keys[:n_exact], *(s[:prefix] for s in fuzzy)) if prefix else tuple(keys[:n_exact])
        if key != current:
            made += compare_block(rule, block, pairs)
            block, current = [], key
        block.append((int(row[0]), fuzzy))
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
        result.found = list(pairs.pairs)
    if queue:
        with services.engine.begin() as w:
            result.queued = add_candidates(w, obj.name, pairs, "scan")
    result.seconds = time.perf_counter() - started
    return result
