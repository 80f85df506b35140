"""Relation titles honour the reader's field rules on the target: when the target's title field is
hidden from the reader, every place that shows a relation's title (the titles endpoint behind
relation values and pickers, the picker search, exports direct and in the background) shows the
id only, never the hidden value (issue 14)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from metacrm.flows import executor

HIDDEN_NAME = "Hushed Holdings Ltd"


@pytest.fixture
def world(admin, make_user):
    rep = make_user("rep", grants=[("customer", ["read", "create", "update"], "own"), ("account", ["read"], "all")],
                    hidden={"account": ["name"]})
    account = admin.post("/records/account", {"name": HIDDEN_NAME}).json
    assert "id" in account, account
    r = rep.post("/records/customer", {"name": "Visible Customer", "account": account["id"]})
    assert r.status_code == 201, r.json
    return rep, account["id"], r.json["id"]


def test_the_titles_endpoint_shows_an_id_only(world, admin):
    rep, account_id, _ = world
    r = rep.post("/titles", {"account": [account_id]})
    assert r.status_code == 200, r.json
    assert r.json["account"][str(account_id)]["title"] == f"#{account_id}"
    assert HIDDEN_NAME not in r.get_data(as_text=True)
    assert admin.post("/titles", {"account": [account_id]}).json["account"][str(account_id)]["title"] == HIDDEN_NAME


def test_the_picker_does_not_search_or_show_the_hidden_title(world):
    rep, account_id, _ = world
    r = rep.get("/lookup/account?q=Hushed")
    assert r.status_code == 200, r.json
    assert HIDDEN_NAME not in r.get_data(as_text=True)
    assert all(item["id"] != account_id for item in r.json["items"])  # no oracle by the hidden value


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def test_an_export_writes_the_related_id_not_the_hidden_title(world, admin, standard_pack):
    rep, account_id, customer_id = world
    r = rep.get("/exports/customer?format=csv&fields=id,name,account")
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    rows = _csv(r)
    assert HIDDEN_NAME not in r.get_data().decode("utf-8-sig")
    assert rows[1] == [str(customer_id), "Visible Customer", str(account_id)]
    shown = _csv(admin.get("/exports/customer?format=csv&fields=id,name,account"))
    assert [str(customer_id), "Visible Customer", HIDDEN_NAME] in shown  # the admin sees the title

    # the background export applies the same rule
    r = rep.post("/exports/customer", {"format": "csv", "columns": ["id", "name", "account"]})
    assert r.status_code == 202, r.json
    assert executor.wait_idle(standard_pack, 30)
    job = rep.get(f"/export-jobs/{r.json['id']}").json
    assert job["status"] == "done", job
    body = rep.get(f"/export-jobs/{r.json['id']}/file")
    try:
        assert body.status_code == 200
        assert HIDDEN_NAME not in body.get_data().decode("utf-8-sig")
        assert _csv(body)[1] == [str(customer_id), "Visible Customer", str(account_id)]
    finally:
        body.close()  # the file response holds the export open


def _import(api, rows):
    from openpyxl import Workbook

    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    return api.client.post("/api/v1/imports?wait=true", data={"object": "customer", "file": (out, "c.xlsx")},
                           headers=api._headers(None), content_type="multipart/form-data")


def test_an_import_does_not_look_names_up_by_a_hidden_title(world, admin):
    rep, account_id, _ = world
    r = _import(rep, [["Name", "Company"], ["Imported By Rep", HIDDEN_NAME]])
    assert r.status_code == 200, r.json
    linked = [c for c in admin.get("/records/customer?limit=200").json["items"] if c.get("account") == account_id]
    assert [c["name"] for c in linked] == ["Visible Customer"]  # the rep's row was not linked by the hidden name
    assert str(account_id) not in json.dumps(rep.get(f"/imports/{r.json['id']}/outcomes").json)
    r = _import(admin, [["Name", "Company"], ["Imported By Admin", HIDDEN_NAME]])
    assert r.status_code == 200 and r.json["created"] == 1, r.json
    linked = [c for c in admin.get("/records/customer?limit=200").json["items"] if c.get("account") == account_id]
    assert sorted(c["name"] for c in linked) == ["Imported By Admin", "Visible Customer"]
