"""Materialised rules: automatic tags and tracked segments, kept current on every write.

A member is one rule whose matching records are stored (tag links for an automatic tag on one
object, member rows for a tracked segment). Three ways to bring members up to date, all giving
what the rule says:
- in memory, for the few records one write touched (the rule's in-memory back end);
- restricted to a set of ids in SQL, for a batch write;
- set-based over the whole object (INSERT ... SELECT / DELETE ... WHERE) after a definition
  changes, never a Python loop over rows.
Which members a write can change is read from the rules themselves (rules.analysis): the fields
they read, the tags they test, and the related objects they aggregate over, however deeply nested
(a write climbs the relation chain to the records whose rule reads it, one statement per chain).
Automatic tag changes are record events (`tag_added` / `tag_removed`, context source "auto"),
written in the same transaction; tracked segments write `segment_entered` / `segment_left`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    String,
    Table,
    and_,
    delete,
    insert,
    literal,
    literal_column,
    select,
    update,
)

from ..errors import MetaCRMError
from ..meta.sqltypes import JSONType, UTCDateTime
from ..rules import EvalContext, Reads, RelatedRead, compile_rule, parse_rule
from ..rules.analysis import reads as rule_reads
from ..rules.evaluate import Matcher, build
from ..rules.model import Node
from ..rules.timeutil import zone
from ..store.bulk import insert_many, is_in
from ..store.events import RecordEvent, append_events
from ..store.system import record_events
from .tag_store import chunks, segment_members, tag_links, tags_of

RECORD_EVENTS = frozenset({"create", "update", "delete", "restore"})
TAG_EVENTS = frozenset({"tag_added", "tag_removed"})
IN_MEMORY_MAX = 20
"""Up to this many records per write are re-evaluated in memory; more go through SQL by id."""


@dataclass(eq=False)
class Member:
    kind: str  # "tag" | "segment"
    name: str
    object: str
    node: Node
    reads: Reads
    matcher: Matcher


@dataclass
class MemberPlan:
    """Every member of one snapshot, ordered so a tag comes before the members that test it."""

    members: list[Member] = field(default_factory=list)
    by_object: dict[str, list[Member]] = field(default_factory=lambda: defaultdict(list))
    related: dict[str, list[tuple[Member, RelatedRead]]] = field(default_factory=lambda: defaultdict(list))
    """{related object: [(member, read)]}: every relation a rule reads, nested ones included."""


def _store(kind: str) -> tuple[Table, str]:
    return (tag_links, "tag") if kind == "tag" else (segment_members, "segment")


def _row(member: Member, record_id: int, now: datetime, actor_id: int | None) -> dict[str, Any]:
    if member.kind == "tag":
        return {"object": member.object, "record_id": record_id, "tag": member.name, "source": "auto",
                "actor_id": actor_id, "created_at": now}
    return {"object": member.object, "record_id": record_id, "segment": member.name, "since": now}


# --- the plan of a snapshot -------------------------------------------------------------------

_PLANS: dict[int, tuple[Any, MemberPlan]] = {}


def member_plan(snap: Any) -> MemberPlan:
    hit = _PLANS.get(id(snap))
    if hit is not None and hit[0] is snap:
        return hit[1]
    plan = _build_plan(snap)
    if len(_PLANS) > 32:
        _PLANS.clear()
    _PLANS[id(snap)] = (snap, plan)
    return plan


def _member(kind: str, name: str, obj: str, rule: Any, snap: Any) -> Member | None:
    if obj not in snap.objects:
        return None
    try:
        node = parse_rule(rule, obj, snap)
    except MetaCRMError:  # the object changed under a stored rule: it matches nothing until fixed
        return None
    return Member(kind, name, obj, node, rule_reads(node), build(node))


def _build_plan(snap: Any) -> MemberPlan:
    tags: list[Member] = []
    for name, doc in snap.definitions.items("tag"):
        if "rule" in doc:
            tags += [m for obj in doc.get("objects", ()) if (m := _member("tag", name, obj, doc["rule"], snap))]
    segments = [m for name, doc in snap.definitions.items("segment") if doc.get("track")
                if (m := _member("segment", name, doc["object"], doc["rule"], snap))]
    plan = MemberPlan()
    for m in [*_tag_order(tags), *segments]:
        plan.members.append(m)
        plan.by_object[m.object].append(m)
        for rel in [*m.reads.related, *m.reads.nested]:
            plan.related[rel.object].append((m, rel))
    return plan


def _tested(m: Member) -> list[tuple[str, str]]:
    """(object, tag) pairs the member's rule tests: its own record's tags and related records' tags."""
    out = [(m.object, t) for t in sorted(m.reads.tags)]
    for rel in [*m.reads.related, *m.reads.nested]:
        out += [(rel.object, t) for t in sorted(rel.tags)]
    return out


