"""Who is asking: a user with their roles, teams and merged permissions, loaded per request."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, select

from ..errors import PermissionDenied, Problem
from .permissions import FULL, NONE, WILDCARD, Permission, from_row, in_scope, merge, scope_clause
from .tables import permissions, roles, team_members, user_roles, users

SESSION_USER = "uid"
"""The session key holding the logged-in user's id (API and admin console share the login)."""
SESSION_CSRF = "csrf"


@dataclass(frozen=True)
class Principal:
    id: int
    username: str
    display_name: str
    language: str
    is_admin: bool
    email: str | None = None
    time_zone: str | None = None
    """The user's IANA zone; None: the installation's (server texts) or the browser's (web app)."""
    roles: tuple[str, ...] = ()
    team_ids: frozenset[int] = field(default_factory=frozenset)
    team_user_ids: frozenset[int] = field(default_factory=frozenset)
    grants: Mapping[str, Permission] = field(default_factory=dict)

    def permission(self, object_name: str) -> Permission:
        if self.is_admin:
            return FULL
        return self.grants.get(object_name) or self.grants.get(WILDCARD) or NONE

    def require(self, object_name: str, verb: str) -> Permission:
        perm = self.permission(object_name)
        if not perm.allows(verb):
            raise PermissionDenied(f"you may not {verb} {object_name} records",
                                   [Problem("object", "forbidden", f"{verb} {object_name}")])
        return perm

    def require_admin(self) -> None:
        if not self.is_admin:
            raise PermissionDenied("only administrators may do this", [Problem("", "admin_only", "admin only")])

    def row_filter(self, object_name: str, table: Table) -> ColumnElement[bool] | None:
        """The data-scope condition on `table` of `object_name` (None: every row)."""
        return scope_clause(self.permission(object_name), self.id, self.team_user_ids, table)

    def sees_owner(self, object_name: str, owner_id: Any) -> bool:
        perm = self.permission(object_name)
        return perm.read and in_scope(perm, self.id, self.team_user_ids, owner_id)

    def may_own(self, object_name: str, owner_id: Any) -> bool:
        """Whether this user may give a record to `owner_id` (write within their scope)."""
        return in_scope(self.permission(object_name), self.id, self.team_user_ids, owner_id)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "username": self.username, "display_name": self.display_name,
                "email": self.email, "language": self.language, "time_zone": self.time_zone,
                "is_admin": self.is_admin,
                "roles": list(self.roles)}


def load_principal(conn: Connection, user_id: int) -> Principal | None:
    """The active user `user_id` with roles, teams and permissions; None if unknown or inactive."""
    user = conn.execute(select(users.c.id, users.c.username, users.c.display_name, users.c.language,
                               users.c.time_zone, users.c.is_admin, users.c.email, users.c.active)
                        .where(users.c.id == user_id)).first()
    if user is None or not user.active:
        return None
    rows = conn.execute(
        select(roles.c.name, permissions)
        .select_from(user_roles.join(roles, roles.c.id == user_roles.c.role_id)
                     .outerjoin(permissions, permissions.c.role_id == roles.c.id))
        .where(user_roles.c.user_id == user_id)).all()
    role_names = sorted({r.name for r in rows})
    by_role: dict[str, dict[str, Permission]] = defaultdict(dict)
    for r in rows:
        if r.object is not None:
            by_role[r.name][r.object] = from_row(r._mapping)
    objects = {o for grants in by_role.values() for o in grants}
    grants: dict[str, Permission] = {}
    for obj in objects:
        # per role, an object's own grant replaces that role's wildcard grant
        perms = [g.get(obj) or g[WILDCARD] for g in by_role.values() if obj in g or WILDCARD in g]
        grants[obj] = merge(perms)
    mine = select(team_members.c.team_id).where(team_members.c.user_id == user_id).scalar_subquery()
    members = conn.execute(select(team_members.c.team_id, team_members.c.user_id)
                           .where(team_members.c.team_id.in_(mine))).all()
    return Principal(
        id=int(user.id), username=user.username, display_name=user.display_name, language=user.language,
        is_admin=bool(user.is_admin), email=user.email, time_zone=user.time_zone, roles=tuple(role_names),
        team_ids=frozenset(int(m.team_id) for m in members),
        team_user_ids=frozenset(int(m.user_id) for m in members), grants=grants)


def permissions_map(principal: Principal, object_names: list[str]) -> dict[str, dict[str, Any]]:
    return {name: principal.permission(name).to_dict() for name in object_names}
