"""Duplicates of incoming records (an import batch, or records just created) among the pool and each other.

One query per rule per batch fetches the pool records that share the rule's first exact field
(an indexed lookup for phones, emails and companies) or, for rules without exact fields, the
blocking prefix; matching then runs in memory (matching.py). The first exact field is always asked
for in an IN list of its own, with every spelling compare_key takes as equal (上海某某有限公司 and
上海某某 Co., Ltd. for 上海某某): a row-value IN over (company, prefix of the name) made SQLite scan
the whole table, and PostgreSQL hash a scan of it, once per batch, so an import's cost per row
grew with the table (bench/imports.py --existing).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, and_, bindparam, cast, func, select, tuple_
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection

from ...meta.objects import ObjectDef
from ...store.bulk import is_in
from ...store.definitions import Snapshot
from .definition import ACTION_STRENGTH, DedupeDef, MatchRule
from .matching import Values, block_key, fuzzy_score, match_incoming, rule_values, same_organisation

CHUNK = 500


@dataclass(frozen=True)
class Hit:
    """Row `index` duplicates pool record `record_id`, or (record_id None) the earlier row `row`."""

    index: int
    record_id: int | None
    row: int | None
    score: float
    rule: MatchRule
    action: str


def _pool(conn: Connection, snap: Snapshot, obj: ObjectDef, rule: MatchRule,
          incoming: Sequence[tuple[int, Values]], rows: Sequence[Mapping[str, Any] | None],
          exclude: set[int]) -> list[tuple[int, Values]]:
    """Pool records that may share a block with an incoming row: one query per chunk of block keys.

    Exact-only rules look up their first field (an index for unique phones and emails); rules
    with exact and fuzzy fields look up the first exact field's spellings (_pool_by_first); rules
    with fuzzy fields only look up the lower-cased prefixes of those fields.
    """
    table = snap.tables[obj.name]
    cols = [table.c.id, *(table.c[n] for n in rule.field_names)]
    prefix = max(rule.block_prefix, 1)
    if not rule.fuzzy:
        name = rule.exact[0].field
        keys: list[Any] = list({rows[i][name] for i, _ in incoming if rows[i] is not None})
        column: Any = table.c[name]
        match = lambda part: is_in(column, part, conn.dialect.name)  # noqa: E731
    elif rule.exact:  # the first exact field's spellings (same_organisation) and the fuzzy prefixes
        return _pool_by_first(conn, table, cols, rule, incoming, rows, exclude)
    else:
        exprs = [table.c[f.field] for f in rule.exact]
        exprs += [func.lower(func.substr(table.c[f.field], 1, prefix)) for f in rule.fuzzy]
        keys = list({(*(rows[i][f.field] for f in rule.exact),
                      *(str(rows[i][f.field])[:prefix].lower() for f in rule.fuzzy))
                     for i, _ in incoming if rows[i] is not None})
        match = (lambda part: tuple_(*exprs).in_(part)) if len(exprs) > 1 else (
            lambda part: exprs[0].in_([k[0] for k in part]))
        if conn.dialect.name == "postgresql" and len(exprs) > 1:
            return _pool_pg(conn, table, cols, exprs, keys, rule, exclude)
    out: list[tuple[int, Values]] = []
    for start in range(0, len(keys), CHUNK):
        part = keys[start:start + CHUNK]
        query = select(*cols).where(table.c.deleted_at.is_(None), match(part))
        for row in conn.execute(query):
            rid = int(row[0])
            if rid in exclude:
                continue
            values = rule_values(rule, dict(zip(rule.field_names, row[1:], strict=True)))
            if values is not None:
                out.append((rid, values))
    return out


def _pool_by_first(conn: Connection, table: Any, cols: list[Any], rule: MatchRule,
                   incoming: Sequence[tuple[int, Values]], rows: Sequence[Mapping[str, Any] | None],
                   exclude: set[int]) -> list[tuple[int, Values]]:
    """Pool records of a rule with exact and fuzzy fields: the first exact field IN every stored
    spelling of the batch's values (an index search; 有限公司 or not), the fuzzy fields' prefixes
    IN the batch's prefixes. A superset of the blocks: match_incoming compares block keys."""
    first = rule.exact[0].field
    prefix = max(rule.block_prefix, 1)
    wanted = sorted({v for i, _ in incoming if rows[i] is not None for v in same_organisation(rows[i][first])},
                    key=str)
    prefixes = {f.field: sorted({str(rows[i][f.field])[:prefix].lower() for i, _ in incoming
                                 if rows[i] is not None}) for f in rule.fuzzy}
    out: list[tuple[int, Values]] = []
    step = CHUNK * 10 if conn.dialect.name == "postgresql" else CHUNK * 4
    for start in range(0, len(wanted), step):
        query = select(*cols).where(table.c.deleted_at.is_(None),
                                    is_in(table.c[first], wanted[start:start + step], conn.dialect.name),
                                    *(is_in(func.lower(func.substr(table.c[name], 1, prefix), type_=String()), keys,
                                            conn.dialect.name) for name, keys in prefixes.items()))
        for row in conn.execute(query):
            rid = int(row[0])
            values = rule_values(rule, dict(zip(rule.field_names, row[1:], strict=True)))
            if rid not in exclude and values is not None:
                out.append((rid, values))
    return out


