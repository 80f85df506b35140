"""Merging a duplicate pair keeping, per field, the value the reviewer picked (the web app's review)."""

from __future__ import annotations

from typing import Any


def _pair(admin: Any, a: dict[str, Any], b: dict[str, Any]) -> tuple[int, int, int]:
    left = admin.post("/records/lead", a).json["id"]
    right = admin.post("/records/lead", b).json["id"]
    assert admin.post("/dedupe/lead/scan?wait=true").status_code == 200
    item = next(p for p in admin.get("/dedupe/lead/candidates").json["items"]
                if {p["left_id"], p["right_id"]} == {left, right})
    return item["id"], left, right


def test_merge_keeps_picked_values_and_undo_restores_the_other(admin: Any) -> None:
    cid, left, right = _pair(admin, {"name": "Rita Mills", "company": "Acme", "email": "rita@left.cn"},
                             {"name": "Rita Mils", "company": "Acme", "email": "rita@right.cn"})
    r = admin.post(f"/dedupe/candidates/{cid}/merge-fields",
                   {"survivor_id": left, "keep": {"email": right, "name": left}})
    assert r.status_code == 200, r.json["errors"]
    kept = admin.get(f"/records/lead/{left}").json
    assert (kept["email"], kept["name"]) == ("rita@right.cn", "Rita Mills")
    assert admin.get(f"/records/lead/{right}").status_code == 404
    assert admin.post(f"/dedupe/merges/{r.json['id']}/undo").status_code == 200
    assert admin.get(f"/records/lead/{left}").json["email"] == "rita@left.cn"
    assert admin.get(f"/records/lead/{right}").json["email"] == "rita@right.cn"


def test_bad_choices_are_refused_before_anything_changes(admin: Any, make_user: Any) -> None:
    cid, left, right = _pair(admin, {"name": "Mark Stone", "company": "B", "email": "m@b.cn"},
                             {"name": "Mark Ston", "company": "B", "email": "m@c.cn"})
    bad = admin.post(f"/dedupe/candidates/{cid}/merge-fields", {"survivor_id": left, "keep": {"nope": right}})
    assert bad.status_code == 422 and bad.json["errors"][0]["code"] == "unknown_field"
    assert admin.post(f"/dedupe/candidates/{cid}/merge-fields",
                      {"survivor_id": 999999, "keep": {}}).status_code == 422
    rep = make_user("rep", grants=[("lead", ["read", "update", "delete"], "all")], readonly={"lead": ["email"]})
    assert rep.post(f"/dedupe/candidates/{cid}/merge-fields",
                    {"survivor_id": left, "keep": {"email": right}}).status_code == 422
    assert admin.get(f"/records/lead/{right}").status_code == 200
    assert admin.get(f"/records/lead/{left}").json["email"] == "m@b.cn"
