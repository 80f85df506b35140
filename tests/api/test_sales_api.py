"""Sales API: kanban board, guarded moves, card order, funnel, forecast, stage history, assignment.

Every endpoint answers within the caller's scope: a rep sees their own deals in columns, funnel
and forecast; a caller without a grant gets 403; hidden amounts are never summed for them.
"""

from __future__ import annotations

import pytest

from metacrm.store.services import Services

OPP = ("opportunity", ("read", "create", "update"), "own")


@pytest.fixture
def world(admin, make_user, standard_pack: Services):
    amy = make_user("amy", grants=[OPP, ("lead", ("read", "create", "update"), "own")])
    bob = make_user("bob", grants=[OPP])
    deals = {}
    for who, name, stage, amount in ((amy, "A1", "proposal", "100"), (amy, "A2", "negotiation", "300"),
                                     (bob, "B1", "proposal", "1000"), (amy, "A3", "won", "50")):
        body = {"name": name, "stage": stage, "amount": amount, "expected_close": "2026-12-15"}
        r = who.post("/records/opportunity", body)
        assert r.status_code == 201, r.json
        deals[name] = r.json
    return {"admin": admin, "amy": amy, "bob": bob, "deals": deals}


def test_board_is_scoped_with_header_sums(world) -> None:
    r = world["amy"].get("/pipelines/new_business/board")
    assert r.status_code == 200, r.json
    cols = {c["stage"]: c for c in r.json["columns"]}
    assert (cols["proposal"]["count"], cols["proposal"]["amount"], cols["proposal"]["weighted"]) == (1, "100.00", "50.00")
    assert (cols["negotiation"]["amount"], cols["negotiation"]["weighted"]) == ("300.00", "225.00")
    assert (cols["won"]["weighted"], cols["lost"]["count"]) == ("50.00", 0)
    assert cols["lost"]["required_fields"] == ["lost_reason"]
    assert [c["name"] for c in cols["proposal"]["cards"]] == ["A1"]
    everyone = {c["stage"]: c for c in world["admin"].get("/pipelines/new_business/board").json["columns"]}
    assert everyone["proposal"]["count"] == 2 and everyone["proposal"]["amount"] == "1100.00"


def test_move_refused_then_saved_with_fields_and_order(world) -> None:
    amy, deal = world["amy"], world["deals"]["A1"]
    r = amy.post("/pipelines/new_business/move", {"record_id": deal["id"], "stage": "lost", "version": deal["version"]})
    assert r.status_code == 422
    assert r.json["errors"] == [{"field": "lost_reason", "code": "required_for_stage",
                                 "message": "'lost_reason' is required to enter Lost", "stage": "lost"}]
    assert amy.get(f"/records/opportunity/{deal['id']}").json["version"] == deal["version"]
    r = amy.post("/pipelines/new_business/move", {"record_id": deal["id"], "stage": "lost", "version": deal["version"],
                                                  "fields": {"lost_reason": "price"}, "order": [deal["id"]]})
    assert r.status_code == 200, r.json
    assert (r.json["record"]["stage"], r.json["record"]["lost_reason"]) == ("lost", "price")
    assert {c["stage"]: c["count"] for c in r.json["columns"]}["lost"] == 1
    stale = amy.post("/pipelines/new_business/move", {"record_id": deal["id"], "stage": "prospecting",
                                                      "version": deal["version"]})
    assert stale.status_code == 409 and stale.json["code"] == "stale_version"
    history = amy.get(f"/stage-history/opportunity/{deal['id']}").json["items"]
    assert [(h["from_stage"], h["to_stage"]) for h in history] == [(None, "proposal"), ("proposal", "lost")]
    # bob may not move or even see amy's deal
    other = world["bob"].post("/pipelines/new_business/move", {"record_id": deal["id"], "stage": "prospecting"})
    assert other.status_code == 404
    assert world["bob"].get(f"/stage-history/opportunity/{deal['id']}").status_code == 404
    bad = amy.send("PUT", "/pipelines/new_business/board/order", {"record_ids": [world["deals"]["B1"]["id"]]})
    assert bad.status_code == 404
    assert amy.send("PUT", "/pipelines/new_business/board/order", {"record_ids": []}).status_code == 422


def test_card_order_is_saved(world) -> None:
    admin, deals = world["admin"], world["deals"]
    order = [deals["B1"]["id"], deals["A1"]["id"]]
    assert admin.send("PUT", "/pipelines/new_business/board/order", {"record_ids": order}).status_code == 200
    cols = {c["stage"]: c for c in admin.get("/pipelines/new_business/board").json["columns"]}
    assert [c["id"] for c in cols["proposal"]["cards"]] == order
    order.reverse()
    admin.send("PUT", "/pipelines/new_business/board/order", {"record_ids": order})
    cols = {c["stage"]: c for c in admin.get("/pipelines/new_business/board").json["columns"]}
    assert [c["id"] for c in cols["proposal"]["cards"]] == order


