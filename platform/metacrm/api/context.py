"""Who is calling and with which services: authentication for every `/api/v1` request.

A request is authenticated by `Authorization: Bearer <token>` (integrators; no CSRF needed, a
browser never sends it on its own) or by the signed session cookie set at login (the web app;
writes must echo the session's CSRF token in `X-CSRF-Token`). Views marked `@public` need neither.
Other areas' blueprints under /api/v1 get the same checks and read the caller with `principal()`.
"""

from __future__ import annotations

import functools
import hmac
import re
import secrets
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, g, has_request_context, request, session
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import Connection
from werkzeug.middleware.proxy_fix import ProxyFix

from ..auth.principal import SESSION_CSRF, SESSION_USER, Principal, load_principal
from ..auth.sessions import SESSION_GENERATION, session_principal
from ..auth.tokens import token_owner, touch_token
from ..errors import BadRequest, PermissionDenied, Problem, Unauthorized
from ..store.db import reading
from ..store.definitions import Snapshot
from ..store.services import Services
from .jsonio import UNSTORABLE_TEXT

API_PREFIX = "/api/v1"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

F = TypeVar("F", bound=Callable[..., Any])


def public(view: F) -> F:
    """Mark a view as reachable without logging in."""
    view.metacrm_public = True  # type: ignore[attr-defined]
    return view


def services() -> Services:
    return current_app.extensions["metacrm"]


def snapshot(conn: Connection | None = None) -> Snapshot:
    """The live metadata for this request: the registry checks its revision once per request, not once
    per call (a request that changes definitions asks the registry itself afterwards)."""
    found = g.get("snapshot")
    if found is None:
        found = g.snapshot = services().registry.current(conn)
    return found


def principal() -> Principal:
    """The authenticated caller of this request (401 when there is none)."""
    found = g.get("principal")
    if found is None:
        raise Unauthorized("log in or send an API token", [Problem("", "unauthenticated",
                           "send 'Authorization: Bearer <token>' or log in at /api/v1/auth/login")])
    return found


def admin_only(view: F) -> F:
    """A route only administrators may call: 403 for anyone else, and left out of their OpenAPI
    document (api.openapi reads the mark), so the rule that guards it is the rule that documents it."""

    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        principal().require_admin()
        return view(*args, **kwargs)

    guarded.admin_only = True  # type: ignore[attr-defined]
    return guarded  # type: ignore[return-value]


def admin_only_routes(app: Flask) -> set[tuple[str, str]]:
    """(METHOD, OpenAPI path) of every route marked `admin_only` in `app`."""
    out = set()
    for rule in app.url_map.iter_rules():
        if getattr(app.view_functions.get(rule.endpoint), "admin_only", False):
            path = _openapi_path(rule.rule)
            out |= {(m, path) for m in rule.methods or () if m not in ("HEAD", "OPTIONS")}
    return out


def _openapi_path(rule: str) -> str:
    """A Flask rule as an OpenAPI path under /api/v1: /x/<rid:run_id> -> /x/{run_id}."""
    path = re.sub(r"<(?:[^:<>]+:)?([A-Za-z_][A-Za-z0-9_]*)>", r"{\1}", rule)
    return path.removeprefix(API_PREFIX)


def new_csrf_token() -> str:
    token = secrets.token_urlsafe(32)
    session[SESSION_CSRF] = token
    return token


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip()


def _authenticate() -> None:
    if not request.path.startswith(API_PREFIX):
        return
    view = current_app.view_functions.get(request.endpoint or "")
    is_public = bool(getattr(view, "metacrm_public", False))
    token = _bearer()
    svc = services()
    if token is not None:
        with reading(svc.engine) as conn:  # a read: no write lock on SQLite (issue 24)
            found = token_owner(conn, token)
            g.principal = load_principal(conn, found[0]) if found is not None else None
        if found is not None and found[2] and g.principal is not None:
            with svc.engine.begin() as conn:  # last_used_at, at most once a minute per token
                touch_token(conn, found[1])
        if g.principal is None and not is_public:
            raise Unauthorized("the API token is unknown or revoked",
                               [Problem("Authorization", "invalid_token", "unknown or revoked token")])
        g.via = "token"
        return
    uid = session.get(SESSION_USER)
    if isinstance(uid, int):
        with reading(svc.engine) as conn:  # an older generation: logged out everywhere (auth/sessions.py)
            g.principal = session_principal(conn, uid, session.get(SESSION_GENERATION))
        if g.principal is None:
            session.clear()
        g.via = "session"
    if g.get("principal") is None:
        if not is_public:
            principal()
        return
    if request.method not in SAFE_METHODS and not is_public:
        sent = request.headers.get("X-CSRF-Token", "")
        expected = session.get(SESSION_CSRF) or ""
        if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
            raise PermissionDenied("missing or wrong CSRF token", [Problem(
                "X-CSRF-Token", "csrf_failed", "send the csrf_token from login or /me in X-CSRF-Token")])


def _check_url() -> None:
    """A URL with U+0000 or a lone surrogate could reach a query as text the database refuses."""
    if not request.path.startswith(API_PREFIX):
        return
    parts = [request.path, *request.args.keys(), *request.args.values()]
    if any(UNSTORABLE_TEXT.search(p) for p in parts):
        raise BadRequest("the URL holds characters that are not text",
                         [Problem("url", "invalid_characters", "U+0000 or a lone surrogate")])


class _Sessions(SecureCookieSessionInterface):
    """The signed cookie session, marked Secure on HTTPS requests (behind a trusted proxy, the
    proxy's X-Forwarded-Proto says so) or always with the cookie_secure setting."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or (has_request_context() and request.is_secure)


def init_auth(app: Flask) -> None:
    settings = app.extensions["metacrm"].settings
    # set, not setdefault: Flask's own defaults (SameSite None) are already in app.config
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      SESSION_COOKIE_SECURE=bool(settings.cookie_secure))
    app.session_interface = _Sessions()
    if settings.trusted_proxies > 0:
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    app.before_request(_check_url)
    app.before_request(_authenticate)
