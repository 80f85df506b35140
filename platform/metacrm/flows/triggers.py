"""Triggers: the record-service listener that starts runs in the same transaction as the event.

Event kinds and the trigger types they can start:
- `create` -> record_created (optional `when` rule), form_submitted (event context `form`);
- `update` -> record_updated (optional `fields`: only when one of them changed; `when`: the
  rule holds after the change; `becomes`: the rule holds after and did not before);
- `tag_added` -> tag_added (`tag`), written by the tags engine;
- `segment_entered` / `segment_left` -> the same trigger types (`segment`), written by segments.
Schedules fire from the sweeper (schedules.py); manual starts come from the API and CLI.
The trigger index is built once per metadata revision, so a write on an object no workflow
listens to costs one dictionary lookup.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from ..store.definitions import Snapshot
from ..store.records import SYSTEM_FIELDS
from .conditions import rule_matches
from .model import Workflow
from .runs import RunSpec, current_workflows, guard, origin_of, start_runs

if TYPE_CHECKING:
    from ..store.events import RecordEvent

EVENT_TRIGGERS = {
    "create": ("record_created", "form_submitted"),
    "update": ("record_updated",),
    "tag_added": ("tag_added",),
    "segment_entered": ("segment_entered",),
    "segment_left": ("segment_left",),
    "form_submitted": ("form_submitted",),
}

Index = dict[tuple[str, str], list[Workflow]]
_indexes: dict[int, tuple[Snapshot, Index]] = {}
_lock = threading.Lock()


def trigger_index(conn: Connection, snapshot: Snapshot) -> Index:
    """(object, event kind) -> enabled workflows an event of that kind may start."""
    found = _indexes.get(id(snapshot))
    if found is not None and found[0] is snapshot:
        return found[1]
    index: Index = {}
    for wf in current_workflows(conn, snapshot).values():
        if not wf.enabled:
            continue
        for kind, types in EVENT_TRIGGERS.items():
            if wf.trigger.get("type") in types:
                index.setdefault((wf.object, kind), []).append(wf)
    with _lock:
        if len(_indexes) > 16:
            _indexes.clear()
        _indexes[id(snapshot)] = (snapshot, index)
    return index


def _names(event: RecordEvent, key: str) -> set[str]:
    """Names (tags, segments, forms) an event carries under `key`, wherever the writer put them."""
    found: set[str] = set()
    for source in (event.context or {}, event.changes.get("after") or {}, event.changes):
        for k in (key, key + "s"):
            value = source.get(k) if isinstance(source, Mapping) else None
            if isinstance(value, str):
                found.add(value)
            elif isinstance(value, list | tuple):
                found.update(str(v) for v in value)
    return found


class _Records:
    """Loads full records lazily (only when a trigger's rule needs one)."""

    def __init__(self, conn: Connection, snapshot: Snapshot) -> None:
        self.conn, self.snapshot = conn, snapshot
        self.cache: dict[tuple[str, int], dict[str, Any]] = {}

    def get(self, event: RecordEvent) -> dict[str, Any]:
        key = (event.object, event.record_id)
        if key not in self.cache:
            obj = self.snapshot.object(event.object)
            table = self.snapshot.tables[obj.name]
            row = self.conn.execute(table.select().where(table.c.id == event.record_id)).first()
            self.cache[key] = record_dict(obj, row._mapping) if row else {}
        return self.cache[key]


def record_dict(obj: Any, row: Mapping[str, Any]) -> dict[str, Any]:
    """A stored row as the JSON record rules evaluate (what RecordService.get returns)."""
    out: dict[str, Any] = {"id": row["id"], **obj.shown(row)}
    for name in SYSTEM_FIELDS[1:]:
        value = row[name]
        out[name] = value.isoformat().replace("+00:00", "Z") if isinstance(value, datetime) else value
    return out


def _matches(rule: Any, record: Mapping[str, Any], wf: Workflow, snapshot: Snapshot, conn: Connection,
             now: datetime, tz: Any) -> bool:
    return rule_matches(rule, record, wf.object, snapshot, conn, now, tz)


def trigger_fires(wf: Workflow, event: RecordEvent, conn: Connection, snapshot: Snapshot, records: _Records,
                  now: datetime, tz: Any) -> bool:
    trigger = wf.trigger
    kind = trigger["type"]
    if kind == "form_submitted":
        forms = _names(event, "form")
        if not forms or (trigger.get("form") and trigger["form"] not in forms):
            return False
    elif kind == "tag_added":
        if trigger["tag"] not in _names(event, "tag"):
            return False
    elif kind in ("segment_entered", "segment_left"):
        if trigger["segment"] not in _names(event, "segment"):
            return False
    elif kind == "record_updated":
        changed = set(event.changes.get("after") or {})
        if trigger.get("fields") and not changed & set(trigger["fields"]):
            return False
        if trigger.get("becomes") is not None:
            after = records.get(event)
            before = {**after, **(event.changes.get("before") or {})}
            if not _matches(trigger["becomes"], after, wf, snapshot, conn, now, tz) or \
                    _matches(trigger["becomes"], before, wf, snapshot, conn, now, tz):
                return False
    when = trigger.get("when")
    if when is not None:
        record = records.get(event)
        if not record or not _matches(when, record, wf, snapshot, conn, now, tz):
            return False
    return True


def specs_for(conn: Connection, snapshot: Snapshot, events: Iterable[RecordEvent], tz: Any) -> list[RunSpec]:
    index = trigger_index(conn, snapshot)
    if not index:
        return []
    now = datetime.now(UTC)
    origin = origin_of(conn)
    records = _Records(conn, snapshot)
    specs = []
    for event in events:
        for wf in index.get((event.object, event.kind), ()):
            if trigger_fires(wf, event, conn, snapshot, records, now, tz):
                context = {"event": event.kind}
                if event.kind not in ("create", "update"):
                    context["changes"] = event.changes
                specs.append(guard(RunSpec(wf, event.record_id, wf.trigger["type"], context=context), origin))
    return specs


_zones: dict[int, Any] = {}


def set_timezone(engine: Any, timezone: str) -> None:
    """The installation's time zone for rules in triggers (install() sets it per engine)."""
    _zones[id(engine)] = ZoneInfo(timezone)


def on_record_events(conn: Connection, snapshot: Snapshot, events: Sequence[RecordEvent]) -> None:
    """The record-service listener (engines/wiring.py adds it): start the runs these events trigger."""
    specs = specs_for(conn, snapshot, events, _zones.get(id(conn.engine), UTC))
    if specs:
        start_runs(conn, specs)


def form_submitted(conn: Connection, snapshot: Snapshot, form: str, object_name: str, record_id: int,
                   actor_id: int | None = None) -> None:
    """Log that a record came from a form and start the `form_submitted` runs, in the caller's transaction.

    The forms API calls this right after creating the record (the create event itself cannot say
    which form it came from).
    """
    from ..store.events import RecordEvent, append_events

    event = RecordEvent(object_name, record_id, "form_submitted", {"before": {}, "after": {"form": form}},
                        actor_id, datetime.now(UTC), {"form": form})
    append_events(conn, [event])
    on_record_events(conn, snapshot, [event])