def test_funnel_and_forecast_are_scoped(world) -> None:
    funnel = world["amy"].get("/pipelines/new_business/funnel").json["stages"]
    assert [(s["stage"], s["count"]) for s in funnel] == [
        ("prospecting", 3), ("qualification", 3), ("proposal", 3), ("negotiation", 2), ("won", 1)]
    assert funnel[2]["drop_off_pct"] == 33.3
    [month] = world["amy"].get("/pipelines/new_business/forecast").json["months"]
    assert month == {"month": "2026-12", "won": "50.00", "weighted_open": "275.00", "forecast": "325.00",
                     "commit": "350.00", "best_case": "450.00", "open_amount": "400.00"}
    assert world["amy"].get("/pipelines/new_business/forecast/snapshots").status_code == 403
    assert world["admin"].get("/pipelines/new_business/forecast/snapshots").status_code == 200


def test_hidden_amounts_are_not_summed(world, make_user) -> None:
    eve = make_user("eve", grants=[("opportunity", ("read",), "all")], hidden={"opportunity": ["amount"]})
    cols = eve.get("/pipelines/new_business/board").json["columns"]
    assert all(c["amount"] is None and c["weighted"] is None for c in cols)
    assert eve.get("/pipelines/new_business/forecast").status_code == 403


@pytest.mark.parametrize("method,path,body", [
    ("GET", "/pipelines/new_business/board", None), ("GET", "/pipelines/new_business/funnel", None),
    ("GET", "/pipelines/new_business/forecast", None), ("GET", "/pipelines/new_business/forecast/snapshots", None),
    ("POST", "/pipelines/new_business/move", {"record_id": 1, "stage": "won"}),
    ("PUT", "/pipelines/new_business/board/order", {"record_ids": [1]}),
    ("POST", "/assignment/lead_routing/explain", {"values": {"city": "shanghai"}}),
    ("POST", "/assignment/lead_routing/assign", {"record_id": 1}),
    ("GET", "/stage-history/opportunity/1", None), ("GET", "/pools/public_pool/records", None),
    ("GET", "/pools/public_pool/quota", None), ("POST", "/pools/public_pool/claim", {"record_id": 1}),
    ("POST", "/pools/public_pool/release", {"record_id": 1, "reason": "x"}),
])
def test_no_grant_no_access(world, make_user, anonymous, method: str, path: str, body) -> None:
    nobody = make_user("nobody")
    assert nobody.send(method, path, body).status_code == 403
    assert anonymous.send(method, path, body).status_code == 401
    assert not nobody.get("/pipelines").json["items"]
    assert not nobody.get("/pools").json["items"] and not nobody.get("/assignment").json["items"]
    assert anonymous.get("/pipelines").status_code == 401


def test_sales_operations_are_documented(world) -> None:
    paths = world["amy"].get("/openapi.json").json["paths"]
    for path in ("/pipelines", "/pipelines/{name}/board", "/pipelines/{name}/board/order", "/pipelines/{name}/move",
                 "/pipelines/{name}/funnel", "/pipelines/{name}/forecast", "/pipelines/{name}/forecast/snapshots",
                 "/stage-history/{object}/{record_id}", "/assignment", "/assignment/{name}/explain",
                 "/assignment/{name}/assign", "/pools", "/pools/{name}/records", "/pools/{name}/quota",
                 "/pools/{name}/claim", "/pools/{name}/release"):
        assert path in paths, path
    move = paths["/pipelines/{name}/move"]["post"]
    assert move["requestBody"]["content"]["application/json"]["schema"]["required"] == ["record_id", "stage"]