def _tag_order(tags: list[Member]) -> list[Member]:
    """Tags after the automatic tags their rules test, on their object or on related records
    (cycles are refused when tags are applied)."""
    by_key = {(m.object, m.name): m for m in tags}
    done: list[Member] = []
    seen: set[int] = set()

    def visit(m: Member, path: frozenset[int]) -> None:
        if id(m) in seen or id(m) in path:
            return
        for key in _tested(m):
            dep = by_key.get(key)
            if dep is not None:
                visit(dep, path | {id(m)})
        seen.add(id(m))
        done.append(m)

    for m in tags:
        visit(m, frozenset())
    return done


def dependents(plan: MemberPlan, obj: str, tags: Iterable[str], across: bool = False) -> list[Member]:
    """Members on `obj` that test any of `tags` of its records, directly or through other automatic tags.

    With `across`, also members of other objects whose rules test those tags on related records
    (and what tests theirs): what a set-based refresh of the tags must refresh after them.
    """
    wanted = {(obj, t) for t in tags}
    out = []
    for m in plan.members:  # in dependency order, so one pass sees chains
        if m.object != obj and not across:
            continue
        if wanted.intersection(_tested(m) if across else [(obj, t) for t in m.reads.tags]):
            out.append(m)
            if m.kind == "tag":
                wanted.add((m.object, m.name))
    return out


# --- set-based, whole object -------------------------------------------------------------------

def refresh_all(conn: Connection, snap: Any, member: Member, now: datetime, tz: str,
                ids: bool = False) -> tuple[Any, Any]:
    """Make the stored members of one rule exactly the live records it matches.

    Returns (added, removed) as counts; for a segment with `ids`, as lists of record ids
    (RETURNING), for the caller's events. An automatic tag logs each link it adds or removes as
    a record event itself, set-based.
    """
    table = snap.tables[member.object]
    store, col = _store(member.kind)
    matching = and_(table.c.deleted_at.is_(None), compile_rule(member.node, member.object, snap, now=now, tz=tz))
    mine = and_(store.c.object == member.object, store.c[col] == member.name)
    stale = and_(mine, ~select(literal_column("1")).select_from(table).where(
        table.c.id == store.c.record_id, matching).exists())
    fresh = and_(matching, table.c.id.not_in(select(store.c.record_id).where(mine)))
    gone = delete(store).where(stale)
    values = _row(member, 0, now, None)
    present = [c for c in values if c != "record_id" and values[c] is not None]
    typed = {"created_at": UTCDateTime(), "since": UTCDateTime()}
    source = select(table.c.id, *(literal(values[c], typed.get(c, String())) for c in present))
    new = insert(store).from_select(["record_id", *present], source.where(fresh))
    if member.kind == "tag":
        removed_n = _logged(conn, member, gone, "tag_removed", store.c.record_id, stale, now)
        return _logged(conn, member, new, "tag_added", table.c.id, fresh, now), removed_n
    if ids:
        removed = sorted(conn.execute(gone.returning(store.c.record_id)).scalars())
        return sorted(conn.execute(new.returning(store.c.record_id)).scalars()), removed
    removed_n = conn.execute(gone).rowcount
    return conn.execute(new, execution_options={"preserve_rowcount": True}).rowcount, removed_n


