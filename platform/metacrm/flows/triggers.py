"""Triggers: the record-service listener that starts runs in the same transaction as the event.

Event kinds and the trigger types they can start:
- `create` -> record_created (optional `when` rule), form_submitted (event context `form`),
  meets_criteria (`when` holds for the new record);
- `update` -> record_updated (optional `fields`: only when one of them changed; `when`: the
  rule holds after the change; `becomes`: the rule holds after and did not before),
  meets_criteria (`when` holds after the change and, for a rule of fields only, not before);
- `delete` -> record_deleted (its runs see the deleted record);
- `tag_added` / `tag_removed` -> the same trigger types (`tag`), written by the tags engine;
- `segment_entered` / `segment_left` -> the same trigger types (`segment`), written by segments.
Schedules fire from the sweeper (schedules.py); manual starts come from the API and CLI;
inbound webhooks from `POST /hooks/workflows/{name}` (signed).

Before runs start, lifecycle.py applies the write to runs in flight (a delete exits them, a goal
that holds ends them). A deleted record starts nothing but `record_deleted` runs (deleting a
member of a tracked segment does not start `segment_left`). Enrollment (`enrollment.reenroll`):
"always" starts a run per trigger; "after_end" (the default for record triggers) only when the
record has no open run of the workflow; "never" only when it never had one.

The trigger index is built once per metadata revision, so a write on an object no workflow
listens to costs one dictionary lookup.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from ..store.definitions import Snapshot
from ..store.records import SYSTEM_FIELDS
from . import lifecycle
from .conditions import rule_matches, rule_reads_only_fields
from .model import Workflow
from .runs import RunSpec, current_workflows, guard, origin_of, start_runs
from .tables import RunStatus, runs

if TYPE_CHECKING:
    from ..store.events import RecordEvent

EVENT_TRIGGERS = {
    "create": ("record_created", "form_submitted", "meets_criteria"),
    "update": ("record_updated", "meets_criteria"),
    "delete": ("record_deleted",),
    "tag_added": ("tag_added",),
    "tag_removed": ("tag_removed",),
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
        return self.by_id(event.object, event.record_id)

    def by_id(self, object_name: str, record_id: int) -> dict[str, Any]:
        key = (object_name, record_id)
        if key not in self.cache:
            obj = self.snapshot.object(object_name)
            table = self.snapshot.tables[obj.name]
            row = self.conn.execute(table.select().where(table.c.id == record_id)).first()
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
    elif kind in ("tag_added", "tag_removed"):
        if trigger["tag"] not in _names(event, "tag"):
            return False
    elif kind == "meets_criteria":
        after = records.get(event)
        if not after or not _matches(trigger["when"], after, wf, snapshot, conn, now, tz):
            return False
        if event.kind == "update" and rule_reads_only_fields(trigger["when"], wf.object, snapshot):
            before = {**after, **(event.changes.get("before") or {})}
            if _matches(trigger["when"], before, wf, snapshot, conn, now, tz):
                return False  # it met them already: an update that keeps meeting them is no entry
        return True
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


def reenroll_policy(wf: Workflow) -> str:
    default = "always" if wf.trigger.get("type") in ("schedule", "manual", "webhook") else "after_end"
    return str((wf.doc.get("enrollment") or {}).get("reenroll", default))


def enroll(conn: Connection, specs: list[RunSpec]) -> list[RunSpec]:
    """Drop starts the workflows' re-enrollment policy refuses (one query for the whole batch)."""
    limited = [s for s in specs if s.record_id is not None and reenroll_policy(s.workflow) != "always"]
    if not limited:
        return specs
    names = {s.workflow.name for s in limited}
    ids = {int(s.record_id) for s in limited if s.record_id is not None}
    had: dict[tuple[str, int], bool] = {}  # (workflow, record) -> has an open run
    for row in conn.execute(select(runs.c.workflow, runs.c.record_id, runs.c.status).where(
            runs.c.workflow.in_(names), runs.c.record_id.in_(ids))):
        key = (row.workflow, int(row.record_id))
        had[key] = had.get(key, False) or row.status in RunStatus.OPEN
    out = []
    for spec in specs:
        policy = reenroll_policy(spec.workflow)
        key = (spec.workflow.name, int(spec.record_id or 0))
        if spec.record_id is not None and policy != "always":
            if key in had and (policy == "never" or had[key]):
                continue
            had[key] = True  # a second event of this batch finds this run open
        out.append(spec)
    return out


def specs_for(conn: Connection, snapshot: Snapshot, events: Iterable[RecordEvent], tz: Any,
              gone: set[tuple[str, int]] | None = None, records: _Records | None = None) -> list[RunSpec]:
    index = trigger_index(conn, snapshot)
    if not index:
        return []
    now = datetime.now(UTC)
    origin = origin_of(conn)
    records = records or _Records(conn, snapshot)
    gone = gone or set()
    specs = []
    for event in events:
        if event.kind != "delete" and (event.object, event.record_id) in gone:
            continue  # a deleted record starts only record_deleted runs
        for wf in index.get((event.object, event.kind), ()):
            if trigger_fires(wf, event, conn, snapshot, records, now, tz):
                context = {"event": event.kind}
                if event.kind not in ("create", "update"):
                    context["changes"] = event.changes
                specs.append(guard(RunSpec(wf, event.record_id, wf.trigger["type"], context=context), origin))
    return enroll(conn, specs)


_zones: dict[int, Any] = {}


def set_timezone(engine: Any, timezone: str) -> None:
    """The installation's time zone for rules in triggers (install() sets it per engine)."""
    _zones[id(engine)] = ZoneInfo(timezone)


def on_record_events(conn: Connection, snapshot: Snapshot, events: Sequence[RecordEvent]) -> None:
    """The record-service listener (engines/wiring.py adds it): start the runs these events trigger."""
    tz = _zones.get(id(conn.engine), UTC)
    records = _Records(conn, snapshot)
    now = datetime.now(UTC)

    def goal_holds(rule: Any, object_name: str, record_id: int) -> bool:
        record = records.by_id(object_name, record_id)
        return bool(record) and rule_matches(rule, record, object_name, snapshot, conn, now, tz)

    gone = lifecycle.on_record_events(conn, snapshot, events, tz, records.by_id, goal_holds)
    specs = specs_for(conn, snapshot, events, tz, gone, records)
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
