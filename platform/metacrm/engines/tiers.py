"""Member tiers (kind `tier`) and what paid orders do to a member: points by tier, tier moves.

A tier is {key, rank, qualify_rule, retain_rule, downgrade_grace_days, points_factor,
points_valid_days}; rules are over the `member` object. Orders (`sales_order`) moving to `paid`
earn floor(amount × the member's tier factor) points as one lot per order, in the order's
transaction; moving to `refunded` reverses that earn (claw-back policy `negative`, see
engines/points.py). Tiers are evaluated set-based (each tier's rule compiled to SQL once) by the
nightly job and on demand: a member rises to the highest tier whose qualify rule holds; a member
whose tier's retain rule fails gets `downgrade_at` = now + grace days, and falls when it passes.
Each change is a record update through the record service, so workflows see it as an event.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, select

from ..errors import Problem
from ..flows.aftercommit import later
from ..flows.jobs import job, periodic
from ..flows.schedules import on_maintenance
from ..meta.kinds import DefinitionSet, Kind, register_kind
from ..rules import to_sql, validate_rule
from ..store import limits
from ..store.definitions import Snapshot
from ..store.events import RecordEvent
from ..store.services import Services
from . import points

MEMBER, ORDER = "member", "sales_order"
CENT = Decimal("0.01")


def check_tier(doc: Mapping[str, Any], defs: DefinitionSet) -> Iterator[Problem]:
    for name in ("qualify_rule", "retain_rule"):
        if name not in doc:
            continue
        if defs.get("object", MEMBER) is None:
            yield Problem(f"/{name}", "unknown_object", "tier rules need the member object")
            continue
        for p in validate_rule(doc[name], MEMBER, defs):
            yield Problem(f"/{name}" + ("" if p.field == "/" else p.field), p.code, p.message)


register_kind(Kind("tier", "tiers", id_key="key", check=check_tier, refers_to=("object",)))


def tiers(snap: Snapshot) -> list[dict[str, Any]]:
    """Tiers, highest rank first."""
    return sorted((doc for _, doc in snap.definitions.items("tier")), key=lambda d: -d["rank"])


def _tier(snap: Snapshot, key: Any) -> dict[str, Any] | None:
    found = snap.definitions.get("tier", key) if isinstance(key, str) else None
    if found is not None:
        return found
    ordered = tiers(snap)
    return ordered[-1] if ordered else None  # no tier yet: the entry tier


TOTAL_FIELDS = ("status", "amount", "member", "paid_at")


def on_record_events(conn: Connection, snap: Snapshot, events: list[RecordEvent]) -> None:
    """Paid orders earn points, refunded orders give them back, in the order's transaction; after
    commit, the members whose orders changed get their order totals and their tier set again."""
    if ORDER not in snap.tables or MEMBER not in snap.tables:
        return
    touched: set[int] = set()
    for e in events:
        if e.object != ORDER:
            continue
        before, after = e.changes.get("before", {}) or {}, e.changes.get("after", {}) or {}
        status = after.get("status")
        if e.kind in ("create", "update") and status == "paid":
            _earn(conn, snap, e.record_id)
        elif e.kind == "update" and status == "refunded":
            points.reverse_earn(conn, f"{ORDER}:{e.record_id}", policy=_clawback(conn, snap, e.record_id))
        if e.kind != "update" or any(k in after for k in TOTAL_FIELDS):
            for value in (before.get("member"), after.get("member")):
                if isinstance(value, int):
                    touched.add(value)
            if "member" not in after:
                member = conn.execute(select(snap.tables[ORDER].c.member).where(
                    snap.tables[ORDER].c.id == e.record_id)).scalar()
                if member is not None:
                    touched.add(int(member))
    if touched:
        later(conn, "tiers.on_orders", members=sorted(touched))


def _clawback(conn: Connection, snap: Snapshot, order_id: int) -> str:
    """The claw-back policy of the member's tier (default negative: spent points are taken back)."""
    orders, members = snap.tables[ORDER], snap.tables[MEMBER]
    tier_key = conn.execute(select(members.c.tier).join(orders, orders.c.member == members.c.id)
                            .where(orders.c.id == order_id)).scalar()
    return str((_tier(snap, tier_key) or {}).get("clawback", "negative"))


