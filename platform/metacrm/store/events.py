"""Record events: the append-only log every write adds to, in the writing transaction.

One log serves as the record timeline, the audit trail and the source of workflow triggers.
`changes` is {"before": {field: value}, "after": {field: value}} for the changed fields, as JSON
values; a create has an empty "before".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from .bulk import insert_many
from .system import record_events


@dataclass
class RecordEvent:
    object: str
    record_id: int
    kind: str  # create | update | delete | restore (engines add their own: tag_added, merged, ...)
    changes: dict[str, dict[str, Any]]
    actor_id: int | None
    at: datetime
    context: dict[str, Any] | None = None
    id: int | None = field(default=None, compare=False)

    def row(self) -> dict[str, Any]:
        return {"object": self.object, "record_id": self.record_id, "kind": self.kind, "changes": self.changes,
                "actor_id": self.actor_id, "at": self.at, "context": self.context}


def append_events(conn: Connection, events: Sequence[RecordEvent]) -> None:
    insert_many(conn, record_events, [e.row() for e in events])


def timeline(conn: Connection, object_name: str, record_id: int, limit: int = 100,
             before_id: int | None = None) -> list[dict[str, Any]]:
    """A record's events, newest first, keyset-paginated by event id."""
    t = record_events
    query = (select(t).where(t.c.object == object_name, t.c.record_id == record_id)
             .order_by(t.c.id.desc()).limit(limit))
    if before_id is not None:
        query = query.where(t.c.id < before_id)
    return [dict(r._mapping) for r in conn.execute(query)]