def _logged(conn: Connection, member: Member, change: Any, kind: str, record_id: Any, where: Any,
            now: datetime) -> int:
    """Run a set-based link change and log one tag event per link it changes; returns how many.

    INSERT INTO sys_record_event ... SELECT, no rows through Python. On PostgreSQL the change's
    RETURNING feeds the events (WITH changed AS (DELETE ... RETURNING) INSERT ... SELECT FROM
    changed: one pass, exactly the rows changed); SQLite has no DML inside WITH, so there the
    events select the same rows (`record_id` where `where`) just before the change, under its
    one write lock.
    """
    sample = tag_event(member.object, 0, kind, member.name, None, now, "auto").row()
    typed = {"changes": JSONType, "context": JSONType, "at": UTCDateTime(), "actor_id": BigInteger()}
    cols = [c for c in sample if c != "record_id"]
    consts = [literal(sample[c], typed.get(c, String())) for c in cols]
    counted = {"preserve_rowcount": True}
    if conn.dialect.name == "postgresql":
        changed = change.returning(tag_links.c.record_id).cte("changed")
        log = insert(record_events).from_select(["record_id", *cols], select(changed.c.record_id, *consts))
        return int(conn.execute(log.add_cte(changed), execution_options=counted).rowcount)
    conn.execute(insert(record_events).from_select(["record_id", *cols], select(record_id, *consts).where(where)))
    return int(conn.execute(change, execution_options=counted).rowcount)


# --- a set of records --------------------------------------------------------------------------

Change = tuple[Member, list[int], list[int]]  # member, entered, left


def refresh_records(conn: Connection, snap: Any, obj: str, work: Mapping[Member, set[int]], now: datetime,
                    tz: str) -> list[Change]:
    """Bring the given members of `obj` up to date for the given records; returns who entered and left."""
    ordered = [m for m in member_plan(snap).by_object.get(obj, ()) if work.get(m)]
    if not ordered:
        return []
    everyone = sorted(set().union(*(work[m] for m in ordered)))
    if len(everyone) <= IN_MEMORY_MAX:
        changes = _in_memory(conn, snap, obj, ordered, work, everyone, now, tz)
        for member, entered, left in changes:
            _write(conn, member, entered, left, now)
    else:
        changes = []
        for m in ordered:  # written one by one: later members read earlier tags in SQL
            changes.append(_by_ids(conn, snap, m, sorted(work[m]), now, tz))
            _write(conn, m, changes[-1][1], changes[-1][2], now)
    return [c for c in changes if c[1] or c[2]]


def _current(conn: Connection, member: Member, ids: Sequence[int]) -> set[int]:
    store, col = _store(member.kind)
    found: set[int] = set()
    for part in chunks(ids):
        found.update(conn.execute(select(store.c.record_id).where(
            store.c.object == member.object, store.c[col] == member.name,
            is_in(store.c.record_id, part, conn.dialect.name))).scalars())
    return found


def _by_ids(conn: Connection, snap: Any, member: Member, ids: Sequence[int], now: datetime, tz: str) -> Change:
    table = snap.tables[member.object]
    rule = compile_rule(member.node, member.object, snap, now=now, tz=tz)
    matching: set[int] = set()
    for part in chunks(ids):
        matching.update(conn.execute(select(table.c.id).where(
            is_in(table.c.id, part, conn.dialect.name), table.c.deleted_at.is_(None), rule)).scalars())
    current = _current(conn, member, ids)
    return member, sorted(matching - current), sorted(current - matching)


