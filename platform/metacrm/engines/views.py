"""Saved list views (columns, sort, filter) stored per user; administrators share them with roles
or teams. Every object with an owner gets a built-in "My records" view (owner = me).

The API validates a view's columns, sort and filter against the object and the caller's field
rules before it gets here (the same parsers the list uses), so a stored view always opens.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Connection, Index, String, Table, delete, select, update

from ..auth.principal import Principal
from ..auth.tables import roles, teams
from ..errors import NotFound, PermissionDenied, Problem, ValidationError
from ..meta.kinds import DefinitionSet
from ..meta.objects import ObjectDef
from ..meta.sqltypes import JSONType, UTCDateTime
from ..meta.usage import USAGE_SOURCES, Usage, usage_in
from ..store.system import ID, metadata, users

views = Table(
    "sys_view", metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("object", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("owner_id", ID, nullable=False),
    Column("columns", JSONType, nullable=True),
    Column("sort", String(500), nullable=True),
    Column("filter", JSONType, nullable=True),
    Column("shared_roles", JSONType, nullable=True),
    Column("shared_teams", JSONType, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index("ix_sys_view_object", "object", "owner_id"),
)

BUILTIN_MINE = "mine"
MAX_NAME = 200


def builtin_views(obj: ObjectDef, who: Principal) -> list[dict[str, Any]]:
    plural = obj.doc.get("x-plural-label") or obj.label
    label = {"en": f"My {str(plural.get('en') or obj.name).lower()}", "zh": f"我的{plural.get('zh') or obj.name}"}
    return [{"id": f"{BUILTIN_MINE}:{obj.name}", "object": obj.name, "name": label.get(who.language) or label["en"],
             "label": label, "columns": None, "sort": "-created_at",
             "filter": {"field": "owner_id", "op": "eq", "value": who.id},
             "owner": None, "shared": {"roles": [], "teams": []}, "mine": True, "builtin": True}]


def _team_names(who: Principal, conn: Connection) -> set[str]:
    if not who.team_ids:
        return set()
    return {r.name for r in conn.execute(select(teams.c.name).where(teams.c.id.in_(sorted(who.team_ids))))}


def _shape(row: Mapping[str, Any], owner_names: Mapping[int, str], who: Principal) -> dict[str, Any]:
    return {"id": int(row["id"]), "object": row["object"], "name": row["name"], "columns": row["columns"],
            "sort": row["sort"], "filter": row["filter"],
            "owner": {"id": int(row["owner_id"]), "name": owner_names.get(int(row["owner_id"]), "")},
            "shared": {"roles": list(row["shared_roles"] or []), "teams": list(row["shared_teams"] or [])},
            "mine": int(row["owner_id"]) == who.id, "builtin": False}


def list_views(conn: Connection, obj: ObjectDef, who: Principal) -> list[dict[str, Any]]:
    """Built-in views, then the caller's own, then those shared with one of their roles or teams."""
    mine_roles, mine_teams = set(who.roles), _team_names(who, conn)
    rows = [r._mapping for r in conn.execute(select(views).where(views.c.object == obj.name).order_by(views.c.id))]
    chosen = [r for r in rows if int(r["owner_id"]) == who.id or who.is_admin
              or mine_roles & set(r["shared_roles"] or []) or mine_teams & set(r["shared_teams"] or [])]
    owners = {int(r["owner_id"]) for r in chosen}
    names = {int(u.id): u.display_name or u.username for u in conn.execute(
        select(users.c.id, users.c.display_name, users.c.username).where(users.c.id.in_(sorted(owners))))} if owners else {}
    chosen.sort(key=lambda r: (int(r["owner_id"]) != who.id, int(r["id"])))
    out = builtin_views(obj, who)
    return out + [_shape(r, names, who) for r in chosen]


def check_shared(conn: Connection, who: Principal, shared: Any) -> tuple[list[str], list[str]]:
    """(role names, team names) a view is shared with; only administrators share (403)."""
    if shared is None:
        return [], []
    if not isinstance(shared, dict) or set(shared) - {"roles", "teams"} or not all(
            isinstance(v, list) and all(isinstance(n, str) for n in v) for v in shared.values()):
        raise ValidationError("invalid sharing", [Problem("shared", "type", '{"roles": [names], "teams": [names]}')])
    role_names, team_names = list(dict.fromkeys(shared.get("roles", []))), list(dict.fromkeys(shared.get("teams", [])))
    if (role_names or team_names) and not who.is_admin:
        raise PermissionDenied("only administrators share views", [Problem("shared", "admin_only", "admin only")])
    known_roles = set(conn.execute(select(roles.c.name).where(roles.c.name.in_(role_names))).scalars()) if role_names else set()
    known_teams = set(conn.execute(select(teams.c.name).where(teams.c.name.in_(team_names))).scalars()) if team_names else set()
    problems = [Problem("shared/roles", "not_found", n) for n in role_names if n not in known_roles]
    problems += [Problem("shared/teams", "not_found", n) for n in team_names if n not in known_teams]
    if problems:
        raise ValidationError("unknown roles or teams", problems)
    return role_names, team_names


def check_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        raise ValidationError("invalid view name", [Problem("name", "type", f"1 to {MAX_NAME} characters")])
    return name.strip()


def get_view(conn: Connection, view_id: int, who: Principal, write: bool = False) -> Mapping[str, Any]:
    row = conn.execute(select(views).where(views.c.id == view_id)).first()
    if row is None or (int(row.owner_id) != who.id and not who.is_admin and not (
            set(who.roles) & set(row.shared_roles or []) or _team_names(who, conn) & set(row.shared_teams or []))):
        raise NotFound(f"view {view_id} does not exist", [Problem("id", "not_found", str(view_id))])
    if write and int(row.owner_id) != who.id and not who.is_admin:
        raise PermissionDenied("only the owner changes a view", [Problem("id", "forbidden", str(view_id))])
    return row._mapping


def save_view(conn: Connection, who: Principal, values: dict[str, Any], view_id: int | None = None) -> dict[str, Any]:
    now = datetime.now(UTC)
    if view_id is None:
        view_id = int(conn.execute(views.insert().values(**values, owner_id=who.id, created_at=now, updated_at=now)
                                   .returning(views.c.id)).scalar_one())
    else:
        conn.execute(update(views).where(views.c.id == view_id).values(**values, updated_at=now))
    row = conn.execute(select(views).where(views.c.id == view_id)).first()
    assert row is not None
    owner = conn.execute(select(users.c.display_name, users.c.username).where(users.c.id == row.owner_id)).first()
    return _shape(row._mapping, {int(row.owner_id): (owner.display_name or owner.username) if owner else ""}, who)


def delete_view(conn: Connection, view_id: int) -> None:
    conn.execute(delete(views).where(views.c.id == view_id))


def views_using(conn: Connection, defs: DefinitionSet, obj: str, fields: set[str]) -> list[Usage]:
    """Saved views of `obj` whose columns, sort or filter name one of `fields` (a field removal lists them)."""
    found: list[Usage] = []
    rows = conn.execute(select(views.c.id, views.c.name, views.c.columns, views.c.sort, views.c.filter)
                        .where(views.c.object == obj).order_by(views.c.id))
    for row in rows:
        doc = {"object": obj, "columns": row.columns or [], "sort": (row.sort or "").split(","),
               "filter": row.filter or {}}
        found += usage_in(defs, "view", f"{row.name} (id {row.id})", doc, obj, fields)
    return found


USAGE_SOURCES.append(views_using)
