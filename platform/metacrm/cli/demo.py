"""`metacrm demo` and `metacrm serve`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from sqlalchemy import Connection, select

from ..auth import accounts
from ..config import Settings
from ..errors import Problem, ValidationError
from ..flows.executor import abandon
from ..store import system
from ..store.services import Services
from ..store.statistics import refresh_statistics
from ..store.users import ensure_user
from . import handle_errors, services
from .metadata import apply_packs

DEFAULT_PACKS = (Path("metadata"), Path("workflows"))
DEMO_USERS = (("admin", "Administrator", "en"), ("zhang.wei", "张伟", "zh"), ("li.na", "李娜", "zh"),
              ("wang.fang", "王芳", "zh"), ("john.smith", "John Smith", "en"), ("emma.chen", "Emma Chen", "en"))
# (username, password, role, teams): the same every run, printed at the end of `metacrm demo` and in
# the README. wang.fang and emma.chen own records too (the manager sees them) but cannot log in.
DEMO_LOGINS = (("admin", "admin-demo-1", None, ()),
               ("li.na", "manager-demo-1", "sales_manager", ("east", "west")),
               ("zhang.wei", "rep-demo-1", "sales_rep", ("east",)),
               ("john.smith", "rep-demo-2", "sales_rep", ("west",)))
DEMO_TEAMS = (("east", "East sales 华东销售", ("wang.fang",)), ("west", "West sales 华西销售", ("emma.chen",)))
WORK_OBJECTS = ("lead", "customer", "opportunity", "activity")
# role -> (object, verbs, scope): reps work on their own records; the manager on the teams' records.
DEMO_ROLES: dict[str, tuple[str, tuple[tuple[str, tuple[str, ...], str], ...]]] = {
    "sales_rep": ("Sales rep: own leads, customers, opportunities and activities",
                  (*((o, ("read", "create", "update"), "own") for o in WORK_OBJECTS[:3]),
                   ("activity", ("read", "create", "update", "delete"), "own"),
                   ("account", ("read", "create", "update"), "team"), ("channel", ("read",), "all"))),
    "sales_manager": ("Sales manager: every record of the members of their teams",
                      (("*", ("read", "create", "update", "delete"), "team"), ("channel", ("read",), "all"))),
}


def ensure_demo_logins(conn: Connection) -> None:
    """Roles, teams and passwords of the demo users (idempotent: the same logins every run)."""
    ids = {u: ensure_user(conn, u, name, language=lang) for u, name, lang in DEMO_USERS}
    for role, (description, grants) in DEMO_ROLES.items():
        rid = accounts.ensure_role(conn, role, description)
        for obj, verbs, scope in grants:
            accounts.grant(conn, rid, obj, verbs, scope)
    team_ids = {name: accounts.ensure_team(conn, name, label) for name, label, _ in DEMO_TEAMS}
    for name, _, members in DEMO_TEAMS:
        for member in members:
            accounts.add_member(conn, team_ids[name], ids[member])
    for username, password, role, user_teams in DEMO_LOGINS:
        accounts.set_password(conn, ids[username], password)
        accounts.set_admin(conn, ids[username], role is None)
        if role is not None:
            accounts.assign_role(conn, ids[username], accounts.role_id(conn, role))
        for team in user_teams:
            accounts.add_member(conn, team_ids[team], ids[username])
    for username in ("wang.fang", "emma.chen"):
        accounts.assign_role(conn, ids[username], accounts.role_id(conn, "sales_rep"))


def logins_text() -> str:
    lines = ["demo logins (user / password):"]
    for username, password, role, user_teams in DEMO_LOGINS:
        what = "administrator" if role is None else f"{role}, team {' + '.join(user_teams)}"
        lines.append(f"  {username:<12} {password:<16} {what}")
    return "\n".join(lines)


def load_demo_data(svc: Services, seed: int = 7, scale: float = 1.0) -> dict[str, int] | None:
    """Load the demo records once: the marker and the records commit together, so a rerun adds nothing."""
    from ..demo import load_demo, todays_tasks

    with svc.engine.begin() as conn:
        if conn.execute(select(system.kv.c.value).where(system.kv.c.key == "demo_data")).first():
            return None
        user_ids = [ensure_user(conn, u, name, language=lang) for u, name, lang in DEMO_USERS]

        def create_many(object_name: str, rows: list[dict[str, Any]]) -> list[int]:
            result = svc.records.bulk_create(object_name, rows, actor_id=user_ids[0], conn=conn)
            return [i for i in result.ids if i is not None]

        counts = load_demo(create_many, user_ids, seed=seed, scale=scale)
        by_name = {u: uid for (u, _, _), uid in zip(DEMO_USERS, user_ids, strict=True)}
        leads = svc.registry.current(conn).tables["lead"]
        owner_leads = {by_name[name]: list(conn.execute(
            select(leads.c.id).where(leads.c.owner_id == by_name[name], leads.c.status.in_(("new", "contacted")))
            .order_by(leads.c.id).limit(3)).scalars()) for name, _, role, _ in DEMO_LOGINS if role}
        counts["activity"] += len(create_many("activity", todays_tasks(owner_leads)))
        counts["in pool"] = _fill_pools(svc, conn, user_ids[0], set().union(*owner_leads.values()), scale)
        conn.execute(system.kv.insert().values(key="demo_data", value={"seed": seed, "counts": counts}))
    refresh_statistics(svc.engine)  # SQLite never analyses by itself: plans for the loaded tables
    return counts


def _fill_pools(svc: Services, conn: Connection, admin_id: int, keep: set[int], scale: float) -> int:
    """Put every tenth new lead back in each lead pool (with a reason on its timeline), so the demo's pool has leads to claim."""
    from ..engines import lead_pool

    snap = svc.registry.current(conn)
    released = 0
    for _, doc in sorted(snap.definitions.items("lead_pool")):
        table = snap.tables.get(doc["object"])
        if table is None or "status" not in table.c:
            continue
        ids = conn.execute(select(table.c.id).where(table.c.owner_id.is_not(None), table.c.status == "new",
                                                    table.c.deleted_at.is_(None)).order_by(table.c.id)).scalars().all()
        chosen = [i for i in ids[::10] if i not in keep][:max(5, int(80 * scale))]
        for record_id in chosen:
            lead_pool.release(conn, svc.records, snap, doc, record_id, admin_id, "demo: back in the pool", True)
        released += len(chosen)
    return released


