"""The benefits API: redemptions with Idempotency-Key, refusals as 409 problem+json, scope, switch, codes."""

from __future__ import annotations

from typing import Any

import pytest

from metacrm.engines import benefits

MEMBER_RW = ("member", ("read", "create", "update"), "all")


def _put_benefit(admin: Any, doc: dict[str, Any]) -> Any:
    return admin.send("PUT", f"/definitions/benefit/{doc['key']}", doc)


def _member(client: Any, no: str, **fields: Any) -> int:
    r = client.post("/records/member", {"member_no": no, "status": "active", **fields})
    assert r.status_code == 201, r.get_json()
    return r.get_json()["id"]


def _redeem(client: Any, key: str, body: dict[str, Any], idem: str | None) -> Any:
    headers = {"Idempotency-Key": idem} if idem else {}
    return client.send("POST", f"/benefits/{key}/redemptions", body, headers=headers)


def test_definition_problems_are_422_with_pointers(admin: Any) -> None:
    bad = {"key": "b1", "label": {"en": "B"}, "per_member_limit": {"count": 0, "period": "fortnight"},
           "valid_from": "2026-01-01T00:00:00", "eligibility": {"field": "nope", "op": "eq", "value": 1}}
    r = _put_benefit(admin, bad)
    assert r.status_code == 422
    fields = {e["field"].split("#", 1)[-1] for e in r.get_json()["errors"]}
    assert {"/per_member_limit/count", "/per_member_limit/period", "/valid_from"} <= fields
    r = _put_benefit(admin, {"key": "b1", "label": {"en": "B"}, "valid_from": "2026-02-01T00:00:00+08:00",
                             "valid_to": "2026-01-01T00:00:00Z", "eligibility": {"field": "nope", "op": "eq", "value": 1},
                             "timezone": "Mars/Olympus"})
    assert r.status_code == 422
    fields = {e["field"].split("#", 1)[-1] for e in r.get_json()["errors"]}
    assert {"/valid_to", "/timezone"} <= fields and any(f.startswith("/eligibility") for f in fields)


def test_redeem_refuse_reverse_and_switch(admin: Any, make_user: Any) -> None:
    doc = {"key": "shipping", "label": {"en": "Free shipping"}, "total_quota": 3,
           "per_member_limit": {"count": 2, "period": "month"}, "unit_cost": 100, "budget_cap": 1000,
           "eligibility": {"all": [{"field": "status", "op": "eq", "value": "active"},
                                   {"field": "tier", "op": "eq", "value": "gold"}]}}
    assert _put_benefit(admin, doc).status_code == 200
    gold = _member(admin, "M1", tier="gold")
    silver = _member(admin, "M2", tier="silver")
    gold2 = _member(admin, "M3", tier="gold")

    assert _redeem(admin, "shipping", {"member": gold, "qty": 1}, None).status_code == 422
    for qty in (0, -1):
        r = _redeem(admin, "shipping", {"member": gold, "qty": qty}, f"q{qty}")
        assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "qty"
    r = _redeem(admin, "shipping", {"member": 999999, "qty": 1}, "unknown")
    assert r.status_code == 422 and r.get_json()["errors"][0]["code"] == "unknown_member"

    r = _redeem(admin, "shipping", {"member": silver, "qty": 1}, "s1")
    assert r.status_code == 409 and r.get_json()["code"] == "not_eligible"
    assert r.get_json()["errors"][0]["field"] == "/eligibility/all/1"

    first = _redeem(admin, "shipping", {"member": gold, "qty": 1, "ref_object": "sales_order", "ref_id": 7}, "g1")
    assert first.status_code == 201, first.get_json()
    again = _redeem(admin, "shipping", {"member": gold, "qty": 1, "ref_object": "sales_order", "ref_id": 7}, "g1")
    assert again.get_json() == first.get_json()
    r = _redeem(admin, "shipping", {"member": gold, "qty": 2}, "g1")
    assert r.status_code == 409 and r.get_json()["code"] == "idempotency_key_reused"
    assert _redeem(admin, "shipping", {"member": gold, "qty": 1}, "g2").status_code == 201
    r = _redeem(admin, "shipping", {"member": gold, "qty": 1}, "g3")
    assert r.status_code == 409 and r.get_json()["code"] == "member_limit_reached"
    assert r.get_json()["resets_at"].endswith("Z")
    assert _redeem(admin, "shipping", {"member": gold2, "qty": 1}, "h1").status_code == 201
    r = _redeem(admin, "shipping", {"member": gold2, "qty": 1}, "h2")
    assert r.status_code == 409 and r.get_json()["code"] == "quota_exhausted"

    rid = first.get_json()["redemption_id"]
    r = admin.post(f"/benefits/shipping/redemptions/{rid}/reverse")
    assert r.status_code == 200 and r.get_json()["status"] == "reversed"
    assert admin.post(f"/benefits/shipping/redemptions/{rid}/reverse").get_json()["status"] == "reversed"
    assert _redeem(admin, "shipping", {"member": gold2, "qty": 1}, "h3").status_code == 201

    assert admin.send("PUT", "/benefits/shipping/enabled", {"enabled": False}).status_code == 200
    rev = admin.post(f"/benefits/shipping/redemptions/{rid}/reverse")
    assert rev.status_code == 200
    r = _redeem(admin, "shipping", {"member": gold, "qty": 1}, "g4")
    assert r.status_code == 409 and r.get_json()["code"] == "benefit_disabled"
    page = admin.get(f"/members/{gold}/benefits").get_json()["items"]
    assert next(b for b in page if b["key"] == "shipping")["enabled"] is False

    ledger = admin.get("/benefits/shipping/ledger").get_json()
    outcomes = [a["outcome"] for a in ledger["audit"]]
    assert "benefit_disabled" in outcomes and "not_eligible" in outcomes
    # a refused call wrote only its audit line: no redemption row for g3, h2, g4
    assert len(ledger["redemptions"]) == 4


