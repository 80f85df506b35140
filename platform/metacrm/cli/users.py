"""`metacrm user|token|role|team ...`: accounts, API tokens, roles, grants and teams."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import click
from sqlalchemy import Column, Connection, Row, Table, func, select

from ..auth import accounts
from ..auth.permissions import SCOPES, VERBS
from ..auth.tables import permissions, roles, team_members, teams, user_roles
from ..auth.tokens import create_token, list_tokens, revoke_token
from ..store.users import ensure_user, list_users
from . import handle_errors, services


def _names(text: str) -> list[str]:
    return [n.strip() for n in text.split(",") if n.strip()]


def _with_members(conn: Connection, table: Table, link: Column[Any]) -> Iterator[tuple[Row[Any], int]]:
    """Rows of a named group table (roles, teams) by name, each with how many users `link` puts in it
    (two queries, not one count per group)."""
    counts = {int(k): int(n) for k, n in conn.execute(select(link, func.count()).group_by(link))}
    for row in conn.execute(select(table).order_by(table.c.name)):
        yield row, counts.get(int(row.id), 0)


@click.group()
def user() -> None:
    """User accounts: create, list, passwords, admin rights."""


@user.command("create")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="Asked for when not given (read from stdin when it is not a terminal).")
@click.option("--display-name", default="")
@click.option("--email", default=None)
@click.option("--language", default="en", show_default=True, type=click.Choice(["en", "zh"]))
@click.option("--admin/--no-admin", default=False, show_default=True, help="Administrators may do everything.")
@handle_errors
def user_create(username: str, password: str, display_name: str, email: str | None, language: str,
                admin: bool) -> None:
    """Create a user (or set the password of an existing one)."""
    with services() as svc, svc.engine.begin() as conn:
        uid = ensure_user(conn, username, display_name, email, language)
        accounts.set_password(conn, uid, password)
        accounts.set_admin(conn, uid, admin)
    click.echo(f"user {username} (id {uid}){' admin' if admin else ''}")


@user.command("list")
@handle_errors
def user_list() -> None:
    with services() as svc, svc.engine.connect() as conn:
        for u in list_users(conn):
            flags = [f for f, on in (("admin", u.get("is_admin")), ("inactive", not u["active"]),
                                     ("no-password", not u.get("password_hash"))) if on]
            click.echo(f"{u['id']:>5}  {u['username']:<24} {u['display_name']:<24} {' '.join(flags)}")


@user.command("set-password")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@handle_errors
def user_set_password(username: str, password: str) -> None:
    with services() as svc, svc.engine.begin() as conn:
        accounts.set_password(conn, accounts.user_id(conn, username), password)
    click.echo("password changed")


@click.group()
def token() -> None:
    """API tokens for integrators (stored hashed; shown once)."""


@token.command("create")
@click.argument("username")
@click.option("--name", required=True, help="What the token is for, e.g. 'website forms'.")
@handle_errors
def token_create(username: str, name: str) -> None:
    """Create a token for USERNAME and print it (the only time it is shown)."""
    with services() as svc, svc.engine.begin() as conn:
        token_id, value = create_token(conn, accounts.user_id(conn, username), name)
    click.echo(f"token {token_id} for {username}: {value}", err=True)
    click.echo(value)


@token.command("list")
@click.argument("username", required=False)
@handle_errors
def token_list(username: str | None) -> None:
    with services() as svc, svc.engine.connect() as conn:
        uid = accounts.user_id(conn, username) if username else None
        for t in list_tokens(conn, uid):
            used = t["last_used_at"].isoformat() if t["last_used_at"] else "never"
            click.echo(f"{t['id']:>5}  user {t['user_id']:<5} {t['prefix']}…  {t['name']:<30} last used {used}"
                       f"{'  REVOKED' if t['revoked'] else ''}")


@token.command("revoke")
@click.argument("token_id", type=int)
@handle_errors
def token_revoke(token_id: int) -> None:
    with services() as svc, svc.engine.begin() as conn:
        revoke_token(conn, token_id)
    click.echo(f"token {token_id} revoked")


@click.group()
def role() -> None:
    """Roles and what they may do per object (verbs, data scope, hidden and read-only fields)."""


@role.command("create")
@click.argument("name")
@click.option("--description", default="")
@handle_errors
def role_create(name: str, description: str) -> None:
    with services() as svc, svc.engine.begin() as conn:
        click.echo(f"role {name} (id {accounts.ensure_role(conn, name, description)})")


@role.command("grant")
@click.argument("role_name")
@click.argument("object_name")
@click.option("--verbs", default="read", show_default=True, help=f"Comma-separated: {', '.join(VERBS)}.")
@click.option("--scope", default="own", show_default=True, type=click.Choice(SCOPES))
@click.option("--hidden", default="", help="Comma-separated fields the role never sees.")
@click.option("--readonly", default="", help="Comma-separated fields the role sees but never changes.")
@handle_errors
def role_grant(role_name: str, object_name: str, verbs: str, scope: str, hidden: str, readonly: str) -> None:
    """Set what ROLE may do with OBJECT ('*' = every object without its own grant)."""
    with services() as svc, svc.engine.begin() as conn:
        accounts.grant(conn, accounts.role_id(conn, role_name), object_name, _names(verbs), scope,
                       _names(hidden), _names(readonly))
    click.echo(f"{role_name} on {object_name}: {verbs} ({scope})")


@role.command("assign")
@click.argument("username")
@click.argument("role_name")
@click.option("--remove", is_flag=True, help="Take the role away instead.")
@handle_errors
def role_assign(username: str, role_name: str, remove: bool) -> None:
    with services() as svc, svc.engine.begin() as conn:
        uid, rid = accounts.user_id(conn, username), accounts.role_id(conn, role_name)
        (accounts.unassign_role if remove else accounts.assign_role)(conn, uid, rid)
    click.echo(f"{username} {'no longer has' if remove else 'has'} role {role_name}")


@role.command("list")
@handle_errors
def role_list() -> None:
    with services() as svc, svc.engine.connect() as conn:
        for r, n in _with_members(conn, roles, user_roles.c.role_id):
            click.echo(f"{r.name} ({n} users) {r.description}")
            for p in conn.execute(select(permissions).where(permissions.c.role_id == r.id)):
                verbs = ",".join(v for v in VERBS if getattr(p, f"can_{v}"))
                extra = "".join(f" {k}={','.join(getattr(p, k + '_fields'))}" for k in ("hidden", "readonly")
                                if getattr(p, k + "_fields"))
                click.echo(f"    {p.object:<16} {verbs or '-':<26} {p.scope}{extra}")


@click.group()
def team() -> None:
    """Teams: the 'team' data scope covers records owned by members of the user's teams."""


@team.command("create")
@click.argument("name")
@click.option("--label", default="")
@handle_errors
def team_create(name: str, label: str) -> None:
    with services() as svc, svc.engine.begin() as conn:
        click.echo(f"team {name} (id {accounts.ensure_team(conn, name, label)})")


@team.command("add")
@click.argument("team_name")
@click.argument("usernames", nargs=-1, required=True)
@handle_errors
def team_add(team_name: str, usernames: tuple[str, ...]) -> None:
    with services() as svc, svc.engine.begin() as conn:
        tid = accounts.ensure_team(conn, team_name)
        for name in usernames:
            accounts.add_member(conn, tid, accounts.user_id(conn, name))
    click.echo(f"{team_name}: added {', '.join(usernames)}")


@team.command("list")
@handle_errors
def team_list() -> None:
    with services() as svc, svc.engine.connect() as conn:
        for t, n in _with_members(conn, teams, team_members.c.team_id):
            click.echo(f"{t.name} ({t.label}): {n} members")


def register(main: click.Group) -> None:
    for group in (user, token, role, team):
        main.add_command(group)
