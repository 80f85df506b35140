"""Background jobs of imports and dedupe, on RQ or the in-process thread (flows.jobs)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update

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


STALE_SECONDS = 30
"""A running import commits (and so touches updated_at) every batch; silent this long, its worker is gone."""
LOST_SECONDS = 45
"""A pending import not taken this long was lost (Redis forgot the job, or it was queued with no worker)."""


@periodic("imports.sweep", every=20)
def sweep_stalled_imports(services: Services) -> int:
    """Hand out imports whose worker died or whose queued job was lost; they resume after their ledger.

    Claiming is one conditional UPDATE per job, so two sweepers queue it once; and run_import claims
    the job again before running, so a job queued twice runs once.
    """
    now = datetime.now(UTC)
    stale, lost = now - timedelta(seconds=STALE_SECONDS), now - timedelta(seconds=LOST_SECONDS)
    waiting = or_(and_(import_jobs.c.status == "running", import_jobs.c.updated_at < stale),
                  and_(import_jobs.c.status == "pending", import_jobs.c.updated_at < lost))
    with services.engine.begin() as conn:
        found = list(conn.execute(select(import_jobs.c.id, import_jobs.c.updated_at).where(waiting)).all())
        claimed = [job_id for job_id, seen in found if conn.execute(
            update(import_jobs).where(import_jobs.c.id == job_id, import_jobs.c.updated_at == seen, waiting)
            .values(status="pending", updated_at=now)).rowcount == 1]
    for job_id in claimed:
        start_import(services, job_id)
    return len(claimed)
