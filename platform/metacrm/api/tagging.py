"""The API's door to the tag engine: a record's tags, adding and removing them.

Kept in one small module so the records, forms and bulk endpoints share one way to tag, and the
engine's API is named in one place.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection

from ..engines import tags as tag_engine
from ..store.definitions import Snapshot


def record_tags(conn: Connection, snap: Snapshot, object_name: str, record_id: int) -> list[str]:
    return list(tag_engine.record_tags(conn, object_name, record_id))


def add_tags(conn: Connection, snap: Snapshot, object_name: str, record_ids: Sequence[int], names: Sequence[str],
             actor_id: int | None, tz: str = "UTC", source: str = "manual") -> None:
    tag_engine.add_tags(conn, snap, object_name, list(record_ids), list(names), actor_id=actor_id,
                        source=source, tz=tz)


def remove_tag(conn: Connection, snap: Snapshot, object_name: str, record_id: int, name: str,
               actor_id: int | None, tz: str = "UTC") -> None:
    tag_engine.remove_tags(conn, snap, object_name, [record_id], [name], actor_id=actor_id, tz=tz)
