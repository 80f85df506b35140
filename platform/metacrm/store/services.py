"""The storage services of one installation, built from settings and shared by app, CLI and workers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from ..config import Settings
from ..meta.fields import CoerceContext
from ..meta.secret_box import box_for
from .db import make_engine
from .definitions import ApplyHook, MetadataService, Registry
from .records import Listener, RecordService
from .system import ensure_system_tables


@dataclass
class Services:
    settings: Settings
    engine: Engine
    registry: Registry
    metadata: MetadataService
    records: RecordService

    @classmethod
    def from_settings(cls, settings: Settings, listeners: Sequence[Listener] = (),
                      hooks: Sequence[ApplyHook] = (), engine: Engine | None = None) -> Services:
        engine = engine or make_engine(settings.database_url)
        registry = Registry(engine)
        records = RecordService(engine, registry, CoerceContext(settings.default_region), listeners)
        records.tz = ZoneInfo(settings.timezone)  # today() of volatile formulas
        return cls(settings, engine, registry, MetadataService(engine, registry, box_for(settings.secret_key), hooks),
                   records)

    def init(self) -> list[str]:
        """Create or upgrade the system tables (idempotent)."""
        return ensure_system_tables(self.engine)

    def close(self) -> None:
        self.engine.dispose()