def test_assignment_explain_and_assign(world, standard_pack: Services) -> None:
    from metacrm.auth import accounts

    with standard_pack.engine.begin() as conn:
        team = accounts.ensure_team(conn, "east_sales")
        accounts.add_member(conn, team, world["amy"].user_id)
    admin = world["admin"]
    r = admin.post("/assignment/lead_routing/explain", {"values": {"name": "X", "city": "shanghai"}})
    assert r.status_code == 200, r.json
    assert (r.json["matched"], r.json["territory"], r.json["owner"]["username"]) == (True, "east", "amy")
    west = admin.post("/assignment/lead_routing/explain", {"values": {"city": "beijing"}}).json
    assert (west["territory"], west["fallback"], west["owner"]) == (None, None, None)  # team sales: nobody yet
    lead = admin.post("/records/lead", {"name": "Unowned", "city": "hangzhou", "owner_id": None}).json
    assert lead["owner_id"] == world["amy"].user_id  # assigned on create
    r = admin.post("/assignment/lead_routing/assign", {"record_id": lead["id"]})
    assert r.status_code == 200 and r.json["decision"]["owner"]["username"] == "amy"
    assert admin.post("/assignment/lead_routing/explain", {"values": {"city": "nowhere"}}).status_code == 422
    assert admin.post("/assignment/nope/explain", {"values": {}}).status_code == 404
    bad = admin.send("PUT", "/definitions/assignment/lead_routing", {
        "name": "lead_routing", "label": {"en": "x"}, "object": "lead",
        "entries": [{"strategy": "weighted", "weights": {"amy": 0, "ghost": 2}}]})
    assert bad.status_code == 422
    assert {e["code"] for e in bad.json["errors"]} >= {"invalid_weight"}


def test_pool_claim_release_limits_and_returns(world, standard_pack: Services, apply_docs) -> None:
    from datetime import UTC, datetime, timedelta

    from metacrm.engines import lead_pool

    apply_docs(standard_pack, ("lead_pool", {"name": "public_pool", "label": {"en": "Pool"}, "object": "lead",
                                             "hold_limit": 2, "daily_claim_cap": 3, "return_after_days": 5}))
    admin, amy = world["admin"], world["amy"]
    ids = [admin.post("/records/lead", {"name": f"P{i}", "owner_id": None}).json["id"] for i in range(4)]
    page = amy.get("/pools/public_pool/records").json
    assert {r["id"] for r in page["items"]} >= set(ids) and page["quota"]["hold_left"] == 2
    assert amy.post("/pools/public_pool/claim", {"record_id": ids[0]}).status_code == 200
    taken = world["bob"].post("/pools/public_pool/claim", {"record_id": ids[0]})
    assert taken.status_code in (403, 409)  # bob has no lead grant: 403; a rival rep: 409 already_claimed
    assert admin.post("/pools/public_pool/claim", {"record_id": ids[0]}).json["code"] == "already_claimed"
    r = amy.post("/pools/public_pool/claim", {"record_id": ids[1]})
    assert r.json["quota"]["hold_left"] == 0
    over = amy.post("/pools/public_pool/claim", {"record_id": ids[2]})
    assert over.status_code == 409 and over.json["code"] == "limit_reached"
    assert over.json["errors"][0]["field"] == "hold_limit"
    assert amy.get(f"/records/lead/{ids[2]}").status_code == 404  # the refused claim changed nothing
    back = amy.post("/pools/public_pool/release", {"record_id": ids[1], "reason": "wrong region"})
    assert back.status_code == 200 and back.json["quota"]["held"] == 1
    assert amy.post("/pools/public_pool/claim", {"record_id": ids[2]}).status_code == 200
    daily = amy.post("/pools/public_pool/claim", {"record_id": ids[3]})
    assert daily.status_code == 409 and "resets at" in daily.json["title"]  # hold 2 and 3 claims today
    events = amy.get(f"/records/lead/{ids[1]}/timeline").status_code
    assert events == 404  # released: no longer amy's
    timeline = admin.get(f"/records/lead/{ids[1]}/timeline").json["items"]
    assert [(e["kind"], (e.get("context") or {}).get("reason")) for e in timeline if e["kind"].startswith("pool")
            ] == [("pool_released", "wrong region"), ("pool_claimed", "claimed")]
    # returns: no follow-up for 5 days; a warning the day before
    with standard_pack.engine.begin() as conn:
        snap = standard_pack.registry.current(conn)
        soon = datetime.now(UTC) + timedelta(days=4, hours=1)
        assert lead_pool.returns(conn, standard_pack.records, snap, now=soon) == {"returned": 0, "warned": 2}
    warnings = sorted(n["title"] for n in amy.get("/notifications").json["items"] if "goes back" in n["title"])
    assert len(warnings) == 2 and warnings[0].startswith("P0 goes back to Pool on ")  # the record's title, amy's language
    with standard_pack.engine.begin() as conn:
        later = datetime.now(UTC) + timedelta(days=5, hours=1)
        assert lead_pool.returns(conn, standard_pack.records, snap, now=later) == {"returned": 2, "warned": 0}
    assert amy.get("/pools/public_pool/quota").json["held"] == 0
    assert admin.get(f"/records/lead/{ids[0]}").json["owner_id"] is None
    assert world["bob"].get("/pools/public_pool/records").status_code == 403
