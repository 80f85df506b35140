"""Member points as lots on the limits ledger.

Each member has one counter `pt:<member>`: its cap is Σ points earned (a `grant` row per lot),
its `used` is Σ spent + lapsed + clawed back − re-credited, so the balance is cap − used, the
same figure as Σ remainders of the member's open lots. Every move is in the caller's transaction:

- earn: a paid order gives floor(amount × tier factor) points (rounded down to whole points) as a
  lot expiring `valid_days` later; one lot per order (`points_lot.ref` is unique), so confirming
  a payment twice earns once.
- spend: under the counter's row lock, the member's lots already past expiry lapse first, then
  one conditional move takes the points (`used + q <= cap`: a balance below q, or negative, is
  refused) and they are taken from the earliest-expiring lots first (`points_alloc`).
- expiry sweep: what is left in past lots becomes `expire` rows (folded as used).
- order refunded: its earn is reversed: the lot's unspent remainder is removed and, with the
  default claw-back policy `negative`, what was already spent of it is clawed back too (the
  balance may go negative and blocks spending until repaid); policy `remainder` removes only
  what is left. So balance = Σ open lots' remainders − Σ clawed back and not yet forgiven.
- spend refunded: the lots it used are re-credited; a lot already past expiry is re-credited and
  expired in the same step; a reversed lot gets nothing back (no points restored to an empty lot).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Column, Connection, Index, String, Table, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..errors import Conflict, NotFound, Problem, ValidationError
from ..meta.sqltypes import UTCDateTime
from ..store import limits
from ..store.system import ID, metadata

lots = Table(
    "points_lot", metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("member_id", BigInteger, nullable=False),
    Column("ref", String(200), nullable=False, unique=True),  # sales_order:12, grant:<key>, ...
    Column("qty", BigInteger, nullable=False),
    Column("remaining", BigInteger, nullable=False),
    Column("expired", BigInteger, nullable=False, default=0),
    Column("clawed", BigInteger, nullable=False, default=0),  # spent points clawed back when reversed
    Column("status", String(16), nullable=False),  # open | expired | reversed
    Column("earned_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Index("ix_points_lot_member", "member_id", "status", "expires_at"),
    Index("ix_points_lot_due", "status", "expires_at"),
)

spends = Table(
    "points_spend", metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("member_id", BigInteger, nullable=False),
    Column("qty", BigInteger, nullable=False),
    Column("ref", String(200), nullable=True),
    Column("idempotency_key", String(200), nullable=False, unique=True),
    Column("status", String(16), nullable=False),  # spent | refunded
    Column("at", UTCDateTime(), nullable=False),
)

allocations = Table(
    "points_alloc", metadata,
    Column("spend_id", BigInteger, primary_key=True, autoincrement=False),
    Column("lot_id", BigInteger, primary_key=True, autoincrement=False),
    Column("qty", BigInteger, nullable=False),
)

CLAWBACK_POLICIES = ("negative", "remainder")


def counter_key(member_id: int) -> str:
    return f"pt:{member_id}"


def _insert(conn: Connection, table: Table) -> Any:
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(table)


def points_for(amount: Any, factor: Any) -> int:
    """floor(amount × factor): points are whole, rounded down (a 99.99 order at factor 1 earns 99)."""
    return max(0, math.floor(Decimal(str(amount)) * Decimal(str(factor))))


def earn(conn: Connection, member_id: int, qty: int, ref: str, *, valid_days: int = 365,
         now: datetime | None = None) -> int | None:
    """A lot of `qty` points for `ref`, once per ref; the lot's id, or None when ref already earned."""
    if qty <= 0:
        return None
    now = now or limits.utcnow()
    lot_id = conn.execute(_insert(conn, lots).values(
        member_id=member_id, ref=ref[:200], qty=qty, remaining=qty, expired=0, clawed=0, status="open", earned_at=now,
        expires_at=now + timedelta(days=valid_days)).on_conflict_do_nothing(index_elements=["ref"])
        .returning(lots.c.id)).scalar()
    if lot_id is None:
        return None
    limits.grant(conn, counter_key(member_id), qty, ref=f"lot:{lot_id}")
    return int(lot_id)


