"""Fresh planner statistics after bulk writes and every day (store/statistics.py says why).

A listener counts the records created per object table in this process; once a table has taken
GROWTH_ROWS since its last check (one bulk call, or an import's batches together), a background
job refreshes its statistics after the write commits, off the request path. The daily maintenance
pass runs the same job over every table.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import Connection

from ..flows.aftercommit import later
from ..flows.jobs import job
from ..flows.schedules import on_maintenance
from ..store.definitions import Snapshot
from ..store.events import RecordEvent
from ..store.services import Services
from ..store.statistics import GROWTH_ROWS, refresh_statistics

_written: Counter[str] = Counter()


def on_record_events(conn: Connection, snapshot: Snapshot, events: list[RecordEvent]) -> None:
    """Count created records per table; ask for statistics once a table has grown by GROWTH_ROWS."""
    created = [snapshot.tables[e.object].name for e in events if e.kind == "create" and e.object in snapshot.tables]
    if not created:
        return
    _written.update(created)
    grown = [name for name, n in _written.items() if n >= GROWTH_ROWS]
    if grown:
        for name in grown:
            del _written[name]
        later(conn, "store.statistics", tables=grown)


@job("store.statistics")
def refresh(services: Services, tables: list[str] | None = None, **_: Any) -> dict[str, Any]:
    """ANALYZE what grew (all tables on the daily pass), then PRAGMA optimize on SQLite."""
    return {"analysed": refresh_statistics(services.engine, tables)}


on_maintenance("store.statistics")
