"""Lead conversion by the metadata mapping: targets created through the record service, links both
ways, timelines on both sides, refused twice, scoped, and the definition checked."""

from __future__ import annotations

import pytest


@pytest.fixture
def rep(make_user):
    return make_user("rep", grants=[(o, ["read", "create", "update"], "own")
                                    for o in ("lead", "customer", "account", "opportunity")])


def test_convert_lead_into_customer_account_and_opportunity(rep):
    lead = rep.post("/records/lead", {"name": "王伟", "company": "星辰科技", "phone": "13812345678",
                                      "email": "wang@example.com", "city": "shanghai", "budget": "50000.00"}).json
    r = rep.post(f"/records/lead/{lead['id']}/convert", {"account": True, "opportunity": True})
    assert r.status_code == 201, r.json
    ids = r.json
    assert set(ids) == {"customer", "account", "opportunity"} and all(ids.values())
    customer = rep.get(f"/records/customer/{ids['customer']}").json
    assert (customer["name"], customer["phone"], customer["email"], customer["city"]) == (
        "王伟", "+8613812345678", "wang@example.com", "shanghai")
    assert customer["account"] == ids["account"] and customer["source_lead"] == lead["id"]
    assert customer["owner_id"] == rep.user_id
    account = rep.get(f"/records/account/{ids['account']}").json
    assert account["name"] == "星辰科技" and account["source_lead"] == lead["id"]
    opp = rep.get(f"/records/opportunity/{ids['opportunity']}").json
    assert (opp["lead"], opp["account"], opp["customer"], opp["amount"], opp["stage"]) == (
        lead["id"], ids["account"], ids["customer"], "50000.00", "prospecting")
    after = rep.get(f"/records/lead/{lead['id']}").json
    assert (after["status"], after["converted_customer"], after["converted_account"],
            after["converted_opportunity"]) == ("converted", ids["customer"], ids["account"], ids["opportunity"])
    kinds = [e["kind"] for e in rep.get(f"/records/lead/{lead['id']}/timeline").json["items"]]
    assert "converted" in kinds
    event = next(e for e in rep.get(f"/records/customer/{ids['customer']}/timeline").json["items"]
                 if e["kind"] == "converted")
    assert event["changes"]["after"]["from"] == {"object": "lead", "id": lead["id"]}
    again = rep.post(f"/records/lead/{lead['id']}/convert", {})
    assert again.status_code == 409 and again.json["code"] == "already_converted"


def test_convert_customer_only_and_bad_requests(rep, admin, make_user):
    lead = rep.post("/records/lead", {"name": "Only Customer"}).json
    assert rep.post(f"/records/lead/{lead['id']}/convert", {"bogus": True}).status_code == 422
    assert rep.post(f"/records/lead/{lead['id']}/convert", {"account": "yes"}).status_code == 422
    r = rep.post(f"/records/lead/{lead['id']}/convert", {})
    assert r.status_code == 201 and r.json["account"] is None and r.json["opportunity"] is None
    assert rep.post("/records/lead/999999/convert", {}).status_code == 404
    assert rep.post("/records/customer/1/convert", {}).status_code == 404  # no conversion for customers
    stranger = admin.post("/records/lead", {"name": "not yours"}).json
    assert rep.post(f"/records/lead/{stranger['id']}/convert", {}).status_code == 404  # out of scope
    reader = make_user("reader", grants=[("lead", ["read"], "all")])
    assert reader.post(f"/records/lead/{stranger['id']}/convert", {}).status_code == 403
    no_customer = make_user("nocust", grants=[("lead", ["read", "update"], "all")])
    assert no_customer.post(f"/records/lead/{stranger['id']}/convert", {}).status_code == 403
    assert admin.get(f"/records/lead/{stranger['id']}").json["status"] != "converted"  # nothing half-written


def test_invalid_mapping_is_refused(admin):
    doc = {"name": "lead", "label": {"en": "x"}, "source": "lead", "targets": [
        {"key": "customer", "object": "customer", "link": "name", "fields": {"nope": "name"}},
        {"key": "opp", "object": "opportunity", "link": "converted_opportunity", "refs": {"account": "later"}}]}
    r = admin.send("PUT", "/definitions/conversion/lead", doc)
    assert r.status_code == 422
    fields = {e["field"] for e in r.json["errors"]}
    assert any("targets/0/link" in f for f in fields) and any("targets/0/fields/nope" in f for f in fields)
    assert any("targets/1/refs/account" in f for f in fields)
