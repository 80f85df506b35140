"""Definitions in the database: versioned storage, the cached live registry, plan and apply.

The live registry is a snapshot (definitions, object models, tables) tagged with a revision
number kept in `sys_meta_state`. Each use checks that number (one indexed read) and reloads when
another process applied a change, so every web process and worker sees the same definitions.
Planning is separate from applying: `plan` reads and explains; `apply` takes the metadata lock,
plans again under it, migrates tables and writes new versions in one transaction.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Table, func, select, update

from ..errors import DefinitionError, DestructiveChange, NotFound, Problem
from ..meta.kinds import DefinitionSet, Doc, apply_order, pointer, validate_definition
from ..meta.objects import ObjectDef
from ..meta.packs import canonical_json, checksum
from ..meta.plan import DefinitionChange, plan_definitions
from ..meta.secret_box import SecretBox, SecretUnreadable, reveal, seal, secret_leaves, unsealed_count
from ..meta.secrets import restore, value_at
from ..meta.usage import removal_problems
from . import system
from .computed import refresh_after_apply
from .db import reading
from .migrate import TableAction, apply_actions, plan_object
from .online import CONCURRENTLY, build_concurrently, fill_in_batches, validate_check
from .statistics import refresh_statistics
from .tables import build_tables

Incoming = tuple[str, str, Doc]


@dataclass(frozen=True)
class Snapshot:
    """The live definitions at one revision, with what is derived from them."""

    revision: int
    definitions: DefinitionSet
    objects: dict[str, ObjectDef]
    tables: dict[str, Table]

    def object(self, name: str) -> ObjectDef:
        try:
            return self.objects[name]
        except KeyError:
            raise NotFound(f"no object named '{name}'", [Problem("object", "unknown_object", name)]) from None


def _snapshot(revision: int, defs: DefinitionSet) -> Snapshot:
    objects = {name: ObjectDef.from_doc(doc) for name, doc in defs.items("object")}
    return Snapshot(revision, defs, objects, build_tables(objects.values()))


def read_revision(conn: Connection) -> int:
    return conn.execute(select(system.meta_state.c.revision).where(system.meta_state.c.id == 1)).scalar() or 0


def read_definitions(conn: Connection) -> DefinitionSet:
    defs = DefinitionSet()
    rows = conn.execute(select(system.definitions.c.kind, system.definitions.c.name, system.definitions.c.body)
                        .order_by(system.definitions.c.kind, system.definitions.c.name))
    for kind, name, body in rows:
        defs.put(kind, name, json.loads(body))
    return defs


class Registry:
    """The cached live registry; thread-safe, refreshed when the stored revision moves."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._snapshot: Snapshot | None = None
        self._lock = threading.Lock()

    def current(self, conn: Connection | None = None) -> Snapshot:
        if conn is None:
            with reading(self.engine) as own:
                return self.current(own)
        revision = read_revision(conn)
        snap = self._snapshot
        if snap is not None and snap.revision == revision:
            return snap
        with self._lock:
            if self._snapshot is None or self._snapshot.revision != revision:
                self._snapshot = _snapshot(revision, read_definitions(conn))
            return self._snapshot

    def invalidate(self) -> None:
        self._snapshot = None


@dataclass
class Plan:
    """What applying a set of definitions would do, and what refuses it."""

    changes: list[DefinitionChange]
    tables: dict[str, list[TableAction]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)  # after the commit: indexes not built (store.online)

    @property
    def changed(self) -> bool:
        return any(c.changed for c in self.changes) or any(self.tables.values())

    def lines(self) -> list[str]:
        out = []
        for c in self.changes:
            out.append(f"{c.action:9} {c.kind} {c.name}")
            out += [f"            {d}" for d in c.diff]
            out += [f"            table: {a.op} {a.target} ({a.description})" for a in self.tables.get(c.name, [])
                    if c.kind == "object"]
        out += [f"refused   {p.field}: {p.message} [{p.code}]" for p in self.problems]
        out += [f"warning   {p.field}: {p.message} [{p.code}]" for p in self.warnings]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "changed": self.changed,
            "changes": [{"kind": c.kind, "name": c.name, "action": c.action, "diff": c.diff,
                         "table": [str(a) for a in self.tables.get(c.name, [])] if c.kind == "object" else []}
                        for c in self.changes],
            "problems": [p.to_dict() for p in self.problems],
            "warnings": [p.to_dict() for p in self.warnings],
        }


ApplyHook = Callable[[Connection, Plan, Snapshot], None]


