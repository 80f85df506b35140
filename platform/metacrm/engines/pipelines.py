"""Pipelines (kind `pipeline`): stages that mean something, guarded in the record service.

A pipeline orders the stages of an object (opportunity stages, lead statuses). Every save that
moves a record to a stage, or creates one in a stage, passes `make_guard`'s check inside the
record service's transaction, on the values being saved: the stage belongs to the record's
pipeline, the move is allowed, the stage's required fields (and, for a lost stage, the lost
reason) are set and its entry rule holds. A refused move is a 422 whose problems carry the stage
({field, code: required_for_stage | entry_rule | transition_not_allowed | unknown_stage, stage})
and writes nothing. An accepted move sets the stage's default probability (unless the deal's
override flag is set) and its `on_enter` values in the same save, and the history listener
appends a `sys_stage_history` row (from, to, at, actor, amount, probability) in the same
transaction, for creates (imports included) as well.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Column, Connection, Index, Integer, String, Table, select

from ..errors import NotFound, Problem
from ..meta.fields import CoerceContext
from ..meta.kinds import DefinitionSet, Kind, register_kind
from ..meta.objects import ObjectDef
from ..meta.sqltypes import ExactDecimal, UTCDateTime
from ..rules import matches, validate_rule
from ..store.bulk import insert_many, is_in
from ..store.definitions import Snapshot
from ..store.events import RecordEvent
from ..store.system import ID, metadata

NAME = String(48)

stage_history = Table(
    "sys_stage_history", metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("object", NAME, nullable=False),
    Column("record_id", BigInteger, nullable=False),
    Column("pipeline", NAME, nullable=False),
    Column("from_stage", NAME, nullable=True),
    Column("to_stage", NAME, nullable=False),
    # Funnel position of to_stage: open stages 0..n-1 in order, won = n, lost = -1 (not a step).
    Column("to_rank", Integer, nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("actor_id", BigInteger, nullable=True),
    Column("amount", ExactDecimal(20, 4), nullable=True),
    Column("probability", Integer, nullable=True),
    Index("ix_sys_stage_history_record", "object", "record_id", "id"),
    Index("ix_sys_stage_history_pipeline", "pipeline", "record_id", "to_rank"),
)


@dataclass(frozen=True)
class StageProblem(Problem):
    """A refused stage move: the problem also names the stage the record was moving to."""

    stage: str = ""


@dataclass(frozen=True)
class Stage:
    key: str
    label: dict[str, str]
    kind: str  # open | won | lost
    rank: int
    probability: int | None
    forecast: str
    entry_rule: Any
    required: tuple[str, ...]
    on_enter: dict[str, Any]


@dataclass(frozen=True)
class Pipeline:
    name: str
    label: dict[str, str]
    object: str
    stage_field: str
    stages: tuple[Stage, ...]
    chosen_by: tuple[str, frozenset[str]] | None
    amount_field: str | None
    probability_field: str | None
    override_field: str | None
    close_field: str | None
    lost_reason_field: str | None
    transitions: dict[str, frozenset[str]] | None
    by_key: dict[str, Stage] = field(default_factory=dict, compare=False)

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any], fields: Mapping[str, Any]) -> Pipeline:
        def default(key: str, name: str) -> str | None:
            return doc.get(key) or (name if name in fields else None)

        lost_reason = default("lost_reason_field", "lost_reason")
        stages = []
        n_open = sum(1 for s in doc["stages"] if s["kind"] == "open")
        open_seen = 0
        for s in doc["stages"]:
            if s["kind"] == "open":
                rank, open_seen = open_seen, open_seen + 1
            else:
                rank = n_open if s["kind"] == "won" else -1
            required = list(s.get("required_fields", ()))
            if s["kind"] == "lost" and lost_reason and lost_reason not in required:
                required.append(lost_reason)
            probability = s.get("default_probability")
            if probability is None and s["kind"] != "open":
                probability = 100 if s["kind"] == "won" else 0
            stages.append(Stage(s["key"], dict(s["label"]), s["kind"], rank, probability,
                                s.get("forecast", "pipeline"), s.get("entry_rule"), tuple(required),
                                dict((s.get("on_enter") or {}).get("set") or {})))
        chosen = doc.get("chosen_by")
        transitions = doc.get("transitions")
        return cls(doc["name"], dict(doc["label"]), doc["object"], doc.get("stage_field") or "stage", tuple(stages),
                   (chosen["field"], frozenset(chosen["values"])) if chosen else None,
                   default("amount_field", "amount"), default("probability_field", "probability"),
                   doc.get("probability_override_field"), default("close_date_field", "expected_close"),
                   lost_reason,
                   {k: frozenset(v) for k, v in transitions.items()} if transitions is not None else None,
                   {s.key: s for s in stages})

    def open_stages(self) -> list[Stage]:
        return [s for s in self.stages if s.kind == "open"]

    def serves(self, values: Mapping[str, Any]) -> bool:
        return self.chosen_by is None or values.get(self.chosen_by[0]) in self.chosen_by[1]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "object": self.object, "stage_field": self.stage_field,
                "amount_field": self.amount_field, "probability_field": self.probability_field,
                "close_date_field": self.close_field, "lost_reason_field": self.lost_reason_field,
                "chosen_by": {"field": self.chosen_by[0], "values": sorted(self.chosen_by[1])} if self.chosen_by
                else None,
                "stages": [{"key": s.key, "label": s.label, "kind": s.kind, "default_probability": s.probability,
                            "forecast": s.forecast, "required_fields": list(s.required),
                            "has_entry_rule": s.entry_rule is not None} for s in self.stages],
                "transitions": {k: sorted(v) for k, v in self.transitions.items()} if self.transitions else None}


# --- the definition kind ----------------------------------------------------------------------

def _field_problems(doc: Mapping[str, Any], props: Mapping[str, Any]) -> Iterator[Problem]:
    stage_field = doc.get("stage_field") or "stage"
    spec = props.get(stage_field)
    if spec is None:
        yield Problem("/stage_field", "unknown_field", f"'{stage_field}' is not a field of {doc['object']}")
    elif spec.get("x-field") not in ("select", "text"):
        yield Problem("/stage_field", "wrong_type", f"'{stage_field}' must be a select (or text) field")
    else:
        options = spec.get("enum")
        for i, s in enumerate(doc["stages"]):
            if options is not None and s["key"] not in options:
                yield Problem(f"/stages/{i}/key", "unknown_option",
                              f"'{s['key']}' is not an option of {doc['object']}.{stage_field}")
    kinds = {"amount_field": ("decimal", "integer"), "probability_field": ("integer",),
             "probability_override_field": ("boolean",), "close_date_field": ("date", "datetime"),
             "lost_reason_field": None}
    for key, types in kinds.items():
        name = doc.get(key)
        if name is None:
            continue
        if name not in props:
            yield Problem(f"/{key}", "unknown_field", f"'{name}' is not a field of {doc['object']}")
        elif types and props[name].get("x-field") not in types:
            yield Problem(f"/{key}", "wrong_type", f"'{name}' must be a {' or '.join(types)} field")
    chosen = doc.get("chosen_by")
    if chosen and chosen["field"] not in props:
        yield Problem("/chosen_by/field", "unknown_field", f"'{chosen['field']}' is not a field of {doc['object']}")


def _stage_problems(doc: Mapping[str, Any], props: Mapping[str, Any], defs: DefinitionSet) -> Iterator[Problem]:
    keys = [s["key"] for s in doc["stages"]]
    seen: set[str] = set()
    obj = ObjectDef.from_doc(defs.get("object", doc["object"]))
    for i, s in enumerate(doc["stages"]):
        at = f"/stages/{i}"
        if s["key"] in seen:
            yield Problem(f"{at}/key", "duplicate", f"stage '{s['key']}' appears twice")
        seen.add(s["key"])
        for j, name in enumerate(s.get("required_fields", ())):
            if name not in props:
                yield Problem(f"{at}/required_fields/{j}", "unknown_field", f"'{name}' is not a field of {doc['object']}")
        if s["kind"] == "lost" and (doc.get("lost_reason_field") or "lost_reason") not in props:
            yield Problem(f"{at}/kind", "lost_reason_missing",
                          f"a lost stage needs a lost reason field ({doc['object']} has no "
                          f"'{doc.get('lost_reason_field') or 'lost_reason'}'; set lost_reason_field)")
        if "entry_rule" in s:
            for p in validate_rule(s["entry_rule"], doc["object"], defs):
                yield Problem(f"{at}/entry_rule" + ("" if p.field == "/" else p.field), p.code, p.message)
        values = (s.get("on_enter") or {}).get("set") or {}
        unknown = [n for n in values if n not in props]
        for name in unknown:
            yield Problem(f"{at}/on_enter/set/{name}", "unknown_field", f"'{name}' is not a field of {doc['object']}")
        plain = {n: v for n, v in values.items() if n not in unknown and v not in ("$today", "$now")}
        for p in obj.prepare(plain, True, CoerceContext())[1]:
            yield Problem(f"{at}/on_enter/set/{p.field}", p.code, p.message)
    if not any(s["kind"] == "open" for s in doc["stages"]):
        yield Problem("/stages", "no_open_stage", "a pipeline needs at least one open stage")
    for source, targets in (doc.get("transitions") or {}).items():
        if source not in keys:
            yield Problem(f"/transitions/{source}", "unknown_stage", f"'{source}' is not a stage of this pipeline")
        for j, target in enumerate(targets):
            if target not in keys:
                yield Problem(f"/transitions/{source}/{j}", "unknown_stage", f"'{target}' is not a stage")


def check_pipeline(doc: Mapping[str, Any], defs: DefinitionSet) -> Iterator[Problem]:
    obj_doc = defs.get("object", doc["object"])
    if obj_doc is None:
        yield Problem("/object", "unknown_object", f"no object named '{doc['object']}'")
        return
    props = obj_doc.get("properties", {})
    problems = list(_field_problems(doc, props))
    yield from problems
    if problems:
        return
    yield from _stage_problems(doc, props, defs)
    mine = doc.get("chosen_by")
    for name, other in defs.items("pipeline"):
        if name == doc["name"] or other.get("object") != doc["object"]:
            continue
        theirs = other.get("chosen_by")
        if mine is None and theirs is None:
            yield Problem("/chosen_by", "ambiguous", f"pipeline '{name}' also serves every {doc['object']}: "
                          "give one of them chosen_by")
        elif mine and theirs and mine["field"] == theirs["field"] and set(mine["values"]) & set(theirs["values"]):
            yield Problem("/chosen_by/values", "ambiguous",
                          f"pipeline '{name}' is chosen by the same value(s) of {mine['field']}")
        elif mine and theirs and mine["field"] != theirs["field"]:
            yield Problem("/chosen_by/field", "ambiguous",
                          f"pipeline '{name}' is chosen by another field ({theirs['field']}); use one field")


register_kind(Kind("pipeline", "pipelines", check=check_pipeline, refers_to=("object", "tag")))


# --- the live pipelines of a snapshot --------------------------------------------------------

_cache: dict[str, Any] = {}
_cache_lock = threading.Lock()


def pipelines(snap: Snapshot) -> dict[str, Pipeline]:
    """Every pipeline of the snapshot, by name (built once per snapshot)."""
    hit = _cache.get("entry")
    if hit is not None and hit[0] is snap:
        return hit[1]
    with _cache_lock:
        built = {name: Pipeline.from_doc(doc, snap.object(doc["object"]).fields)
                 for name, doc in snap.definitions.items("pipeline") if doc["object"] in snap.objects}
        _cache["entry"] = (snap, built)
    return built


def of_object(snap: Snapshot, object_name: str) -> list[Pipeline]:
    return [p for p in pipelines(snap).values() if p.object == object_name]


def pipeline(snap: Snapshot, name: str) -> Pipeline:
    found = pipelines(snap).get(name)
    if found is None:
        raise NotFound(f"no pipeline named '{name[:64]}'", [Problem("pipeline", "not_found", name[:64])])
    return found


def choose(candidates: Sequence[Pipeline], values: Mapping[str, Any]) -> Pipeline | None:
    """The pipeline serving a record: the one chosen by its field value, else the one without chosen_by."""
    fallback = None
    for p in candidates:
        if p.chosen_by is None:
            fallback = p
        elif p.serves(values):
            return p
    return fallback


# --- the guard --------------------------------------------------------------------------------

def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _entry_values(obj: ObjectDef, merged: Mapping[str, Any], current: Mapping[str, Any] | None) -> dict[str, Any]:
    row = {n: merged.get(n) for n in obj.fields}
    shown = obj.shown(row)
    shown["id"] = current["id"] if current is not None else None
    shown["owner_id"] = merged.get("owner_id")
    return shown


def _on_enter(obj: ObjectDef, stage: Stage, now: datetime, tz: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    plain: dict[str, Any] = {}
    for name, value in stage.on_enter.items():
        if value == "$now":
            values[name] = now
        elif value == "$today":
            values[name] = now.astimezone(ZoneInfo(tz)).date()
        else:
            plain[name] = value
    if plain:
        stored, _ = obj.prepare(plain, True, CoerceContext())  # checked when the pipeline was saved
        values.update(stored)
    return values


def check_move(conn: Connection, snap: Snapshot, obj: ObjectDef, p: Pipeline, current: Mapping[str, Any] | None,
               stored: dict[str, Any], tz: str, now: datetime) -> list[Problem]:
    """Problems of saving `stored` over `current` in pipeline p; on success adds the move's derived values."""
    old = current.get(p.stage_field) if current is not None else None
    if (p.override_field and p.probability_field and p.probability_field in stored and current is not None
            and p.override_field not in stored):
        stored[p.override_field] = True  # a probability written by hand is an override
    merged = {**(current or {}), **stored}
    new = merged.get(p.stage_field)
    override = bool(p.override_field and merged.get(p.override_field))
    if new is None:
        return []
    stage = p.by_key.get(new)
    if (stage is None and current is None
            and new == obj.fields[p.stage_field].schema.get("default")):  # the object's default, not this pipeline's
        stage = p.stages[0]
        new = stored[p.stage_field] = stage.key
    if stage is None:
        return [StageProblem(p.stage_field, "unknown_stage", f"'{new}' is not a stage of pipeline {p.name}", new)]
    moving = current is None or old != new
    if moving:
        problems: list[Problem] = []
        if (current is not None and p.transitions is not None and old in p.transitions
                and new not in p.transitions[old]):
            problems.append(StageProblem(p.stage_field, "transition_not_allowed",
                                         f"a record in '{old}' may not move to '{new}' in pipeline {p.name}", new))
        for name in stage.required:
            if _empty(merged.get(name)):
                label = stage.label.get("en") or stage.key
                problems.append(StageProblem(name, "required_for_stage", f"'{name}' is required to enter {label}",
                                             new))
        if not problems and stage.entry_rule is not None and not matches(
                stage.entry_rule, _entry_values(obj, merged, current), obj.name, snap, conn, now=now, tz=tz):
            problems.append(StageProblem(p.stage_field, "entry_rule",
                                         f"the record does not meet the entry rule of stage '{new}'", new))
        if problems:
            return problems
        stored[p.stage_field] = new
        stored.update(_on_enter(obj, stage, now, tz))
    if p.probability_field and stage.probability is not None and not override and (
            moving or (p.override_field in stored and current is not None and current.get(p.override_field))):
        stored[p.probability_field] = stage.probability
    return []


