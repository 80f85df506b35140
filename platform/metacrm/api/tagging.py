"""The API's door to the tag engine (issue 3): a record's tags, adding and removing them.

Kept in one small module so the records, forms and bulk endpoints share one way to tag, and the
engine's API is named in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from ..errors import Problem, ServiceUnavailable
from ..store.definitions import Snapshot

try:  # importing the engine also declares its tables before Services.init() runs
    from ..engines import tags as _tags
except ImportError:  # the tag engine (issue 3) is not there yet
    _tags = None


def _engine() -> Any:
    return _tags


def record_tags(conn: Connection, snap: Snapshot, object_name: str, record_id: int) -> list[str]:
    engine = _engine()
    if engine is None:
        return []
    return list(engine.record_tags(conn, object_name, record_id))


def add_tags(conn: Connection, snap: Snapshot, object_name: str, record_ids: Sequence[int], names: Sequence[str],
             actor_id: int | None, source: str = "manual") -> None:
    engine = _engine()
    if engine is None:
        raise ServiceUnavailable("tags are not available", [Problem("tags", "unavailable", "no tag engine")])
    engine.add_tags(conn, snap, object_name, list(record_ids), list(names), actor_id=actor_id, source=source)


def remove_tag(conn: Connection, snap: Snapshot, object_name: str, record_id: int, name: str,
               actor_id: int | None) -> None:
    engine = _engine()
    if engine is None:
        raise ServiceUnavailable("tags are not available", [Problem("tags", "unavailable", "no tag engine")])
    engine.remove_tags(conn, snap, object_name, [record_id], [name], actor_id=actor_id)