def test_window_two_phase_and_scope(admin: Any, make_user: Any, standard_pack: Any) -> None:
    assert _put_benefit(admin, {"key": "later", "label": {"en": "L"},
                                "valid_from": "2999-01-01T00:00:00+08:00"}).status_code == 200
    m = _member(admin, "W1")
    r = _redeem(admin, "later", {"member": m, "qty": 1}, "w1")
    assert r.status_code == 409 and r.get_json()["code"] == "benefit_not_active"

    assert _put_benefit(admin, {"key": "hold", "label": {"en": "H"}, "total_quota": 1,
                                "reservation_ttl": 60}).status_code == 200
    r = _redeem(admin, "hold", {"member": m, "qty": 1, "mode": "reserve"}, "r1")
    assert r.status_code == 201 and r.get_json()["status"] == "reserved"
    rid = r.get_json()["redemption_id"]
    assert _redeem(admin, "hold", {"member": m, "qty": 1}, "r2").get_json()["code"] == "quota_exhausted"
    assert admin.post(f"/benefits/hold/redemptions/{rid}/release").get_json()["status"] == "released"
    r = _redeem(admin, "hold", {"member": m, "qty": 1, "mode": "reserve"}, "r3")
    rid = r.get_json()["redemption_id"]
    assert admin.post(f"/benefits/hold/redemptions/{rid}/confirm").get_json()["status"] == "consumed"

    # a reservation past its TTL: the sweep gives it back, confirm is 409 reservation_expired
    assert _put_benefit(admin, {"key": "short", "label": {"en": "S"}, "total_quota": 5}).status_code == 200
    rid = _redeem(admin, "short", {"member": m, "qty": 2, "mode": "reserve"}, "s1").get_json()["redemption_id"]
    from datetime import timedelta

    from metacrm.store import limits
    with standard_pack.engine.begin() as conn:
        assert benefits.expire_redemptions(conn, limits.utcnow() + timedelta(hours=1)) == 1
        assert limits.held(conn, "bf:short") == 0 and limits.verify(conn, "bf:") == []
    r = admin.post(f"/benefits/short/redemptions/{rid}/confirm")
    assert r.status_code == 409 and r.get_json()["code"] == "reservation_expired"

    rep = make_user("rep", grants=[("member", ("read", "create", "update"), "own")])
    theirs = _member(admin, "W2")
    r = _redeem(rep, "hold", {"member": theirs, "qty": 1}, "x1")
    assert r.status_code == 422 and r.get_json()["errors"][0]["code"] == "unknown_member"
    reader = make_user("reader", grants=[("member", ("read",), "all")])
    assert _redeem(reader, "hold", {"member": m, "qty": 1}, "x2").status_code == 403
    assert reader.send("PUT", "/benefits/hold/enabled", {"enabled": False}).status_code == 403