def _in_memory(conn: Connection, snap: Any, obj: str, ordered: list[Member], work: Mapping[Member, set[int]],
               ids: list[int], now: datetime, tz: str) -> list[Change]:
    table = snap.tables[obj]
    rows = {r.id: dict(r._mapping) for r in conn.execute(select(table).where(
        is_in(table.c.id, ids, conn.dialect.name)))}
    linked = {rid: set(tags) for rid, tags in tags_of(conn, obj, ids).items()}
    for rid, row in rows.items():
        row["tags"] = set(linked[rid])
    members_now = _segment_members(conn, obj, [m.name for m in ordered if m.kind == "segment"], ids)
    ctx = EvalContext(obj, now, zone(tz), conn, snap.tables)
    changes: list[Change] = []
    for m in ordered:
        targets = sorted(work[m])
        if m.kind == "tag":  # the links as they were before this refresh
            current = {rid for rid in targets if m.name in linked.get(rid, ())}
        else:
            current = {rid for rid in targets if (m.name, rid) in members_now}
        entered, left = [], []
        for rid in targets:
            row = rows.get(rid)
            want = row is not None and row["deleted_at"] is None and m.matcher(row, ctx)
            if want and rid not in current:
                entered.append(rid)
            elif not want and rid in current:
                left.append(rid)
            if m.kind == "tag" and row is not None:
                (row["tags"].add if want else row["tags"].discard)(m.name)
        changes.append((m, entered, left))
    return changes


def _segment_members(conn: Connection, obj: str, names: list[str], ids: list[int]) -> set[tuple[str, int]]:
    if not names:
        return set()
    t = segment_members
    return {(name, rid) for name, rid in conn.execute(select(t.c.segment, t.c.record_id).where(
        t.c.object == obj, t.c.segment.in_(names), is_in(t.c.record_id, ids, conn.dialect.name)))}


def _write(conn: Connection, member: Member, entered: list[int], left: list[int], now: datetime) -> None:
    store, col = _store(member.kind)
    if entered:
        insert_many(conn, store, [_row(member, rid, now, None) for rid in entered])
    for part in chunks(left):
        conn.execute(delete(store).where(store.c.object == member.object, store.c[col] == member.name,
                                         is_in(store.c.record_id, part, conn.dialect.name)))


# --- what a write touches ------------------------------------------------------------------------

def _touches(event: RecordEvent, fields: set[str]) -> bool:
    if event.kind != "update":
        return True
    changed = set((event.changes or {}).get("after", {}))
    return bool(changed & fields) or "updated_at" in fields


def _tags_changed(e: RecordEvent) -> set[str]:
    return {str(e.context["tag"])} if e.kind in TAG_EVENTS and e.context and "tag" in e.context else set()


def affected(conn: Connection, snap: Any, events: Sequence[RecordEvent],
             related_only: bool = False) -> dict[str, dict[Member, set[int]]]:
    """{object: {member: record ids}} whose membership the events may have changed.

    Record writes touch the rules reading the written fields, of the record itself or (through
    relations, nested or not) of the records it belongs to; tag events touch the rules testing
    that tag, likewise. `related_only` skips rules of the events' own object (their tags were
    refreshed with the tag that changed).
    """
    plan = member_plan(snap)
    work: dict[str, dict[Member, set[int]]] = defaultdict(lambda: defaultdict(set))
    by_obj: dict[str, list[RecordEvent]] = defaultdict(list)
    for e in events:
        if e.kind in RECORD_EVENTS or _tags_changed(e):
            by_obj[e.object].append(e)
    for obj, evs in by_obj.items():
        for m in () if related_only else plan.by_object.get(obj, ()):
            for e in evs:
                if m.reads.tags & _tags_changed(e) if e.kind in TAG_EVENTS else _touches(e, m.reads.fields):
                    work[obj][m].add(e.record_id)
        for m, rel in plan.related.get(obj, ()):
            relevant = [e for e in evs if (rel.tags & _tags_changed(e) if e.kind in TAG_EVENTS
                                           else _touches(e, rel.fields))]
            if relevant:
                work[m.object][m].update(_parents(conn, snap, obj, rel, relevant))
    for obj, members in list(work.items()):
        for m in plan.by_object.get(obj, ()):  # a tag's dependents follow it
            for dep in dependents(plan, obj, [m.name]) if m.kind == "tag" and members.get(m) else ():
                members[dep].update(members[m])
    return {obj: members for obj, members in work.items() if any(members.values())}


