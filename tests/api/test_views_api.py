"""Saved views on the server: per user, validated like a list, shared with roles or teams by admins."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def users(admin, make_user):
    grants = [("lead", ["read", "create", "update"], "own")]
    return (admin, make_user("ann", grants=grants, teams=["east"]), make_user("bob", grants=grants, teams=["west"]),
            make_user("cat", grants=grants, teams=["east"]))


VIEW = {"object": "lead", "name": "Hot Shanghai", "columns": ["name", "phone", "status"], "sort": "-created_at",
        "filter": {"field": "city", "op": "eq", "value": "shanghai"}}


def test_builtin_my_view_and_own_views(users):
    _, ann, bob, _ = users
    items = ann.get("/views?object=lead").json["items"]
    assert items[0]["builtin"] and items[0]["filter"] == {"field": "owner_id", "op": "eq", "value": ann.user_id}
    mine = ann.post("/records/lead", {"name": "mine"}).json["id"]
    listed = ann.get("/records/lead", query_string={"filter": json.dumps(items[0]["filter"])}).json["items"]
    assert [r["id"] for r in listed] == [mine]
    r = ann.post("/views", VIEW)
    assert r.status_code == 201, r.json
    view = r.json
    assert view["mine"] and not view["builtin"] and view["owner"]["id"] == ann.user_id
    assert view["shared"] == {"roles": [], "teams": []} and view["columns"] == VIEW["columns"]
    assert [v["name"] for v in ann.get("/views?object=lead").json["items"]][1:] == ["Hot Shanghai"]
    assert [v["builtin"] for v in bob.get("/views?object=lead").json["items"]] == [True]  # not bob's
    assert bob.send("PUT", f"/views/{view['id']}", {"name": "x"}).status_code == 404
    assert bob.delete(f"/views/{view['id']}").status_code == 404
    r = ann.send("PUT", f"/views/{view['id']}", {"name": "Renamed", "sort": "name"})
    assert r.status_code == 200 and (r.json["name"], r.json["sort"], r.json["columns"]) == (
        "Renamed", "name", VIEW["columns"])
    assert ann.delete(f"/views/{view['id']}").status_code == 200
    assert len(ann.get("/views?object=lead").json["items"]) == 1


def test_views_are_validated(users):
    _, ann, _, _ = users
    for bad in ({**VIEW, "columns": ["nope"]}, {**VIEW, "sort": "nope"}, {**VIEW, "filter": {"field": "x", "op": "eq"}},
                {**VIEW, "name": ""}, {**VIEW, "extra": 1}, {**VIEW, "filter": [1]}, {k: v for k, v in VIEW.items()
                                                                                    if k != "object"}):
        r = ann.post("/views", bad)
        assert r.status_code == 422, (bad, r.json)
    assert ann.post("/views", {**VIEW, "object": "channel"}).status_code == 403
    assert ann.get("/views").status_code == 400
    assert ann.get("/views?object=nope").status_code == 404


def test_only_admins_share(users):
    admin, ann, bob, cat = users
    assert ann.post("/views", {**VIEW, "shared": {"teams": ["east"]}}).status_code == 403
    own = ann.post("/views", {**VIEW, "shared": {"roles": [], "teams": []}}).json
    assert ann.send("PUT", f"/views/{own['id']}", {"shared": {"roles": ["role_bob"]}}).status_code == 403
    assert admin.post("/views", {**VIEW, "shared": {"teams": ["nowhere"]}}).status_code == 422
    shared = admin.post("/views", {**VIEW, "name": "East team", "shared": {"teams": ["east"]}}).json
    by_role = admin.post("/views", {**VIEW, "name": "For bob", "shared": {"roles": ["role_bob"]}}).json
    names = {u: [v["name"] for v in c.get("/views?object=lead").json["items"] if not v["builtin"]]
             for u, c in (("ann", ann), ("bob", bob), ("cat", cat))}
    assert names == {"ann": ["Hot Shanghai", "East team"], "bob": ["For bob"], "cat": ["East team"]}
    assert cat.send("PUT", f"/views/{shared['id']}", {"name": "mine now"}).status_code == 403  # read, not edit
    assert cat.delete(f"/views/{shared['id']}").status_code == 403
    assert admin.send("PUT", f"/views/{by_role['id']}", {"shared": {"roles": [], "teams": ["west"]}}).json[
        "shared"] == {"roles": [], "teams": ["west"]}