def make_guard(tz: str = "UTC") -> Any:
    """The record service's before-write check for every object that has a pipeline."""

    def guard(conn: Connection, snap: Snapshot, obj: ObjectDef,
              pairs: list[tuple[Mapping[str, Any] | None, dict[str, Any]]], actor_id: int | None
              ) -> dict[int, list[Problem]]:
        candidates = of_object(snap, obj.name)
        if not candidates:
            return {}
        now = datetime.now(UTC)
        out: dict[int, list[Problem]] = {}
        for j, (current, stored) in enumerate(pairs):
            if current is not None and not any(
                    f in stored for p in candidates
                    for f in (p.stage_field, p.probability_field, p.override_field) if f is not None):
                continue  # a save that touches no stage and no probability
            p = choose(candidates, {**(current or {}), **stored})
            if p is not None:
                problems = check_move(conn, snap, obj, p, current, stored, tz, now)
                if problems:
                    out[j] = problems
        return out

    return guard


# --- the stage history ------------------------------------------------------------------------

def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return None


def on_record_events(conn: Connection, snap: Snapshot, events: list[RecordEvent]) -> None:
    """Append a stage_history row for every create in a stage and every stage change, in the write's transaction."""
    by_object: dict[str, list[RecordEvent]] = {}
    for e in events:
        if e.kind in ("create", "update"):
            by_object.setdefault(e.object, []).append(e)
    rows: list[dict[str, Any]] = []
    for object_name, evs in by_object.items():
        candidates = of_object(snap, object_name)
        if not candidates:
            continue
        stage_fields = {p.stage_field for p in candidates}
        moved = [e for e in evs if stage_fields & set(e.changes.get("after", {}))]
        if not moved:
            continue
        table = snap.tables[object_name]
        ids = [e.record_id for e in moved if e.kind == "update"]
        current: dict[int, Mapping[str, Any]] = {}
        for start in range(0, len(ids), 500):
            part = ids[start:start + 500]
            current.update({r.id: r._mapping for r in conn.execute(
                select(table).where(is_in(table.c.id, part, conn.dialect.name)))})
        obj = snap.object(object_name)
        for e in moved:
            after = e.changes.get("after", {})
            values: Mapping[str, Any] = after if e.kind == "create" else obj.shown(current[e.record_id])
            p = choose(candidates, values)
            if p is None or p.stage_field not in after or values.get(p.stage_field) is None:
                continue
            stage = p.by_key.get(values[p.stage_field])
            if stage is None:
                continue
            rows.append({"object": object_name, "record_id": e.record_id, "pipeline": p.name,
                         "from_stage": e.changes.get("before", {}).get(p.stage_field), "to_stage": stage.key,
                         "to_rank": stage.rank, "at": e.at, "actor_id": e.actor_id,
                         "amount": _decimal(values.get(p.amount_field)) if p.amount_field else None,
                         "probability": values.get(p.probability_field) if p.probability_field else None})
    if rows:
        insert_many(conn, stage_history, rows)


def history(conn: Connection, object_name: str, record_id: int) -> list[dict[str, Any]]:
    t = stage_history.c
    rows = conn.execute(select(stage_history).where(t.object == object_name, t.record_id == record_id)
                        .order_by(t.id))
    out = []
    for r in rows:
        item = dict(r._mapping)
        item["at"] = item["at"].isoformat().replace("+00:00", "Z")
        item["amount"] = None if item["amount"] is None else str(item["amount"].normalize())
        out.append(item)
    return out


def today(tz: str) -> date:
    return datetime.now(UTC).astimezone(ZoneInfo(tz)).date()
