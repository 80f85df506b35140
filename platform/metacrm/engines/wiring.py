"""The composition root of the engines: which listeners and apply hooks the services carry.

Every process (web, CLI, worker) builds its services here, so each engine is wired once, the
same way everywhere. An engine module adds itself by contributing listeners, hooks or kinds below.
"""

from __future__ import annotations

from sqlalchemy import Engine

from ..auth.tables import metadata as auth_metadata
from ..config import Settings
from ..flows import boot as workflows
from ..store.definitions import ApplyHook
from ..store.records import Listener
from ..store.services import Services
from ..store.system import metadata as system_metadata
from . import dedupe, imports  # noqa: F401  (data factory: dedupe kind, system tables, jobs)

# auth sits beside store: its tables join the system tables here, so Services.init() creates them.
for _table in auth_metadata.sorted_tables:
    if _table.name not in system_metadata.tables:
        _table.to_metadata(system_metadata)


def engine_listeners() -> list[Listener]:
    """Called inside every record write's transaction, in this order."""
    return [dedupe.on_create, workflows.on_record_events]


def engine_hooks() -> list[ApplyHook]:
    """Called inside every metadata apply's transaction, in this order."""
    return []


def build_services(settings: Settings, engine: Engine | None = None) -> Services:
    services = Services.from_settings(settings, listeners=engine_listeners(), hooks=engine_hooks(), engine=engine)
    return workflows.install(services)