def _pool_pg(conn: Connection, table: Any, cols: list[Any], exprs: list[Any], keys: list[Any], rule: MatchRule,
             exclude: set[int]) -> list[tuple[int, Values]]:
    """PostgreSQL: the block keys as parallel arrays unnested into a table and joined, not a
    row-by-row OR of tuples. One array parameter per key part keeps the statement the same for
    every batch (compiled once); a VALUES list of bound rows took a sixth of an import to compile.
    """
    out: list[tuple[int, Values]] = []
    names = [f"k{i}" for i in range(len(exprs))]
    for start in range(0, len(keys), CHUNK * 10):
        part = keys[start:start + CHUNK * 10]
        arrays = [bindparam(n, [str(k[i]) for k in part], type_=ARRAY(String())) for i, n in enumerate(names)]
        wanted = func.unnest(*arrays).table_valued(*names).render_derived(name="wanted")
        query = select(*cols).select_from(table.join(wanted, and_(*(
            cast(e, String()) == wanted.c[n] for e, n in zip(exprs, names, strict=True))))).where(
            table.c.deleted_at.is_(None))
        for row in conn.execute(query):
            rid = int(row[0])
            values_ = rule_values(rule, dict(zip(rule.field_names, row[1:], strict=True)))
            if rid not in exclude and values_ is not None:
                out.append((rid, values_))
    return out


def find_duplicates(conn: Connection, snap: Snapshot, dd: DedupeDef, rows: Sequence[Mapping[str, Any] | None],
                    mode: str, exclude: set[int] | None = None, within: bool = True) -> dict[int, Hit]:
    """The strongest duplicate hit per row index (rows: stored values, None for rows to ignore).

    mode is "import" or "create" (which action each rule takes); `within` also matches rows
    against earlier rows of the same batch.
    """
    obj = snap.object(dd.object)
    hits: dict[int, Hit] = {}
    for rule in dd.rules:
        action = rule.on_import if mode == "import" else rule.on_create
        if action == "none":
            continue
        incoming = [(i, v) for i, row in enumerate(rows) if row is not None
                    and (v := rule_values(rule, row)) is not None]
        if not incoming:
            continue
        found: list[Hit] = [Hit(i, rid, None, score, rule, action) for i, (rid, score) in
                            match_incoming(rule, incoming, _pool(conn, snap, obj, rule, incoming, rows,
                                                                 exclude or set())).items()]
        if within:
            matched = {h.index for h in found}
            blocks: dict[tuple[Any, ...], list[tuple[int, Values]]] = {}
            for i, values in incoming:
                key = block_key(rule, values)
                if i not in matched:
                    for j, other in blocks.get(key, ()):
                        if other[0] != values[0]:
                            continue
                        score = fuzzy_score(rule, values[1], other[1]) if rule.fuzzy else 1.0
                        if score is not None:
                            found.append(Hit(i, None, j, score, rule, action))
                            break
                blocks.setdefault(key, []).append((i, values))
        for hit in found:
            best = hits.get(hit.index)
            if best is None or (ACTION_STRENGTH[hit.action], hit.score) > (ACTION_STRENGTH[best.action], best.score):
                hits[hit.index] = hit
    return hits
