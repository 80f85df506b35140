"""Wiring the workflow engine into a set of services (called from engines/wiring.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import alerts, definition, delivery, runner, sweeper  # noqa: F401  (kind, jobs and periodic tasks register)
from .aftercommit import install as _install_after_commit
from .tables import runs  # noqa: F401  (system tables join store.system.metadata)
from .triggers import on_record_events, set_timezone

if TYPE_CHECKING:
    from ..store.services import Services

__all__ = ["install", "on_record_events"]


def install(services: Services) -> Services:
    """Enqueue after commit on these services' engine, and give triggers the installation's time zone."""
    _install_after_commit(services)
    set_timezone(services.engine, services.settings.timezone)
    return services