def order_totals(services: Services, member_ids: list[int]) -> int:
    """order_count, lifetime_value and last_order_at of members from their paid orders (plain fields
    until roll-ups over orders exist); how many members changed."""
    changed = 0
    with services.records.transaction() as conn:
        snap = services.registry.current(conn)
        if ORDER not in snap.tables or MEMBER not in snap.tables:
            return 0
        o, m = snap.tables[ORDER], snap.tables[MEMBER]
        fields = snap.objects[MEMBER].fields
        if not {"order_count", "lifetime_value", "last_order_at"} <= set(fields):
            return 0
        totals = {int(mid): (int(n), total, last) for mid, n, total, last in conn.execute(
            select(o.c.member, func.count(), func.coalesce(func.sum(o.c.amount), 0), func.max(o.c.paid_at))
            .where(o.c.member.in_(member_ids), o.c.status == "paid", o.c.deleted_at.is_(None))
            .group_by(o.c.member))}
        for row in conn.execute(select(m.c.id, m.c.order_count, m.c.lifetime_value, m.c.last_order_at)
                                .where(m.c.id.in_(member_ids), m.c.deleted_at.is_(None))).all():
            n, total, last = totals.get(int(row.id), (0, 0, None))
            amount = Decimal(str(total)).quantize(CENT)
            have = (row.order_count, None if row.lifetime_value is None else Decimal(str(row.lifetime_value)).quantize(
                CENT), row.last_order_at)
            if have != (n, amount, last):
                services.records.update(MEMBER, int(row.id), {
                    "order_count": n, "lifetime_value": str(amount),
                    "last_order_at": None if last is None else last.isoformat()}, conn=conn)
                changed += 1
    return changed


@job("tiers.on_orders")
def on_orders(services: Services, members: list[int] | None = None, **_: Any) -> dict[str, Any]:
    """After orders changed: those members' order totals, then the tier pass for them."""
    ids = [int(x) for x in members or []]
    return {"totals": order_totals(services, ids),
            "tiers": evaluate(services, services.settings.timezone, ids)}


def _earn(conn: Connection, snap: Snapshot, order_id: int) -> None:
    orders, members = snap.tables[ORDER], snap.tables[MEMBER]
    row = conn.execute(select(orders.c.amount, orders.c.member).where(orders.c.id == order_id)).first()
    if row is None or row.member is None or row.amount is None:
        return
    tier_key = conn.execute(select(members.c.tier).where(members.c.id == row.member)).scalar()
    tier = _tier(snap, tier_key) or {}
    qty = points.points_for(row.amount, tier.get("points_factor", 1))
    points.earn(conn, int(row.member), qty, f"{ORDER}:{order_id}", valid_days=int(tier.get("points_valid_days", 365)))


def evaluate(services: Services, tz: str = "UTC", only: list[int] | None = None) -> dict[str, int]:
    """Move members between tiers, set-based: one query per tier and rule; counts of moves.
    `only`: just these members (after their orders changed); None: everyone (the nightly pass)."""
    now = limits.utcnow()
    moved = {"up": 0, "down": 0, "warned": 0}
    with services.records.transaction() as conn:
        snap = services.registry.current(conn)
        ordered = tiers(snap)
        if MEMBER not in snap.tables or not ordered:
            return moved
        table = snap.tables[MEMBER]
        live = table.c.deleted_at.is_(None)
        if only is not None:
            live = live & table.c.id.in_(only)
        rank = {t["key"]: t["rank"] for t in ordered}
        qualified: dict[int, str] = {}
        for t in ordered:  # highest first: a member's best qualifying tier wins
            if "qualify_rule" not in t:
                continue
            for mid in conn.execute(select(table.c.id).where(live, to_sql(t["qualify_rule"], MEMBER, snap,
                                                                          now=now, tz=tz))).scalars():
                qualified.setdefault(int(mid), t["key"])
        failing: set[int] = set()
        for t in ordered:
            rule = t.get("retain_rule", t.get("qualify_rule"))
            if rule is None:
                continue
            failing.update(int(m) for m in conn.execute(select(table.c.id).where(
                live, table.c.tier == t["key"], ~to_sql(rule, MEMBER, snap, now=now, tz=tz))).scalars())
        rows = conn.execute(select(table.c.id, table.c.tier, table.c.downgrade_at).where(live)).all()
        entry = ordered[-1]["key"]
        stamp = now.isoformat()
        for mid, current, downgrade_at in rows:
            best = qualified.get(int(mid))
            current_rank = rank.get(current, -1)
            change: dict[str, Any] = {}
            if best is not None and rank[best] > current_rank:
                change = {"tier": best, "tier_since": stamp, "downgrade_at": None}
                moved["up"] += 1
            elif int(mid) in failing and current is not None:
                grace = int((snap.definitions.get("tier", current) or {}).get("downgrade_grace_days", 0))
                if downgrade_at is None and grace > 0:
                    change = {"downgrade_at": (now + timedelta(days=grace)).isoformat()}
                    moved["warned"] += 1
                elif downgrade_at is None or downgrade_at <= now:
                    lower = best if best is not None and rank[best] < current_rank else entry
                    if lower != current:
                        change = {"tier": lower, "tier_since": stamp, "downgrade_at": None}
                        moved["down"] += 1
            elif downgrade_at is not None and int(mid) not in failing:
                change = {"downgrade_at": None}
            if change:
                services.records.update(MEMBER, int(mid), change, conn=conn)
    return moved


@job("tiers.evaluate")
def nightly(services: Services, fired_at: str | None = None) -> dict[str, int]:
    return evaluate(services, services.settings.timezone)


on_maintenance("tiers.evaluate")


@periodic("points.expire", every=3600.0)
def expire_points(services: Services) -> int:
    """The expiry sweep: what is left in past lots lapses (hourly)."""
    with services.engine.begin() as conn:
        return points.expire(conn)
