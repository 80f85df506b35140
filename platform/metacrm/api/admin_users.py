"""`/api/v1/admin/...`: users, roles (grants per object) and teams for the web app's admin pages.

Administrators only. The writes are auth/accounts.py's (the same as the CLI and the admin console);
this module validates the requests (objects and fields must exist) and shapes the answers. A new
or reset password is generated when none is given and returned once, never stored in clear.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, jsonify
from sqlalchemy import Connection, delete, select

from ..auth import accounts
from ..auth.passwords import check_password_policy
from ..auth.permissions import SCOPES, VERBS, WILDCARD
from ..auth.tables import permissions, roles, team_members, teams, user_roles, users
from ..errors import Conflict, NotFound, Problem, ValidationError
from ..store.db import reading
from ..store.users import check_time_zone, ensure_user
from .context import admin_only, principal, services, snapshot
from .jsonio import json_body

bp = Blueprint("api_admin_users", __name__)
LANGUAGES = ("en", "zh")


def _text(body: dict[str, Any], name: str, limit: int, default: str = "") -> str:
    value = body.get(name, default)
    if value is None:
        value = default
    if not isinstance(value, str) or len(value) > limit:
        raise ValidationError(f"{name} is text of at most {limit} characters", [Problem(name, "type", f"text, <= {limit}")])
    return value.strip()


def _names(body: dict[str, Any], name: str) -> list[str] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value) or len(value) > 200:
        raise ValidationError(f"{name} is a list of names", [Problem(name, "type", "list of names")])
    return list(dict.fromkeys(value))


def _new_password(body: dict[str, Any]) -> tuple[str, bool]:
    """The password given (checked against the policy), or a generated one to show once."""
    given = body.get("password")
    if given in (None, ""):
        return secrets.token_urlsafe(9), True
    check_password_policy(given)
    return str(given), False


def _user_rows(conn: Connection) -> list[dict[str, Any]]:
    role_names = {int(r.id): r.name for r in conn.execute(select(roles.c.id, roles.c.name))}
    team_names = {int(r.id): r.name for r in conn.execute(select(teams.c.id, teams.c.name))}
    by_user_roles: dict[int, list[str]] = {}
    for r in conn.execute(select(user_roles)):
        by_user_roles.setdefault(int(r.user_id), []).append(role_names.get(int(r.role_id), ""))
    by_user_teams: dict[int, list[str]] = {}
    for r in conn.execute(select(team_members)):
        by_user_teams.setdefault(int(r.user_id), []).append(team_names.get(int(r.team_id), ""))
    query = select(users.c.id, users.c.username, users.c.display_name, users.c.email, users.c.language,
                   users.c.time_zone, users.c.active, users.c.is_admin).order_by(users.c.username)
    return [{**dict(r._mapping), "active": bool(r.active), "is_admin": bool(r.is_admin),
             "roles": sorted(by_user_roles.get(int(r.id), [])), "teams": sorted(by_user_teams.get(int(r.id), []))}
            for r in conn.execute(query)]


def _user(conn: Connection, uid: int) -> dict[str, Any]:
    for row in _user_rows(conn):
        if row["id"] == uid:
            return row
    raise NotFound(f"no user {uid}", [Problem("user", "not_found", str(uid))])


def _set_roles(conn: Connection, uid: int, names: list[str]) -> None:
    ids = [accounts.role_id(conn, n) for n in names]
    conn.execute(delete(user_roles).where(user_roles.c.user_id == uid))
    for rid in ids:
        accounts.assign_role(conn, uid, rid)


def _set_teams(conn: Connection, uid: int, names: list[str]) -> None:
    ids = []
    for name in names:
        found = conn.execute(select(teams.c.id).where(teams.c.name == name)).scalar()
        if found is None:
            raise NotFound(f"no team named '{name}'", [Problem("teams", "not_found", name)])
        ids.append(int(found))
    conn.execute(delete(team_members).where(team_members.c.user_id == uid))
    for tid in ids:
        accounts.add_member(conn, tid, uid)


@bp.get("/admin/users")
@admin_only
def user_list() -> Any:
    with reading(services().engine) as conn:
        return jsonify({"items": _user_rows(conn)})


@bp.post("/admin/users")
@admin_only
def user_create() -> Any:
    """Body: username, display_name, email, language, time_zone (IANA; null: the default), is_admin, roles,
    teams, password (generated when absent; the answer's `password` is then the one time it is shown)."""
    body = json_body()
    username = _text(body, "username", 64)
    if not username:
        raise ValidationError("username is required", [Problem("username", "required", "username")])
    language = _text(body, "language", 8, "en") or "en"
    if language not in LANGUAGES:
        raise ValidationError("language is en or zh", [Problem("language", "enum", language)])
    time_zone = check_time_zone(body.get("time_zone"))
    password, generated = _new_password(body)
    with services().engine.begin() as conn:
        if conn.execute(select(users.c.id).where(users.c.username == username)).scalar() is not None:
            raise Conflict(f"user '{username}' exists", [Problem("username", "exists", username)])
        uid = ensure_user(conn, username, _text(body, "display_name", 200), _text(body, "email", 200) or None, language,
                          time_zone)
        accounts.set_password(conn, uid, password)
        accounts.set_admin(conn, uid, bool(body.get("is_admin")))
        _set_roles(conn, uid, _names(body, "roles") or [])
        _set_teams(conn, uid, _names(body, "teams") or [])
        answer = _user(conn, uid)
    return jsonify({**answer, "password": password if generated else None}), 201


@bp.patch("/admin/users/<rid:uid>")
@admin_only
def user_update(uid: int) -> Any:
    """Body (any of): display_name, language, time_zone (IANA; null: the default), active, is_admin, roles, teams."""
    who = principal()
    body = json_body()
    values: dict[str, Any] = {}
    if "time_zone" in body:
        values["time_zone"] = check_time_zone(body["time_zone"])
    if "language" in body:
        if body["language"] not in LANGUAGES:
            raise ValidationError("language is en or zh", [Problem("language", "enum", str(body["language"])[:8])])
        values["language"] = body["language"]
    with services().engine.begin() as conn:
        _user(conn, uid)
        if "active" in body:
            if not isinstance(body["active"], bool):
                raise ValidationError("active is true or false", [Problem("active", "type", "boolean")])
            if uid == who.id and not body["active"]:
                raise Conflict("you cannot deactivate yourself", [Problem("active", "self", "yourself")])
            accounts.set_active(conn, uid, body["active"])
        if "is_admin" in body:
            if uid == who.id and not body["is_admin"]:
                raise Conflict("you cannot remove your own admin rights", [Problem("is_admin", "self", "yourself")])
            accounts.set_admin(conn, uid, bool(body["is_admin"]))
        if "display_name" in body:
            values["display_name"] = _text(body, "display_name", 200)
        if values:
            conn.execute(users.update().where(users.c.id == uid).values(**values))
        if (names := _names(body, "roles")) is not None:
            _set_roles(conn, uid, names)
        if (names := _names(body, "teams")) is not None:
            _set_teams(conn, uid, names)
        return jsonify(_user(conn, uid))


@bp.post("/admin/users/<rid:uid>/password")
@admin_only
def user_password(uid: int) -> Any:
    """Body: {password} to set one, or nothing for a generated one returned once. Ends the user's sessions."""
    password, generated = _new_password(json_body())
    with services().engine.begin() as conn:
        _user(conn, uid)
        accounts.set_password(conn, uid, password)
    return jsonify({"password": password if generated else None})


def _grants(conn: Connection) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {}
    for p in conn.execute(select(permissions).order_by(permissions.c.object)):
        out.setdefault(int(p.role_id), []).append({
            "object": p.object, "verbs": [v for v in VERBS if getattr(p, f"can_{v}")], "scope": p.scope,
            "hidden_fields": list(p.hidden_fields or []), "readonly_fields": list(p.readonly_fields or [])})
    return out


def _roles(conn: Connection) -> list[dict[str, Any]]:
    grants = _grants(conn)
    counts: dict[int, int] = {}
    for r in conn.execute(select(user_roles.c.role_id)):
        counts[int(r.role_id)] = counts.get(int(r.role_id), 0) + 1
    return [{"id": int(r.id), "name": r.name, "description": r.description or "",
             "grants": grants.get(int(r.id), []), "users": counts.get(int(r.id), 0)}
            for r in conn.execute(select(roles).order_by(roles.c.name))]


@bp.get("/admin/roles")
@admin_only
def role_list() -> Any:
    with reading(services().engine) as conn:
        return jsonify({"items": _roles(conn), "verbs": list(VERBS), "scopes": list(SCOPES)})


@bp.post("/admin/roles")
@admin_only
def role_create() -> Any:
    body = json_body()
    name = _text(body, "name", 64)
    with services().engine.begin() as conn:
        if conn.execute(select(roles.c.id).where(roles.c.name == name)).scalar() is not None:
            raise Conflict(f"role '{name}' exists", [Problem("name", "exists", name)])
        accounts.ensure_role(conn, name, _text(body, "description", 2000))
        return jsonify(next(r for r in _roles(conn) if r["name"] == name)), 201


def check_grant(item: Any, i: int) -> dict[str, Any]:
    """One grant of a role: an existing object (or '*'), known verbs and scope, existing fields."""
    where = f"grants/{i}"
    if not isinstance(item, dict):
        raise ValidationError("a grant is an object", [Problem(where, "type", "object")])
    obj_name = item.get("object")
    problems: list[Problem] = []
    fields: set[str] | None = None
    if obj_name == WILDCARD:
        fields = None
    elif isinstance(obj_name, str) and obj_name in snapshot().objects:
        fields = set(snapshot().objects[obj_name].fields)
    else:
        raise ValidationError("no such object", [Problem(f"{where}/object", "unknown_object", str(obj_name)[:64])])
    verbs = item.get("verbs") or []
    if not isinstance(verbs, list) or not all(v in VERBS for v in verbs):
        problems.append(Problem(f"{where}/verbs", "unknown_verb", f"use {', '.join(VERBS)}"))
    if item.get("scope", "own") not in SCOPES:
        problems.append(Problem(f"{where}/scope", "enum", f"use one of {', '.join(SCOPES)}"))
    lists = {}
    for key in ("hidden_fields", "readonly_fields"):
        value = item.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.append(Problem(f"{where}/{key}", "type", "list of field names"))
            value = []
        problems += [Problem(f"{where}/{key}", "unknown_field", v) for v in value if fields is not None and v not in fields]
        lists[key] = value
    if problems:
        raise ValidationError("invalid grant", problems)
    return {"object": obj_name, "verbs": verbs, "scope": item.get("scope", "own"), **lists}


@bp.put("/admin/roles/<name>/grants")
@admin_only
def role_grants(name: str) -> Any:
    """Body: {grants: [{object, verbs, scope, hidden_fields, readonly_fields}]}: replaces the role's grants."""
    body = json_body()
    items = body.get("grants")
    if not isinstance(items, list) or len(items) > 500:
        raise ValidationError("grants is a list", [Problem("grants", "type", "list")])
    checked = [check_grant(item, i) for i, item in enumerate(items)]
    if len({g["object"] for g in checked}) != len(checked):
        raise ValidationError("one grant per object", [Problem("grants", "duplicate", "object")])
    with services().engine.begin() as conn:
        rid = accounts.role_id(conn, name)
        if "description" in body:
            conn.execute(roles.update().where(roles.c.id == rid).values(description=_text(body, "description", 2000)))
        conn.execute(delete(permissions).where(permissions.c.role_id == rid))
        for g in checked:
            accounts.grant(conn, rid, g["object"], g["verbs"], g["scope"], g["hidden_fields"], g["readonly_fields"])
        return jsonify(next(r for r in _roles(conn) if r["name"] == name))


@bp.get("/admin/teams")
@admin_only
def team_list() -> Any:
    with reading(services().engine) as conn:
        return jsonify({"items": [{"id": int(r.id), "name": r.name, "label": r.label}
                                  for r in conn.execute(select(teams).order_by(teams.c.name))]})


@bp.post("/admin/teams")
@admin_only
def team_create() -> Any:
    body = json_body()
    name = _text(body, "name", 64)
    with services().engine.begin() as conn:
        if conn.execute(select(teams.c.id).where(teams.c.name == name)).scalar() is not None:
            raise Conflict(f"team '{name}' exists", [Problem("name", "exists", name)])
        tid = accounts.ensure_team(conn, name, _text(body, "label", 200))
        return jsonify({"id": tid, "name": name, "label": _text(body, "label", 200) or name}), 201
