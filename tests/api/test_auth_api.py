"""Login, sessions with CSRF, API tokens, /me."""

import json


def login(client, username="alice", password="correct horse"):
    return client.post("/api/v1/auth/login", data=json.dumps({"username": username, "password": password}),
                       content_type="application/json")


def test_login_me_logout_with_csrf(make_user, app):
    make_user("alice", grants=[("lead", ["read", "create"], "own")])
    client = app.test_client()
    r = login(client)
    assert r.status_code == 200
    assert r.json["user"]["username"] == "alice" and r.json["user"]["is_admin"] is False
    csrf = r.json["csrf_token"]
    me = client.get("/api/v1/me")
    assert me.status_code == 200
    assert me.json["csrf_token"] == csrf
    assert me.json["permissions"]["lead"] == {"read": True, "create": True, "update": False, "delete": False,
                                              "scope": "own", "hidden_fields": [], "readonly_fields": []}
    assert me.json["permissions"]["account"]["read"] is False
    body = json.dumps({"name": "Li"})
    # a session write without the CSRF header is refused, with it it works
    r = client.post("/api/v1/records/lead", data=body, content_type="application/json")
    assert r.status_code == 403 and r.json["errors"][0]["code"] == "csrf_failed"
    r = client.post("/api/v1/records/lead", data=body, content_type="application/json",
                    headers={"X-CSRF-Token": "wrong"})
    assert r.status_code == 403
    r = client.post("/api/v1/records/lead", data=body, content_type="application/json",
                    headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201
    assert client.post("/api/v1/auth/logout").status_code == 200
    assert client.get("/api/v1/me").status_code == 401


def test_wrong_password_and_unknown_user(make_user, app):
    make_user("alice")
    client = app.test_client()
    for user, pw in (("alice", "wrong password"), ("nobody", "correct horse"), ("alice", "")):
        r = login(client, user, pw)
        assert r.status_code == 401
        assert r.mimetype == "application/problem+json"
        assert r.json["errors"][0]["code"] == "invalid_credentials"
    assert client.get("/api/v1/me").status_code == 401


def test_inactive_user_loses_access(make_user, app, standard_pack):
    from sqlalchemy import update

    from metacrm.store.system import users

    alice = make_user("alice")
    assert alice.get("/me").status_code == 200
    client = app.test_client()
    assert login(client).status_code == 200
    with standard_pack.engine.begin() as conn:
        conn.execute(update(users).where(users.c.id == alice.user_id).values(active=False))
    assert alice.get("/me").status_code == 401
    assert client.get("/api/v1/me").status_code == 401
    assert login(client).status_code == 401


def test_bearer_token_needs_no_csrf_and_can_be_revoked(make_user, app):
    alice = make_user("alice", grants=[("lead", ["read", "create"], "own")])
    assert alice.post("/records/lead", {"name": "Li"}).status_code == 201
    r = alice.post("/auth/tokens", {"name": "zapier"})
    assert r.status_code == 201 and r.json["token"].startswith("mcrm_")
    second = r.json
    listed = alice.get("/auth/tokens").json["items"]
    assert [t["name"] for t in listed] == ["test", "zapier"]
    assert all("token" not in t and "token_hash" not in t for t in listed)
    assert listed[0]["last_used_at"] is not None  # the token in use was noted
    r = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {second['token']}"})
    assert r.status_code == 200 and r.json["username"] == "alice"


def test_unknown_or_revoked_token_is_401(make_user, app):
    alice = make_user("alice", grants=[("lead", ["read"], "own")])
    r = alice.post("/auth/tokens", {"name": "temp"})
    temp_id, temp = r.json["id"], r.json["token"]
    client = app.test_client()
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {temp}"}).status_code == 200
    assert alice.delete(f"/auth/tokens/{temp_id}").status_code == 200
    r = client.get("/api/v1/me", headers={"Authorization": f"Bearer {temp}"})
    assert r.status_code == 401 and r.json["errors"][0]["code"] == "invalid_token"
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer mcrm_nonsense"}).status_code == 401
    assert client.get("/api/v1/records/lead").status_code == 401
    # another user's token id cannot be revoked by alice
    bob = make_user("bob")
    bob_token = bob.get("/auth/tokens").json["items"][0]["id"]
    assert alice.delete(f"/auth/tokens/{bob_token}").status_code == 404


def test_public_endpoints(anonymous):
    assert anonymous.get("/docs").status_code == 200
    assert anonymous.get("/openapi.json").status_code == 401
    assert anonymous.post("/auth/logout").status_code == 200
