"""Housekeeping of the limits ledger and the sales engines, in every worker and the embedded executor.

The ledger itself is store/limits.py (below the engines, so every engine moves counters in its
record's transaction); here its sweeper becomes a periodic task: reservations past their TTL are
expired every few seconds by whichever process gets to them first (SKIP LOCKED on PostgreSQL).
"""

from __future__ import annotations

from typing import Any

from ..flows.jobs import job, periodic
from ..flows.schedules import on_maintenance
from ..store import limits
from ..store.services import Services
from . import lead_pool, pipeline_figures, pipelines, routing

SWEEP_EVERY = 5.0


@periodic("limits.sweep", every=SWEEP_EVERY)
def sweep(services: Services) -> int:
    """Expire held reservations past their TTL, in batches, until none is due."""
    total = 0
    while True:
        with services.engine.begin() as conn:
            done = limits.sweep(conn)
        total += done
        if done < 1000:
            return total


@job("sales.maintenance")
def maintenance(services: Services, fired_at: str | None = None) -> dict[str, Any]:
    """The daily pass: load counters set right from the records (assignment), this week's forecast
    snapshot of every pipeline (once per week), lead pool returns and their warnings."""
    tz = services.settings.timezone
    out: dict[str, Any] = {}
    with services.records.transaction() as conn:
        snap = services.registry.current(conn)
        out["load_drift"] = routing.verify_loads(conn, snap)
        out["snapshots"] = {name: pipeline_figures.take_snapshot(conn, snap.tables[p.object], p, tz)
                            for name, p in pipelines.pipelines(snap).items()}
        out["pool"] = lead_pool.returns(conn, services.records, snap, tz=tz)
    return out


on_maintenance("sales.maintenance")