def _parents(conn: Connection, snap: Any, obj: str, rel: RelatedRead, events: list[RecordEvent]) -> set[int]:
    """The rule's records above the related records the events wrote.

    A parent the event names (before and after a move) climbs the chain above it; a record whose
    event does not name its parent climbs from itself, so its current parent is read in the same
    statement as the hops above it.
    """
    named: set[int] = set()
    unnamed: set[int] = set()
    for e in events:
        changes = e.changes or {}
        for side in ("before", "after"):
            value = changes.get(side, {}).get(rel.via)
            if isinstance(value, int):
                named.add(value)
        if rel.via not in changes.get("after", {}):
            unnamed.add(e.record_id)
    return _climb(conn, snap, rel.up, named) | _climb(conn, snap, ((obj, rel.via), *rel.up), unnamed)


def _climb(conn: Connection, snap: Any, up: Sequence[tuple[str, str]], ids: set[int]) -> set[int]:
    """Follow `up` (hops, nearest first) from `ids` to the rule's object: one statement per chunk
    of ids for the whole chain (SELECT account FROM lead WHERE id IN (SELECT lead FROM ...))."""
    if not up or not ids:
        return ids
    out: set[int] = set()
    for part in chunks(sorted(ids)):
        query: Any = None
        for obj, via in up:
            table = snap.tables[obj]
            query = select(table.c[via]).where(
                is_in(table.c.id, part, conn.dialect.name) if query is None else table.c.id.in_(query))
        out.update(v for v in conn.execute(query.distinct()).scalars() if v is not None)
    return out


def tag_event(obj: str, record_id: int, kind: str, tag: str, actor_id: int | None, now: datetime,
              source: str) -> RecordEvent:
    """A `tag_added` / `tag_removed` event, the same for manual, form and automatic tags."""
    side, other = ("after", "before") if kind == "tag_added" else ("before", "after")
    return RecordEvent(obj, record_id, kind, {other: {}, side: {"tag": tag}}, actor_id, now,
                       {"tag": tag, "source": source})


def member_events(changes: list[Change], now: datetime, actor_id: int | None) -> list[RecordEvent]:
    """The events of membership changes: tag_added/tag_removed (source auto), segment_entered/left."""
    out = []
    for m, entered, left in changes:
        if m.kind == "tag":
            out += [tag_event(m.object, rid, "tag_added", m.name, actor_id, now, "auto") for rid in entered]
            out += [tag_event(m.object, rid, "tag_removed", m.name, actor_id, now, "auto") for rid in left]
            continue
        out += [RecordEvent(m.object, rid, "segment_entered", {"before": {}, "after": {"segment": m.name}},
                            actor_id, now, {"segment": m.name}) for rid in entered]
        out += [RecordEvent(m.object, rid, "segment_left", {"before": {"segment": m.name}, "after": {}},
                            actor_id, now, {"segment": m.name}) for rid in left]
    return out


def refresh_after(conn: Connection, snap: Any, work: Mapping[str, Mapping[Member, set[int]]], tz: str,
                  actor_id: int | None, now: datetime | None = None) -> list[RecordEvent]:
    """Refresh the affected members and log their changes as events; returns the new events."""
    now = now or datetime.now(UTC)
    new: list[RecordEvent] = []
    for obj, members in work.items():
        new += member_events(refresh_records(conn, snap, obj, members, now, tz), now, actor_id)
    if new:
        append_events(conn, new)
    return new


def maintain(conn: Connection, snap: Any, events: Sequence[RecordEvent], tz: str,
             actor_id: int | None) -> list[RecordEvent]:
    """Everything `events` can change, then what those changes change in turn; returns the new events.

    A round refreshes the members the events touch (with the same-object tags that test them);
    the automatic tags it changes can change rules of other objects that test tags of related
    records, so their events start another round, until nothing changes (tag cycles are refused,
    so a chain is at most as long as the number of members).
    """
    plan = member_plan(snap)
    now = datetime.now(UTC)
    new: list[RecordEvent] = []
    work = affected(conn, snap, events)
    for _ in range(len(plan.members) + 1):
        if not work:
            break
        changed = refresh_after(conn, snap, work, tz, actor_id, now)
        new += changed
        work = affected(conn, snap, [e for e in changed if e.kind in TAG_EVENTS], related_only=True)
    return new