@click.command()
@click.option("--pack", "packs", multiple=True, type=click.Path(path_type=Path), default=DEFAULT_PACKS,
              show_default=True, help="Pack folders to apply.")
@click.option("--scale", default=1.0, show_default=True, help="Multiply the demo record counts.")
@click.option("--serve/--no-serve", default=True, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@handle_errors
def demo(packs: tuple[Path, ...], scale: float, serve: bool, host: str, port: int) -> None:
    """Set up the demo: system tables, the standard pack, demo data (once), then serve."""
    with services() as svc:
        dirs = [p for p in packs if p.is_dir()]
        if not dirs:
            raise ValidationError("no pack folder found", [Problem("pack", "not_found", ", ".join(map(str, packs)))])
        plan = apply_packs(svc, dirs, note="demo")
        click.echo(f"standard pack: {'applied' if plan.changed else 'already up to date'}")
        counts = load_demo_data(svc, scale=scale)
        abandon(svc)  # the runs the demo data started continue in the server process, from SQL
        click.echo("demo data: " + (", ".join(f"{k} {v}" for k, v in counts.items()) if counts
                                    else "already loaded"))
        with svc.engine.begin() as conn:
            ensure_demo_logins(conn)
        click.echo(logins_text())
    if serve:
        run_server(host, port)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option("--workers", default=2, show_default=True, help="gunicorn worker processes.")
@click.option("--max-requests", default=1000, show_default=True,
              help="Recycle a worker after this many requests (with jitter), so a leak never grows.")
@click.option("--dev", is_flag=True, help="Werkzeug's single-process development server instead of gunicorn.")
@handle_errors
def serve(host: str, port: int, workers: int, max_requests: int, dev: bool) -> None:
    """Run the web server: gunicorn with worker recycling (or --dev, the development server)."""
    if dev:
        run_server(host, port)
    else:
        run_gunicorn(host, port, workers, max_requests)


def run_gunicorn(host: str, port: int, workers: int, max_requests: int) -> None:
    """gunicorn in this process: each worker builds its app once; a worker dies, the arbiter starts another."""
    from gunicorn.app.base import BaseApplication

    from ..api.app import create_app
    from ..flows.executor import start_background

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in {"bind": f"{host}:{port}", "workers": workers, "max_requests": max_requests,
                               "max_requests_jitter": max(max_requests // 10, 1), "timeout": 120,
                               "worker_class": "gthread", "threads": 4}.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            app = create_app(Settings.from_env())
            app.extensions["metacrm"].init()
            start_background(app.extensions["metacrm"])
            return app

    click.echo(f"MetaCRM on http://{host}:{port}/ (gunicorn, {workers} workers, recycled every ~{max_requests} "
               "requests)")
    Server().run()


def run_server(host: str, port: int) -> None:
    from werkzeug.serving import run_simple

    from ..api.app import create_app
    from ..flows.executor import start_background

    app = create_app(Settings.from_env())
    app.extensions["metacrm"].init()
    start_background(app.extensions["metacrm"])  # without Redis: workflow steps and sweeps run in-process
    click.echo(f"MetaCRM on http://{host}:{port}/  (health: http://{host}:{port}/health)")
    click.echo("This is a development server (one process): use 'metacrm serve' without --dev in production.")
    run_simple(host, port, app, threaded=True, use_reloader=False)


def register(main: click.Group) -> None:
    main.add_command(demo)
    main.add_command(serve)
