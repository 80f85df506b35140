"""A state machine over the benefit and points ledger: counters are always the fold of the ledger.

Random earns (paid orders, one lot each, sometimes paid twice), spends, spend refunds, order
refunds under both claw-back policies, expiry sweeps, clock moves, and benefit grants, takes,
reservations, confirms, releases, sweeps and reversals on capped counters. After every step:
`limits.verify` finds no drift, a points counter's cap is Σ its grants and its balance is Σ open
remainders − Σ clawed back, no capped counter is past its cap, the balance is negative only
while something is clawed back, and every spend took the earliest-expiring lots first.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import func, select

from metacrm.engines import points
from metacrm.errors import Conflict
from metacrm.store import limits
from metacrm.store.db import make_engine
from metacrm.store.system import ensure_system_tables

MEMBERS = (1, 2)
CAPS = {"bf:x": 6, "bf:x:m:1": 2, "bf:x:m:2": 2}


class Ledger(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.engine = make_engine("sqlite://")
        ensure_system_tables(self.engine)
        with self.engine.begin() as conn:
            for key, cap in CAPS.items():
                limits.set_limit(conn, key, cap)
        self.now = limits.utcnow()
        self.orders = 0
        self.paid: list[str] = []
        self.spent: list[int] = []
        self.keys = 0
        self.held: list[list[int]] = []
        self.taken: list[list[limits.Move]] = []

    def _key(self) -> str:
        self.keys += 1
        return f"k{self.keys}"

    # --- points ---

    @rule(member=st.sampled_from(MEMBERS), amount=st.integers(1, 300), factor=st.sampled_from([1, 1.5, 2]),
          days=st.integers(1, 60), twice=st.booleans())
    def earn(self, member: int, amount: int, factor: float, days: int, twice: bool) -> None:
        self.orders += 1
        ref = f"sales_order:{self.orders}"
        qty = points.points_for(amount, factor)
        with self.engine.begin() as conn:
            first = points.earn(conn, member, qty, ref, valid_days=days, now=self.now)
            if twice:  # a payment confirmed twice earns once (odoo/odoo#222372)
                assert points.earn(conn, member, qty, ref, valid_days=days, now=self.now) is None
        assert first is not None
        self.paid.append(ref)

    @rule(member=st.sampled_from(MEMBERS), qty=st.integers(1, 200))
    def spend(self, member: int, qty: int) -> None:
        try:
            with self.engine.begin() as conn:
                out = points.spend(conn, member, qty, self._key(), now=self.now)
                self._check_earliest_first(conn, member, out["spend_id"])
            self.spent.append(out["spend_id"])
        except Conflict as err:
            assert err.code in ("insufficient_points", "points_negative")

    def _check_earliest_first(self, conn: Any, member: int, spend_id: int) -> None:
        lt, al = points.lots.c, points.allocations.c
        used = conn.execute(select(lt.id, lt.expires_at, lt.remaining).join(points.allocations, al.lot_id == lt.id)
                            .where(al.spend_id == spend_id).order_by(lt.expires_at, lt.id)).all()
        assert all(r.remaining == 0 for r in used[:-1])  # every lot but the last one used is drained
        untouched = conn.execute(select(func.min(lt.expires_at)).where(
            lt.member_id == member, lt.status == "open", lt.remaining > 0, lt.expires_at > self.now,
            lt.id.not_in([r.id for r in used]))).scalar()
        assert untouched is None or untouched >= used[-1].expires_at

    @precondition(lambda self: self.spent)
    @rule(data=st.data())
    def refund_spend(self, data: Any) -> None:
        spend_id = data.draw(st.sampled_from(self.spent))
        with self.engine.begin() as conn:
            points.refund_spend(conn, spend_id, now=self.now)

    @precondition(lambda self: self.paid)
    @rule(data=st.data(), policy=st.sampled_from(points.CLAWBACK_POLICIES))
    def refund_order(self, data: Any, policy: str) -> None:
        ref = data.draw(st.sampled_from(self.paid))
        with self.engine.begin() as conn:
            points.reverse_earn(conn, ref, policy=policy, now=self.now)

    @rule(days=st.integers(0, 40))
    def clock(self, days: int) -> None:
        self.now += timedelta(days=days, hours=1)

    @rule()
    def expire(self) -> None:
        with self.engine.begin() as conn:
            points.expire(conn, self.now)

    # --- benefit counters ---

    def _moves(self, member: int, qty: int) -> list[limits.Move]:
        return [limits.Move(f"bf:x:m:{member}", qty, cap=2), limits.Move("bf:x", qty, cap=6, hot=True)]

    @rule(member=st.sampled_from(MEMBERS), qty=st.integers(1, 3))
    def take(self, member: int, qty: int) -> None:
        try:
            with self.engine.begin() as conn:
                limits.take_many(conn, self._moves(member, qty), ref="t")
            self.taken.append(self._moves(member, qty))
        except limits.LimitReached:
            pass

    @rule(member=st.sampled_from(MEMBERS), qty=st.integers(1, 2))
    def reserve(self, member: int, qty: int) -> None:
        try:
            with self.engine.begin() as conn:
                ids, _ = limits.reserve_many(conn, self._moves(member, qty), ttl=3600, ref="r")
            self.held.append(ids)
        except limits.LimitReached:
            pass

    @precondition(lambda self: self.held)
    @rule(data=st.data(), confirm=st.booleans())
    def settle(self, data: Any, confirm: bool) -> None:
        ids = data.draw(st.sampled_from(self.held))
        self.held.remove(ids)
        with self.engine.begin() as conn:
            if not confirm:
                limits.release_many(conn, ids)
                return
            try:
                limits.consume_many(conn, ids, hot={"bf:x"})
            except (limits.ReservationExpired, Conflict):
                return
        rows = []
        with self.engine.connect() as conn:
            r = limits.reservations.c
            rows = conn.execute(select(r.key, r.period_key, r.qty).where(r.id.in_(ids))).all()
        self.taken.append([limits.Move(k, int(q), p) for k, p, q in rows])

    @rule()
    def sweep_later(self) -> None:
        with self.engine.begin() as conn:
            limits.sweep(conn, limits.utcnow() + timedelta(hours=2))
        self.held.clear()

    @precondition(lambda self: self.taken)
    @rule(data=st.data())
    def reverse(self, data: Any) -> None:
        moves = data.draw(st.sampled_from(self.taken))
        self.taken.remove(moves)
        with self.engine.begin() as conn:
            limits.reverse_many(conn, moves, ref="refund")

    # --- what must always hold ---

    @invariant()
    def counters_are_the_fold(self) -> None:
        with self.engine.connect() as conn:
            assert limits.verify(conn) == []
            c, lg, lt = limits.counters.c, limits.ledger.c, points.lots.c
            for row in conn.execute(select(limits.counters)).all():
                if row.key.startswith("bf:"):
                    assert row.used >= 0 and row.reserved >= 0 and row.used + row.reserved <= CAPS[row.key]
                    continue
                member = int(row.key.split(":")[1])
                granted = conn.execute(select(func.coalesce(func.sum(lg.qty), 0)).where(
                    lg.key == row.key, lg.kind == "grant")).scalar_one()
                assert int(row.cap or 0) == int(granted)
                remainders, clawed = conn.execute(select(func.coalesce(func.sum(lt.remaining), 0),
                                                         func.coalesce(func.sum(lt.clawed), 0))
                                                  .where(lt.member_id == member)).one()
                balance = int(row.cap or 0) - int(row.used)
                assert balance == int(remainders) - int(clawed)
                assert balance >= 0 or clawed > 0
            assert c is not None

    def teardown(self) -> None:
        self.engine.dispose()


TestLedger = Ledger.TestCase
TestLedger.settings = settings(max_examples=40, stateful_step_count=30, deadline=None,
                               suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("policy", points.CLAWBACK_POLICIES)
def test_peer_bugs_as_cases(policy: str) -> None:
    """Odoo #222372 (confirm twice doubles points), #222054 (points restored to an emptied record),
    ERPNext #59050 (points spent elsewhere never deducted: spent twice)."""
    engine = make_engine("sqlite://")
    ensure_system_tables(engine)
    with engine.begin() as conn:
        assert points.earn(conn, 1, 100, "sales_order:1") is not None
        assert points.earn(conn, 1, 100, "sales_order:1") is None
        assert points.balance(conn, 1) == 100
        spent = points.spend(conn, 1, 60, "redeem-1", ref="benefit:gift")
        assert points.spend(conn, 1, 60, "redeem-1", ref="benefit:gift")["spend_id"] == spent["spend_id"]
        with pytest.raises(Conflict):
            points.spend(conn, 1, 60, "redeem-2", ref="sales_order:99")  # 40 left: not spent twice
        points.reverse_earn(conn, "sales_order:1", policy=policy)
        assert points.balance(conn, 1) == (-60 if policy == "negative" else 0)
        with pytest.raises(Conflict) as refused:
            points.spend(conn, 1, 1, "redeem-3")
        assert refused.value.code == ("points_negative" if policy == "negative" else "insufficient_points")
        points.refund_spend(conn, spent["spend_id"])
        assert points.balance(conn, 1) == 0  # nothing restored into the reversed lot
        assert points.lots_of(conn, 1)["lots"] == []
        assert limits.verify(conn) == []
    engine.dispose()
