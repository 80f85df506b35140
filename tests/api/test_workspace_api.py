"""Titles, pickers, home, tag suggestions, the trash and object permissions: always within scope."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

WORK = ("lead", "account", "opportunity", "activity")


@pytest.fixture
def people(admin, make_user):
    me = make_user("me", teams=["east"], grants=[(o, ["read", "create", "update"], "own") for o in WORK])
    other = make_user("other", teams=["west"], grants=[(o, ["read", "create", "update", "delete"], "all")
                                                       for o in WORK])
    return admin, me, other


def test_objects_describe_the_callers_verbs(people):
    admin, me, other = people
    assert me.get("/objects/lead").json["permissions"] == {"read": True, "create": True, "update": True,
                                                           "delete": False}
    assert other.get("/objects/lead").json["permissions"]["delete"] is True
    assert admin.get("/objects/channel").json["permissions"] == dict.fromkeys(("read", "create", "update",
                                                                              "delete"), True)


def test_titles_are_batched_and_scoped(people):
    admin, me, other = people
    mine = admin.post("/records/account", {"name": "ACME", "phone": "021-61234567", "owner_id": me.user_id}).json
    theirs = admin.post("/records/account", {"name": "Globex", "owner_id": other.user_id}).json
    gone = admin.post("/records/account", {"name": "Gone", "owner_id": me.user_id}).json
    admin.delete(f"/records/account/{gone['id']}", version=1)
    body = {"account": [mine["id"], theirs["id"], gone["id"], 999999], "user": [me.user_id]}
    r = me.post("/titles", body)
    assert r.status_code == 200, r.json
    assert r.json["account"] == {str(mine["id"]): {"title": "ACME", "subtitle": "+862161234567"}}
    assert r.json["user"] == {str(me.user_id): {"title": "me", "subtitle": None}}
    assert set(admin.post("/titles", body).json["account"]) == {str(mine["id"]), str(theirs["id"])}
    assert me.post("/titles", {"account": list(range(1, 502))}).status_code == 422
    assert me.post("/titles", {"account": "1"}).status_code == 422
    assert me.post("/titles", {"nope": [1]}).status_code == 404
    assert me.post("/titles", {"channel": [1]}).json == {"channel": {}}  # no read grant: nothing


def test_lookup_tells_namesakes_apart(people):
    admin, me, other = people
    a = me.post("/records/lead", {"name": "王伟", "phone": "13812341234", "company": "ACME"}).json
    b = me.post("/records/lead", {"name": "王伟", "phone": "13912345678"}).json
    admin.post("/records/lead", {"name": "王伟东", "owner_id": other.user_id})
    me.post("/records/lead", {"name": "李王伟"})
    items = me.get("/lookup/lead?q=王伟").json["items"]
    assert [i["title"] for i in items] == ["王伟", "王伟", "李王伟"]  # starts-with first; no stranger's lead
    subtitles = {i["id"]: i["subtitle"] for i in items}
    assert subtitles[a["id"]] == "+8613812341234 · ACME" and subtitles[b["id"]] == "+8613912345678"
    assert [i["title"] for i in me.get("/lookup/lead?q=1234&limit=1").json["items"]] == ["王伟"]
    assert len(admin.get("/lookup/lead?q=王伟").json["items"]) == 4
    assert {i["subtitle"] for i in me.get("/lookup/user?q=oth").json["items"]} == {"other"}
    assert me.get("/lookup/channel?q=x").status_code == 403
    assert me.get("/lookup/lead?q=" + "x" * 201).status_code == 400


def test_home_shows_my_day(people, app):
    admin, me, other = people
    today = datetime.now(UTC).date()
    due = me.post("/records/lead", {"name": "due lead", "next_follow_up": (today - timedelta(days=1)).isoformat(),
                                    "status": "contacted"}).json
    me.post("/records/lead", {"name": "later", "next_follow_up": (today + timedelta(days=3)).isoformat()})
    me.post("/records/lead", {"name": "done", "next_follow_up": today.isoformat(), "status": "converted"})
    admin.post("/records/lead", {"name": "not mine", "next_follow_up": today.isoformat(), "owner_id": other.user_id})
    for stage, amount in (("proposal", "100.50"), ("proposal", "200.00"), ("won", "999.00")):
        r = me.post("/records/opportunity", {"name": f"{stage} deal", "stage": stage, "amount": amount,
                                             "expected_close": today.isoformat()})
        assert r.status_code == 201, r.json["errors"]
    now = datetime.now(UTC)
    me.post("/records/activity", {"subject": "late", "type": "task", "due_at": (now - timedelta(days=2)).isoformat(),
                                  "lead": due["id"]})
    me.post("/records/activity", {"subject": "a call", "type": "call", "due_at": (now - timedelta(days=2)).isoformat()})
    me.post("/records/activity", {"subject": "closed", "type": "task", "done": True,
                                  "due_at": (now - timedelta(days=2)).isoformat()})
    start = datetime.combine(today, datetime.min.time(), UTC)
    me.post("/records/activity", {"subject": "today", "type": "task",
                                  "due_at": (start + timedelta(hours=23, minutes=59)).isoformat()})
    home = me.get("/home").json
    assert [(lead["id"], lead["due_at"]) for lead in home["leads_due"]] == [
        (due["id"], (today - timedelta(days=1)).isoformat())]
    stages = {s["stage"]: s for s in home["opportunities_by_stage"]}
    assert "won" not in stages and stages["proposal"]["count"] == 2 and stages["proposal"]["amount"] == "300.50"
    assert stages["prospecting"]["count"] == 0 and stages["proposal"]["label"]["en"]
    assert [t["title"] for t in home["tasks"]["overdue"]] == ["late"]
    assert home["tasks"]["overdue"][0]["record"] == {"object": "lead", "id": due["id"], "title": "due lead"}
    assert [t["title"] for t in home["tasks"]["today"]] == ["today"]
    assert home["unread_notifications"] == 0
    assert [lead["title"] for lead in other.get("/home").json["leads_due"]] == ["not mine"]  # own, not all
    assert date.fromisoformat(home["leads_due"][0]["due_at"]) < today


def test_tag_suggestions_match_name_or_label(people):
    _, me, _ = people
    names = [t["name"] for t in me.get("/tags?object=lead&q=vi").json["items"]]
    assert names[0] == "vip"
    hot = me.get("/tags?object=lead&q=hot").json["items"]
    assert hot and hot[0]["automatic"] is True and hot[0]["label"]["zh"]
    zh = me.get("/tags?object=lead&q=" + hot[0]["label"]["zh"][:2]).json["items"]
    assert "hot_lead" in [t["name"] for t in zh]
    assert me.get("/tags").status_code == 400
    assert me.get("/tags?object=channel").status_code == 403


def test_trash_lists_deleted_records_newest_first(people):
    admin, me, other = people
    ids = [other.post("/records/lead", {"name": f"t{i}"}).json["id"] for i in range(3)]
    mine = admin.post("/records/lead", {"name": "mine", "owner_id": me.user_id}).json["id"]
    for rid in (ids[1], ids[0], ids[2], mine):
        assert other.delete(f"/records/lead/{rid}", version=1).status_code == 200
    page = other.get("/records/lead/trash?limit=2").json
    assert [r["id"] for r in page["items"]] == [mine, ids[2]] and page["items"][0]["deleted_at"]
    rest = other.get(f"/records/lead/trash?limit=2&cursor={page['next_cursor']}").json
    assert [r["id"] for r in rest["items"]] == [ids[0], ids[1]] and rest["next_cursor"] is None
    assert me.get("/records/lead/trash").status_code == 403  # no delete right
    assert other.post(f"/records/lead/{ids[0]}/restore").status_code == 200
    assert ids[0] not in [r["id"] for r in other.get("/records/lead/trash").json["items"]]
    assert other.get("/records/lead/trash?cursor=bad").status_code == 400
