"""Roll-up fields: kept right in the child write's transaction, rebuilt and verified set-based.

- count and sum: the parent's column moves by the change's delta (`SET x = x + :delta`), for an
  insert, an update in or out of the filter, a soft delete, a restore and a reparent (old parent
  minus, new plus).
- avg, min, max, count_distinct: the affected parents' values are recomputed from their children
  after their rows are locked (PostgreSQL: FOR NO KEY UPDATE, which a child's foreign-key check
  does not wait on), so two writers never store a stale max.
- Parents are locked and written in one order (table name, then id), so writers touching the
  same parents never deadlock. The parent's optimistic `version` is not bumped: editing an
  account does not 409 because a contact was added.
- `rebuild` recomputes one roll-up over all parents in id batches; `verify` compares stored values
  with a full recompute and fixes drift.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Table, and_, bindparam, case, cast, func, or_, select, update
from sqlalchemy.types import Numeric

from ..meta.formulas import Clock, object_formulas, result_type
from ..meta.objects import ObjectDef
from ..rules import EvalContext, matcher, to_sql
from .bulk import is_in
from .events import RecordEvent, append_events

BATCH = 5000
DELTA_AGGS = frozenset({"count", "sum"})


@dataclass(frozen=True)
class Rollup:
    """One roll-up field: `parent.name` = agg(`child.field`) over live children whose `via` points at it."""

    parent: str
    name: str
    child: str
    via: str
    agg: str
    field: str | None
    filter: Any
    declared: str
    scale: int
    link: str | None = None
    """Over a many-to-many relation (its name on the parent's side): `via` is unused."""

    @property
    def delta(self) -> bool:
        return self.agg in DELTA_AGGS

    @property
    def empty_value(self) -> Any:
        """The value with no children: 0 for count and sum, else missing."""
        if self.agg in ("count", "count_distinct"):
            return 0
        if self.agg == "sum":
            return Decimal(0).quantize(Decimal(1).scaleb(-self.scale)) if self.declared == "decimal" else 0
        return None


_CACHE: dict[int, tuple[Any, dict[str, list[Rollup]], dict[str, list[Rollup]]]] = {}


def _index(snap: Any) -> tuple[dict[str, list[Rollup]], dict[str, list[Rollup]]]:
    hit = _CACHE.get(id(snap))
    if hit is not None and hit[0] is snap:
        return hit[1], hit[2]
    by_child: dict[str, list[Rollup]] = {}
    by_parent: dict[str, list[Rollup]] = {}
    for obj in snap.objects.values():
        for name, f in obj.fields.items():
            if f.type.name != "rollup":
                continue
            spec = f.schema["x-rollup"]
            if spec.get("link"):
                from .links import sides_of

                found = sides_of(snap, obj.name).get(spec["link"])
                if found is None:  # the link's declaration was removed: the roll-up stands still
                    continue
                child = found.other_object
                r = Rollup(obj.name, name, child, "", spec["agg"], spec.get("field"), spec.get("filter"),
                           result_type(f.schema), int(f.schema.get("x-scale", 2)), spec["link"])
            else:
                r = Rollup(obj.name, name, spec["object"], spec["via"], spec["agg"], spec.get("field"),
                           spec.get("filter"), result_type(f.schema), int(f.schema.get("x-scale", 2)))
            by_child.setdefault(r.child, []).append(r)
            by_parent.setdefault(r.parent, []).append(r)
    if len(_CACHE) > 16:
        _CACHE.clear()
    _CACHE[id(snap)] = (snap, by_child, by_parent)
    return by_child, by_parent


def rollups_over(snap: Any, child: str) -> list[Rollup]:
    """Roll-ups whose children are records of `child`."""
    return _index(snap)[0].get(child, [])


def rollups_of(snap: Any, parent: str) -> list[Rollup]:
    """Roll-up fields of `parent`."""
    return _index(snap)[1].get(parent, [])


def find(snap: Any, parent: str, name: str) -> Rollup | None:
    return next((r for r in rollups_of(snap, parent) if r.name == name), None)


def initial_values(snap: Any, obj: ObjectDef) -> dict[str, Any]:
    """A new parent's roll-up values (it has no children yet)."""
    return {r.name: r.empty_value for r in rollups_of(snap, obj.name)}


# --- in the child write's transaction ------------------------------------------------------------

Change = tuple[Mapping[str, Any] | None, Mapping[str, Any] | None]
"""(row before or None for a create, row after): full stored rows with id and deleted_at."""


Notify = Callable[[list[RecordEvent]], None]
"""Hands the parents' `update` events (context source: rollup) to the record listeners."""


def child_written(conn: Connection, snap: Any, obj: ObjectDef, changes: Sequence[Change],
                  notify: Notify | None = None) -> None:
    """Apply a batch of child writes to every roll-up over `obj` (already written, same transaction)."""
    rollups = rollups_over(snap, obj.name)
    if not rollups or not changes:
        return
    plans: dict[str, _Plan] = {}
    ctx = EvalContext(obj.name, datetime.now(UTC), UTC, conn, snap.tables)
    for r in rollups:
        contributes = _contributes(snap, r, ctx)
        plan = plans.setdefault(r.parent, _Plan())
        if r.link is None:
            for before, after in changes:
                old = int(before[r.via]) if contributes(before) else None  # type: ignore[index]
                new = int(after[r.via]) if contributes(after) else None  # type: ignore[index]
                plan.move(r, old, new, before, after)
            continue
        linked = _linked_parents(conn, snap, r, [c[1]["id"] for c in changes if c[0] is not None and c[1] is not None])
        for before, after in changes:
            if before is None or after is None:  # a new record has no links yet
                continue
            was, now = contributes(before), contributes(after)
            for pid in linked.get(int(after["id"]), ()):
                plan.move(r, pid if was else None, pid if now else None, before, after)
    for parent in sorted(plans):
        _apply(conn, snap, parent, plans[parent], notify)


def _contributes(snap: Any, r: Rollup, ctx: EvalContext) -> Callable[[Mapping[str, Any] | None], bool]:
    """Whether a child row counts in the roll-up (live, linked by `via`, a value, in the filter)."""
    match = matcher(r.filter, r.child, snap) if r.filter is not None else None

    def check(row: Mapping[str, Any] | None) -> bool:
        if row is None or row.get("deleted_at") is not None or (r.link is None and row.get(r.via) is None):
            return False
        if r.field is not None and r.agg != "count" and row.get(r.field) is None:
            return False
        return match is None or bool(match(row, ctx))
    return check


def _linked_parents(conn: Connection, snap: Any, r: Rollup, child_ids: Sequence[int]) -> dict[int, list[int]]:
    if not child_ids:
        return {}
    from .links import side, table_of

    s = side(snap, r.parent, str(r.link))
    lt = table_of(snap, s.link)
    out: dict[int, list[int]] = {}
    for child, parent in conn.execute(select(lt.c[s.other], lt.c[s.mine]).where(
            is_in(lt.c[s.other], list(child_ids), conn.dialect.name))):
        out.setdefault(int(child), []).append(int(parent))
    return out


def links_changed(conn: Connection, snap: Any, link: Any, pairs_added: Sequence[tuple[int, int]],
                  pairs_removed: Sequence[tuple[int, int]], notify: Notify | None = None) -> None:
    """Links (a_id, b_id) of `link` were added or removed: roll-ups over it follow, same transaction."""
    from .links import side

    plans: dict[str, _Plan] = {}
    for parent_name, rs in sorted(_index(snap)[1].items()):
        for r in rs:
            if r.link is None:
                continue
            s = side(snap, r.parent, r.link)
            if s.link is not link and s.link.table_name != link.table_name:
                continue
            ctx = EvalContext(r.child, datetime.now(UTC), UTC, conn, snap.tables)
            contributes = _contributes(snap, r, ctx)
            mine = 0 if s.mine == "a_id" else 1
            wanted = {p[1 - mine] for p in (*pairs_added, *pairs_removed)}
            table = snap.tables[r.child]
            rows = {int(row.id): dict(row._mapping) for row in conn.execute(
                select(table).where(is_in(table.c.id, sorted(wanted), conn.dialect.name)))} if wanted else {}
            plan = plans.setdefault(parent_name, _Plan())
            for pairs, adding in ((pairs_added, True), (pairs_removed, False)):
                for pair in pairs:
                    row = rows.get(pair[1 - mine])
                    if row is None or not contributes(row):
                        continue
                    pid = pair[mine]
                    if adding:
                        plan.move(r, None, pid, None, row)
                    else:
                        plan.move(r, pid, None, row, None)
    for parent in sorted(plans):
        _apply(conn, snap, parent, plans[parent], notify)


class _Plan:
    """What one batch of child writes does to the parents of one object."""

    def __init__(self) -> None:
        self.deltas: dict[int, dict[str, Any]] = {}
        self.extremes: dict[int, dict[str, Any]] = {}
        self.recompute: dict[int, set[str]] = {}

    def move(self, r: Rollup, old: int | None, new: int | None, before: Mapping[str, Any] | None,
             after: Mapping[str, Any] | None) -> None:
        """One child's contribution moves from parent `old` to parent `new` (either None: none)."""
        if old is None and new is None:
            return
        if r.delta:
            def value(row: Mapping[str, Any] | None) -> Any:
                return 1 if r.agg == "count" else row[r.field]  # type: ignore[index]
            if old == new and value(before) == value(after):
                return
            if old is not None:
                self.add_delta(old, r.name, -value(before))
            if new is not None:
                self.add_delta(new, r.name, value(after))
            return
        if old == new and before is not None and after is not None and before.get(r.field) == after.get(r.field):
            return
        if old is not None:  # a value left this parent: only a recompute knows the new extreme
            self.recompute.setdefault(old, set()).add(r.name)
        if new is not None:
            if r.agg in ("min", "max"):  # a value arrived: the extreme moves only towards it
                self.extreme(new, r.name, after[r.field], r.agg)  # type: ignore[index]
            else:
                self.recompute.setdefault(new, set()).add(r.name)

    def add_delta(self, pid: int, name: str, delta: Any) -> None:
        cols = self.deltas.setdefault(pid, {})
        cols[name] = cols.get(name, 0) + delta

    def extreme(self, pid: int, name: str, value: Any, agg: str) -> None:
        cols = self.extremes.setdefault(pid, {})
        have = cols.get(name)
        cols[name] = value if have is None or (value > have if agg == "max" else value < have) else have


def _apply(conn: Connection, snap: Any, parent: str, plan: _Plan, notify: Notify | None = None) -> None:
    table = snap.tables[parent]
    for pid, names in plan.recompute.items():  # recomputed: the extreme of added values is in it
        for name in names:
            plan.extremes.get(pid, {}).pop(name, None)
    moved = {pid for pid, cols in plan.deltas.items() if any(v != 0 for v in cols.values())}
    moved |= {pid for pid, cols in plan.extremes.items() if cols}
    recompute = {pid for pid, names in plan.recompute.items() if names}
    ids = sorted(moved | recompute)
    if not ids:
        return
    # the values before, with the rows locked in id order (PostgreSQL: NO KEY UPDATE, which a child's
    # foreign-key check (KEY SHARE) does not wait on); a recompute statement then sees every
    # committed child, and the events below tell listeners what moved
    watched = _watched(snap, parent)
    read = select(table.c.id, *(table.c[n] for n in watched)).where(
        is_in(table.c.id, ids, conn.dialect.name)).order_by(table.c.id)
    if conn.dialect.name == "postgresql":
        read = read.with_for_update(key_share=True)
    before = {row.id: row._mapping for row in conn.execute(read)}
    if moved:
        stmt, delta_names, extreme_names = _move_statement(snap, parent)
        conn.execute(stmt, [{"_pid": pid, **{f"d_{n}": plan.deltas.get(pid, {}).get(n, 0) for n in delta_names},
                             **{f"e_{n}": plan.extremes.get(pid, {}).get(n) for n in extreme_names}}
                            for pid in sorted(moved)])
    by_name: dict[str, list[int]] = {}
    for pid in sorted(recompute):
        for name in plan.recompute[pid]:
            by_name.setdefault(name, []).append(pid)
    for name, pids in sorted(by_name.items()):
        conn.execute(_recompute_statement(snap, parent, name), [{"_pid": pid} for pid in pids])
    _refresh_dependent_formulas(conn, snap, parent, ids)
    _events(conn, snap, parent, watched, before, ids, notify)


def _watched(snap: Any, parent: str) -> list[str]:
    """The parent's columns a roll-up change can move: its roll-ups and stored formulas reading them."""
    names = [r.name for r in rollups_of(snap, parent)]
    obj = snap.objects[parent]
    names += [f.name for f in object_formulas(obj.doc["properties"]).stored if set(f.reads) & set(names)]
    return names


def _events(conn: Connection, snap: Any, parent: str, watched: list[str], before: Mapping[int, Any],
            ids: list[int], notify: Notify | None) -> None:
    """One `update` event per parent whose values moved (context source: rollup; version unchanged),
    in the event log and to the listeners (tags, segments, workflows follow roll-ups like fields)."""
    table = snap.tables[parent]
    obj = snap.objects[parent]
    now = datetime.now(UTC)
    events = []
    for row in conn.execute(select(table.c.id, *(table.c[n] for n in watched)).where(
            is_in(table.c.id, ids, conn.dialect.name)).order_by(table.c.id)):
        old = before.get(row.id)
        if old is None:
            continue
        moved = [n for n in watched if old[n] != row._mapping[n]]
        if moved:
            events.append(RecordEvent(parent, int(row.id), "update", {
                "before": {n: obj.fields[n].shown(old[n]) for n in moved},
                "after": {n: obj.fields[n].shown(row._mapping[n]) for n in moved}}, None, now, {"source": "rollup"}))
    if events:
        append_events(conn, events)
        if notify is not None:
            notify(events)


_STATEMENTS: dict[tuple[int, str, str], tuple[Any, Any]] = {}


def _cached(snap: Any, parent: str, key: str, build: Callable[[], Any]) -> Any:
    hit = _STATEMENTS.get((id(snap), parent, key))
    if hit is not None and hit[0] is snap:
        return hit[1]
    if len(_STATEMENTS) > 256:
        _STATEMENTS.clear()
    built = build()
    _STATEMENTS[(id(snap), parent, key)] = (snap, built)
    return built


def _move_statement(snap: Any, parent: str) -> tuple[Any, list[str], list[str]]:
    """UPDATE parent SET sums = sums + :d, extremes = the better of it and :e WHERE id = :_pid (built once)."""
    def build() -> tuple[Any, list[str], list[str]]:
        table = snap.tables[parent]
        values: dict[str, Any] = {}
        deltas, extremes = [], []
        for r in rollups_of(snap, parent):
            col = table.c[r.name]
            if r.delta:
                deltas.append(r.name)
                moved = func.coalesce(col, 0) + bindparam(f"d_{r.name}", type_=col.type)
                values[r.name] = func.round(moved, r.scale) if r.declared == "decimal" else moved
            elif r.agg in ("min", "max"):
                extremes.append(r.name)
                v = bindparam(f"e_{r.name}", type_=col.type)
                better = col < v if r.agg == "max" else col > v
                values[r.name] = case((cast(v, col.type).is_(None), col), (or_(col.is_(None), better), v), else_=col)
        stmt = update(table).where(table.c.id == bindparam("_pid")).values(values)
        return stmt, deltas, extremes
    return _cached(snap, parent, "move", build)  # type: ignore[no-any-return]


def _recompute_statement(snap: Any, parent: str, name: str) -> Any:
    def build() -> Any:
        table = snap.tables[parent]
        r = next(x for x in rollups_of(snap, parent) if x.name == name)
        fresh = _aggregate(snap, r, table.c.id, table).scalar_subquery()
        return update(table).where(table.c.id == bindparam("_pid")).values({name: fresh})
    return _cached(snap, parent, "recompute:" + name, build)


def _aggregate(snap: Any, r: Rollup, anchor: Any, parent_table: Table | None = None) -> Any:
    """SELECT agg(...) FROM child WHERE via = anchor AND live AND filter (correlated when anchored)."""
    child = snap.tables[r.child].alias("rollup_child")
    source: Any = child
    if r.link is not None:
        from .links import side, table_of

        s = side(snap, r.parent, r.link)
        lt = table_of(snap, s.link).alias("rollup_link")
        source = child.join(lt, lt.c[s.other] == child.c.id)
        conds: list[Any] = [lt.c[s.mine] == anchor, child.c.deleted_at.is_(None)]
    else:
        conds = [child.c[r.via] == anchor, child.c.deleted_at.is_(None)]
    if r.filter is not None:
        conds.append(to_sql(r.filter, r.child, snap, table=child))
    col = child.c[r.field] if r.field is not None else None
    value: Any
    if r.agg == "count":
        value = func.count()
    elif r.agg == "count_distinct":
        value = func.count(col.distinct())  # type: ignore[union-attr]
    elif r.agg == "sum":
        value = func.coalesce(func.sum(col), 0)
    elif r.agg == "avg":
        value = func.avg(cast(col, Numeric()))
    else:
        value = getattr(func, r.agg)(col, type_=col.type)  # type: ignore[union-attr]
    if r.declared == "decimal" and r.agg in ("sum", "avg", "min", "max"):
        value = func.round(cast(value, Numeric()), r.scale)
    query = select(value).select_from(source).where(and_(*conds))
    if parent_table is not None:
        query = query.correlate(parent_table)
    return query


def _refresh_dependent_formulas(conn: Connection, snap: Any, parent: str, ids: list[int]) -> None:
    """Stored formulas of the parent that read a roll-up follow it (computed like any write)."""
    obj = snap.objects[parent]
    names = {r.name for r in rollups_of(snap, parent)}
    stored = [f for f in object_formulas(obj.doc["properties"]).stored]
    if not any(set(f.reads) & names for f in stored):
        return
    from .computed import compute_stored

    table = snap.tables[parent]
    clock = Clock(datetime.now(UTC))
    for r in conn.execute(select(table).where(is_in(table.c.id, ids, conn.dialect.name))):
        row = dict(r._mapping)
        values, _ = compute_stored(obj, row, clock, _CTX)
        diff = {k: v for k, v in values.items() if r._mapping[k] != v}
        if diff:
            conn.execute(update(table).where(table.c.id == r.id).values(**diff))


def _ctx() -> Any:
    from ..meta.fields import CoerceContext

    return CoerceContext()


_CTX = _ctx()


# --- rebuild and verify --------------------------------------------------------------------------

def recompute_query(snap: Any, r: Rollup, ids: Iterable[int] | None = None) -> Any:
    """SELECT id, stored, recomputed FROM parent (for verify)."""
    table = snap.tables[r.parent]
    fresh = _aggregate(snap, r, table.c.id, table).scalar_subquery()
    query = select(table.c.id, table.c[r.name], fresh.label("fresh"))
    if ids is not None:
        query = query.where(table.c.id.in_(list(ids)))
    return query


def rebuild(conn_factory: Callable[[], Any], snap: Any, r: Rollup,
            progress: Callable[[int, int], None] | None = None, batch: int = BATCH) -> int:
    """Recompute one roll-up for every parent, one transaction per id batch; returns parents done.

    `conn_factory()` gives a transaction context (engine.begin), so a rebuild over millions of
    rows never holds one long transaction; each batch is one set-based UPDATE.
    """
    table = snap.tables[r.parent]
    with conn_factory() as conn:
        top = conn.execute(select(func.max(table.c.id))).scalar() or 0
        total = conn.execute(select(func.count()).select_from(table)).scalar_one()
    done, low = 0, 0
    fresh = _aggregate(snap, r, table.c.id, table).scalar_subquery()
    while low < top:
        high = low + batch
        with conn_factory() as conn:
            result = conn.execute(update(table).where(table.c.id > low, table.c.id <= high)
                                  .values({r.name: fresh}))
            done += int(result.rowcount or 0)
        low = high
        if progress is not None:
            progress(done, int(total))
    with conn_factory() as conn:
        ids = [row.id for row in conn.execute(select(table.c.id))] if _has_formulas_on(snap, r) else []
        for start in range(0, len(ids), batch):
            _refresh_dependent_formulas(conn, snap, r.parent, ids[start:start + batch])
    return done


def _has_formulas_on(snap: Any, r: Rollup) -> bool:
    obj = snap.objects[r.parent]
    return any(r.name in f.reads for f in object_formulas(obj.doc["properties"]).stored)


def verify(conn: Connection, snap: Any, r: Rollup, fix: bool = True) -> list[tuple[int, Any, Any]]:
    """Parents whose stored value differs from a full recompute: (id, stored, recomputed); fixed when asked."""
    table = snap.tables[r.parent]
    col_type = table.c[r.name].type
    drift = []
    for row in conn.execute(recompute_query(snap, r)):
        fresh = col_type.python_type(row.fresh) if row.fresh is not None and r.declared == "integer" else row.fresh
        if r.declared == "decimal" and fresh is not None:
            fresh = Decimal(str(fresh)).quantize(Decimal(1).scaleb(-r.scale))
        stored = row[1]
        if stored != fresh and not (stored is None and fresh is None):
            drift.append((int(row.id), stored, fresh))
    if fix and drift:
        for rid, _, _ in drift:
            conn.execute(update(table).where(table.c.id == rid)
                         .values({r.name: _aggregate(snap, r, table.c.id, table).scalar_subquery()}))
    return drift