def _lapse(conn: Connection, member_id: int | None, now: datetime) -> int:
    """Expire what is left in past lots (one member, or all): `expire` rows; how many points lapsed."""
    lt = lots.c
    query = select(lt.id, lt.member_id, lt.remaining).where(lt.status == "open", lt.expires_at <= now)
    if member_id is not None:
        query = query.where(lt.member_id == member_id)
    total = 0
    for row in conn.execute(query.order_by(lt.member_id, lt.id)).all():
        done = conn.execute(update(lots).where(lt.id == row.id, lt.status == "open").values(
            status="expired", remaining=0, expired=lt.expired + lt.remaining).returning(lt.id)).scalar()
        if done is not None and row.remaining > 0:
            limits.force(conn, counter_key(row.member_id), int(row.remaining), kind="expire", ref=f"lot:{row.id}",
                         at=now)
            total += int(row.remaining)
    return total


def expire(conn: Connection, now: datetime | None = None) -> int:
    """The expiry sweep: every past lot's remainder lapses."""
    return _lapse(conn, None, now or limits.utcnow())


def balance(conn: Connection, member_id: int) -> int:
    row = limits.counter(conn, counter_key(member_id))
    return 0 if row is None else int(row["cap"] or 0) - int(row["used"])


def spend(conn: Connection, member_id: int, qty: int, idempotency_key: str, *, ref: str | None = None,
          now: datetime | None = None) -> dict[str, Any]:
    """Spend `qty` points, earliest-expiring lots first; once per idempotency key."""
    if not isinstance(qty, int) or isinstance(qty, bool) or qty <= 0:
        raise ValidationError("qty is a whole number above 0", [Problem("qty", "invalid_qty", str(qty)[:32])])
    now = now or limits.utcnow()
    key = counter_key(member_id)
    limits.lock_counter(conn, key)  # every spend and refund of this member waits here, in turn
    found = conn.execute(select(spends.c.id, spends.c.member_id, spends.c.qty).where(
        spends.c.idempotency_key == idempotency_key)).first()
    if found is not None:
        if (found.member_id, found.qty) != (member_id, qty):
            raise Conflict("this Idempotency-Key was used for another request",
                           [Problem("Idempotency-Key", "idempotency_key_reused", idempotency_key[:200])],
                           code="idempotency_key_reused")
        return {"spend_id": int(found.id), "qty": qty, "balance": balance(conn, member_id)}
    _lapse(conn, member_id, now)
    c = limits.counters.c
    moved = conn.execute(update(limits.counters).where(c.key == key, c.period_key == limits.NO_PERIOD,
                                                       c.used + qty <= func.coalesce(c.cap, 0))
                         .values(used=c.used + qty).returning(c.used, c.cap)).first()
    if moved is None:
        have = balance(conn, member_id)
        code = "points_negative" if have < 0 else "insufficient_points"
        raise Conflict(f"member {member_id} has {have} points, {qty} wanted", [Problem("qty", code, str(have))],
                       code=code)
    spend_id = int(conn.execute(spends.insert().values(member_id=member_id, qty=qty, ref=ref,
                                                       idempotency_key=idempotency_key, status="spent", at=now)
                                .returning(spends.c.id)).scalar_one())
    lt = lots.c
    left = qty
    taken = []
    for lot in conn.execute(select(lt.id, lt.remaining).where(lt.member_id == member_id, lt.status == "open",
                                                              lt.remaining > 0, lt.expires_at > now)
                            .order_by(lt.expires_at, lt.id)).all():
        part = min(left, int(lot.remaining))
        conn.execute(update(lots).where(lt.id == lot.id).values(remaining=lt.remaining - part))
        taken.append({"spend_id": spend_id, "lot_id": int(lot.id), "qty": part})
        left -= part
        if left == 0:
            break
    assert left == 0, "the counter and the lots disagree"  # balance = Σ open remainders after the lapse
    conn.execute(allocations.insert(), taken)
    limits._append(conn, "consume", key, limits.NO_PERIOD, qty, ref=f"spend:{spend_id}", at=now)
    return {"spend_id": spend_id, "qty": qty, "balance": int(moved.cap) - int(moved.used)}


