"""Global search: names, phones in any format and by their last digits, e-mails, companies, CJK,
small Latin typos; every readable object, within the caller's scope; indexes kept by the database."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from metacrm.engines.search import fts_name, normalize


@pytest.fixture
def found(admin, make_user):
    me = make_user("me", grants=[(o, ["read", "create", "update"], "own") for o in ("lead", "account", "customer")])
    other = make_user("other")
    ids = {
        "wang": me.post("/records/lead", {"name": "王伟", "phone": "+86 138-1234-5678",
                                          "company": "上海星辰科技有限公司"}).json["id"],
        "smith": me.post("/records/lead", {"name": "John Smith", "email": "john.smith@acme-corp.com"}).json["id"],
        "acme": me.post("/records/account", {"name": "ACME Trading Ltd", "phone": "021-6123 4567"}).json["id"],
        "hidden": admin.post("/records/lead", {"name": "王伟东", "phone": "13912345678",
                                               "owner_id": other.user_id}).json["id"],
        "cust": me.post("/records/customer", {"name": "Emma Chen", "phone": "13700001111"}).json["id"],
    }

    def search(who, q, **kw):
        r = who.get("/search", query_string={"q": q, **kw})
        assert r.status_code == 200, r.json
        return {(g["object"], i["id"]) for g in r.json["groups"] for i in g["items"]}

    return admin, me, ids, search


@pytest.mark.parametrize("q", ["13812345678", "+86 138 1234 5678", "138-1234-5678", "5678", "+8613812345678"])
def test_phone_in_any_format(found, q):
    _, me, ids, search = found
    assert ("lead", ids["wang"]) in search(me, q)


def test_names_emails_companies_cjk_and_scope(found):
    admin, me, ids, search = found
    assert search(me, "王伟") == {("lead", ids["wang"])}  # the stranger's 王伟东 is out of scope
    assert search(admin, "王伟") == {("lead", ids["wang"]), ("lead", ids["hidden"])}
    assert search(me, "星辰科技") == {("lead", ids["wang"])}
    assert search(me, "acme-corp") == {("lead", ids["smith"])}
    assert search(me, "JOHN SMITH") == {("lead", ids["smith"])}
    assert ("account", ids["acme"]) in search(me, "acme")
    assert search(me, "021-61234567") == {("account", ids["acme"])}  # national trunk 0, E.164 stored
    assert search(me, "emma") == {("customer", ids["cust"])}
    assert search(me, "zzzz-nothing") == set()
    assert search(me, "") == set()


def test_small_latin_typos(found):
    _, me, ids, search = found
    assert ("lead", ids["smith"]) in search(me, "smyth")
    assert ("lead", ids["smith"]) in search(me, "jon smith")


def test_groups_labels_limit_and_bad_input(found):
    _, me, _ids, _ = found
    me.post("/records/lead", {"name": "王伟", "phone": "13812340000"})
    body = me.get("/search?q=王伟&limit=1").json
    assert [(g["object"], g["label"]["zh"], len(g["items"])) for g in body["groups"]] == [("lead", "线索", 1)]
    item = body["groups"][0]["items"][0]
    assert item["title"] == "王伟" and item["subtitle"]
    assert me.get("/search?q=" + "x" * 201).status_code == 400
    assert me.get("/search?q=x&limit=0").status_code == 400


def test_index_follows_updates_and_deletes(found, standard_pack):
    admin, me, ids, search = found
    assert me.patch(f"/records/lead/{ids['smith']}", {"name": "Mary Jones", "email": "mary@jones.org"},
                    version=1).status_code == 200
    assert ("lead", ids["smith"]) in search(me, "mary jones")
    assert ("lead", ids["smith"]) not in search(me, "john smith")
    admin.delete(f"/records/lead/{ids['wang']}", version=1)
    assert ("lead", ids["wang"]) not in search(me, "5678")
    names = inspect(standard_pack.engine)
    table = standard_pack.registry.current().tables["lead"].name
    if standard_pack.engine.dialect.name == "sqlite":
        assert fts_name(standard_pack.registry.current().tables["lead"]) in names.get_table_names()
    else:
        assert any(ix["name"].startswith("ix_search_") for ix in names.get_indexes(table))


def test_normalize():
    assert normalize("  +86 138-1234-5678 ") == ("+86 138-1234-5678", "8613812345678")
    assert normalize("John  Smith") == ("john smith", "")
    assert normalize("A1234")[1] == "1234"
    assert normalize("room 12")[1] == ""
