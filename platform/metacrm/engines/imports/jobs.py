"""Background jobs of imports and dedupe, on RQ or the in-process thread (flows.jobs)."""

from __future__ import annotations

from typing import Any

from ...flows.jobs import enqueue, job
from ...store.services import Services
from .runner import run_import


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
    return enqueue(services, "dedupe.scan", name=name)
