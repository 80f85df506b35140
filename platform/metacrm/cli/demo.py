"""`metacrm demo` and `metacrm serve`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from sqlalchemy import select

from ..config import Settings
from ..errors import Problem, ValidationError
from ..flows.executor import abandon
from ..store import system
from ..store.services import Services
from ..store.users import ensure_user
from . import handle_errors, services
from .metadata import apply_packs

DEFAULT_PACKS = (Path("metadata"), Path("workflows"))
DEMO_USERS = (("admin", "Administrator", "en"), ("zhang.wei", "张伟", "zh"), ("li.na", "李娜", "zh"),
              ("wang.fang", "王芳", "zh"), ("john.smith", "John Smith", "en"), ("emma.chen", "Emma Chen", "en"))


def load_demo_data(svc: Services, seed: int = 7, scale: float = 1.0) -> dict[str, int] | None:
    """Load the demo records once: the marker and the records commit together, so a rerun adds nothing."""
    from ..demo import load_demo

    with svc.engine.begin() as conn:
        if conn.execute(select(system.kv.c.value).where(system.kv.c.key == "demo_data")).first():
            return None
        user_ids = [ensure_user(conn, u, name, language=lang) for u, name, lang in DEMO_USERS]

        def create_many(object_name: str, rows: list[dict[str, Any]]) -> list[int]:
            result = svc.records.bulk_create(object_name, rows, actor_id=user_ids[0], conn=conn)
            return [i for i in result.ids if i is not None]

        counts = load_demo(create_many, user_ids, seed=seed, scale=scale)
        conn.execute(system.kv.insert().values(key="demo_data", value={"seed": seed, "counts": counts}))
    return counts


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
    if serve:
        run_server(host, port)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@handle_errors
def serve(host: str, port: int) -> None:
    """Run the web server (in production: gunicorn 'metacrm.api.wsgi:app')."""
    run_server(host, port)


def run_server(host: str, port: int) -> None:
    from werkzeug.serving import run_simple

    from ..api.app import create_app
    from ..flows.executor import start_background

    app = create_app(Settings.from_env())
    app.extensions["metacrm"].init()
    start_background(app.extensions["metacrm"])  # without Redis: workflow steps and sweeps run in-process
    click.echo(f"MetaCRM on http://{host}:{port}/  (health: http://{host}:{port}/health)")
    run_simple(host, port, app, threaded=True, use_reloader=False)


def register(main: click.Group) -> None:
    main.add_command(demo)
    main.add_command(serve)
