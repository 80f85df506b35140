"""Assignment: who owns a record. The `assign_owner` workflow step.

With `assignment: <name>` the step asks that assignment definition (engines/routing.py: entries,
strategies, capacities, availability, fallback), exactly as record creates and imports do.
Without it the step's own inline settings choose, in one of three ways:

- `round_robin`: the next person of the pool, in turn (a limits-ledger cursor per workflow step,
  moved in the step's transaction by one conditional upsert, so concurrent workers never hand
  out the same turn twice and two first turns cannot collide on inserting the counter row);
- `least_open`: the person of the pool with the fewest live records of the object (optionally
  only those matching `open_rule`, e.g. status not converted), ties to the earliest in the pool;
- `routes`: the first route whose rule holds for the record picks the pool (a team or users)
  and its own strategy; `otherwise` is the pool when none holds.
A pool is `users` (usernames) and/or `team` (a team's members), active users only, by user id.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, func, select

from ..auth.tables import team_members, teams
from ..errors import MetaCRMError, Problem
from ..flows.conditions import rule_matches, rule_problems
from ..flows.recipients import user_ids_by_name
from ..flows.steps import CheckContext, Doc, StepContext, StepFailed, StepResult, StepType, register_step
from ..store import limits
from ..store.system import users
from . import routing

POOL = {
    "users": {"type": "array", "items": {"type": "string"}, "minItems": 1, "uniqueItems": True},
    "team": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,63}$"},
    "strategy": {"enum": ["round_robin", "least_open"]},
}
SCHEMA = {
    "type": "object",
    "anyOf": [{"required": ["users"]}, {"required": ["team"]}, {"required": ["routes"]}, {"required": ["assignment"]}],
    "properties": {
        **POOL,
        "assignment": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,47}$",
                       "description": "An assignment definition deciding the owner (instead of the inline pool)."},
        "open_rule": {"type": "object"},
        "only_if_unowned": {"type": "boolean"},
        "if_nobody": {"enum": ["fail", "skip"], "description": "When the pool has no active user (default: fail)."},
        "routes": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["when"], "anyOf": [{"required": ["users"]}, {"required": ["team"]}],
            "properties": {"when": {"type": "object"}, **POOL}, "additionalProperties": False}},
        "otherwise": {"type": "object", "anyOf": [{"required": ["users"]}, {"required": ["team"]}],
                      "properties": POOL, "additionalProperties": False},
    },
}


def pool_ids(conn: Connection, pool: Mapping[str, Any]) -> list[int]:
    """Active user ids of a pool, in a stable order (users as listed, then team members by id)."""
    ids: list[int] = []
    if pool.get("users"):
        found = user_ids_by_name(conn, list(pool["users"]))
        ids += [found[n] for n in pool["users"] if n in found]
    if pool.get("team"):
        members = conn.execute(
            select(team_members.c.user_id).join(teams, teams.c.id == team_members.c.team_id)
            .join(users, users.c.id == team_members.c.user_id)
            .where(teams.c.name == pool["team"], users.c.active.is_(True)).order_by(team_members.c.user_id))
        ids += [int(u) for u in members.scalars() if int(u) not in ids]
    return ids


def next_in_turn(conn: Connection, key: str, candidates: Sequence[int]) -> int:
    """Round robin: the next turn of a limits-ledger cursor (one conditional upsert)."""
    turn = limits.next_positions(conn, key)[0]
    return candidates[turn % len(candidates)]


def least_open(ctx: StepContext, candidates: Sequence[int], open_rule: Any) -> int:
    assert ctx.conn is not None
    table = ctx.snapshot.tables[ctx.object_name]
    query = select(table.c.owner_id, func.count()).where(
        table.c.owner_id.in_(list(candidates)), table.c.deleted_at.is_(None)).group_by(table.c.owner_id)
    if open_rule:
        from ..rules import to_sql

        query = query.where(to_sql(open_rule, ctx.object_name, ctx.snapshot, now=ctx.now, tz=ctx.tz))
    loads = {int(owner): int(n) for owner, n in ctx.conn.execute(query)}
    return min(candidates, key=lambda uid: (loads.get(uid, 0), candidates.index(uid)))


def choose(ctx: StepContext, doc: Doc, record: Mapping[str, Any]) -> tuple[int | None, str]:
    assert ctx.conn is not None
    if doc.get("assignment"):
        rule = routing.definition(ctx.snapshot, doc["assignment"])
        if rule["object"] != ctx.object_name:
            raise StepFailed(f"assignment {doc['assignment']} is for {rule['object']}, not {ctx.object_name}",
                             retry=False, code="wrong_object")
        decision = routing.decide(ctx.conn, ctx.snapshot, rule, [record], now=ctx.now, tz=str(ctx.tz))[0]
        where = "none" if decision.entry is None else f"entries/{decision.entry}"
        return decision.owner_id, where + (f"/{decision.fallback}" if decision.fallback else "")
    pool: Mapping[str, Any] = doc
    route = "default"
    for i, candidate in enumerate(doc.get("routes", ())):
        if rule_matches(candidate["when"], record, ctx.object_name, ctx.snapshot, ctx.conn, ctx.now, ctx.tz):
            pool, route = candidate, f"routes/{i}"
            break
    else:
        if doc.get("routes"):
            pool, route = doc.get("otherwise") or {}, "otherwise"
    candidates = pool_ids(ctx.conn, pool)
    if not candidates:
        return None, route
    strategy = pool.get("strategy", doc.get("strategy", "round_robin"))
    if strategy == "least_open":
        return least_open(ctx, candidates, doc.get("open_rule")), route
    key = f"assign:{ctx.workflow.name}:{ctx.step_id}:{route}"
    return next_in_turn(ctx.conn, key, candidates), route


def run(ctx: StepContext, doc: Doc) -> StepResult:
    record = ctx.need_record()
    if doc.get("only_if_unowned") and record.get("owner_id") is not None:
        return StepResult({"skipped": "already owned", "owner_id": record["owner_id"]})
    owner, route = choose(ctx, doc, record)
    if owner is None and doc.get("if_nobody") == "skip":
        return StepResult({"skipped": "nobody to assign to", "route": route})
    if owner is None:
        raise StepFailed(f"nobody to assign to (route {route}: no active users)", retry=False, code="empty_pool")
    try:
        updated = ctx.services.records.update(ctx.object_name, int(record["id"]), {"owner_id": owner}, conn=ctx.conn)
    except MetaCRMError as exc:
        raise StepFailed(f"could not assign: {exc.message}", retry=False, code=exc.code, problems=exc.problems) from None
    if ctx.record is not None:
        ctx.record.update(updated)
    return StepResult({"owner_id": owner, "route": route})


def check(doc: Doc, ctx: CheckContext) -> Iterator[Problem]:
    if "assignment" in doc:
        found = ctx.snapshot.definitions.get("assignment", doc["assignment"])
        if found is None:
            yield Problem(f"{ctx.pointer}/assignment", "unknown_assignment", f"no assignment named '{doc['assignment']}'")
        elif found["object"] != ctx.object_name:
            yield Problem(f"{ctx.pointer}/assignment", "wrong_object", f"'{doc['assignment']}' is for {found['object']}")
    if "open_rule" in doc:
        yield from rule_problems(doc["open_rule"], ctx.object_name, ctx.snapshot, f"{ctx.pointer}/open_rule")
    for i, route in enumerate(doc.get("routes", ())):
        yield from rule_problems(route["when"], ctx.object_name, ctx.snapshot, f"{ctx.pointer}/routes/{i}/when")


register_step(StepType("assign_owner", SCHEMA, run, effect="db", check=check))
