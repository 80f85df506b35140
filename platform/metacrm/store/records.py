"""The record service: the one way records are written and read.

Every write is validated against the object's schema (all errors, each with its field), coerced
by the field type registry, checked for uniqueness and references, written with its record event
in one transaction, and handed to listeners (engines) inside that transaction. Engines and the
API never write object tables behind its back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, Table, func, select, update
from sqlalchemy.exc import IntegrityError

from ..errors import Conflict, NotFound, Problem, ValidationError
from ..meta.fields import USER_TARGET, CoerceContext
from ..meta.formulas import Clock
from ..meta.objects import ObjectDef
from . import computed, rollups
from .bulk import insert_many, is_in
from .db import reading
from .definitions import Registry, Snapshot
from .events import RecordEvent, append_events
from .system import users

log = logging.getLogger(__name__)

SYSTEM_FIELDS = ("id", "created_at", "updated_at", "created_by", "owner_id", "version", "deleted_at")

Listener = Callable[[Connection, Snapshot, list[RecordEvent]], None]
ReferenceScope = Callable[[str], ColumnElement[bool] | None]
"""`scope(object_name)`: the rows of that object a writer may point a relation at (None: all). A
target outside it is reported exactly as a missing one, so a write is no existence oracle."""
BeforeWrite = Callable[[Connection, Snapshot, ObjectDef, list[tuple[Mapping[str, Any] | None, dict[str, Any]]],
                        int | None], dict[int, list[Problem]]]
"""A check run on valid rows just before they are written, in the write's transaction: given
(current row or None for a create, the values being saved) pairs, it may add derived values to the
saved values (a stage's probability, an assigned owner) and returns problems by pair index, which
refuse those rows (engines/pipelines.py guards stage moves, engines/assignment.py assigns owners)."""


@dataclass
class BulkResult:
    """Outcome of a bulk create: ids in input order (None where the row failed) and the failures."""

    ids: list[int | None] = field(default_factory=list)
    errors: dict[int, list[Problem]] = field(default_factory=dict)

    @property
    def created(self) -> int:
        return sum(1 for i in self.ids if i is not None)


def _now() -> datetime:
    return datetime.now(UTC)


class RecordService:
    """Create, read, update, soft-delete and restore records of any object."""

    def __init__(self, engine: Engine, registry: Registry, ctx: CoerceContext | None = None,
                 listeners: Sequence[Listener] = ()) -> None:
        self.engine = engine
        self.registry = registry
        self.ctx = ctx or CoerceContext()
        if engine.dialect.name == "sqlite" and self.ctx.exact_digits is None:  # NUMERIC is a double there
            self.ctx = replace(self.ctx, exact_digits=15)
        self.listeners = list(listeners)
        self.before_write: list[BeforeWrite] = []
        self.tz: tzinfo = UTC
        """The installation's zone: `today()` in volatile formulas (services.py sets it)."""

    # --- transactions ------------------------------------------------------------------------

    @contextmanager
    def reading(self, conn: Connection | None = None) -> Iterator[Connection]:
        """Join the caller's connection, or read on a connection that takes no write lock."""
        if conn is not None:
            yield conn
            return
        with reading(self.engine) as own:
            yield own

    @contextmanager
    def transaction(self, conn: Connection | None = None) -> Iterator[Connection]:
        """Join the caller's transaction, or run in a new one; uniqueness races become Conflicts."""
        if conn is not None:
            yield conn
            return
        try:
            with self.engine.begin() as own:
                yield own
        except IntegrityError as exc:
            # the database's message names its constraints and columns: logged, never answered
            log.info("integrity error: %s", str(exc.orig).splitlines()[0] if str(exc.orig) else exc)
            raise Conflict("the write conflicts with existing data (a unique value or a reference)",
                           [Problem("", "integrity", "another write took this value first; try again")]) from None

    def _resolve(self, conn: Connection, object_name: str) -> tuple[Snapshot, ObjectDef, Table]:
        snap = self.registry.current(conn)
        obj = snap.object(object_name)
        return snap, obj, snap.tables[obj.name]

    # --- reading -----------------------------------------------------------------------------

    def to_dict(self, obj: ObjectDef, row: Mapping[str, Any]) -> dict[str, Any]:
        if computed.formulas(obj).volatile:
            row = computed.with_volatile(obj, row, None, self.tz)
        out: dict[str, Any] = {"id": row["id"], **obj.shown(row)}
        for name in SYSTEM_FIELDS[1:]:
            value = row[name]
            out[name] = value.isoformat().replace("+00:00", "Z") if isinstance(value, datetime) else value
        return out

    def get(self, object_name: str, record_id: int, include_deleted: bool = False,
            conn: Connection | None = None) -> dict[str, Any]:
        with self.reading(conn) as c:
            _, obj, table = self._resolve(c, object_name)
            row = self._load(c, obj, table, record_id, include_deleted)
            return self.to_dict(obj, row)

    def list(self, object_name: str, limit: int = 50, after_id: int | None = None,
             include_deleted: bool = False, conn: Connection | None = None) -> list[dict[str, Any]]:
        """Newest first, keyset-paginated by id (the API adds rule filters and sorting)."""
        with self.reading(conn) as c:
            _, obj, table = self._resolve(c, object_name)
            query = select(table).order_by(table.c.id.desc()).limit(max(1, min(limit, 1000)))
            if not include_deleted:
                query = query.where(table.c.deleted_at.is_(None))
            if after_id is not None:
                query = query.where(table.c.id < after_id)
            return [self.to_dict(obj, r._mapping) for r in c.execute(query)]

    def count(self, object_name: str, include_deleted: bool = False, conn: Connection | None = None) -> int:
        with self.reading(conn) as c:
            _, _, table = self._resolve(c, object_name)
            query = select(func.count()).select_from(table)
            if not include_deleted:
                query = query.where(table.c.deleted_at.is_(None))
            return int(c.execute(query).scalar_one())

    def _load(self, conn: Connection, obj: ObjectDef, table: Table, record_id: int,
              include_deleted: bool, for_update: bool = False) -> Mapping[str, Any]:
        query = select(table).where(table.c.id == record_id)
        if for_update:
            query = query.with_for_update()
        row = conn.execute(query).first()
        if row is None or (row.deleted_at is not None and not include_deleted):
            raise NotFound(f"{obj.name} {record_id} does not exist", [Problem("id", "not_found", str(record_id))])
        return row._mapping

    # --- validation --------------------------------------------------------------------------

    def _prepare(self, obj: ObjectDef, data: Any, partial: bool,
                 current: Mapping[str, Any] | None = None) -> tuple[dict[str, Any], list[Problem]]:
        if not isinstance(data, Mapping):
            return {}, [Problem("", "type", "a record is a JSON object")]
        if obj.computed:
            refused = computed.read_only_problems(obj, data, current, self.tz)
            data = {k: v for k, v in data.items() if k not in obj.computed}
            stored, problems = obj.prepare(data, partial, self.ctx)
            return stored, refused + problems
        return obj.prepare(data, partial, self.ctx)

    def _check_unique(self, conn: Connection, obj: ObjectDef, table: Table, rows: Sequence[Mapping[str, Any]],
                      exclude_id: int | None = None) -> dict[int, list[Problem]]:
        """Problems by row index for unique values taken by other live records or repeated in the batch."""
        problems: dict[int, list[Problem]] = {}
        for name, f in obj.fields.items():
            if not f.unique:
                continue
            seen: dict[Any, int] = {}
            for i, row in enumerate(rows):
                value = row.get(name)
                if value is None:
                    continue
                if value in seen:
                    problems.setdefault(i, []).append(
                        Problem(name, "duplicate_value", f"'{f.shown(value)}' is repeated (row {seen[value]})"))
                else:
                    seen[value] = i
            if not seen:
                continue
            col = table.c[name]
            taken: set[Any] = set()
            values = list(seen)
            for start in range(0, len(values), 500):
                query = select(col).where(is_in(col, values[start:start + 500], conn.dialect.name),
                                          table.c.deleted_at.is_(None))
                if exclude_id is not None:
                    query = query.where(table.c.id != exclude_id)
                taken.update(conn.execute(query).scalars())
            for value in taken:
                problems.setdefault(seen[value], []).append(
                    Problem(name, "unique", f"'{f.shown(value)}' is already used by another {obj.name}"))
        return problems

    def _check_references(self, conn: Connection, snap: Snapshot, obj: ObjectDef,
                          rows: Sequence[Mapping[str, Any]],
                          scope: ReferenceScope | None = None) -> dict[int, list[Problem]]:
        """Problems by row index for relations that point at no live record (or no user), or, with
        `scope`, at a record the writer may not read (the same problem: no existence oracle)."""
        problems: dict[int, list[Problem]] = {}
        targets = [(n, f.target) for n, f in obj.fields.items() if f.type.is_relation]
        targets.append(("owner_id", USER_TARGET))
        for name, target in targets:
            wanted = {row[name] for row in rows if row.get(name) is not None}
            if not wanted:
                continue
            if target == USER_TARGET:
                query_table, alive = users, users.c.active.is_(True)
            else:
                query_table = snap.tables[str(target)]
                alive = query_table.c.deleted_at.is_(None)
                allowed = scope(str(target)) if scope is not None else None
                if allowed is not None:
                    alive = alive & allowed
            found: set[Any] = set()
            ids = list(wanted)
            for start in range(0, len(ids), 500):
                found.update(conn.execute(select(query_table.c.id).where(
                    is_in(query_table.c.id, ids[start:start + 500], conn.dialect.name), alive)).scalars())
            for i, row in enumerate(rows):
                value = row.get(name)
                if value is not None and value not in found:
                    problems.setdefault(i, []).append(
                        Problem(name, "unknown_reference", f"no {target} with id {value}"))
        return problems

    # --- writing -----------------------------------------------------------------------------

    def create(self, object_name: str, data: Mapping[str, Any], actor_id: int | None = None,
               conn: Connection | None = None, reference_scope: ReferenceScope | None = None) -> dict[str, Any]:
        result = self.bulk_create(object_name, [data], actor_id=actor_id, conn=conn, reference_scope=reference_scope)
        record_id = result.ids[0]
        assert record_id is not None
        return self.get(object_name, record_id, conn=conn) if conn is not None else self._get_fresh(object_name, record_id)

    def _get_fresh(self, object_name: str, record_id: int) -> dict[str, Any]:
        with reading(self.engine) as c:
            _, obj, table = self._resolve(c, object_name)
            return self.to_dict(obj, self._load(c, obj, table, record_id, include_deleted=True))

    def bulk_create(self, object_name: str, rows: Sequence[Mapping[str, Any]], actor_id: int | None = None,
                    conn: Connection | None = None, skip_invalid: bool = False,
                    reference_scope: ReferenceScope | None = None) -> BulkResult:
        """Create many records in one transaction.

        All-or-nothing by default: any invalid row raises ValidationError naming every problem as
        `/<row>/<field>`. With skip_invalid, valid rows are written and the rest come back in
        `errors`, keyed by row index.
        """
        with self.transaction(conn) as c:
            snap, obj, table = self._resolve(c, object_name)
            prepared: list[dict[str, Any]] = []
            errors: dict[int, list[Problem]] = {}
            for i, data in enumerate(rows):
                stored, problems = self._prepare(obj, data, partial=False)
                prepared.append(stored)
                if problems:
                    errors[i] = problems
            for extra in (self._check_unique(c, obj, table, prepared),
                          self._check_references(c, snap, obj, prepared, reference_scope)):
                for i, problems in extra.items():
                    errors.setdefault(i, []).extend(problems)
            for check in self.before_write:
                if errors and not skip_invalid:
                    break
                todo = [i for i in range(len(rows)) if i not in errors]
                refused = check(c, snap, obj, [(None, prepared[i]) for i in todo], actor_id) if todo else {}
                for j, problems in refused.items():
                    errors.setdefault(todo[j], []).extend(problems)
            if errors and not skip_invalid:
                raise ValidationError(
                    f"{len(errors)} of {len(rows)} record(s) are invalid",
                    [replace(p, field=f"/{i}/{p.field}") if len(rows) > 1 else p
                     for i, ps in sorted(errors.items()) for p in ps])
            now = _now()
            good = [i for i in range(len(rows)) if i not in errors]
            names = list(obj.fields)
            values = []
            initial = rollups.initial_values(snap, obj) if obj.computed else {}
            clock = Clock(now, self.tz)
            for i in good:
                row = prepared[i]
                full = {n: row.get(n) for n in names}
                full.update(owner_id=row.get("owner_id", actor_id), created_by=actor_id, created_at=now,
                            updated_at=now, version=1, deleted_at=None)
                if obj.computed:
                    full.update(initial)
                    _, problems = computed.compute_stored(obj, full, clock, self.ctx)
                    if problems:
                        errors[i] = problems
                        continue
                values.append(full)
            if errors and not skip_invalid:
                raise ValidationError(
                    f"{len(errors)} of {len(rows)} record(s) are invalid",
                    [replace(p, field=f"/{i}/{p.field}") if len(rows) > 1 else p
                     for i, ps in sorted(errors.items()) for p in ps])
            good = [i for i in good if i not in errors]
            ids: list[int] = []
            if values:
                ids = _insert_rows(c, table, values)
                rollups.child_written(c, snap, obj, [(None, v) for v in values],
                                      lambda evs: self._notify(c, snap, evs))
                events = [RecordEvent(obj.name, rid, "create", _created_changes(obj, v), actor_id, now)
                          for rid, v in zip(ids, values, strict=True)]
                append_events(c, events)
                self._notify(c, snap, events)
            result = BulkResult([None] * len(rows), errors)
            for i, rid in zip(good, ids, strict=True):
                result.ids[i] = rid
            return result

    def update(self, object_name: str, record_id: int, data: Mapping[str, Any], expected_version: int | None = None,
               actor_id: int | None = None, conn: Connection | None = None,
               reference_scope: ReferenceScope | None = None) -> dict[str, Any]:
        """Partial update; a stale `expected_version` is a Conflict, never a silent overwrite."""
        with self.transaction(conn) as c:
            snap, obj, table = self._resolve(c, object_name)
            current = self._load(c, obj, table, record_id, include_deleted=False, for_update=True)
            _check_version(obj, record_id, current, expected_version)
            stored, problems = self._prepare(obj, data, partial=True, current=current)
            if not problems:
                problems += self._check_unique(c, obj, table, [stored], exclude_id=record_id).get(0, [])
                problems += self._check_references(c, snap, obj, [stored], reference_scope).get(0, [])
            for check in self.before_write:
                if not problems:
                    problems += check(c, snap, obj, [(current, stored)], actor_id).get(0, [])
            if problems:
                raise ValidationError(f"the {obj.name} is invalid", problems)
            changed = {n: v for n, v in stored.items() if current[n] != v}
            if not changed:
                return self.to_dict(obj, current)
            if obj.computed:
                merged = {**current, **changed}
                values, problems = computed.compute_stored(obj, merged, Clock(_now(), self.tz), self.ctx)
                if problems:
                    raise ValidationError(f"the {obj.name} is invalid", problems)
                changed.update({n: v for n, v in values.items() if current[n] != v})
            changes = {"before": {n: _shown(obj, n, current[n]) for n in changed},
                       "after": {n: _shown(obj, n, v) for n, v in changed.items()}}
            return self._write(c, snap, obj, table, current, {**changed}, "update", changes, actor_id)

    def update_with(self, object_name: str, record_id: int,
                    compute: Callable[[dict[str, Any]], Mapping[str, Any]], actor_id: int | None = None,
                    conn: Connection | None = None) -> dict[str, Any]:
        """Read-modify-write without lost updates: `compute(current record)` runs on the row read
        under a row lock (PostgreSQL: SELECT ... FOR UPDATE; SQLite: the writer's lock), so a
        concurrent writer waits and then computes from this write's result (score + 1 counts every time)."""
        with self.transaction(conn) as c:
            _, obj, table = self._resolve(c, object_name)
            current = self._load(c, obj, table, record_id, include_deleted=False, for_update=True)
            data = compute(self.to_dict(obj, current))
            return self.update(object_name, record_id, data, expected_version=int(current["version"]),
                               actor_id=actor_id, conn=c)

    def delete(self, object_name: str, record_id: int, expected_version: int | None = None,
               actor_id: int | None = None, conn: Connection | None = None) -> dict[str, Any]:
        """Soft delete: the record leaves lists and unique checks but keeps its data and history."""
        with self.transaction(conn) as c:
            snap, obj, table = self._resolve(c, object_name)
            current = self._load(c, obj, table, record_id, include_deleted=False, for_update=True)
            _check_version(obj, record_id, current, expected_version)
            now = _now()
            return self._write(c, snap, obj, table, current, {"deleted_at": now}, "delete",
                               {"before": {"deleted_at": None}, "after": {"deleted_at": _iso(now)}}, actor_id)

    def restore(self, object_name: str, record_id: int, actor_id: int | None = None,
                conn: Connection | None = None) -> dict[str, Any]:
        with self.transaction(conn) as c:
            snap, obj, table = self._resolve(c, object_name)
            current = self._load(c, obj, table, record_id, include_deleted=True, for_update=True)
            if current["deleted_at"] is None:
                return self.to_dict(obj, current)
            clashes = self._check_unique(c, obj, table, [dict(current)], exclude_id=record_id).get(0, [])
            if clashes:
                raise Conflict(f"{obj.name} {record_id} cannot be restored", clashes)
            return self._write(c, snap, obj, table, current, {"deleted_at": None}, "restore",
                               {"before": {"deleted_at": _iso(current["deleted_at"])}, "after": {"deleted_at": None}},
                               actor_id)

    def _write(self, conn: Connection, snap: Snapshot, obj: ObjectDef, table: Table, current: Mapping[str, Any],
               values: dict[str, Any], kind: str, changes: dict[str, dict[str, Any]], actor_id: int | None) -> dict[str, Any]:
        now = _now()
        version = current["version"]
        result = conn.execute(update(table).where(table.c.id == current["id"], table.c.version == version)
                              .values(**values, version=version + 1, updated_at=now))
        if result.rowcount != 1:
            raise Conflict(f"{obj.name} {current['id']} was changed by someone else; reload it",
                           [Problem("version", "stale_version", "the record changed while saving")])
        after = {**current, **values, "version": version + 1, "updated_at": now}
        rollups.child_written(conn, snap, obj, [(current, after)], lambda evs: self._notify(conn, snap, evs))
        events = [RecordEvent(obj.name, current["id"], kind, changes, actor_id, now)]
        append_events(conn, events)
        self._notify(conn, snap, events)
        return self.to_dict(obj, after)

    def notify(self, conn: Connection, snap: Snapshot, events: list[RecordEvent]) -> None:
        """Hand events written in `conn`'s transaction to the listeners (link and roll-up changes)."""
        self._notify(conn, snap, events)

    def _notify(self, conn: Connection, snap: Snapshot, events: list[RecordEvent]) -> None:
        for listener in self.listeners:
            listener(conn, snap, events)


def _insert_rows(conn: Connection, table: Table, values: list[dict[str, Any]]) -> list[int]:
    """Insert rows with ids given up front, and return the ids in order.

    Knowing the ids first lets the rows go through the driver's plain executemany (pipelined on
    psycopg): RETURNING would send one large multi-row statement per batch instead, several
    times slower on both back ends. PostgreSQL draws the ids from the table's sequence; SQLite
    continues after the highest id, which is what it would do itself, safely, since our
    transactions hold its write lock from BEGIN IMMEDIATE on (db.py).
    """
    if conn.dialect.name == "postgresql":
        sequence = func.pg_get_serial_sequence(table.name, "id")
        ids = list(conn.execute(select(func.nextval(sequence)).select_from(
            func.generate_series(1, len(values)))).scalars())
    else:
        start = int(conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()) + 1
        ids = list(range(start, start + len(values)))
    for row, rid in zip(values, ids, strict=True):
        row["id"] = rid
    insert_many(conn, table, values)
    return ids


def _check_version(obj: ObjectDef, record_id: int, current: Mapping[str, Any], expected: int | None) -> None:
    if expected is not None and expected != current["version"]:
        raise Conflict(f"{obj.name} {record_id} is at version {current['version']}, not {expected}; reload it",
                       [Problem("version", "stale_version",
                                f"expected version {expected}, the record is at {current['version']}")])


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _shown(obj: ObjectDef, name: str, value: Any) -> Any:
    if name == "owner_id":
        return value
    return obj.fields[name].shown(value)


def _created_changes(obj: ObjectDef, values: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    after = {n: v for n, v in obj.shown(values).items() if v is not None}
    if values["owner_id"] is not None:
        after["owner_id"] = values["owner_id"]
    return {"before": {}, "after": after}
