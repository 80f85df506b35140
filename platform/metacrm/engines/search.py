"""Global search: names, phones (any format, last digits), e-mails and companies across objects.

The index lives in the database and is kept by the database, in the write's own transaction:
- PostgreSQL: one pg_trgm GIN expression index per object over the lowered search fields (the
  table itself is the document; nothing to keep in step, bulk inserts stay set-based). Substrings
  use LIKE on that expression (the index answers it for 3+ characters; shorter queries match
  word starts, which the index also answers); Latin typos use pg_trgm's word similarity (`<%`).
- SQLite: an external-content FTS5 table with the trigram tokenizer per object, kept by triggers
  on the object table (insert, update, delete).
`ensure_indexes` (an apply hook) creates or replaces them whenever object definitions change.
A search reads each object the caller may read with the list's own scope (`titles.scoped`).
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Integer,
    MetaData,
    String,
    Table,
    func,
    literal_column,
    select,
)
from sqlalchemy.sql.elements import ColumnClause

from ..auth.principal import Principal
from ..meta.objects import ObjectDef
from ..store.definitions import Snapshot
from ..store.migrate import SEARCH_INDEX_PREFIX
from .titles import describe_rows, scoped, subtitle_fields, title_field

INDEX_PREFIX = SEARCH_INDEX_PREFIX
MAX_CANDIDATES = 200
FUZZY_SCAN = 5000
FUZZY_RATIO = 0.75
TEXT_COLUMN_TYPES = frozenset({"text", "textarea", "email", "phone", "url", "select", "region"})
WORD_SIMILARITY = "0.3"  # pg_trgm's `<%` threshold (default 0.6 misses one-letter typos); then FUZZY_RATIO
_DIGITS = re.compile(r"[0-9]")
_LATIN_WORD = re.compile(r"^[a-z][a-z .'-]{3,}$")


def search_fields(obj: ObjectDef) -> list[str]:
    """Title, phone and e-mail fields and a company field: what a person types to find a record."""
    names = [obj.title_field] if obj.title_field in obj.fields else []
    for name, f in obj.fields.items():
        if f.type.name in ("phone", "email") or name == "company":
            names.append(name)
    # only text columns: coalesce(<bigint, numeric or date>, '') is an error on PostgreSQL
    return [n for n in dict.fromkeys(names) if obj.fields[n].type.name in TEXT_COLUMN_TYPES]


def _digest(fields: Sequence[str]) -> str:
    return hashlib.sha1(",".join(fields).encode()).hexdigest()[:8]


def _search_expr(table: Table, fields: Sequence[str]) -> ColumnElement[str]:
    """' ' || lower(coalesce(a, '')) || ' ' || ... : constants inline, so the index expression and the
    query's expression are the same text (a bound parameter would not match the index)."""
    space, empty = literal_column("' '", String), literal_column("''", String)
    expr: Any = space
    for name in fields:
        expr = expr.concat(func.lower(func.coalesce(table.c[name], empty))).concat(space)
    return expr.self_group()


# --- index upkeep ------------------------------------------------------------------------------

def _pg_trgm_schema(conn: Connection) -> str:
    """The schema of pg_trgm, installed (into pg_catalog, always on the search path) when missing."""
    found = conn.exec_driver_sql(
        "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'").scalar()
    if found is None:
        conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA pg_catalog")
        found = "pg_catalog"
    return str(found)


