"""What runs after the metadata commit on PostgreSQL, so that it never blocks writers: index builds
(CREATE INDEX CONCURRENTLY), NOT NULL checks' validation, and batched fills.

An index added to an existing table is planned `add_index` with the value CONCURRENTLY on
PostgreSQL. `apply_actions` leaves it out of the metadata transaction (CONCURRENTLY cannot run in
one, and a plain CREATE INDEX holds off every write for the length of the build); once the new
definitions are committed, `build_concurrently` runs it on an autocommit connection. A failed
concurrent build leaves an INVALID index behind: it is dropped (DROP INDEX CONCURRENTLY) and the
build retried; one that still fails is reported, never left half-built, and the next plan offers
the index again. A unique index whose build meets a duplicate written meanwhile is reported the
same way, with the database's reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, Index, Table, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.schema import CreateIndex

from ..errors import Problem
from .events import RecordEvent, append_events

CONCURRENTLY = "concurrently"
ATTEMPTS = 2
BATCH = 5000
WAIT_MS = 60_000
"""How long a build may wait for older transactions (a concurrent build waits for every transaction
that began before it): past that it fails, its invalid index is dropped, and it is retried or reported."""


def _create_sql(engine: Engine, index: Index) -> str:
    sql = str(CreateIndex(index).compile(dialect=engine.dialect))
    return sql.replace("INDEX ", "INDEX CONCURRENTLY IF NOT EXISTS ", 1)


def _invalid(conn: Any, name: str) -> bool:
    found = conn.execute(text("SELECT NOT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                              "WHERE c.relname = :name AND pg_table_is_visible(c.oid)"), {"name": name}).first()
    return bool(found and found[0])


def build_concurrently(engine: Engine, table: Table, names: Iterable[str],
                       before_attempt: Callable[[str, int], None] | None = None) -> list[Problem]:
    """Build the named indexes of `table` with CREATE INDEX CONCURRENTLY; the problems of those that failed.
    `before_attempt(name, attempt)` is a test seam (e.g. to write a duplicate during the build)."""
    problems = []
    for name in names:
        index = next(ix for ix in table.indexes if ix.name == name)
        reason = ""
        for attempt in range(ATTEMPTS):
            if before_attempt:
                before_attempt(name, attempt)
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql(f"SET lock_timeout = {int(WAIT_MS)}")
                try:
                    conn.exec_driver_sql(_create_sql(engine, index))
                    if not _invalid(conn, name):
                        reason = ""
                        break
                    reason = "the build left an invalid index"
                except DBAPIError as exc:
                    lines = str(getattr(exc, "orig", exc)).strip().splitlines()
                    detail = next((x for x in lines if x.startswith("DETAIL:")), "")  # e.g. the duplicate key
                    reason = (lines[0] + (f"; {detail[7:].strip()}" if detail else ""))[:300]
                if _invalid(conn, name):
                    quoted = engine.dialect.identifier_preparer.quote(name)
                    conn.exec_driver_sql(f"DROP INDEX CONCURRENTLY IF EXISTS {quoted}")
        if reason:
            problems.append(Problem(f"table {table.name}/{name}", "index_not_built",
                                    f"CREATE INDEX CONCURRENTLY {name} failed after {ATTEMPTS} attempts ({reason}); "
                                    f"the invalid index was dropped and the definitions are applied: apply again "
                                    f"to retry"))
    return problems


def fill_in_batches(engine: Engine, table: Table, name: str, value: Any, batch: int = BATCH,
                    progress: Callable[[int], None] | None = None) -> int:
    """Give `value` to the live records whose column `name` is empty, `batch` rows per transaction (each
    commit releases its row locks, so writers wait at most one batch); each filled record gets a
    `migration` event in its timeline (the audit trail; no workflow starts from it). A value a writer
    sets meanwhile is never overwritten. Returns the rows filled."""
    col, ident = table.c[name], table.c.id
    obj = table.name.removeprefix("obj_")
    done = 0
    while True:
        with engine.begin() as conn:
            ids = select(ident).where(col.is_(None), table.c.deleted_at.is_(None)).limit(batch).scalar_subquery()
            filled = conn.execute(update(table).where(ident.in_(ids), col.is_(None)).values({name: value})
                                  .returning(ident)).scalars().all()
            now = datetime.now(UTC)
            append_events(conn, [RecordEvent(obj, int(rid), "migration", {"before": {name: None},
                                                                           "after": {name: _jsonable(value)}},
                                             None, now, {"migration": "backfill", "field": name})
                                 for rid in filled])
        if not filled:
            return done
        done += len(filled)
        if progress:
            progress(done)


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool, list, dict)):
        return value
    return value.isoformat() if isinstance(value, (date, datetime)) else str(value)


def validate_check(engine: Engine, table: Table, name: str, check: str, fill: Any) -> list[Problem]:
    """After the commit (PostgreSQL): fill, in batches, the empty values a writer still holding the
    previous definition added before the NOT VALID check existed, then VALIDATE the check (SHARE UPDATE
    EXCLUSIVE: reads and writes go on). A check that cannot be validated is reported; it still
    refuses every new NULL."""
    if fill is not None:
        fill_in_batches(engine, table, name, fill)
    quote = engine.dialect.identifier_preparer.quote
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f"SET lock_timeout = {int(WAIT_MS)}")
            conn.exec_driver_sql(f"ALTER TABLE {quote(table.name)} VALIDATE CONSTRAINT {quote(check)}")
    except DBAPIError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0][:200]
        return [Problem(f"table {table.name}/{name}", "check_not_validated",
                        f"the NOT NULL check of '{name}' refuses every new empty value but could not be validated "
                        f"({reason}); apply again once the empty values are filled")]
    return []