def refresh_members(conn: Connection, snap: Any, chosen: Sequence[Member], tz: str,
                    now: datetime | None = None, events: bool = False) -> list[dict[str, Any]]:
    """Refresh members set-based, with everything that tests a refreshed tag, in dependency order.

    Automatic tags always log their link changes (tag_added/tag_removed, set-based). With
    `events`, tracked segments also record who entered and left (segment_entered/segment_left):
    use it when time moved records in or out (scheduled recompute), not for definition changes.
    """
    plan = member_plan(snap)
    todo = {id(m) for m in chosen}
    for m in chosen:
        if m.kind == "tag":
            todo |= {id(d) for d in dependents(plan, m.object, [m.name], across=True)}
    now = now or datetime.now(UTC)
    out = []
    for m in plan.members:
        if id(m) not in todo:
            continue
        if events and m.kind == "segment":
            entered, left = refresh_all(conn, snap, m, now, tz, ids=True)
            append_events(conn, member_events([(m, entered, left)], now, None))
            added, removed = len(entered), len(left)
        else:
            added, removed = refresh_all(conn, snap, m, now, tz)
        out.append({m.kind: m.name, "object": m.object, "added": added, "removed": removed})
    return out


# --- wiring: the record listener and the metadata apply hook ----------------------------------

def make_listener(tz: str) -> Callable[[Connection, Any, list[RecordEvent]], None]:
    """Keeps automatic tags and tracked segments current inside every record write's transaction.

    Automatic tag changes and segment entries/exits become record events, appended to the write's
    event list so listeners wired after this one (workflows) see them.
    """
    def on_records_written(conn: Connection, snap: Any, events: list[RecordEvent]) -> None:
        if not member_plan(snap).members:
            return
        actor = next((e.actor_id for e in events if e.kind in RECORD_EVENTS), None)
        events.extend(maintain(conn, snap, events, tz, actor))
    return on_records_written


def _changed_fields(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> set[str] | None:
    """Fields whose declaration changed; None for a new object (everything is new)."""
    if old is None:
        return None
    before, after = old.get("properties", {}), new.get("properties", {})
    return {k for k in set(before) | set(after) if before.get(k) != after.get(k)}


def _reads_any(m: Member, changed: Mapping[str, set[str] | None]) -> bool:
    """Whether an object change can change the member's answer (a field it reads was redeclared)."""
    if m.object in changed and (changed[m.object] is None or changed[m.object] & m.reads.fields):
        return True
    for rel in [*m.reads.related, *m.reads.nested]:
        if rel.object in changed and (changed[rel.object] is None or changed[rel.object] & rel.fields):
            return True
    return False


def make_hook(tz: str) -> Callable[[Connection, Any, Any], None]:
    """After tags, tracked segments or objects change: recompute what they govern, set-based.

    A tracked segment is re-baselined without events (a definition change is not a record moving
    in or out); a tag that lost its rule keeps its links, now manual; an untracked segment's
    member rows are dropped.
    """
    def on_definitions_applied(conn: Connection, plan: Any, snap: Any) -> None:
        changed = {(c.kind, c.name) for c in plan.changes if c.changed}
        if not any(k in ("tag", "segment", "object") for k, _ in changed):
            return
        fields = {c.name: _changed_fields(c.old, c.new) for c in plan.changes if c.changed and c.kind == "object"}
        chosen = [m for m in member_plan(snap).members if (m.kind, m.name) in changed or _reads_any(m, fields)]
        refresh_members(conn, snap, chosen, tz)
        for c in plan.changes:
            if c.changed and c.old is not None and c.kind == "tag" and "rule" in c.old and "rule" not in c.new:
                conn.execute(update(tag_links).where(tag_links.c.tag == c.name).values(source="manual"))
            if c.changed and c.kind == "segment" and c.old is not None:
                stale = segment_members.c.segment == c.name
                if c.new.get("track"):
                    stale = and_(stale, segment_members.c.object != c.new["object"])
                conn.execute(delete(segment_members).where(stale))
    return on_definitions_applied