@pytest.mark.parametrize("shared", [False, True])
def test_coupon_codes(admin: Any, shared: bool) -> None:
    doc = {"key": "coupon", "label": {"en": "C"}, "requires_code": True, "code_cap": 2 if shared else 1}
    assert _put_benefit(admin, doc).status_code == 200
    made = admin.post("/benefits/coupon/codes", {"count": 5}).get_json()["codes"]
    assert len(set(made)) == 5
    for code in made:
        raw = code.replace("-", "")
        assert len(raw) == 12 and not set(raw) & set("01OILZ2S5B8V")
    a, b, c = (_member(admin, f"C{i}") for i in range(3))
    assert _redeem(admin, "coupon", {"member": a, "qty": 1}, "n").status_code == 422
    r = _redeem(admin, "coupon", {"member": a, "qty": 1, "code": "NOPE-NOPE"}, "u")
    assert r.status_code == 422 and r.get_json()["errors"][0]["code"] == "unknown_code"
    assert _redeem(admin, "coupon", {"member": a, "qty": 1, "code": made[0].lower()}, "c1").status_code == 201
    second = _redeem(admin, "coupon", {"member": b, "qty": 1, "code": made[0]}, "c2")
    if shared:
        assert second.status_code == 201
        third = _redeem(admin, "coupon", {"member": c, "qty": 1, "code": made[0]}, "c3")
        assert third.status_code == 409 and third.get_json()["errors"][0]["field"] == "code"
    else:
        assert second.status_code == 409 and second.get_json()["code"] == "quota_exhausted"


def test_points_api(admin: Any, make_user: Any) -> None:
    m = _member(admin, "P1", tier="gold")
    order = admin.post("/records/sales_order", {"order_no": "SO1", "member": m, "amount": "200.00", "status": "paid"})
    assert order.status_code == 201
    got = admin.get(f"/members/{m}/points").get_json()
    assert got["balance"] == 300 and got["lots"][0]["remaining"] == 300
    assert admin.post(f"/members/{m}/points/spend", {"qty": 10}).status_code == 422  # no Idempotency-Key
    r = admin.send("POST", f"/members/{m}/points/spend", {"qty": 100}, headers={"Idempotency-Key": "p1"})
    assert r.status_code == 201 and r.get_json()["balance"] == 200
    again = admin.send("POST", f"/members/{m}/points/spend", {"qty": 100}, headers={"Idempotency-Key": "p1"})
    assert again.get_json()["spend_id"] == r.get_json()["spend_id"]
    r2 = admin.send("POST", f"/members/{m}/points/spend", {"qty": 500}, headers={"Idempotency-Key": "p2"})
    assert r2.status_code == 409 and r2.get_json()["code"] == "insufficient_points"
    back = admin.post(f"/members/{m}/points/spends/{r.get_json()['spend_id']}/refund")
    assert back.status_code == 200 and back.get_json()["balance"] == 300
    rep = make_user("rep2", grants=[("member", ("read", "update"), "own")])
    assert rep.get(f"/members/{m}/points").status_code == 404


def test_new_member_gets_one_welcome_coupon(admin: Any, standard_pack: Any, apply_docs: Any) -> None:
    """The welcome_member_coupon workflow: one personal code per member, however often it fires."""
    import json
    from pathlib import Path

    from metacrm.flows.executor import drain

    shipped = Path(__file__).resolve().parents[2] / "workflows" / "welcome_member_coupon.json"
    apply_docs(standard_pack, ("workflow", json.loads(shipped.read_text(encoding="utf-8"))))
    m = _member(admin, "NEW1")
    drain(standard_pack)
    with standard_pack.engine.connect() as conn:
        rows = conn.execute(benefits.codes.select().where(benefits.codes.c.member_id == m)).all()
    assert len(rows) == 1 and rows[0].benefit == "welcome_coupon"
    r = admin.post("/workflows/welcome_member_coupon/start", {"record_id": m})
    assert r.status_code in (200, 201, 202), r.get_json()
    drain(standard_pack)
    with standard_pack.engine.connect() as conn:
        assert len(conn.execute(benefits.codes.select().where(benefits.codes.c.member_id == m)).all()) == 1
    code = rows[0].code
    assert _redeem(admin, "welcome_coupon", {"member": m, "qty": 1, "code": code}, "w1").status_code == 201
    other = _member(admin, "NEW2")
    r = _redeem(admin, "welcome_coupon", {"member": other, "qty": 1, "code": code}, "w2")
    assert r.status_code == 422 and r.get_json()["errors"][0]["code"] == "unknown_code"  # a personal code


def test_readers_see_no_rules_costs_or_budgets(admin: Any, make_user: Any) -> None:
    reader = make_user("reader2", grants=[("member", ("read",), "all")])
    items = {b["key"]: b for b in reader.get("/benefits").get_json()["items"]}
    gift = items["birthday_gift"]
    assert "eligibility" not in gift and "unit_cost" not in gift and "per_member_limit" in gift
    assert "eligibility" in {b["key"]: b for b in admin.get("/benefits").get_json()["items"]}["birthday_gift"]
    r = admin.post("/benefits/welcome_coupon/codes", {"count": 1, "member": 999999})
    assert r.status_code == 422 and r.get_json()["errors"][0]["code"] == "unknown_member"