class MetadataService:
    """Plans and applies definition changes, with validation, migration and version history."""

    def __init__(self, engine: Engine, registry: Registry, box: SecretBox, hooks: Sequence[ApplyHook] = ()) -> None:
        self.engine = engine
        self.registry = registry
        self.box = box
        self.hooks = list(hooks)

    def validate(self, incoming: Sequence[Incoming], live: DefinitionSet) -> list[Problem]:
        context = live.overlay(incoming)
        problems = []
        for kind, name, doc in incoming:
            for p in validate_definition(kind, doc, context):
                problems.append(Problem(f"{kind}/{name}#{'' if p.field == '/' else p.field}", p.code, p.message))
        return problems

    def _plan(self, conn: Connection, incoming: Sequence[Incoming], force: bool) -> Plan:
        live = read_definitions(conn)
        incoming, problems = _restore_secrets(incoming, live)
        problems += self.validate(incoming, live)
        if not problems:
            incoming, problems = _seal_secrets(incoming, live, self.box)
        if problems:
            raise DefinitionError(f"{len(problems)} problem(s) in the definitions", problems)
        order = {k: i for i, k in enumerate(apply_order({k for k, _, _ in incoming}))}
        ordered = sorted(incoming, key=lambda d: order[d[0]])
        plan = Plan(plan_definitions(live, list(ordered)))
        merged = live.overlay(ordered)
        new_objects = {n: ObjectDef.from_doc(d) for n, d in merged.items("object")}
        tables = build_tables(new_objects.values())
        for change in plan.changes:
            if change.kind != "object":
                continue
            old = ObjectDef.from_doc(change.old) if change.old else None
            actions, refusals = plan_object(conn, old, new_objects[change.name], tables[change.name], force)
            plan.tables[change.name] = actions
            plan.problems += refusals
            if old is not None:  # a removed or renamed field that other definitions still name
                plan.problems += removal_problems(conn, merged, change.name, old.fields, new_objects[change.name].fields,
                                                  force)
        return plan

    def plan(self, incoming: Sequence[Incoming], force: bool = False) -> Plan:
        with reading(self.engine) as conn:
            return self._plan(conn, incoming, force)

    def apply(self, incoming: Sequence[Incoming], actor_id: int | None = None, force: bool = False,
              note: str | None = None, author: str | None = None) -> Plan:
        """Apply all-or-nothing: on any problem nothing is written and nothing is migrated. Each new
        version records `author`, whether `force` was given and the table actions that ran."""
        with self.engine.begin() as conn:
            _lock_metadata(conn)
            plan = self._plan(conn, incoming, force)
            if plan.problems:
                raise DestructiveChange(f"{len(plan.problems)} change(s) refused", plan.problems)
            if not plan.changed:
                return plan
            merged = read_definitions(conn).overlay((c.kind, c.name, c.new) for c in plan.changes)
            tables = build_tables(ObjectDef.from_doc(d) for _, d in merged.items("object"))
            new_tables = [tables[name] for name, actions in plan.tables.items()
                          if actions and actions[0].op == "create_table"]
            if new_tables:  # together, so relations between new objects (even cycles) resolve
                new_tables[0].metadata.create_all(conn, tables=new_tables)
            for change in plan.changes:
                if change.kind == "object" and plan.tables.get(change.name):
                    apply_actions(conn, tables[change.name], plan.tables[change.name])
                if change.changed:
                    ran = [str(a) for a in plan.tables.get(change.name, [])] if change.kind == "object" else []
                    _write_version(conn, change, actor_id, note, History(author, force, ran))
            revision = _bump_revision(conn)
            snapshot = _snapshot(revision, merged)
            refresh_after_apply(conn, plan.changes, snapshot)  # formulas and roll-ups of existing rows
            for hook in self.hooks:
                hook(conn, plan, snapshot)
        self.registry.invalidate()
        for name, actions in plan.tables.items():  # PostgreSQL: outside the transaction, writers go on
            online = [a.target for a in actions if a.op == "add_index" and a.value == CONCURRENTLY]
            if online:
                plan.warnings += build_concurrently(self.engine, tables[name], online)
            for a in actions:
                if a.op == "backfill_batched":
                    fill_in_batches(self.engine, tables[name], a.target, a.value)
                elif a.op == "require":
                    plan.warnings += validate_check(self.engine, tables[name], a.target, *a.value[:2])
        refresh_statistics(self.engine)  # new tables and columns, tag links a changed rule rewrote
        return plan

    def export(self) -> DefinitionSet:
        with reading(self.engine) as conn:
            return read_definitions(conn)

    def history(self, kind: str, name: str) -> list[dict[str, Any]]:
        v = system.definition_versions
        with reading(self.engine) as conn:
            rows = conn.execute(select(v).where(v.c.kind == kind, v.c.name == name).order_by(v.c.version))
            return [dict(r._mapping) for r in rows]


def _restore_secrets(incoming: Sequence[Incoming], live: DefinitionSet) -> tuple[list[Incoming], list[Problem]]:
    """Secrets sent back masked (as every read shows them) keep their stored values."""
    out, problems = [], []
    for kind, name, doc in incoming:
        doc, found = restore(doc, live.get(kind, name))
        problems += [Problem(f"{kind}/{name}#{p.field}", p.code, p.message) for p in found]
        out.append((kind, name, doc))
    return out, problems


