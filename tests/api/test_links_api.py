"""Many-to-many links over the API (customer.accounts <-> account.contacts, with a role)."""

import pytest


@pytest.fixture
def people(admin):
    a1 = admin.post("/records/account", {"name": "ACME"}).get_json()["id"]
    a2 = admin.post("/records/account", {"name": "Globex"}).get_json()["id"]
    c = admin.post("/records/customer", {"name": "王伟"}).get_json()["id"]
    return a1, a2, c


def test_one_person_linked_to_two_companies_keeps_both(admin, people):
    a1, a2, c = people
    r = admin.post(f"/records/customer/{c}/links/accounts", {"links": [{"id": a1, "role": "buyer"}]})
    assert r.status_code == 200, r.get_json()
    r = admin.post(f"/records/customer/{c}/links/accounts", {"links": [{"id": a2, "role": "decision_maker"}, a1]})
    assert r.get_json()["added"] == [a2]  # a1 again: a no-op
    items = admin.get(f"/records/customer/{c}/links/accounts").get_json()["items"]
    assert [(i["id"], i["role"]) for i in items] == [(a1, "buyer"), (a2, "decision_maker")]
    # listed from the other side
    assert [i["id"] for i in admin.get(f"/records/account/{a1}/links/contacts").get_json()["items"]] == [c]
    assert [i["id"] for i in admin.get(f"/records/account/{a2}/links/contacts").get_json()["items"]] == [c]
    assert admin.get(f"/records/account/{a1}").get_json()["contact_count"] == 1  # a roll-up over the link
    # set from the account side, remove one
    r = admin.send("PUT", f"/records/account/{a2}/links/contacts", {"links": []})
    assert r.get_json()["removed"] == [c]
    assert admin.delete(f"/records/customer/{c}/links/accounts/{a1}").get_json()["removed"] == [a1]
    assert admin.get(f"/records/customer/{c}/links/accounts").get_json()["items"] == []
    assert admin.get(f"/records/account/{a1}").get_json()["contact_count"] == 0


def test_bad_links_are_422_naming_them(admin, people):
    a1, _, c = people
    r = admin.post(f"/records/customer/{c}/links/accounts", {"links": [{"id": 999999}]})
    assert r.status_code == 422
    assert "999999" in r.get_data(as_text=True)
    r = admin.post(f"/records/customer/{c}/links/accounts", {"links": [{"id": a1, "role": "boss"}]})
    assert r.status_code == 422
    assert any(p["field"] == "links/0/role" for p in r.get_json()["errors"])
    assert admin.get(f"/records/customer/{c}/links/nope").status_code == 404


def test_linking_needs_update_on_the_declaring_side(make_user, admin, people):
    a1, _, c = people
    reader = make_user("reader", grants=[("customer", ["read"], "all"), ("account", ["read"], "all")])
    assert reader.get(f"/records/customer/{c}/links/accounts").status_code == 200
    assert reader.post(f"/records/customer/{c}/links/accounts", {"links": [a1]}).status_code == 403
    writer = make_user("writer", grants=[("customer", ["read", "update"], "all"), ("account", ["read"], "all")])
    assert writer.post(f"/records/account/{a1}/links/contacts", {"links": [c]}).status_code == 200


def test_formula_and_rollup_fields_are_read_only(admin):
    acc = admin.post("/records/account", {"name": "ACME"}).get_json()
    r = admin.post("/records/opportunity", {"name": "o", "account": acc["id"], "amount": "10", "stage": "won"})
    assert r.status_code == 201, r.get_json()
    got = admin.get(f"/records/account/{acc['id']}").get_json()
    assert (got["won_amount"], got["open_deals"], got["version"]) == ("10.00", 0, 1)
    r = admin.patch(f"/records/account/{acc['id']}", {"won_amount": "5"}, version=1)
    assert r.status_code == 422
    assert r.get_json()["errors"][0]["code"] == "read_only_field"
    assert admin.post("/records/account", {"name": "x", "open_deals": 3}).status_code == 422
    # filterable like any field
    listed = admin.get('/records/account?filter={"field":"won_amount","op":"gt","value":5}').get_json()
    assert [i["id"] for i in listed["items"]] == [acc["id"]]


def test_a_form_sending_back_computed_values_is_accepted(admin):
    acc = admin.post("/records/account", {"name": "ACME"}).get_json()
    admin.post("/records/activity", {"subject": "call", "type": "call", "account": acc["id"],
                                     "due_at": "2026-01-01T10:00:00Z"})
    got = admin.get(f"/records/account/{acc['id']}").get_json()
    assert got["last_activity_at"] == "2026-01-01T10:00:00Z"
    assert isinstance(got["days_since_last_activity"], int)  # volatile: computed when read
    body = {k: got[k] for k in ("name", "won_amount", "open_deals", "last_activity_at", "days_since_last_activity")}
    r = admin.patch(f"/records/account/{acc['id']}", {**body, "name": "ACME 2"}, version=got["version"])
    assert r.status_code == 200, r.get_json()
    detail = admin.get("/objects/account").get_json()
    field = next(f for f in detail["fields"] if f["name"] == "won_amount")
    assert field["readonly"] and field["result"] == "decimal" and "gt" in field["operators"]
    # a volatile formula filters at query time
    listed = admin.get('/records/account?filter={"field":"days_since_last_activity","op":"gt","value":30}').get_json()
    assert acc["id"] in [i["id"] for i in listed["items"]]
