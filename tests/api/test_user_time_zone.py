"""A user's time zone: in /me, set by the user (PATCH /me) and by administrators, 422 for an unknown zone."""

from __future__ import annotations

from typing import Any


def test_me_has_no_zone_until_chosen_then_the_chosen_one(make_user: Any, standard_pack: Any) -> None:
    rep = make_user("rep", grants=[("lead", ["read"], "own")])
    me = rep.get("/me").json
    assert me["time_zone"] is None
    assert me["default_time_zone"] == standard_pack.settings.timezone
    r = rep.patch("/me", {"time_zone": "Asia/Shanghai"})
    assert r.status_code == 200, r.json
    assert r.json["time_zone"] == "Asia/Shanghai"
    assert rep.get("/me").json["time_zone"] == "Asia/Shanghai"
    assert rep.patch("/me", {"time_zone": None}).json["time_zone"] is None  # back to the default
    assert rep.get("/me").json["time_zone"] is None


def test_unknown_zone_is_a_422_naming_the_field(make_user: Any) -> None:
    rep = make_user("rep", grants=[("lead", ["read"], "own")])
    rep.patch("/me", {"time_zone": "Europe/Berlin"})
    for bad in ("Mars/Olympus", "asia/shanghai", "Asia", "../etc/passwd", 8, "x" * 300):
        r = rep.patch("/me", {"time_zone": bad})
        assert r.status_code == 422, bad
        assert r.json["errors"][0]["field"] == "time_zone"
        assert r.json["errors"][0]["code"] == "unknown_time_zone"
    assert rep.get("/me").json["time_zone"] == "Europe/Berlin"  # nothing was written


def test_zh_reader_gets_the_problem_in_chinese(make_user: Any) -> None:
    rep = make_user("rep", grants=[("lead", ["read"], "own")])
    assert rep.patch("/me", {"language": "zh"}).status_code == 200
    r = rep.patch("/me", {"time_zone": "Nowhere/Town"})
    assert r.status_code == 422
    assert r.json["errors"][0]["field"] == "time_zone" and "时区" in r.json["errors"][0]["message"]


def test_admin_sets_and_clears_a_users_zone(admin: Any, make_user: Any) -> None:
    r = admin.post("/admin/users", {"username": "li.na", "time_zone": "America/New_York"})
    assert r.status_code == 201, r.json
    uid = r.json["id"]
    assert r.json["time_zone"] == "America/New_York"
    listed = {u["username"]: u for u in admin.get("/admin/users").json["items"]}
    assert listed["li.na"]["time_zone"] == "America/New_York"
    r = admin.patch(f"/admin/users/{uid}", {"time_zone": "Asia/Tokyo", "language": "zh"})
    assert r.status_code == 200 and r.json["time_zone"] == "Asia/Tokyo" and r.json["language"] == "zh"
    assert admin.patch(f"/admin/users/{uid}", {"time_zone": None}).json["time_zone"] is None
    bad = admin.patch(f"/admin/users/{uid}", {"time_zone": "Atlantis/Capital"})
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "time_zone"
    bad = admin.post("/admin/users", {"username": "wang", "time_zone": "Not/AZone"})
    assert bad.status_code == 422 and bad.json["errors"][0]["code"] == "unknown_time_zone"
    assert all(u["username"] != "wang" for u in admin.get("/admin/users").json["items"])
    rep = make_user("rep", grants=[("lead", ["read"], "own")])
    assert rep.patch(f"/admin/users/{uid}", {"time_zone": "UTC"}).status_code == 403
