"""`/api/v1/auth/...` and `/api/v1/me`: session login for the web app, API tokens for integrators."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request, session
from sqlalchemy import select, update

from ..auth.accounts import authenticate
from ..auth.principal import load_principal, permissions_map
from ..auth.sessions import (
    SESSION_GENERATION,
    DatabaseFailures,
    LoginLimiter,
    RedisFailures,
    bump_generation,
    generation,
)
from ..auth.tables import users
from ..auth.tokens import create_token, list_tokens, revoke_token
from ..errors import Problem, TooManyRequests, Unauthorized, ValidationError
from ..store.db import reading
from ..store.events import RecordEvent, append_events
from ..store.users import check_time_zone
from .context import SESSION_CSRF, SESSION_USER, new_csrf_token, principal, public, services, snapshot
from .jsonio import json_body

bp = Blueprint("auth", __name__)

LANGUAGES = ("en", "zh")


def _iso(value: Any) -> Any:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def login_limiter() -> LoginLimiter:
    """One per app: failures counted in Redis when configured (shared by every process), else the database."""
    found = current_app.extensions.get("metacrm_login_limiter")
    if found is None:
        svc = services()
        if svc.settings.redis_url:
            from ..flows.executor import redis_connection

            found = LoginLimiter(RedisFailures(redis_connection(svc.settings.redis_url),
                                               f"{svc.settings.queue_name}:login:"))
        else:
            found = LoginLimiter(DatabaseFailures(svc.engine, reading))
        current_app.extensions["metacrm_login_limiter"] = found
    return found


def _audit_login(kind: str, username: str, address: str, context: dict[str, Any]) -> None:
    """A refused or failed login in the audit log (`GET /audit?object=user`)."""
    svc = services()
    with svc.engine.begin() as conn:
        uid = conn.execute(select(users.c.id).where(users.c.username == username)).scalar()
        append_events(conn, [RecordEvent("user", int(uid or 0), kind, {"before": {}, "after": {}}, None,
                                         datetime.now(UTC), {"username": username, "address": address, **context})])


@bp.after_request
def _retry_after(response: Response) -> Response:
    if g.get("retry_after"):
        response.headers["Retry-After"] = str(g.retry_after)
    return response


@bp.post("/auth/login")
@public
def login() -> Any:
    body = json_body()
    svc = services()
    name = body.get("username") if isinstance(body.get("username"), str) else ""
    name = name[:64]
    address = request.remote_addr or "unknown"
    limiter = login_limiter()
    wait = limiter.retry_after(name, address)
    if wait is not None:
        g.retry_after = wait
        _audit_login("login_refused", name, address, {"reason": "rate_limited", "retry_after": wait})
        raise TooManyRequests(f"too many failed logins; try again in {wait} s",
                              [Problem("username", "rate_limited", f"retry after {wait} seconds")],
                              retry_after=wait)
    with svc.engine.begin() as conn:
        uid = authenticate(conn, body.get("username"), body.get("password"))
        who = load_principal(conn, uid) if uid is not None else None
        gen = generation(conn, who.id) if who is not None else 0
    if who is None:
        limiter.failed(name, address)
        _audit_login("login_failed", name, address, {})
        raise Unauthorized("wrong username or password",
                           [Problem("password", "invalid_credentials", "wrong username or password")])
    limiter.succeeded(name)
    session.clear()
    session[SESSION_USER] = who.id
    session[SESSION_GENERATION] = gen
    return jsonify({"user": who.to_dict(), "csrf_token": new_csrf_token()})


@bp.post("/auth/logout")
@public
def logout() -> Any:
    session.clear()
    return jsonify({"logged_out": True})


@bp.post("/auth/logout-everywhere")
def logout_everywhere() -> Any:
    """End every session of the caller (every browser); API tokens stay (revoke them at /auth/tokens)."""
    who, svc = principal(), services()
    with svc.engine.begin() as conn:
        bump_generation(conn, who.id)
    session.clear()
    return jsonify({"logged_out": True, "everywhere": True})


@bp.get("/me")
def me() -> Any:
    who = principal()
    snap = snapshot()
    csrf = session.get(SESSION_CSRF) or (new_csrf_token() if session.get(SESSION_USER) else None)
    return jsonify({**who.to_dict(), "default_time_zone": services().settings.timezone, "csrf_token": csrf,
                    "permissions": permissions_map(who, sorted(snap.objects))})


@bp.patch("/me")
def update_me() -> Any:
    """Change one's own language, time zone (an IANA name; null for the default) or display name
    (nothing else about an account is self-service)."""
    who, svc = principal(), services()
    body = json_body()
    values: dict[str, Any] = {}
    problems = []
    for key, value in body.items():
        if key == "language" and value in LANGUAGES:
            values["language"] = value
        elif key == "display_name" and isinstance(value, str) and 0 < len(value.strip()) <= 200:
            values["display_name"] = value.strip()
        elif key == "time_zone":
            try:
                values["time_zone"] = check_time_zone(value)
            except ValidationError as e:
                problems += e.problems
        else:
            problems.append(Problem(str(key)[:64], "invalid",
                                    "language (en, zh), time_zone (e.g. Asia/Shanghai) or display_name (1-200 characters)"))
    if problems:
        raise ValidationError("these profile changes are not possible", problems)
    if values:
        with svc.engine.begin() as conn:
            conn.execute(update(users).where(users.c.id == who.id).values(**values))
    with svc.engine.connect() as conn:
        fresh = load_principal(conn, who.id)
    assert fresh is not None
    return jsonify({**fresh.to_dict(), "default_time_zone": svc.settings.timezone})


def _token_dict(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "name": row["name"], "prefix": row["prefix"], "created_at": _iso(row["created_at"]),
            "last_used_at": _iso(row["last_used_at"]), "revoked": bool(row["revoked"])}


@bp.get("/auth/tokens")
def my_tokens() -> Any:
    who, svc = principal(), services()
    with svc.engine.connect() as conn:
        return jsonify({"items": [_token_dict(t) for t in list_tokens(conn, who.id)]})


@bp.post("/auth/tokens")
def new_token() -> Any:
    who, svc = principal(), services()
    body = json_body()
    name = body.get("name")
    with svc.engine.begin() as conn:
        token_id, token = create_token(conn, who.id, name if isinstance(name, str) else "")
        row = next(t for t in list_tokens(conn, who.id) if t["id"] == token_id)
    return jsonify({**_token_dict(row), "token": token}), 201


@bp.delete("/auth/tokens/<rid:token_id>")
def delete_token(token_id: int) -> Any:
    who, svc = principal(), services()
    with svc.engine.begin() as conn:
        revoke_token(conn, token_id, who.id)
    return jsonify({"revoked": True})
