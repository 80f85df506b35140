"""Dedupe under a rep's scope (`own`) and field rules: the queue, dismiss, merge, undo and history
show and touch only what the record list would (issue 14)."""

from __future__ import annotations

import pytest

LEAD_VERBS = ["read", "create", "update", "delete"]


@pytest.fixture
def world(admin, make_user):
    rep = make_user("rep", grants=[("lead", LEAD_VERBS, "own")], hidden={"lead": ["notes"]})
    mate = make_user("mate", grants=[("lead", LEAD_VERBS, "own")])

    def lead(name, owner, notes):
        r = admin.post("/records/lead", {"name": name, "company": "Acme " + name[:1], "owner_id": owner,
                                         "notes": notes})
        assert r.status_code == 201, r.json
        return r.json["id"]

    ids = {"r1": lead("Rita Mills", rep.user_id, "rep secret one"),
           "r2": lead("Rita Mils", rep.user_id, "rep secret two"),
           "m1": lead("Mark Stone", mate.user_id, "mate secret one"),
           "m2": lead("Mark Ston", mate.user_id, "mate secret two")}
    assert admin.post("/dedupe/lead/scan?wait=true").json["pairs"] == 2
    pairs = {frozenset((p["left_id"], p["right_id"])): p["id"]
             for p in admin.get("/dedupe/lead/candidates").json["items"]}
    return rep, mate, ids, pairs


def test_queue_shows_only_pairs_in_scope_without_hidden_fields(world):
    rep, _, ids, _ = world
    queue = rep.get("/dedupe/lead/candidates").json
    assert queue["counts"]["pending"] == 1
    assert [frozenset((p["left_id"], p["right_id"])) for p in queue["items"]] == [frozenset((ids["r1"], ids["r2"]))]
    assert "notes" not in queue["items"][0]["left"]


def test_pairs_and_records_outside_scope_cannot_be_touched(admin, world):
    rep, _, ids, pairs = world
    theirs = pairs[frozenset((ids["m1"], ids["m2"]))]
    assert rep.post(f"/dedupe/candidates/{theirs}/merge").status_code == 404
    assert rep.post(f"/dedupe/candidates/{theirs}/dismiss").status_code == 404
    r = rep.post("/dedupe/lead/merge", {"survivor_id": ids["r1"], "ids": [ids["m1"]]})
    assert r.status_code == 404 and "mate" not in r.get_data(as_text=True)
    assert admin.get(f"/records/lead/{ids['m1']}").status_code == 200
    assert admin.get("/dedupe/lead/candidates").json["counts"]["pending"] == 2


def test_merge_writes_only_writable_fields_and_history_hides_the_rest(admin, world):
    rep, _, ids, pairs = world
    mine = pairs[frozenset((ids["r1"], ids["r2"]))]
    done = rep.post(f"/dedupe/candidates/{mine}/merge", {"survivor_id": ids["r1"]})
    assert done.status_code == 200, done.json
    assert "notes" not in done.json["after"] and "notes" not in done.json["before"]
    assert admin.get(f"/records/lead/{ids['r1']}").json["notes"] == "rep secret one"
    theirs = admin.post(f"/dedupe/candidates/{pairs[frozenset((ids['m1'], ids['m2']))]}/merge",
                        {"survivor_id": ids["m1"]})
    assert "notes" in theirs.json["after"]
    history = rep.get("/dedupe/lead/merges").json["items"]
    assert [m["id"] for m in history] == [done.json["id"]]
    assert "secret" not in rep.get("/dedupe/lead/merges").get_data(as_text=True)
    assert rep.post(f"/dedupe/merges/{theirs.json['id']}/undo").status_code == 404
    undone = rep.post(f"/dedupe/merges/{done.json['id']}/undo")
    assert undone.status_code == 200 and undone.json["undone_at"]
