"""The `metacrm` command: set-up, schema-file packs, records, the demo and the server."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Any

import click
from sqlalchemy import inspect, select

from .config import Settings
from .errors import MetaCRMError, Problem, ValidationError
from .meta.kinds import KINDS, DefinitionSet, meta_schema
from .meta.packs import load_pack, parse_json, read_pack, validate_pack, write_pack
from .store import system
from .store.definitions import Plan, incoming_from_files, read_definitions
from .store.services import Services
from .store.users import ensure_user

DEFAULT_PACKS = ("metadata", "workflows")
DEMO_USERS = (("admin", "Administrator", "en"), ("zhang.wei", "张伟", "zh"), ("li.na", "李娜", "zh"),
              ("wang.fang", "王芳", "zh"), ("john.smith", "John Smith", "en"), ("emma.chen", "Emma Chen", "en"))


def _handle_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Our errors become a clear message and exit status 2, never a traceback."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except MetaCRMError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)

    return wrapper


@contextmanager
def _services(init: bool = True) -> Iterator[Services]:
    svc = Services.from_settings(Settings.from_env())
    try:
        if init:
            svc.init()
        yield svc
    finally:
        svc.close()


def _live(svc: Services) -> DefinitionSet:
    with svc.engine.connect() as conn:
        if not inspect(conn).has_table(system.definitions.name):
            return DefinitionSet()
        return read_definitions(conn)


def _print_plan(plan: Plan) -> None:
    lines = plan.lines()
    changed = [c for c in plan.changes if c.changed]
    click.echo("\n".join(lines) if lines else "nothing to do")
    click.echo(f"{len(changed)} definition(s) to change, {len(plan.changes) - len(changed)} unchanged")


@click.group()
@click.version_option(package_name="metacrm")
def main() -> None:
    """MetaCRM: a metadata-driven, low-code CRM. Settings come from METACRM_* environment variables."""


@main.command()
@_handle_errors
def init() -> None:
    """Create or upgrade the database's system tables (safe to run again)."""
    with _services() as svc:
        done = svc.init()
        click.echo("\n".join(done) if done else "system tables are up to date")
        click.echo(f"database: {svc.engine.url.render_as_string(hide_password=True)}")


# --- metadata ------------------------------------------------------------------------------

@main.group()
def metadata() -> None:
    """Schema-file packs: validate, plan, apply, export; meta-schemas for editors."""


_dirs = click.argument("dirs", nargs=-1, required=True, type=click.Path(file_okay=False, path_type=Path))
_force = click.option("--force", is_flag=True, help="Apply changes that hide data (removed fields, narrowing).")


@metadata.command("validate")
@_dirs
@_handle_errors
def metadata_validate(dirs: tuple[Path, ...]) -> None:
    """Check schema files; every error names the file, the JSON pointer and the reason."""
    with _services(init=False) as svc:
        live = _live(svc)
    files, problems = read_pack(dirs)
    problems += validate_pack(files, live)
    if problems:
        raise ValidationError(f"{len(problems)} problem(s) in {len(files)} file(s)", problems)
    click.echo(f"{len(files)} definition(s) valid")


@metadata.command("plan")
@_dirs
@_force
@_handle_errors
def metadata_plan(dirs: tuple[Path, ...], force: bool) -> None:
    """Show what applying the pack would change, without changing anything."""
    with _services() as svc:
        files = load_pack(dirs, _live(svc))
        _print_plan(svc.metadata.plan(incoming_from_files(files), force=force))


@metadata.command("apply")
@_dirs
@_force
@click.option("--note", help="Why: kept with the new versions.")
@_handle_errors
def metadata_apply(dirs: tuple[Path, ...], force: bool, note: str | None) -> None:
    """Apply a pack: create/migrate tables and store new versions, all or nothing (idempotent)."""
    with _services() as svc:
        files = load_pack(dirs, _live(svc))
        plan = svc.metadata.apply(incoming_from_files(files), force=force, note=note)
        _print_plan(plan)
        click.echo("applied" if plan.changed else "already up to date")


@metadata.command("export")
@click.argument("dir", type=click.Path(file_okay=False, path_type=Path))
@_handle_errors
def metadata_export(dir: Path) -> None:
    """Write the live definitions as schema files (applying them back changes nothing)."""
    with _services() as svc:
        written = write_pack(dir, svc.metadata.export())
    click.echo(f"wrote {len(written)} file(s) to {dir}")


