"""Index builds that never block writers: CREATE INDEX CONCURRENTLY on PostgreSQL, after the commit.

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
from typing import Any

from sqlalchemy import Engine, Index, Table, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.schema import CreateIndex

from ..errors import Problem

CONCURRENTLY = "concurrently"
ATTEMPTS = 2
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