def _quote(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


def _ensure_pg(conn: Connection, snap: Snapshot) -> None:
    schema = _pg_trgm_schema(conn)
    existing = {r[0] for r in conn.exec_driver_sql(
        "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND indexname LIKE 'ix_search_%%'")}
    wanted: set[str] = set()
    for obj in snap.objects.values():
        fields = search_fields(obj)
        if not fields:
            continue
        table = snap.tables[obj.name]
        name = f"{INDEX_PREFIX}{table.name}_{_digest(fields)}"[:63]
        wanted.add(name)
        if name in existing:
            continue
        expr = _search_expr(table, fields).compile(conn, compile_kwargs={"literal_binds": True})
        conn.exec_driver_sql(f"CREATE INDEX {_quote(conn, name)} ON {_quote(conn, table.name)} "
                             f"USING gin (({expr}) {schema}.gin_trgm_ops)")
    for name in existing - wanted:  # an object's search fields changed, or the object is gone
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {_quote(conn, name)}")


def fts_name(table: Table) -> str:
    return f"{table.name}_search"


def _ensure_sqlite(conn: Connection, snap: Snapshot) -> None:
    tables = {r[0]: r[1] for r in conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name LIKE '%\\_search' ESCAPE '\\'")}
    for obj in snap.objects.values():
        fields = search_fields(obj)
        table = snap.tables[obj.name]
        fts, q = fts_name(table), (lambda n: _quote(conn, n))
        marker = f"/*{_digest(fields)}*/"
        if fts in tables and marker in (tables[fts] or ""):
            continue
        for suffix in ("ai", "au", "ad"):
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {q(fts + '_' + suffix)}")
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {q(fts)}")
        if not fields:
            continue
        cols = ", ".join(q(f) for f in fields)
        new = ", ".join(f"new.{q(f)}" for f in fields)
        old = ", ".join(f"old.{q(f)}" for f in fields)
        conn.exec_driver_sql(f"CREATE VIRTUAL TABLE {q(fts)} USING fts5({cols}, content={q(table.name)}, "
                             f"content_rowid='id', tokenize='trigram' {marker})")
        conn.exec_driver_sql(f"CREATE TRIGGER {q(fts + '_ai')} AFTER INSERT ON {q(table.name)} BEGIN "
                             f"INSERT INTO {q(fts)}(rowid, {cols}) VALUES (new.id, {new}); END")
        conn.exec_driver_sql(f"CREATE TRIGGER {q(fts + '_ad')} AFTER DELETE ON {q(table.name)} BEGIN "
                             f"INSERT INTO {q(fts)}({q(fts)}, rowid, {cols}) VALUES ('delete', old.id, {old}); END")
        changed = " OR ".join(f"new.{q(f)} IS NOT old.{q(f)}" for f in fields)
        conn.exec_driver_sql(f"CREATE TRIGGER {q(fts + '_au')} AFTER UPDATE ON {q(table.name)} WHEN {changed} BEGIN "
                             f"INSERT INTO {q(fts)}({q(fts)}, rowid, {cols}) VALUES ('delete', old.id, {old}); "
                             f"INSERT INTO {q(fts)}(rowid, {cols}) VALUES (new.id, {new}); END")
        conn.exec_driver_sql(f"INSERT INTO {q(fts)}({q(fts)}) VALUES ('rebuild')")


def ensure_indexes(conn: Connection, snap: Snapshot) -> None:
    """Create (or replace, when an object's search fields changed) every object's search index."""
    if conn.dialect.name == "postgresql":
        _ensure_pg(conn, snap)
    elif conn.dialect.name == "sqlite":
        _ensure_sqlite(conn, snap)


def on_definitions_applied(conn: Connection, plan: Any, snap: Snapshot) -> None:
    if any(c.kind == "object" and c.changed for c in plan.changes):
        ensure_indexes(conn, snap)


# --- querying ----------------------------------------------------------------------------------

def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def normalize(q: str) -> tuple[str, str]:
    """(lowered text with single spaces, its digits when it looks like a phone number, else '')."""
    text = " ".join(q.lower().split())
    digits = "".join(_DIGITS.findall(text))
    phone_like = len(digits) >= 4 and len(digits) * 2 >= len(text.replace(" ", "").replace("+", ""))
    return text, digits if phone_like else ""


def _digit_variants(digits: str) -> list[str]:
    """A national number's trunk 0 is not part of E.164 (021-6123 4567 is +86 21 6123 4567)."""
    out = [digits]
    if digits.startswith("0") and len(digits) > 6:
        out.append(digits[1:])
    return out


def _pg_where(conn: Connection, table: Table, fields: Sequence[str], text: str,
              digits: str, fuzzy: bool = False) -> ColumnElement[bool] | None:
    """Substrings and digits; or (`fuzzy`, for Latin text that matched nothing) similar words."""
    expr = _search_expr(table, fields)
    conds: list[ColumnElement[bool]] = []
    if fuzzy:
        if not _LATIN_WORD.match(text):
            return None
        schema = _pg_trgm_schema_cached(conn)
        conn.execute(select(func.set_config("pg_trgm.word_similarity_threshold", WORD_SIMILARITY, True)))
        conds.append(literal_column(f"'{_escape_sql(text)}'").op(f"OPERATOR({schema}.<%)")(expr))
    elif len(text) >= 3:
        conds.append(expr.like(f"%{_escape_like(text)}%", escape="\\"))
    elif text:
        conds.append(expr.like(f"% {_escape_like(text)}%", escape="\\"))  # a word start: trigram " ab"
    if digits and not fuzzy:
        conds += [expr.like(f"%{d}%") for d in _digit_variants(digits)]
    if not conds:
        return None
    out = conds[0]
    for c in conds[1:]:
        out = out | c
    return out


def _escape_sql(text: str) -> str:
    """Only for _LATIN_WORD matches (letters, space, dot, apostrophe, dash): doubled quotes suffice."""
    return text.replace("'", "''")


def _pg_trgm_schema_cached(conn: Connection) -> str:
    info = conn.info.setdefault("metacrm_pg_trgm", {})
    if "schema" not in info:
        found = conn.exec_driver_sql(
            "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'").scalar()
        info["schema"] = str(found or "pg_catalog")
    return str(info["schema"])


def _fts_match(text: str, digits: str) -> str | None:
    """An FTS5 query: the text as a phrase, or its digits; trigram needs 3+ characters a term."""
    terms = [text] if len(text) >= 3 else []
    terms += [d for d in _digit_variants(digits) if d != text] if digits else []
    if not terms:
        return None
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)


def _rank(obj: ObjectDef, rows: list[Any], fields: Sequence[str], text: str) -> list[Any]:
    def score(row: Any) -> tuple[int, float, int]:
        title = str(row.get(obj.title_field) or "").lower() if obj.title_field in row else ""
        values = [str(row.get(f) or "").lower() for f in fields if f in row]
        starts = 0 if title.startswith(text) else 1 if any(v.startswith(text) for v in values) else 2
        ratio = max((difflib.SequenceMatcher(None, text, w).ratio() for v in values for w in v.split()),
                    default=0.0)
        return starts, -ratio, -int(row["id"])

    return sorted(rows, key=score)


def search_object(conn: Connection, snap: Snapshot, who: Principal, obj: ObjectDef, q: str,
                  limit: int, fuzzy: bool = False) -> list[dict[str, Any]]:
    """The caller's records of one object matching `q`, best first (empty when not readable);
    `fuzzy`: words similar to a Latin `q` instead (the second pass, when nothing matched as typed)."""
    perm = who.permission(obj.name)
    indexed = search_fields(obj)
    fields = [f for f in indexed if f not in perm.hidden]
    text, digits = normalize(q)
    if not perm.read or not fields or not text:
        return []
    table = snap.tables[obj.name]
    shown = [n for n in dict.fromkeys([title_field(obj, perm), *subtitle_fields(obj, perm), *fields]) if n]
    base = select(table.c.id, *(table.c[n] for n in shown)).where(*scoped(obj, table, who))
    rows: list[Any]
    if conn.dialect.name == "postgresql":
        # The candidates come through the index (the expression over every search field, exactly as
        # indexed); hidden fields are then never matched: a row found only by a value the caller may
        # not see is dropped below (finding a record by it would leak it).
        where = _pg_where(conn, table, indexed, text, digits, fuzzy)
        if where is None:
            return []
        rows = [r._mapping for r in conn.execute(base.where(where).limit(MAX_CANDIDATES))]
        if fuzzy:
            rows = [r for r in rows if _closeness(text, [str(r.get(f) or "") for f in fields]) >= FUZZY_RATIO]
    else:  # the FTS5 table also holds every search field
        rows = _sqlite_rows(conn, table, base, fields, text, digits, fuzzy)
    if len(fields) < len(indexed) and not fuzzy:
        rows = [r for r in rows if visible_match([str(r.get(f) or "") for f in fields], text, digits)]
    ranked = _rank(obj, [dict(r) for r in rows], fields, text)[:limit]
    described = describe_rows(obj, perm, ranked)
    return [{"id": int(r["id"]), **described[int(r["id"])]} for r in ranked]


def visible_match(values: Sequence[str], text: str, digits: str) -> bool:
    """Whether `text` (or the phone digits) matches these values as the index expression does:
    a substring of 3+ characters, a word start under 3, the digits (or without a trunk 0)."""
    joined = " " + " ".join(v.lower() for v in values) + " "
    if len(text) >= 3 and text in joined:
        return True
    if 0 < len(text) < 3 and " " + text in joined:
        return True
    return bool(digits) and any(d in joined for d in _digit_variants(digits))


def _sqlite_rows(conn: Connection, table: Table, base: Any, fields: Sequence[str], text: str,
                 digits: str, fuzzy: bool) -> list[Any]:
    fts = Table(fts_name(table), MetaData(), Column("rowid", Integer))
    hidden_col: ColumnClause[Any] = literal_column(_quote(conn, fts.name))  # FTS5's column named as its table
    scoped_base = base.join_from(table, fts, fts.c.rowid == table.c.id)
    rows: list[Any] = []
    match = _fts_match(text, digits)
    if fuzzy:
        pass
    elif match:
        rows = [r._mapping for r in conn.execute(scoped_base.where(hidden_col.op("MATCH")(match))
                                                 .limit(MAX_CANDIDATES))]
    elif text:  # under 3 characters: word starts in the search fields
        like = [table.c[f].like(f"{_escape_like(text)}%", escape="\\") for f in fields]
        cond = like[0]
        for c in like[1:]:
            cond = cond | c
        rows = [r._mapping for r in conn.execute(base.where(cond).limit(MAX_CANDIDATES))]
    if fuzzy and _LATIN_WORD.match(text):
        # Typos: trigram FTS has no similarity, so take the records with a word sharing the query's first
        # two letters (a scan: the embedded database is the small one) and keep the close words.
        words = text.split()
        starts = [table.c[f].like(f"{w[:2]}%") | table.c[f].like(f"% {w[:2]}%") for f in fields for w in words]
        cond = starts[0]
        for c in starts[1:]:
            cond = cond | c
        found = [r._mapping for r in conn.execute(base.where(cond).limit(FUZZY_SCAN))]
        rows = [r for r in found if _closeness(text, [str(r.get(f) or "") for f in fields]) >= FUZZY_RATIO]
    return rows


def _closeness(text: str, values: Sequence[str]) -> float:
    """How close the query is to the best run of as many words in one of the values (0..1)."""
    n = len(text.split())
    best = 0.0
    for value in values:
        words = value.lower().split()
        for i in range(max(1, len(words) - n + 1)):
            best = max(best, difflib.SequenceMatcher(None, text, " ".join(words[i:i + n])).ratio())
    return best


def search(conn: Connection, snap: Snapshot, who: Principal, q: str, limit: int = 5,
           objects: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Groups of hits per object the caller may read, in definition order; empty groups left out."""
    groups: list[dict[str, Any]] = []
    for fuzzy in (False, True):  # similar words only when nothing matched as typed
        for obj in snap.objects.values():
            if groups or (objects is not None and obj.name not in objects):
                continue
            items = search_object(conn, snap, who, obj, q, limit, fuzzy)
            if items:
                groups.append({"object": obj.name, "label": dict(obj.doc.get("x-plural-label") or obj.label),
                               "items": items})
    return groups
