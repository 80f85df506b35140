"""Assignment rules (kind `assignment`): who gets a record, decided in the record's transaction.

An assignment definition is an ordered list of entries; the first entry whose `when` rule holds
for the record serves it with its strategy:

- `round_robin` over the entry's users/team; `weighted` (smooth weighted round robin, so a
  weight-3 user gets 3 of every W turns spread out, not in a row); `territory` (the first
  territory whose rule holds picks a group, round robin inside it); `least_loaded` (the fewest
  live records of the object, read from per-user load counters that record events move);
  `by_field` (the user a relation field of the record names).
- `capacity` per user per day and per month, `availability` (working days, out of office): who
  is full or away is skipped (and `explain` says why); when nobody is left, `fallback` users or
  a lead pool (the record stays unowned there).

Every turn is a limits-ledger counter (store/limits.py) moved in the caller's transaction: a
bulk insert of n records takes n turns with one statement and spreads them; a rolled-back create
gives its turns back. The cursor row's lock also serialises least_loaded picks of one entry, so
two concurrent creates never both pick the same least-loaded user from a stale read.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, select

from ..auth.tables import team_members, teams
from ..errors import Conflict, DefinitionError, NotFound, Problem
from ..meta.kinds import DefinitionSet, Kind, register_kind
from ..rules import EvalContext, matcher, rule_reads, validate_rule
from ..store import limits
from ..store.definitions import Plan, Snapshot
from ..store.events import RecordEvent
from ..store.system import users

CURSOR = "assign:cursor:"
CAPACITY = "assign:cap:"
LOAD = "assign:load:"


# --- the definition kind ----------------------------------------------------------------------

def _rule_problems(rule: Any, obj: str, defs: DefinitionSet, at: str) -> Iterator[Problem]:
    for p in validate_rule(rule, obj, defs):
        yield Problem(at + ("" if p.field == "/" else p.field), p.code, p.message)


def _entry_problems(entry: Mapping[str, Any], at: str, obj: str, defs: DefinitionSet) -> Iterator[Problem]:
    strategy = entry["strategy"]
    props = defs.get("object", obj)["properties"]  # type: ignore[index]
    if "when" in entry:
        yield from _rule_problems(entry["when"], obj, defs, f"{at}/when")
    if strategy in ("round_robin", "least_loaded") and not (entry.get("users") or entry.get("team")):
        yield Problem(at, "no_users", f"{strategy} needs users or a team")
    if strategy == "weighted":
        weights = entry.get("weights") or {}
        if not weights:
            yield Problem(f"{at}/weights", "required", "weighted needs weights {username: weight}")
        for user, weight in weights.items():
            if weight <= 0:
                yield Problem(f"{at}/weights/{user}", "invalid_weight", f"the weight of {user} must be above 0")
    if strategy == "territory":
        territories = entry.get("territories") or []
        if not territories:
            yield Problem(f"{at}/territories", "required", "territory needs territories")
        for i, t in enumerate(territories):
            yield from _rule_problems(t["when"], obj, defs, f"{at}/territories/{i}/when")
            if not (t.get("users") or t.get("team")):
                yield Problem(f"{at}/territories/{i}", "no_users", "a territory needs users or a team")
    if strategy == "by_field":
        name = entry.get("field")
        spec = props.get(name) if name else None
        if spec is None:
            yield Problem(f"{at}/field", "unknown_field", f"by_field needs a user relation field of {obj}")
        elif spec.get("x-field") != "relation" or spec.get("x-target") != "user":
            yield Problem(f"{at}/field", "wrong_type", f"'{name}' must be a relation to user")


def check_assignment(doc: Mapping[str, Any], defs: DefinitionSet) -> Iterator[Problem]:
    if defs.get("object", doc["object"]) is None:
        yield Problem("/object", "unknown_object", f"no object named '{doc['object']}'")
        return
    for i, entry in enumerate(doc["entries"]):
        yield from _entry_problems(entry, f"/entries/{i}", doc["object"], defs)
    if doc.get("on_create", True):
        for name, other in defs.items("assignment"):
            if name != doc["name"] and other.get("object") == doc["object"] and other.get("on_create", True):
                yield Problem("/on_create", "ambiguous",
                              f"assignment '{name}' already assigns new {doc['object']} records; set on_create false")
    for i, entry in enumerate(doc["entries"]):
        pool = (entry.get("fallback") or {}).get("pool")
        if pool and defs.get("lead_pool", pool) is None and "lead_pool" in defs.kinds():
            yield Problem(f"/entries/{i}/fallback/pool", "unknown_pool", f"no lead pool named '{pool}'")


register_kind(Kind("assignment", "assignments", check=check_assignment, refers_to=("object", "tag")))


def _usernames(doc: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    for i, e in enumerate(doc["entries"]):
        at = f"/entries/{i}"
        for n in e.get("users", ()):
            yield f"{at}/users", n
        for n in e.get("weights", {}):
            yield f"{at}/weights/{n}", n
        for j, t in enumerate(e.get("territories", ())):
            for n in t.get("users", ()):
                yield f"{at}/territories/{j}/users", n
        for n in (e.get("fallback") or {}).get("users", ()):
            yield f"{at}/fallback/users", n
        for ooo in (e.get("availability") or {}).get("out_of_office", ()):
            yield f"{at}/availability/out_of_office", ooo["user"]


def check_people(conn: Connection, plan: Plan, snapshot: Snapshot) -> None:
    """Apply hook: every user an assignment names exists and is active (422 naming the place otherwise).

    Teams are not required to exist yet: a pack ships routing by team before the teams are made,
    and an empty or missing team is "nobody", which the entry's fallback handles (explain shows it).
    """
    problems = []
    for change in plan.changes:
        if change.kind != "assignment" or change.new is None or not change.changed:
            continue
        names = list(_usernames(change.new))
        found = set(conn.execute(select(users.c.username).where(
            users.c.username.in_({n for _, n in names}), users.c.active.is_(True))).scalars()) if names else set()
        problems += [Problem(f"assignment/{change.name}#{at}", "unknown_user", f"no active user named '{n}'")
                     for at, n in names if n not in found]
    if problems:
        raise DefinitionError(f"{len(problems)} problem(s) in the definitions", problems)


# --- deciding ---------------------------------------------------------------------------------

@dataclass
class Decision:
    """Who gets one record, and why (what `explain` shows)."""

    entry: int | None = None
    entry_name: str | None = None
    strategy: str | None = None
    territory: str | None = None
    owner_id: int | None = None
    position: int | None = None
    skipped: list[dict[str, Any]] = field(default_factory=list)
    fallback: str | None = None  # users | team | pool
    pool: str | None = None

    def to_dict(self, names: Mapping[int, str]) -> dict[str, Any]:
        return {"entry": self.entry, "entry_name": self.entry_name, "strategy": self.strategy,
                "territory": self.territory, "position": self.position,
                "owner": None if self.owner_id is None else {"id": self.owner_id,
                                                             "username": names.get(self.owner_id)},
                "skipped": [{**s, "username": names.get(s["user_id"])} for s in self.skipped],
                "fallback": self.fallback, "pool": self.pool}


class _People:
    """User ids of usernames and teams, looked up once per call."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._teams: dict[str, list[int]] = {}
        self._names: dict[str, int] = {}

    def ids(self, spec: Mapping[str, Any]) -> list[int]:
        out: list[int] = []
        wanted = [n for n in spec.get("users", ()) if n not in self._names]
        if wanted:
            rows = self.conn.execute(select(users.c.username, users.c.id).where(
                users.c.username.in_(wanted), users.c.active.is_(True)))
            self._names.update({n: int(i) for n, i in rows})
        out += [self._names[n] for n in spec.get("users", ()) if n in self._names]
        team = spec.get("team")
        if team:
            if team not in self._teams:
                self._teams[team] = [int(u) for u in self.conn.execute(
                    select(team_members.c.user_id).join(teams, teams.c.id == team_members.c.team_id)
                    .join(users, users.c.id == team_members.c.user_id)
                    .where(teams.c.name == team, users.c.active.is_(True)).order_by(team_members.c.user_id)
                ).scalars()]
            out += [u for u in self._teams[team] if u not in out]
        return out

    def preload(self, doc: Mapping[str, Any]) -> None:
        """Every username the definition names, in one query (a bulk create serves several groups)."""
        names: set[str] = set()
        for entry in doc["entries"]:
            for spec in [entry, entry.get("fallback") or {}, *entry.get("territories", ())]:
                names.update(spec.get("users", ()))
            names.update(entry.get("weights", {}))
            names.update(o["user"] for o in (entry.get("availability") or {}).get("out_of_office", ()))
        self.ids({"users": sorted(names)})

    def id_of(self, name: str) -> int | None:
        if name not in self._names:
            self.ids({"users": [name]})
        return self._names.get(name)


