"""Sessions end everywhere on demand, logins are rate limited, the cookie is Lax (and Secure on
HTTPS), and a token-authenticated read takes no write lock (issue 14)."""

from __future__ import annotations

import dataclasses
import json
import uuid

import pytest
from sqlalchemy import text

from metacrm.api.app import create_app
from metacrm.auth import accounts
from metacrm.auth.sessions import LoginLimiter, LoginLimits, RedisFailures


def login(client, username="alice", password="correct horse", **kw):
    return client.post("/api/v1/auth/login", data=json.dumps({"username": username, "password": password}),
                       content_type="application/json", **kw)


def cookie_of(response) -> str:
    return next(v for k, v in response.headers.items() if k == "Set-Cookie" and v.startswith("session="))


def _app(svc, **settings):
    changed = dataclasses.replace(svc.settings, **settings)
    return create_app(changed, dataclasses.replace(svc, settings=changed))


def test_cookie_is_lax_httponly_and_secure_only_over_https(make_user, app, standard_pack):
    make_user("alice")
    plain = cookie_of(login(app.test_client()))
    assert "SameSite=Lax" in plain and "HttpOnly" in plain and "Secure" not in plain
    assert "Secure" in cookie_of(login(app.test_client(), base_url="https://crm.example"))
    # behind a proxy: only a trusted proxy's X-Forwarded-Proto makes it Secure
    forwarded = {"X-Forwarded-Proto": "https"}
    assert "Secure" not in cookie_of(login(app.test_client(), headers=forwarded))
    proxied = _app(standard_pack, trusted_proxies=1)
    assert "Secure" in cookie_of(login(proxied.test_client(), headers=forwarded))
    always = _app(standard_pack, cookie_secure=True)
    assert "Secure" in cookie_of(login(always.test_client()))


def test_logout_everywhere_password_change_and_deactivation_end_sessions(make_user, app, standard_pack):
    alice = make_user("alice")
    first, second = app.test_client(), app.test_client()
    csrf = login(first).json["csrf_token"]
    login(second)
    assert second.get("/api/v1/me").status_code == 200
    r = first.post("/api/v1/auth/logout-everywhere", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200
    assert first.get("/api/v1/me").status_code == 401 and second.get("/api/v1/me").status_code == 401
    assert alice.get("/me").status_code == 200  # tokens are revoked separately

    login(second)
    with standard_pack.engine.begin() as conn:
        accounts.set_password(conn, alice.user_id, "a new password")
    assert second.get("/api/v1/me").status_code == 401
    assert login(second, password="a new password").status_code == 200
    with standard_pack.engine.begin() as conn:
        accounts.set_active(conn, alice.user_id, False)
        accounts.set_active(conn, alice.user_id, True)
    assert second.get("/api/v1/me").status_code == 401  # reactivation does not revive old cookies


def test_login_rate_limit_per_username_answers_429_and_is_audited(make_user, app, admin):
    make_user("alice")
    client = app.test_client()
    for _ in range(5):
        assert login(client, password="wrong").status_code == 401
    r = login(client)  # the right password, too late
    assert r.status_code == 429 and r.json["code"] == "too_many_requests"
    assert 1 <= int(r.headers["Retry-After"]) <= 900
    assert login(client, "bob", "whatever").status_code == 401  # other names are not locked
    kinds = [e["kind"] for e in admin.get("/audit?object=user").json["items"]]
    assert "login_refused" in kinds and kinds.count("login_failed") == 6


def test_login_rate_limit_per_address(make_user, app):
    make_user("alice")
    client = app.test_client()
    for i in range(30):
        assert login(client, f"nobody{i}", "x").status_code == 401
    assert login(client).status_code == 429
    other = app.test_client()
    assert login(other, environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 200


def test_limiter_on_redis_shares_counts_and_ages_out():
    redis = pytest.importorskip("redis")
    conn = redis.Redis.from_url("redis://127.0.0.1:6379/15")
    try:
        conn.ping()
    except redis.RedisError:
        pytest.skip("no Redis")
    prefix = f"test:{uuid.uuid4().hex}:"
    a = LoginLimiter(RedisFailures(conn, prefix), LoginLimits(3, 100, 60))
    b = LoginLimiter(RedisFailures(conn, prefix), LoginLimits(3, 100, 60))
    for t in (0, 1, 2):
        a.failed("Alice", "1.2.3.4", now=1000 + t)
    assert b.retry_after("alice", "5.6.7.8", now=1003) == 57
    assert b.retry_after("alice", "5.6.7.8", now=1061) is None
    b.succeeded("alice")
    assert a.retry_after("alice", "1.2.3.4", now=1010) is None


def test_token_read_takes_no_write_lock_on_sqlite(make_user, standard_pack):
    if standard_pack.engine.dialect.name != "sqlite":
        pytest.skip("the write lock is SQLite's")
    alice = make_user("alice", grants=[("lead", ["read"], "own")])
    assert alice.get("/records/lead").status_code == 200  # notes the token's first use
    import sqlite3

    path = standard_pack.engine.url.database
    holder = sqlite3.connect(path, timeout=0.1, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    try:
        assert alice.get("/records/lead").status_code == 200
        assert alice.get("/me").status_code == 200
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with standard_pack.engine.connect() as c:
        assert c.execute(text("select count(*) from sys_api_token where last_used_at is not null")).scalar() >= 1
