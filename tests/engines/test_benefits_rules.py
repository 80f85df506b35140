"""Benefit periods (calendar in the benefit's zone, rolling day buckets) and the peers' bugs as cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from metacrm.engines import benefits
from metacrm.errors import Conflict
from metacrm.store import limits

MEMBER = {"$id": "member", "title": "Member", "type": "object", "properties": {
    "member_no": {"x-field": "text", "maxLength": 32}, "status": {"x-field": "select", "enum": ["active", "frozen"]}}}


@pytest.fixture
def program(services: Any) -> Any:
    services.metadata.apply([("object", "member", MEMBER)])
    return services


def _members(svc: Any, n: int) -> list[int]:
    return svc.records.bulk_create("member", [{"member_no": f"M{i}", "status": "active"} for i in range(n)]).ids


def _define(svc: Any, doc: dict[str, Any]) -> None:
    svc.metadata.apply([("benefit", doc["key"], {"label": {"en": doc["key"]}, **doc})])


def _try(svc: Any, key: str, member: int, idem: str, now: datetime | None = None, qty: int = 1,
         mode: str = "consume") -> str:
    try:
        with svc.engine.begin() as conn:
            benefits.redeem(conn, svc.registry.current(conn), benefits.Request(key, member, qty, idem, mode), "UTC",
                            now)
        return "ok"
    except Conflict as err:
        return err.code


def test_period_keys_in_the_zone() -> None:
    at = datetime(2026, 12, 31, 17, 30, tzinfo=UTC)  # 01:30 on 1 January 2027 in Shanghai
    assert limits.period_key("day", at, "Asia/Shanghai")[0] == "2027-01-01"
    assert limits.period_key("year", at, "Asia/Shanghai") == ("2027", datetime(2027, 12, 31, 16, tzinfo=UTC))
    assert limits.period_key("year", at, "UTC")[0] == "2026"
    key, ends = limits.period_key("week", datetime(2026, 12, 3, 12, tzinfo=UTC), "Asia/Shanghai")
    assert key == "2026-W49" and ends == datetime(2026, 12, 6, 16, tzinfo=UTC)  # Monday 00:00 +08:00


def test_calendar_month_resets_in_the_benefits_zone(program: Any) -> None:
    m = _members(program, 1)[0]
    _define(program, {"key": "monthly", "timezone": "Asia/Shanghai", "per_member_limit": {"count": 1, "period": "month"}})
    end_of_month = datetime(2026, 1, 31, 15, 0, tzinfo=UTC)  # 23:00 in Shanghai, still January
    assert _try(program, "monthly", m, "a", end_of_month) == "ok"
    assert _try(program, "monthly", m, "b", end_of_month + timedelta(minutes=30)) == "member_limit_reached"
    assert _try(program, "monthly", m, "c", end_of_month + timedelta(hours=1, minutes=1)) == "ok"  # February there


def test_rolling_window_sums_day_buckets(program: Any) -> None:
    m = _members(program, 1)[0]
    _define(program, {"key": "roll", "per_member_limit": {"count": 2, "period": "week", "window": "rolling"}})
    day = datetime(2026, 3, 10, 12, tzinfo=UTC)
    assert _try(program, "roll", m, "1", day) == "ok"
    assert _try(program, "roll", m, "2", day + timedelta(days=3)) == "ok"
    with pytest.raises(benefits.Refused) as refused, program.engine.begin() as conn:
        benefits.redeem(conn, program.registry.current(conn), benefits.Request("roll", m, 1, "3"), "UTC",
                        day + timedelta(days=6))
    assert refused.value.code == "member_limit_reached"
    assert refused.value.resets_at == datetime(2026, 3, 17, tzinfo=UTC)  # the first bucket leaves the window
    assert _try(program, "roll", m, "2", day + timedelta(days=6)) == "ok"  # a replay still gets its answer
    assert _try(program, "roll", m, "4", day + timedelta(days=7)) == "ok"  # day 0 left: 7 days are 4..10
    with program.engine.connect() as conn:
        assert limits.verify(conn, "bf:roll") == []


def test_odoo_218425_reward_not_claimable_after_max_usage(program: Any) -> None:
    """odoo/odoo#218425: a reward stayed claimable after max_usage was reached."""
    ms = _members(program, 3)
    _define(program, {"key": "reward", "total_quota": 2})
    assert [_try(program, "reward", m, f"r{m}") for m in ms] == ["ok", "ok", "quota_exhausted"]
    # raising the quota by a new definition version: the counter's cap moves, what was used stays
    _define(program, {"key": "reward", "total_quota": 3})
    assert _try(program, "reward", ms[2], "again") == "ok"
    assert _try(program, "reward", ms[2], "more") == "quota_exhausted"


def test_oca_sale_promotion_156_limit_counted_once_per_redemption(program: Any) -> None:
    """OCA/sale-promotion#156: a per-salesperson limit was off by one because promotions were
    computed twice. Here a redemption submitted again (same key) counts once: limit 3 means 3."""
    m = _members(program, 1)[0]
    _define(program, {"key": "promo", "per_member_limit": {"count": 3, "period": "lifetime"}})
    outcomes = [_try(program, "promo", m, f"order-{i}") for i in range(3) for _ in range(2)]
    assert outcomes == ["ok"] * 6
    assert _try(program, "promo", m, "order-3") == "member_limit_reached"
    with program.engine.connect() as conn:
        assert limits.counter(conn, f"bf:promo:m:{m}")["used"] == 3


def test_a_released_reservation_gives_the_last_unit_back(program: Any) -> None:
    """macrozheng/mall#1003's other half: a held coupon blocks others until released or expired."""
    a, b = _members(program, 2)
    _define(program, {"key": "last", "total_quota": 1})
    assert _try(program, "last", a, "hold-a", mode="reserve") == "ok"
    assert _try(program, "last", b, "take-b") == "quota_exhausted"
    with program.engine.begin() as conn:
        benefits.expire_redemptions(conn, limits.utcnow() + timedelta(hours=1))
    assert _try(program, "last", b, "take-b2") == "ok"


def test_benefits_on_one_order_must_be_stackable(program: Any) -> None:
    m = _members(program, 1)[0]
    _define(program, {"key": "ten_off"})
    _define(program, {"key": "ship", "stackable_with": ["ten_off"]})
    _define(program, {"key": "vip_gift"})

    def on_order(key: str, idem: str, order: str = "1") -> str:
        try:
            with program.engine.begin() as conn:
                benefits.redeem(conn, program.registry.current(conn),
                                benefits.Request(key, m, 1, idem, ref_object="sales_order", ref_id=order))
            return "ok"
        except Conflict as err:
            return err.code

    assert on_order("ten_off", "a") == "ok"
    assert on_order("ship", "b") == "ok"  # ship lists ten_off
    assert on_order("vip_gift", "c") == "not_stackable"
    assert on_order("vip_gift", "d", order="2") == "ok"  # another order