def smooth_weighted(weights: Sequence[tuple[int, int]]) -> list[int]:
    """One cycle of smooth weighted round robin (nginx): each id weight times, spread out."""
    total = sum(w for _, w in weights)
    current = {uid: 0 for uid, _ in weights}
    out = []
    for _ in range(total):
        for uid, w in weights:
            current[uid] += w
        best = max(weights, key=lambda t: (current[t[0]], -weights.index(t)))[0]
        current[best] -= total
        out.append(best)
    return out


@dataclass
class _Context:
    conn: Connection
    snap: Snapshot
    doc: Mapping[str, Any]
    now: datetime
    tz: str
    take: bool
    people: _People
    matchers: dict[int, Any] = field(default_factory=dict)
    cursors: dict[str, range] = field(default_factory=dict)
    """Cursor turns taken ahead for every group of a bulk create, in one statement."""
    _eval: EvalContext | None = None

    def holds(self, rule: Any, row: Mapping[str, Any]) -> bool:
        """The rule on one record, with its matcher and context built once per call (bulk creates test many rows)."""
        fn = self.matchers.get(id(rule))
        if fn is None:
            fn = self.matchers[id(rule)] = matcher(rule, self.doc["object"], self.snap)
        if self._eval is None:
            self._eval = EvalContext(self.doc["object"], self.now, ZoneInfo(self.tz), self.conn, self.snap.tables)
        return bool(fn(row, self._eval))

    @property
    def today(self) -> date:
        return self.now.astimezone(ZoneInfo(self.tz)).date()


