"""Background jobs of imports and dedupe, on RQ or the in-process thread (flows.jobs)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from ...flows.jobs import enqueue, enqueue_many, job, periodic
from ...store.services import Services
from .runner import run_import
from .tables import import_jobs


@job("imports.run")
def run_import_job(services: Services, import_id: int) -> dict[str, Any]:
    return run_import(services, import_id)


@job("dedupe.scan")
def scan_job(services: Services, name: str) -> dict[str, Any]:
    from ..dedupe.scan import scan_pool

    return scan_pool(services, name).to_dict()


def start_import(services: Services, import_id: int) -> str:
    """Queue the import; returns the transport's job id (progress lives in sys_import_job)."""
    return enqueue(services, "imports.run", import_id=import_id)


def start_scan(services: Services, name: str) -> str:
    """Scan object `name` in the background (the job's argument is `name`, so not through enqueue())."""
    return enqueue_many(services, "dedupe.scan", [{"name": name}])[0]


STALE_SECONDS = 600


@periodic("imports.sweep", every=60)
def sweep_stalled_imports(services: Services) -> int:
    """Re-queue imports whose worker died (no progress for STALE_SECONDS); they resume after their ledger.

    Claiming is one conditional UPDATE per job, so two workers sweeping at once queue it once.
    """
    cutoff = datetime.now(UTC) - timedelta(seconds=STALE_SECONDS)
    with services.engine.begin() as conn:
        stale = list(conn.execute(select(import_jobs.c.id).where(
            import_jobs.c.status == "running", import_jobs.c.updated_at < cutoff)).scalars())
        claimed = [job_id for job_id in stale if conn.execute(
            update(import_jobs).where(import_jobs.c.id == job_id, import_jobs.c.status == "running",
                                      import_jobs.c.updated_at < cutoff)
            .values(status="pending", updated_at=datetime.now(UTC))).rowcount == 1]
    for job_id in claimed:
        start_import(services, job_id)
    return len(claimed)
