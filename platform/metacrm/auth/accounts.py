"""Accounts, teams, roles and grants: the writes behind the CLI, the admin console and the API.

Users themselves are created by store.users.ensure_user (the directory records point at);
this module gives them a password, admin rights, roles and teams.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, delete, select, update

from ..errors import NotFound, Problem, ValidationError
from ..meta.names import is_identifier
from .passwords import hash_password, needs_rehash, verify_password
from .permissions import SCOPES, VERBS, WILDCARD
from .sessions import bump_generation
from .tables import permissions, roles, team_members, teams, user_roles, users


def user_id(conn: Connection, username: str) -> int:
    found = conn.execute(select(users.c.id).where(users.c.username == username)).scalar()
    if found is None:
        raise NotFound(f"no user named '{username}'", [Problem("username", "not_found", username)])
    return int(found)


def set_password(conn: Connection, uid: int, password: str) -> None:
    """A new password ends every session of the user (auth/sessions.py)."""
    conn.execute(update(users).where(users.c.id == uid).values(password_hash=hash_password(password)))
    bump_generation(conn, uid)


def set_active(conn: Connection, uid: int, active: bool) -> None:
    """Deactivating a user ends their sessions (tokens stop working while inactive)."""
    conn.execute(update(users).where(users.c.id == uid).values(active=active))
    if not active:
        bump_generation(conn, uid)


def set_admin(conn: Connection, uid: int, is_admin: bool = True) -> None:
    conn.execute(update(users).where(users.c.id == uid).values(is_admin=is_admin))


def authenticate(conn: Connection, username: Any, password: Any) -> int | None:
    """The id of the active user with this username and password, else None (same cost either way)."""
    if not isinstance(username, str) or not isinstance(password, str) or len(username) > 64:
        verify_password(None, "x")
        return None
    row = conn.execute(select(users.c.id, users.c.password_hash, users.c.active)
                       .where(users.c.username == username)).first()
    stored = row.password_hash if row is not None else None
    if not verify_password(stored, password) or row is None or not row.active:
        return None
    if needs_rehash(stored):  # the same password, stronger hash: sessions stay
        conn.execute(update(users).where(users.c.id == row.id).values(password_hash=hash_password(password)))
    return int(row.id)


def _named(name: str, what: str) -> str:
    if not isinstance(name, str) or not is_identifier(name):
        raise ValidationError(f"invalid {what} name", [Problem("name", "pattern",
                              "use lowercase letters, digits and '_', starting with a letter")])
    return name


def ensure_role(conn: Connection, name: str, description: str = "") -> int:
    found = conn.execute(select(roles.c.id).where(roles.c.name == _named(name, "role"))).scalar()
    if found is not None:
        return int(found)
    return int(conn.execute(roles.insert().values(name=name, description=description)
                            .returning(roles.c.id)).scalar_one())


def role_id(conn: Connection, name: str) -> int:
    found = conn.execute(select(roles.c.id).where(roles.c.name == name)).scalar()
    if found is None:
        raise NotFound(f"no role named '{name}'", [Problem("role", "not_found", name)])
    return int(found)


def ensure_team(conn: Connection, name: str, label: str = "") -> int:
    found = conn.execute(select(teams.c.id).where(teams.c.name == _named(name, "team"))).scalar()
    if found is not None:
        return int(found)
    return int(conn.execute(teams.insert().values(name=name, label=label or name)
                            .returning(teams.c.id)).scalar_one())


def add_member(conn: Connection, team_id: int, uid: int) -> None:
    exists = conn.execute(select(team_members.c.user_id).where(
        team_members.c.team_id == team_id, team_members.c.user_id == uid)).first()
    if exists is None:
        conn.execute(team_members.insert().values(team_id=team_id, user_id=uid))


def assign_role(conn: Connection, uid: int, rid: int) -> None:
    exists = conn.execute(select(user_roles.c.user_id).where(
        user_roles.c.user_id == uid, user_roles.c.role_id == rid)).first()
    if exists is None:
        conn.execute(user_roles.insert().values(user_id=uid, role_id=rid))


def unassign_role(conn: Connection, uid: int, rid: int) -> None:
    conn.execute(delete(user_roles).where(user_roles.c.user_id == uid, user_roles.c.role_id == rid))


def grant(conn: Connection, rid: int, object_name: str, verbs: Iterable[str], scope: str = "own",
          hidden: Iterable[str] = (), readonly: Iterable[str] = ()) -> None:
    """Set (replace) what role `rid` may do with `object_name` ("*" = every object without its own grant)."""
    verbs = set(verbs)
    problems = [Problem("verbs", "unknown_verb", v) for v in sorted(verbs - set(VERBS))]
    if scope not in SCOPES:
        problems.append(Problem("scope", "enum", f"use one of {', '.join(SCOPES)}"))
    if object_name != WILDCARD and not is_identifier(object_name):
        problems.append(Problem("object", "pattern", "an object name or '*'"))
    if problems:
        raise ValidationError("invalid grant", problems)
    conn.execute(delete(permissions).where(permissions.c.role_id == rid, permissions.c.object == object_name))
    conn.execute(permissions.insert().values(
        role_id=rid, object=object_name, can_read="read" in verbs, can_create="create" in verbs,
        can_update="update" in verbs, can_delete="delete" in verbs, scope=scope,
        hidden_fields=sorted(set(hidden)), readonly_fields=sorted(set(readonly))))


def revoke(conn: Connection, rid: int, object_name: str) -> None:
    conn.execute(delete(permissions).where(permissions.c.role_id == rid, permissions.c.object == object_name))