def _cursor(ctx: _Context, key: str, n: int) -> range:
    """n turns of a cursor: taken (moved in the transaction) or, for explain, only looked at."""
    taken = ctx.cursors.pop(key, None)
    if taken is not None and len(taken) == n:
        return taken
    if ctx.take:
        return limits.next_positions(ctx.conn, key, n)
    row = limits.counter(ctx.conn, key)
    start = int(row["used"]) if row else 0
    return range(start, start + n)


def _capacity_keys(ctx: _Context, entry: Mapping[str, Any], uid: int) -> list[limits.Move]:
    cap = entry.get("capacity") or {}
    moves = []
    for period, limit in (("day", cap.get("per_day")), ("month", cap.get("per_month"))):
        if limit:
            key, resets = limits.period_key(period, ctx.now, ctx.tz)
            moves.append(limits.Move(f"{CAPACITY}{ctx.doc['name']}:{uid}:{period}", 1, key, int(limit),
                                     label=f"assignment capacity per {period}", resets_at=resets))
    return moves


def _room(ctx: _Context, entry: Mapping[str, Any], uids: Sequence[int]) -> dict[int, int | None]:
    """How many more records each user may get today/this month (None: no capacity set)."""
    room: dict[int, int | None] = {u: None for u in uids}
    moves = [(u, move) for u in uids for move in _capacity_keys(ctx, entry, u)]
    rows = limits.counters_of(ctx.conn, [(move.key, move.period_key) for _, move in moves])  # one read per entry
    for u, move in moves:
        row = rows.get((move.key, move.period_key))
        left = int(move.cap or 0) - (int(row["used"]) + int(row["reserved"]) if row else 0)
        current = room[u]
        room[u] = left if current is None else min(current, left)
    return room


def _available(ctx: _Context, entry: Mapping[str, Any], uids: Sequence[int], skipped: list[dict[str, Any]]
               ) -> list[int]:
    avail = entry.get("availability") or {}
    days = avail.get("working_days")
    if days and ctx.today.isoweekday() not in days:
        skipped += [{"user_id": u, "reason": "not_a_working_day"} for u in uids]
        return []
    away = set()
    for ooo in avail.get("out_of_office", ()):
        if date.fromisoformat(ooo["from"]) <= ctx.today <= date.fromisoformat(ooo["to"]):
            uid = ctx.people.id_of(ooo["user"])
            if uid is not None:
                away.add(uid)
    skipped += [{"user_id": u, "reason": "out_of_office"} for u in uids if u in away]
    return [u for u in uids if u not in away]


