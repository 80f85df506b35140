"""Relations honour the writer's scope: pointing at a record one may not read answers exactly as
pointing at no record (no existence oracle), on every write path; exports show such targets as ids."""

import csv
import io

import pytest

ALL = ["read", "create", "update", "delete"]


@pytest.fixture
def world(admin, make_user):
    rep = make_user("rep", grants=[("lead", ALL, "own"), ("activity", ALL, "own")])
    other = make_user("other", grants=[("lead", ALL, "own")])
    mine = admin.post("/records/lead", {"name": "Mine", "owner_id": rep.user_id}).json["id"]
    theirs = admin.post("/records/lead", {"name": "Secret Corp Lead", "owner_id": other.user_id}).json["id"]
    gone = admin.post("/records/lead", {"name": "Gone", "owner_id": rep.user_id}).json["id"]
    assert admin.delete(f"/records/lead/{gone}", version=1).status_code == 200
    return {"admin": admin, "rep": rep, "mine": mine, "theirs": theirs, "missing": 10**9, "gone": gone}


def problem_shape(r, target_id):
    """Status and problems with the id masked: must not differ between 'missing' and 'not yours'."""
    text = r.get_data(as_text=True).replace(str(target_id), "<ID>")
    return r.status_code, text


def test_create_update_bulk_refuse_out_of_scope_targets_like_missing_ones(world):
    rep = world["rep"]
    ok = rep.post("/records/activity", {"subject": "call", "type": "call", "lead": world["mine"]})
    assert ok.status_code == 201, ok.json
    shapes = set()
    for target in (world["theirs"], world["missing"], world["gone"]):
        r = rep.post("/records/activity", {"subject": "call", "type": "call", "lead": target})
        assert r.status_code == 422 and r.json["errors"][0]["code"] == "unknown_reference"
        shapes.add(problem_shape(r, target))
        r = rep.patch(f"/records/activity/{ok.json['id']}", {"lead": target}, version=1)
        assert r.status_code == 422
        shapes.add(problem_shape(r, target))
        r = rep.post("/records/activity/bulk", {"records": [{"subject": "c", "type": "call", "lead": target}]})
        assert r.status_code == 422
        shapes.add(problem_shape(r, target))
        r = rep.post("/records/activity/bulk-update", {"ids": [ok.json["id"]], "set": {"lead": target}})
        assert r.status_code == 422
        shapes.add(problem_shape(r, target))
    # one answer per path, whatever the reason
    assert len(shapes) == 4, shapes
    assert world["admin"].get(f"/records/activity/{ok.json['id']}").json["lead"] == world["mine"]


def test_admin_may_point_anywhere(world):
    r = world["admin"].post("/records/activity", {"subject": "c", "type": "call", "lead": world["theirs"]})
    assert r.status_code == 201


def test_exports_show_unreadable_targets_as_ids(world, make_user):
    admin = world["admin"]
    # an activity the rep owns, pointing at a lead the rep cannot read (written by an admin)
    aid = admin.post("/records/activity", {"subject": "x", "type": "call", "lead": world["theirs"],
                                           "owner_id": world["rep"].user_id}).json["id"]
    r = world["rep"].get("/exports/activity?format=csv&fields=id,lead")
    assert r.status_code == 200
    text = r.get_data().decode("utf-8-sig")
    assert "Secret Corp Lead" not in text
    rows = {row[0]: row[1] for row in csv.reader(io.StringIO(text))}
    assert rows[str(aid)] == str(world["theirs"])
    text = admin.get("/exports/activity?format=csv&fields=id,lead").get_data().decode("utf-8-sig")
    assert "Secret Corp Lead" in text
