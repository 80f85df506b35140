"""Planner statistics: keep the query planner informed after writes that change a table's shape.

SQLite never analyses on its own: with 90,000 leads and 75,000 activities, a never-analysed
database answered "customers with 3+ calls in 90 days" through the wrong activities index in over
120 s instead of 0.07 s (bench/query_plans.py). So the tables written in bulk are ANALYZEd when
they are new to the statistics or have grown by half since, and `PRAGMA optimize` runs after
migrations, imports and bulk writes above GROWTH_ROWS, the demo load and the daily maintenance pass.
PostgreSQL's autovacuum analyses by itself, only later: a table named here that changed by half
is analysed at once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy import Connection, Engine, inspect, text

log = logging.getLogger(__name__)

GROWTH_ROWS = 1000
"""A write of this many rows to one table asks for fresh statistics (checked, not forced)."""
GROWTH = 0.5
ANALYSIS_LIMIT = 1000
SAMPLED_ROWS = 200_000
"""Past this many rows SQLite samples ANALYSIS_LIMIT rows per index (PRAGMA analysis_limit): ANALYZE
of a million-row table then takes milliseconds, and the estimates still pick the right index."""


def refresh_statistics(engine: Engine, tables: Iterable[str] | None = None) -> list[str]:
    """ANALYZE the given tables (default: all) that are unanalysed or much grown, then (SQLite)
    `PRAGMA optimize`. Returns the tables analysed. Never raises: statistics are an optimisation."""
    try:
        with engine.begin() as conn:
            names = list(tables) if tables is not None else inspect(conn).get_table_names()
            stale = [n for n in dict.fromkeys(names) if _is_stale(conn, n)]
            for name in stale:
                if conn.dialect.name == "sqlite":  # exact counts below SAMPLED_ROWS, so growth is measured
                    big = _rows(conn, name) > SAMPLED_ROWS
                    conn.exec_driver_sql(f"PRAGMA analysis_limit={ANALYSIS_LIMIT if big else 0}")
                conn.exec_driver_sql(f'ANALYZE "{_checked(name)}"')
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA optimize")
        if stale:
            log.info("analysed %s", ", ".join(stale))
        return stale
    except Exception:  # a locked database or a dropped table must not fail the write that asked
        log.warning("refreshing planner statistics failed", exc_info=True)
        return []


def _checked(name: str) -> str:
    if not name.replace("_", "").isalnum() or not name.isascii():
        raise ValueError(f"not a table name: {name!r}")
    return name


def _rows(conn: Connection, name: str) -> int:
    return int(conn.execute(text(f'SELECT count(*) FROM "{_checked(name)}"')).scalar_one())


def _is_stale(conn: Connection, name: str) -> bool:
    """Unanalysed with GROWTH_ROWS rows or more, or grown (or shrunk) by GROWTH since the last ANALYZE.

    Small tables are left alone: any plan is fast there, and their estimates would mislead once
    they fill."""
    rows = _rows(conn, name)
    if rows < GROWTH_ROWS:
        return False
    if conn.dialect.name == "sqlite":
        has_stats = conn.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")).first()
        known = None
        if has_stats:
            stat = conn.execute(text("SELECT stat FROM sqlite_stat1 WHERE tbl = :t LIMIT 1"), {"t": name}).scalar()
            known = int(stat.split()[0]) if stat else None
        if known is None:
            return True
    else:  # reltuples: the row count as of the last ANALYZE or VACUUM, -1 before any
        estimate = conn.execute(text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:t)"),
                                {"t": name}).scalar()
        if estimate is None or estimate < 0:
            return True
        known = int(estimate)
    return abs(rows - known) > GROWTH * known