def _entry_for(ctx: _Context, row: Mapping[str, Any]) -> int | None:
    for i, entry in enumerate(ctx.doc["entries"]):
        if "when" not in entry or ctx.holds(entry["when"], row):
            return i
    return None


def _territory_for(ctx: _Context, entry: Mapping[str, Any], row: Mapping[str, Any]) -> int | None:
    for i, t in enumerate(entry.get("territories", ())):
        if ctx.holds(t["when"], row):
            return i
    return None


def load_key(object_name: str, uid: int) -> str:
    return f"{LOAD}{object_name}:{uid}"


def _cursor_key(ctx: _Context, e: int, t: int | None, suffix: str = "") -> str:
    entry = ctx.doc["entries"][e]
    key = f"{CURSOR}{ctx.doc['name']}:{entry.get('name') or e}"
    if t is not None:
        key += f":{entry['territories'][t]['name']}"
    return key + suffix


def _pick_in_turn(seq: Sequence[int], pos: int, room: dict[int, int | None]) -> int | None:
    for step in range(len(seq)):
        uid = seq[(pos + step) % len(seq)]
        if room.get(uid) is None or (room[uid] or 0) > 0:
            return uid
    return None


def _serve(ctx: _Context, e: int, t: int | None, idxs: list[int], rows: Sequence[Mapping[str, Any]],
           decisions: list[Decision], needs_fallback: list[int]) -> None:
    entry = ctx.doc["entries"][e]
    strategy = entry["strategy"]
    skipped: list[dict[str, Any]] = []
    if strategy == "by_field":
        for i in idxs:
            uid = rows[i].get(entry["field"])
            cands = _available(ctx, entry, [int(uid)], skipped := []) if uid is not None else []
            room = _room(ctx, entry, cands)
            if cands and (room[cands[0]] is None or (room[cands[0]] or 0) > 0):
                decisions[i].owner_id = cands[0]
            else:
                if cands:
                    skipped.append({"user_id": cands[0], "reason": "capacity_reached"})
                needs_fallback.append(i)
            decisions[i].skipped = skipped
        return
    spec = entry["territories"][t] if t is not None else entry
    if strategy == "weighted":
        ids = ctx.people.ids({"users": list(entry["weights"])})
        weight_of = {ctx.people.id_of(n): w for n, w in entry["weights"].items()}
    else:
        ids = ctx.people.ids(spec)
    uids = _available(ctx, entry, ids, skipped)
    room = _room(ctx, entry, uids)
    skipped += [{"user_id": u, "reason": "capacity_reached"} for u in uids if room[u] is not None and room[u] <= 0]
    cands = [u for u in uids if room[u] is None or room[u] > 0]
    positions = _cursor(ctx, _cursor_key(ctx, e, t), len(idxs))  # also serialises this entry's picks
    seq = smooth_weighted([(u, int(weight_of[u])) for u in cands]) if strategy == "weighted" else cands
    loads = limits.usage(ctx.conn, [load_key(ctx.doc["object"], u) for u in cands]) if strategy == "least_loaded" \
        else {}
    for k, i in enumerate(idxs):
        d = decisions[i]
        d.skipped = list(skipped)
        d.position = positions[k]
        if strategy == "least_loaded":
            open_ = [u for u in cands if room[u] is None or (room[u] or 0) > 0]
            pick = min(open_, key=lambda u: (loads[load_key(ctx.doc["object"], u)], cands.index(u))) if open_ else None
            if pick is not None:
                loads[load_key(ctx.doc["object"], pick)] += 1
        else:
            pick = _pick_in_turn(seq, positions[k], room)
        if pick is None:
            needs_fallback.append(i)
            continue
        if room[pick] is not None:
            room[pick] = (room[pick] or 0) - 1
        d.owner_id = pick


def _fallback(ctx: _Context, idxs: list[int], decisions: list[Decision]) -> None:
    by_entry: dict[int, list[int]] = {}
    for i in idxs:
        entry_index = decisions[i].entry
        if entry_index is not None:
            by_entry.setdefault(entry_index, []).append(i)
    for e, group in by_entry.items():
        spec = ctx.doc["entries"][e].get("fallback") or {}
        if spec.get("pool"):
            for i in group:
                decisions[i].fallback, decisions[i].pool = "pool", spec["pool"]
            continue
        ids = ctx.people.ids(spec) if spec else []
        if not ids:
            continue
        positions = _cursor(ctx, _cursor_key(ctx, e, None, ":fallback"), len(group))
        for k, i in enumerate(group):
            decisions[i].fallback = "users" if spec.get("users") else "team"
            decisions[i].owner_id = ids[positions[k] % len(ids)]


