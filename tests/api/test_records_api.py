"""Records over HTTP: CRUD with versions, bulk, lists with filter/sort/fields/cursors, timeline."""

import json
from urllib.parse import quote

import pytest


def ids(response):
    assert response.status_code == 200, response.json
    return [r["id"] for r in response.json["items"]]


def test_crud_with_versions(admin):
    r = admin.post("/records/lead", {"name": "王伟", "city": "shanghai", "budget": "1200.50"})
    assert r.status_code == 201
    rec = r.json
    assert rec["owner_id"] == admin.user_id and rec["created_by"] == admin.user_id and rec["version"] == 1
    assert rec["budget"] == "1200.50" and rec["status"] == "new"
    path = f"/records/lead/{rec['id']}"
    assert admin.patch(path, {"score": 5}).status_code == 428
    r = admin.patch(path, {"score": 5}, version=1)
    assert r.status_code == 200 and r.json["score"] == 5 and r.headers["ETag"] == '"2"'
    r = admin.patch(path, {"score": 6}, version=1)
    assert r.status_code == 409 and r.json["code"] == "stale_version"
    r = admin.send("PATCH", path, {"score": 6}, headers={"If-Match": 'W/"2"'})
    assert r.status_code == 200
    assert admin.delete(path).status_code == 428
    assert admin.delete(path, version=2).status_code == 409
    assert admin.delete(path, version=3).status_code == 200
    assert admin.get(path).status_code == 404
    assert rec["id"] not in ids(admin.get("/records/lead"))
    r = admin.post(path + "/restore")
    assert r.status_code == 200 and r.json["deleted_at"] is None
    assert admin.get(path).json["version"] == 5


def test_validation_errors_name_fields(admin):
    r = admin.post("/records/lead", {"city": "mars", "score": 101, "nope": 1, "email": "x"})
    assert r.status_code == 422
    assert r.mimetype == "application/problem+json"
    fields = {e["field"] for e in r.json["errors"]}
    assert {"name", "city", "score", "nope"} <= fields


def test_actor_is_recorded_in_timeline(admin, make_user):
    bob = make_user("bob", grants=[("lead", ["read", "create", "update"], "all")])
    rid = admin.post("/records/lead", {"name": "A"}).json["id"]
    assert bob.patch(f"/records/lead/{rid}", {"score": 10}, version=1).status_code == 200
    events = admin.get(f"/records/lead/{rid}/timeline").json["items"]
    writes = [e for e in events if e["kind"] in ("create", "update")]  # engines add their own events
    assert [(e["kind"], e["actor_id"]) for e in writes] == [("update", bob.user_id), ("create", admin.user_id)]
    assert writes[0]["changes"] == {"before": {"score": None}, "after": {"score": 10}}
    assert writes[0]["actor"]["username"] == "bob"
    seen, cursor = [], ""
    while cursor is not None:
        page = admin.get(f"/records/lead/{rid}/timeline?limit=1" + (f"&cursor={cursor}" if cursor else "")).json
        assert len(page["items"]) == 1
        seen += page["items"]
        cursor = page["next_cursor"]
    assert [e["id"] for e in seen] == [e["id"] for e in events]
    audit = admin.get(f"/audit?object=lead&record_id={rid}").json["items"]
    assert [(a["kind"], a["actor"]) for a in audit if a["kind"] in ("create", "update")] == [
        ("update", "bob"), ("create", "admin")]
    assert bob.get("/audit").status_code == 403


def test_bulk_create_and_update(admin):
    r = admin.post("/records/lead/bulk", {"records": [{"name": "A"}, {"name": "B", "score": 3}]})
    assert r.status_code == 201 and r.json["created"] == 2
    a, b = r.json["ids"]
    r = admin.post("/records/lead/bulk", {"records": [{"name": "C"}, {"score": 3}]})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "/1/name"
    r = admin.post("/records/lead/bulk", {"records": [{"name": "C"}, {"score": 3}], "skip_invalid": True})
    assert r.status_code == 201 and r.json["created"] == 1 and r.json["ids"][1] is None
    assert r.json["errors"]["1"][0]["field"] == "name"
    r = admin.post("/records/lead/bulk-update", {"ids": [a, b], "set": {"status": "contacted"}})
    assert r.status_code == 200 and r.json["updated"] == 2
    assert admin.get(f"/records/lead/{b}").json["status"] == "contacted"
    assert admin.post("/records/lead/bulk-update", {"ids": [a, 999999], "set": {"score": 1}}).status_code == 404
    assert admin.get(f"/records/lead/{a}").json["score"] is None  # all or nothing


@pytest.fixture
def leads(admin):
    rows = [{"name": f"L{i:02d}", "city": ["shanghai", "beijing", "shenzhen"][i % 3],
             "score": None if i % 4 == 0 else i * 3 % 50} for i in range(30)]
    r = admin.post("/records/lead/bulk", {"records": rows})
    return dict(zip([row["name"] for row in rows], r.json["ids"], strict=True)), rows


def test_filter_sort_fields_count(admin, leads):
    _by_name, rows = leads
    rule = {"all": [{"field": "city", "op": "in", "value": ["shanghai", "beijing"]},
                    {"field": "score", "op": "gt", "value": 20}]}
    r = admin.get(f"/records/lead?filter={quote(json.dumps(rule))}&sort=-score,name&fields=name,score&count=true")
    assert r.status_code == 200
    want = sorted([x for x in rows if x["city"] != "shenzhen" and x["score"] is not None and x["score"] > 20],
                  key=lambda x: (-x["score"], x["name"]))
    assert [x["name"] for x in r.json["items"]] == [x["name"] for x in want]
    assert r.json["count"] == len(want)
    assert set(r.json["items"][0]) == {"id", "name", "score"}


@pytest.mark.parametrize("sort", ["-id", "score", "-score", "name", "score,-name", "-updated_at", "city,-score"])
def test_cursor_pages_cover_the_list_exactly_once(admin, leads, sort):
    whole = ids(admin.get(f"/records/lead?sort={sort}&limit=1000"))
    assert len(whole) == 30
    seen, cursor = [], None
    while True:
        r = admin.get(f"/records/lead?sort={sort}&limit=7" + (f"&cursor={cursor}" if cursor else ""))
        seen += ids(r)
        cursor = r.json["next_cursor"]
        if cursor is None:
            break
    assert seen == whole
    # NULLs sort last in both directions
    if sort in ("score", "-score"):
        scores = [x["score"] for x in admin.get(f"/records/lead?sort={sort}&limit=1000").json["items"]]
        assert scores[-1] is None and scores[0] is not None


def test_objects_describe_fields_and_forms(admin):
    objs = admin.get("/objects").json
    assert {"lead", "customer", "account"} <= {o["name"] for o in objs}
    lead = admin.get("/objects/lead").json
    assert lead["default_form"] == "lead_default"
    city = next(f for f in lead["fields"] if f["name"] == "city")
    assert city["type"] == "select" and "shanghai" in city["options"] and "in" in city["operators"]
    assert city["option_labels"]["shanghai"]["zh"] == "上海"
    assert lead["schema"]["properties"]["city"]["x-field"] == "select"
    assert admin.get("/objects/nope").status_code == 404


def test_form_submit_creates_record(admin):
    r = admin.post("/forms/lead_default/submit", {"name": "Form Lead", "city": "beijing"})
    assert r.status_code == 201 and r.json["name"] == "Form Lead" and "tags" in r.json
    assert admin.post("/forms/nope/submit", {"name": "x"}).status_code == 404
    assert admin.post("/forms/lead_default/submit", {"name": "x", "owner_id": 1}).status_code == 422