def refund_spend(conn: Connection, spend_id: int, now: datetime | None = None) -> dict[str, Any]:
    """Give a spend's points back to the lots it used; a lot past expiry gets them and lapses at once."""
    now = now or limits.utcnow()
    row = conn.execute(select(spends).where(spends.c.id == spend_id)).first()
    if row is None:
        raise NotFound(f"no points spend {spend_id}", [Problem("spend_id", "not_found", str(spend_id))])
    key = counter_key(row.member_id)
    limits.lock_counter(conn, key)
    done = conn.execute(update(spends).where(spends.c.id == spend_id, spends.c.status == "spent")
                        .values(status="refunded").returning(spends.c.id)).scalar()
    if done is None:
        return {"spend_id": spend_id, "status": "refunded", "balance": balance(conn, row.member_id)}
    lt = lots.c
    for alloc in conn.execute(select(allocations.c.lot_id, allocations.c.qty, lt.status, lt.expires_at, lt.clawed)
                              .join(lots, lt.id == allocations.c.lot_id)
                              .where(allocations.c.spend_id == spend_id)).all():
        qty = int(alloc.qty)
        if alloc.status == "reversed":
            # the order behind the lot was refunded: the lot gets nothing back (it is gone); what
            # was clawed back for these points is forgiven, what was not stays spent
            back = min(qty, int(alloc.clawed))
            if back:
                conn.execute(update(lots).where(lt.id == alloc.lot_id).values(clawed=lt.clawed - back))
                limits.reverse(conn, key, back, ref=f"refund:{spend_id}:lot:{alloc.lot_id}")
            continue
        limits.reverse(conn, key, qty, ref=f"refund:{spend_id}:lot:{alloc.lot_id}")
        if alloc.status == "expired" or alloc.expires_at <= now:
            conn.execute(update(lots).where(lt.id == alloc.lot_id).values(expired=lt.expired + qty))
            limits.force(conn, key, qty, kind="expire", ref=f"lot:{alloc.lot_id}", at=now)
        else:
            conn.execute(update(lots).where(lt.id == alloc.lot_id).values(remaining=lt.remaining + qty))
    return {"spend_id": spend_id, "status": "refunded", "balance": balance(conn, row.member_id)}


def reverse_earn(conn: Connection, ref: str, *, policy: str = "negative", now: datetime | None = None
                 ) -> dict[str, Any] | None:
    """The order behind a lot was refunded: remove its remainder and claw back what was spent of it."""
    if policy not in CLAWBACK_POLICIES:
        raise ValidationError("unknown claw-back policy", [Problem("policy", "enum", policy[:32])])
    now = now or limits.utcnow()
    lt = lots.c
    lot = conn.execute(select(lots).where(lt.ref == ref[:200])).first()
    if lot is None:
        return None
    key = counter_key(lot.member_id)
    limits.lock_counter(conn, key)
    lot = conn.execute(update(lots).where(lt.id == lot.id, lt.status != "reversed")
                       .values(status="reversed", remaining=0)
                       .returning(lt.id, lt.qty, lt.remaining, lt.expired, lt.member_id)).first()
    if lot is None:
        return {"ref": ref, "clawed_back": 0}
    # the update returned the new row: remaining is now 0; the old remainder is what spends left
    spent = int(conn.execute(select(func.coalesce(func.sum(allocations.c.qty), 0)).select_from(
        allocations.join(spends, spends.c.id == allocations.c.spend_id)).where(
        allocations.c.lot_id == lot.id, spends.c.status == "spent")).scalar_one())
    remainder = int(lot.qty) - int(lot.expired) - spent
    clawed = spent if policy == "negative" else 0
    take = remainder + clawed
    if clawed:
        conn.execute(update(lots).where(lt.id == lot.id).values(clawed=clawed))
    if take > 0:
        limits.force(conn, key, take, kind="consume", ref=f"clawback:{lot.id}", at=now)
    return {"ref": ref, "clawed_back": take, "balance": balance(conn, int(lot.member_id))}


def lots_of(conn: Connection, member_id: int, now: datetime | None = None, soon_days: int = 30) -> dict[str, Any]:
    """A member's balance, open lots and how much expires within `soon_days` (the member page)."""
    now = now or limits.utcnow()
    lt = lots.c
    rows = conn.execute(select(lt.id, lt.qty, lt.remaining, lt.expires_at).where(
        lt.member_id == member_id, lt.status == "open", lt.remaining > 0).order_by(lt.expires_at, lt.id)).all()
    soon = now + timedelta(days=soon_days)
    return {"balance": balance(conn, member_id),
            "expiring_soon": sum(int(r.remaining) for r in rows if r.expires_at <= soon),
            "lots": [{"id": int(r.id), "qty": int(r.qty), "remaining": int(r.remaining),
                      "expires_at": r.expires_at.isoformat().replace("+00:00", "Z")} for r in rows]}
