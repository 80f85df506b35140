"""Points from orders by tier, claw-back on refund, and the tier pass (standard pack)."""

from __future__ import annotations

from typing import Any

from metacrm.engines import points, tiers
from metacrm.flows.executor import drain
from metacrm.store import limits


def _member(svc: Any, no: str, tier: str = "silver", **kw: Any) -> int:
    return svc.records.create("member", {"member_no": no, "tier": tier, "status": "active", **kw})["id"]


def _order(svc: Any, member: int, amount: str, status: str = "pending") -> dict[str, Any]:
    return svc.records.create("sales_order", {"order_no": f"SO-{member}-{amount}-{status}", "member": member,
                                              "amount": amount, "status": status})


def test_paid_orders_earn_by_tier_once_and_refunds_claw_back(standard_pack: Any) -> None:
    svc = standard_pack
    silver, gold = _member(svc, "S1"), _member(svc, "G1", "gold")
    o1 = _order(svc, silver, "99.99")
    svc.records.update("sales_order", o1["id"], {"status": "paid"})
    svc.records.update("sales_order", o1["id"], {"paid_at": "2026-01-02T03:04:05Z"})
    o2 = _order(svc, gold, "100.00", "paid")  # factor 1.5
    with svc.engine.begin() as conn:
        assert points.balance(conn, silver) == 99  # floor(99.99 x 1)
        assert points.balance(conn, gold) == 150
        points.spend(conn, gold, 100, "redeem-1")
    svc.records.update("sales_order", o2["id"], {"status": "refunded"})
    with svc.engine.begin() as conn:
        assert points.balance(conn, gold) == -100  # the spent 100 clawed back: negative until repaid
        assert limits.verify(conn, "pt:") == []
    # paid again after a refund (a re-payment) earns nothing twice: one lot per order
    svc.records.update("sales_order", o2["id"], {"status": "paid"})
    with svc.engine.begin() as conn:
        assert points.balance(conn, gold) == -100
    drain(svc)  # the order totals and tier job each order change queued


def test_tier_pass_moves_up_warns_then_downgrades(standard_pack: Any) -> None:
    svc = standard_pack
    rich = _member(svc, "R1", lifetime_value="6000.00")
    top = _member(svc, "P1", lifetime_value="25000.00", order_count=12)
    assert tiers.evaluate(svc) == {"up": 2, "down": 0, "warned": 0}
    assert svc.records.get("member", rich)["tier"] == "gold"
    assert svc.records.get("member", top)["tier"] == "platinum"
    svc.records.update("member", rich, {"lifetime_value": "100.00"})
    assert tiers.evaluate(svc)["warned"] == 1  # 30 grace days before the downgrade
    assert svc.records.get("member", rich)["downgrade_at"] is not None
    assert svc.records.get("member", rich)["tier"] == "gold"
    svc.records.update("member", rich, {"downgrade_at": "2000-01-01T00:00:00Z"})
    assert tiers.evaluate(svc)["down"] == 1
    assert svc.records.get("member", rich)["tier"] == "silver"


def test_order_events_keep_member_totals_and_tier(standard_pack: Any) -> None:
    svc = standard_pack
    m = _member(svc, "T1")
    _order(svc, m, "1200.50", "paid")
    big = _order(svc, m, "4000.00", "paid")
    drain(svc)
    member = svc.records.get("member", m)
    assert member["order_count"] == 2 and member["lifetime_value"] == "5200.50" and member["last_order_at"] is None
    assert member["tier"] == "gold"  # lifetime value 5,200.50 qualifies for gold
    svc.records.update("sales_order", big["id"], {"status": "refunded"})
    drain(svc)
    member = svc.records.get("member", m)
    assert member["order_count"] == 1 and member["lifetime_value"] == "1200.50"
    assert member["tier"] == "gold" and member["downgrade_at"] is not None  # 30 grace days first
    with svc.engine.begin() as conn:
        assert points.balance(conn, m) == 1200  # the first earn kept (x1), the refunded order's reversed


def test_downgrade_warning_workflow_tells_the_owner(standard_pack: Any, apply_docs: Any) -> None:
    import json
    from pathlib import Path

    from sqlalchemy import select

    from metacrm.flows.tables import notifications
    from metacrm.store.users import ensure_user

    svc = standard_pack
    shipped = Path(__file__).resolve().parents[2] / "workflows" / "tier_downgrade_warning.json"
    apply_docs(svc, ("workflow", json.loads(shipped.read_text(encoding="utf-8"))))
    with svc.engine.begin() as conn:
        owner = ensure_user(conn, "keeper")
    m = svc.records.create("member", {"member_no": "D1", "tier": "gold", "status": "active",
                                      "lifetime_value": "100.00", "owner_id": owner})["id"]
    assert tiers.evaluate(svc)["warned"] == 1
    drain(svc)
    with svc.engine.connect() as conn:
        titles = conn.execute(select(notifications.c.title).where(notifications.c.user_id == owner)).scalars().all()
    assert any("D1 may drop from Gold" in t for t in titles), titles
    assert svc.records.get("member", m)["tier"] == "gold"