@metadata.command("schemas")
@click.argument("dir", type=click.Path(file_okay=False, path_type=Path))
def metadata_schemas(dir: Path) -> None:
    """Write the meta-schema of every kind (JSON Schema 2020-12), for editors and integrators."""
    dir.mkdir(parents=True, exist_ok=True)
    for name in sorted(KINDS):
        (dir / f"{name}.schema.json").write_text(
            json.dumps(meta_schema(name), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    click.echo(f"wrote {len(KINDS)} meta-schema(s) to {dir}")


@metadata.command("history")
@click.argument("kind")
@click.argument("name")
@_handle_errors
def metadata_history(kind: str, name: str) -> None:
    """List the stored versions of one definition."""
    with _services() as svc:
        for row in svc.metadata.history(kind, name):
            click.echo(f"v{row['version']:<4} {row['action']:8} {row['created_at']:%Y-%m-%d %H:%M:%S}Z "
                       f"{row['checksum'][:12]} {row['note'] or ''}")


# --- records ----------------------------------------------------------------------------------

@main.group()
def record() -> None:
    """Create, read and list records through the record service."""


def _json_arg(text: str) -> Any:
    try:
        return parse_json(text)
    except ValueError as exc:
        raise ValidationError("the data is not valid JSON", [Problem("data", "invalid_json", str(exc))]) from None


@record.command("create")
@click.argument("object_name")
@click.argument("data")
@_handle_errors
def record_create(object_name: str, data: str) -> None:
    """Create one record from a JSON object, e.g. '{"name": "王伟"}'."""
    with _services() as svc:
        click.echo(json.dumps(svc.records.create(object_name, _json_arg(data)), ensure_ascii=False))


@record.command("get")
@click.argument("object_name")
@click.argument("record_id", type=int)
@_handle_errors
def record_get(object_name: str, record_id: int) -> None:
    with _services() as svc:
        click.echo(json.dumps(svc.records.get(object_name, record_id), ensure_ascii=False))


@record.command("list")
@click.argument("object_name")
@click.option("--limit", default=20, show_default=True)
@_handle_errors
def record_list(object_name: str, limit: int) -> None:
    """The newest records of an object, one JSON object per line."""
    with _services() as svc:
        for row in svc.records.list(object_name, limit=limit):
            click.echo(json.dumps(row, ensure_ascii=False))


# --- demo and server --------------------------------------------------------------------------

def _existing_packs(packs: tuple[Path, ...]) -> list[Path]:
    return [p for p in packs if p.is_dir()]


def load_demo_data(svc: Services, seed: int = 7, scale: float = 1.0) -> dict[str, int] | None:
    """Load the demo records once: the marker and the records commit together, so a rerun adds nothing."""
    from .demo import load_demo

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


@main.command()
@click.option("--pack", "packs", multiple=True, type=click.Path(path_type=Path), default=DEFAULT_PACKS,
              show_default=True, help="Pack folders to apply.")
@click.option("--scale", default=1.0, show_default=True, help="Multiply the demo record counts.")
@click.option("--serve/--no-serve", default=True, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@_handle_errors
def demo(packs: tuple[Path, ...], scale: float, serve: bool, host: str, port: int) -> None:
    """Set up the demo: system tables, the standard pack, demo data (once), then serve."""
    with _services() as svc:
        dirs = _existing_packs(packs)
        if not dirs:
            raise ValidationError("no pack folder found", [Problem("pack", "not_found", ", ".join(map(str, packs)))])
        plan = svc.metadata.apply(incoming_from_files(load_pack(dirs, _live(svc))), note="demo")
        click.echo(f"standard pack: {'applied' if plan.changed else 'already up to date'}")
        counts = load_demo_data(svc, scale=scale)
        click.echo("demo data: " + (", ".join(f"{k} {v}" for k, v in counts.items()) if counts
                                    else "already loaded"))
    if serve:
        _serve(host, port)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@_handle_errors
def serve(host: str, port: int) -> None:
    """Run the web server (for production, run metacrm.api.wsgi:app under gunicorn)."""
    _serve(host, port)


def _serve(host: str, port: int) -> None:
    from werkzeug.serving import run_simple

    from .api.app import create_app

    settings = Settings.from_env()
    svc = Services.from_settings(settings)
    svc.init()
    app = create_app(settings, svc)
    click.echo(f"MetaCRM on http://{host}:{port}/  (health: http://{host}:{port}/health)")
    run_simple(host, port, app, threaded=True, use_reloader=False)


if __name__ == "__main__":
    main()
