"""The web app's admin endpoints: users (one-time passwords, deactivate, reset), roles with grants, teams."""

from __future__ import annotations

from typing import Any


def _login(api: Any, username: str, password: str) -> int:
    return api.client.post("/api/v1/auth/login", json={"username": username, "password": password}).status_code


def test_create_user_with_role_that_hides_a_field(admin: Any, anonymous: Any) -> None:
    r = admin.post("/admin/roles", {"name": "rep_basic", "description": "reps"})
    assert r.status_code == 201, r.json
    r = admin.send("PUT", "/admin/roles/rep_basic/grants", {"grants": [
        {"object": "lead", "verbs": ["read", "create", "update"], "scope": "own",
         "hidden_fields": ["email"], "readonly_fields": []}]})
    assert r.status_code == 200, r.json
    assert r.json["grants"][0]["hidden_fields"] == ["email"]
    r = admin.post("/admin/users", {"username": "li.na", "display_name": "Li Na", "roles": ["rep_basic"]})
    assert r.status_code == 201, r.json
    once = r.json["password"]
    assert once and r.json["roles"] == ["rep_basic"]
    assert _login(anonymous, "li.na", once) == 200
    fields = anonymous.client.get("/api/v1/objects/lead").json["fields"]
    assert "email" not in {f["name"] for f in fields}
    assert "password" not in admin.get("/admin/users").json["items"][0]


def test_deactivate_and_reset_password(admin: Any, anonymous: Any) -> None:
    uid = admin.post("/admin/users", {"username": "wang.fang", "password": "a-long-pass"}).json["id"]
    assert admin.post(f"/admin/users/{uid}/password", {"password": "short"}).status_code == 422
    assert admin.post(f"/admin/users/{uid}/password", {"password": "another-pass"}).json["password"] is None
    assert _login(anonymous, "wang.fang", "a-long-pass") == 401
    assert admin.patch(f"/admin/users/{uid}", {"active": False}).json["active"] is False
    assert _login(anonymous, "wang.fang", "another-pass") == 401
    assert admin.patch(f"/admin/users/{admin.user_id}", {"active": False}).status_code == 409


def test_bad_requests_are_4xx(admin: Any, make_user: Any) -> None:
    admin.post("/admin/roles", {"name": "r1"})
    bad = admin.send("PUT", "/admin/roles/r1/grants", {"grants": [{"object": "lead", "hidden_fields": ["nope"]}]})
    assert bad.status_code == 422 and bad.json["errors"][0]["code"] == "unknown_field"
    assert admin.send("PUT", "/admin/roles/r1/grants", {"grants": [{"object": "nothing"}]}).status_code == 422
    assert admin.send("PUT", "/admin/roles/none/grants", {"grants": []}).status_code == 404
    assert admin.post("/admin/users", {"username": "x", "roles": ["missing"]}).status_code == 404
    assert admin.post("/admin/users", {"username": "admin"}).status_code == 409
    assert admin.post("/admin/teams", {"name": "east", "label": "East"}).status_code == 201
    uid = admin.post("/admin/users", {"username": "zhao", "teams": ["east"]}).json["id"]
    assert admin.patch(f"/admin/users/{uid}", {"teams": []}).json["teams"] == []
    rep = make_user("rep", grants=[("lead", ["read"], "own")])
    assert rep.get("/admin/users").status_code == 403
    assert rep.post("/admin/users", {"username": "evil"}).status_code == 403