def _take_capacity(ctx: _Context, decisions: Sequence[Decision]) -> None:
    counts: dict[tuple[int, int], int] = {}
    for d in decisions:
        if d.owner_id is not None and d.entry is not None and d.fallback is None:
            counts[(d.entry, d.owner_id)] = counts.get((d.entry, d.owner_id), 0) + 1
    moves = []
    for (e, uid), qty in counts.items():
        for move in _capacity_keys(ctx, ctx.doc["entries"][e], uid):
            moves.append(limits.Move(move.key, qty, move.period_key, move.cap, label=move.label,
                                     resets_at=move.resets_at))
    if moves:
        limits.take_many(ctx.conn, moves, ref=f"assignment:{ctx.doc['name']}")


def decide(conn: Connection, snap: Snapshot, doc: Mapping[str, Any], rows: Sequence[Mapping[str, Any]], *,
           now: datetime | None = None, tz: str = "UTC", take: bool = True) -> list[Decision]:
    """Owners for records (as the API shows them). With take, turns and capacities move in `conn`'s transaction."""
    ctx = _Context(conn, snap, doc, now or datetime.now(UTC), tz, take, _People(conn))
    decisions = [Decision() for _ in rows]
    groups: dict[tuple[int, int | None], list[int]] = {}
    needs_fallback: list[int] = []
    for i, row in enumerate(rows):
        e = _entry_for(ctx, row)
        if e is None:
            continue
        entry = doc["entries"][e]
        d = decisions[i]
        d.entry, d.entry_name, d.strategy = e, entry.get("name"), entry["strategy"]
        t = _territory_for(ctx, entry, row) if entry["strategy"] == "territory" else None
        if entry["strategy"] == "territory":
            if t is None:
                needs_fallback.append(i)
                continue
            d.territory = entry["territories"][t]["name"]
        groups.setdefault((e, t), []).append(i)
    ordered = sorted(groups.items(), key=lambda kv: (kv[0][0], -1 if kv[0][1] is None else kv[0][1]))
    if take:
        ctx.people.preload(doc)
        ctx.cursors = limits.next_positions_many(conn, {
            _cursor_key(ctx, e, t): len(idxs) for (e, t), idxs in ordered if doc["entries"][e]["strategy"] != "by_field"})
    for (e, t), idxs in ordered:
        _serve(ctx, e, t, idxs, rows, decisions, needs_fallback)
    if needs_fallback:
        _fallback(ctx, sorted(needs_fallback), decisions)
    if take:
        _take_capacity(ctx, decisions)
    return decisions


def definition(snap: Snapshot, name: str) -> dict[str, Any]:
    doc = snap.definitions.get("assignment", name)
    if doc is None:
        raise NotFound(f"no assignment named '{name[:64]}'", [Problem("assignment", "not_found", name[:64])])
    return doc


def on_create_rule(snap: Snapshot, object_name: str) -> dict[str, Any] | None:
    for _, doc in sorted(snap.definitions.items("assignment")):
        if doc["object"] == object_name and doc.get("on_create", True):
            return doc
    return None


def shown_row(obj: Any, stored: Mapping[str, Any], record_id: int | None = None,
              names: Sequence[str] | None = None) -> dict[str, Any]:
    """The record as rules read it; with `names`, only those fields (a bulk create shows each row once)."""
    if names is None:
        row = obj.shown({n: stored.get(n) for n in obj.fields})
    else:
        row = {n: obj.fields[n].shown(stored.get(n)) for n in names}
    row["id"], row["owner_id"] = record_id, stored.get("owner_id")
    return row


def _read_fields(snap: Snapshot, doc: Mapping[str, Any], obj: Any) -> list[str] | None:
    """The fields the definition's rules read, or None (all) when a rule reads tags or related records."""
    out: set[str] = set()
    for entry in doc["entries"]:
        if entry.get("field"):
            out.add(entry["field"])
        for rule in [entry.get("when"), *(t.get("when") for t in entry.get("territories", ()))]:
            if rule is None:
                continue
            reads = rule_reads(rule, doc["object"], snap)
            if reads.tags or reads.related or reads.nested:
                return None
            out |= reads.fields
    return sorted(n for n in out if n in obj.fields)