def _seal_secrets(incoming: Sequence[Incoming], live: DefinitionSet,
                  box: SecretBox) -> tuple[list[Incoming], list[Problem]]:
    """Secrets are stored encrypted (meta.secret_box); an unchanged one keeps its stored envelope."""
    out, problems = [], []
    for kind, name, doc in incoming:
        doc, found = seal(doc, live.get(kind, name), box)
        problems += [Problem(f"{kind}/{name}#{p.field}", p.code, p.message) for p in found]
        out.append((kind, name, doc))
    return out, problems


@dataclass
class SealReport:
    """What `seal_stored_secrets` did: secrets encrypted per row, and envelopes the key cannot open."""

    sealed: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def seal_stored_secrets(conn: Connection, box: SecretBox) -> SealReport:
    """Encrypt in place every secret stored in clear in the version history and the live definitions
    (rows written before secrets were encrypted). Versions are taken in order, each reusing the
    envelope of the version before it for an unchanged secret, so history diffs show only real
    changes; the revision is bumped so every process reloads. Envelopes the current key cannot
    open are reported, never rewritten."""
    report = SealReport()
    d, v = system.definitions, system.definition_versions
    previous: dict[tuple[str, str], Any] = {}
    rows = conn.execute(select(v.c.id, v.c.kind, v.c.name, v.c.version, v.c.body)
                        .order_by(v.c.kind, v.c.name, v.c.version)).all()
    for row in rows:
        new = _seal_row(row.body, previous.get((row.kind, row.name)), box, f"{row.kind}/{row.name} v{row.version}",
                        report)
        if new is not None:
            conn.execute(update(v).where(v.c.id == row.id).values(body=canonical_json(new), checksum=checksum(new)))
        previous[(row.kind, row.name)] = new if new is not None else json.loads(row.body)
    live_changed = False
    for row in conn.execute(select(d.c.kind, d.c.name, d.c.body)).all():
        new = _seal_row(row.body, previous.get((row.kind, row.name)), box, f"{row.kind}/{row.name}", report)
        if new is not None:
            conn.execute(update(d).where(d.c.kind == row.kind, d.c.name == row.name)
                         .values(body=canonical_json(new), checksum=checksum(new)))
            live_changed = True
    if live_changed:
        _lock_metadata(conn)
        _bump_revision(conn)
    return report


def _seal_row(body: str, before: Any, box: SecretBox, where: str, report: SealReport) -> Any:
    """The row's document sealed, or None when nothing in it is in clear; unreadable envelopes reported."""
    doc = json.loads(body)
    for path in secret_leaves(doc):
        try:
            reveal(value_at(doc, path), box, where)
        except SecretUnreadable as exc:
            report.problems.append(Problem(f"{where}#{pointer(path)}", exc.code, exc.problems[0].message))
    if not unsealed_count(doc):
        return None
    report.sealed.append(where)
    return seal(doc, before, box)[0]


def _lock_metadata(conn: Connection) -> None:
    """Serialize applies: a row lock on PostgreSQL; SQLite's BEGIN IMMEDIATE already holds the write lock."""
    state = system.meta_state
    if conn.execute(select(state.c.id).where(state.c.id == 1).with_for_update()).first() is None:
        conn.execute(state.insert().values(id=1, revision=0))


def _bump_revision(conn: Connection) -> int:
    state = system.meta_state
    conn.execute(update(state).where(state.c.id == 1).values(revision=state.c.revision + 1))
    return read_revision(conn)


@dataclass(frozen=True)
class History:
    """What a version records about how it was applied."""

    author: str | None = None
    forced: bool = False
    actions: list[str] = field(default_factory=list)


def _write_version(conn: Connection, change: DefinitionChange, actor_id: int | None, note: str | None,
                   how: History | None = None) -> None:
    how = how or History()
    d, v = system.definitions, system.definition_versions
    now = datetime.now(UTC)
    body = canonical_json(change.new)
    digest = checksum(change.new)
    current = conn.execute(select(func.max(v.c.version)).where(v.c.kind == change.kind, v.c.name == change.name)
                           ).scalar() or 0
    version = current + 1
    if change.old is None:
        conn.execute(d.insert().values(kind=change.kind, name=change.name, version=version, checksum=digest,
                                       body=body, updated_at=now, updated_by=actor_id))
    else:
        conn.execute(update(d).where(d.c.kind == change.kind, d.c.name == change.name)
                     .values(version=version, checksum=digest, body=body, updated_at=now, updated_by=actor_id))
    conn.execute(v.insert().values(kind=change.kind, name=change.name, version=version, checksum=digest,
                                   body=body, action=change.action, created_at=now, created_by=actor_id,
                                   note=note, author=how.author, forced=how.forced,
                                   actions=json.dumps(how.actions, ensure_ascii=False) if how.actions else None))


def incoming_from_files(files: Iterable[Any]) -> list[Incoming]:
    """(kind, name, doc) triples from packs.PackFile objects."""
    return [(f.kind, f.name, f.doc) for f in files]