def make_guard(tz: str = "UTC") -> Any:
    """Before-write check: new records without an owner get one from their object's on_create rule."""

    def guard(conn: Connection, snap: Snapshot, obj: Any,
              pairs: list[tuple[Mapping[str, Any] | None, dict[str, Any]]], actor_id: int | None
              ) -> dict[int, list[Problem]]:
        doc = on_create_rule(snap, obj.name)
        if doc is None:
            return {}
        todo = [stored for current, stored in pairs if current is None and stored.get("owner_id") is None]
        if todo:
            names = _read_fields(snap, doc, obj)
            shown = [shown_row(obj, s, names=names) for s in todo]
            for stored, d in zip(todo, decide(conn, snap, doc, shown, tz=tz), strict=True):
                if d.owner_id is not None:
                    stored["owner_id"] = d.owner_id
        return {}

    return guard


# --- load counters ----------------------------------------------------------------------------

def _loaded_objects(snap: Snapshot) -> set[str]:
    return {doc["object"] for _, doc in snap.definitions.items("assignment")
            if any(e["strategy"] == "least_loaded" for e in doc["entries"])}


def on_record_events(conn: Connection, snap: Snapshot, events: list[RecordEvent]) -> None:
    """Move per-user load counters (live records owned) for objects some least_loaded entry reads."""
    wanted = _loaded_objects(snap)
    if not wanted:
        return
    deltas: dict[tuple[str, int], int] = {}
    owners_needed: dict[str, list[int]] = {}

    def add(obj: str, uid: Any, qty: int) -> None:
        if uid is not None:
            deltas[(obj, int(uid))] = deltas.get((obj, int(uid)), 0) + qty

    for e in events:
        if e.object not in wanted:
            continue
        before, after = e.changes.get("before", {}), e.changes.get("after", {})
        if e.kind == "create":
            add(e.object, after.get("owner_id"), 1)
        elif e.kind == "update" and "owner_id" in after:
            add(e.object, before.get("owner_id"), -1)
            add(e.object, after.get("owner_id"), 1)
        elif e.kind in ("delete", "restore"):
            owners_needed.setdefault(e.object, []).append(e.record_id if e.kind == "delete" else -e.record_id)
    for obj_name, ids in owners_needed.items():
        table = snap.tables[obj_name]
        owner = dict(conn.execute(select(table.c.id, table.c.owner_id).where(table.c.id.in_([abs(i) for i in ids]))
                                  ).all())
        for i in ids:
            add(obj_name, owner.get(abs(i)), -1 if i > 0 else 1)
    for (obj_name, uid), qty in sorted(deltas.items()):  # the fixed lock order
        if qty > 0:
            limits.take(conn, load_key(obj_name, uid), qty)
        elif qty < 0:
            with suppress(Conflict):  # the counter drifted below the truth; verify_loads sets it right
                limits.reverse(conn, load_key(obj_name, uid), -qty)


def verify_loads(conn: Connection, snap: Snapshot, fix: bool = True) -> list[dict[str, Any]]:
    """Compare load counters with live records per owner; with fix, move them (through the ledger) to the truth."""
    drift = []
    for obj_name in sorted(_loaded_objects(snap)):
        table = snap.tables[obj_name]
        actual = {int(o): int(n) for o, n in conn.execute(
            select(table.c.owner_id, func.count()).where(table.c.deleted_at.is_(None), table.c.owner_id.is_not(None))
            .group_by(table.c.owner_id))}
        c = limits.counters.c
        prefix = f"{LOAD}{obj_name}:"
        counted = {int(k[len(prefix):]): int(u) for k, u in conn.execute(
            select(c.key, c.used).where(c.key.startswith(prefix, autoescape=True), c.period_key == ""))}
        for uid in sorted(set(actual) | set(counted)):
            have, want = counted.get(uid, 0), actual.get(uid, 0)
            if have == want:
                continue
            drift.append({"object": obj_name, "user_id": uid, "counter": have, "actual": want})
            if fix and want > have:
                limits.take(conn, load_key(obj_name, uid), want - have, ref="verify_loads")
            elif fix:
                limits.reverse(conn, load_key(obj_name, uid), have - want, ref="verify_loads")
    return drift
