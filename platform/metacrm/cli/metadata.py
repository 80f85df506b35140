"""`metacrm init` and `metacrm metadata ...`: system tables and schema-file packs."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import click
from sqlalchemy import inspect

from ..errors import NotFound, Problem, ValidationError
from ..flows.drafts import seal_drafts
from ..meta.kinds import KINDS, DefinitionSet, meta_schema
from ..meta.packs import load_pack, read_pack, validate_pack, write_pack
from ..meta.secret_box import revealed
from ..meta.secrets import masked
from ..store import system
from ..store.definitions import Plan, incoming_from_files, read_definitions, seal_stored_secrets
from ..store.services import Services
from . import handle_errors, services


def live_definitions(svc: Services) -> DefinitionSet:
    """The stored definitions, or none on a database that was never initialised."""
    with svc.engine.connect() as conn:
        if not inspect(conn).has_table(system.definitions.name):
            return DefinitionSet()
        return read_definitions(conn)


def print_plan(plan: Plan) -> None:
    lines = plan.lines()
    changed = [c for c in plan.changes if c.changed]
    click.echo("\n".join(lines) if lines else "nothing to do")
    click.echo(f"{len(changed)} definition(s) to change, {len(plan.changes) - len(changed)} unchanged")


def apply_packs(svc: Services, dirs: list[Path] | tuple[Path, ...], force: bool = False,
                note: str | None = None, author: str | None = None) -> Plan:
    files = load_pack(dirs, live_definitions(svc))
    return svc.metadata.apply(incoming_from_files(files), force=force, note=note, author=author)


def os_user() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (a container without a passwd entry)
        return None


_dirs = click.argument("dirs", nargs=-1, required=True, type=click.Path(file_okay=False, path_type=Path))
_force = click.option("--force", is_flag=True, help="Apply changes that hide data (removed fields, narrowing).")
_author = click.option("--author", default=os_user, show_default="the OS user",
                       help="Who applies: kept with the new versions (see `metacrm metadata history`).")


@click.command()
@handle_errors
def init() -> None:
    """Create or upgrade the database's system tables (safe to run again); encrypt secrets stored in clear."""
    with services(init=False) as svc:
        done = svc.init()
        click.echo("\n".join(done) if done else "system tables are up to date")
        report_sealing(*seal_everything(svc))
        click.echo(f"database: {svc.engine.url.render_as_string(hide_password=True)}")


def seal_everything(svc: Services) -> tuple[list[str], list[Problem]]:
    """Encrypt the secrets stored in clear (definitions, their history, workflow drafts) in one transaction."""
    with svc.engine.begin() as conn:
        report = seal_stored_secrets(conn, svc.metadata.box)
        sealed = report.sealed + seal_drafts(conn, svc.metadata.box)
    svc.registry.invalidate()
    return sealed, report.problems


def report_sealing(sealed: list[str], problems: list[Problem]) -> None:
    if sealed:
        click.echo(f"encrypted the secrets of {len(sealed)} stored definition(s): {', '.join(sealed[:20])}"
                   + (" ..." if len(sealed) > 20 else ""))
    for p in problems:
        click.echo(f"warning: {p.field}: {p.message} [{p.code}]", err=True)


@click.group()
def metadata() -> None:
    """Schema-file packs: validate, plan, apply, export; meta-schemas for editors."""


@metadata.command("validate")
@_dirs
@handle_errors
def metadata_validate(dirs: tuple[Path, ...]) -> None:
    """Check schema files; every error names the file, the JSON pointer and the reason."""
    with services(init=False) as svc:
        live = live_definitions(svc)
    files, problems = read_pack(dirs)
    problems += validate_pack(files, live)
    if problems:
        raise ValidationError(f"{len(problems)} problem(s) in {len(files)} file(s)", problems)
    click.echo(f"{len(files)} definition(s) valid")


@metadata.command("plan")
@_dirs
@_force
@handle_errors
def metadata_plan(dirs: tuple[Path, ...], force: bool) -> None:
    """Show what applying the pack would change, without changing anything."""
    with services() as svc:
        files = load_pack(dirs, live_definitions(svc))
        print_plan(svc.metadata.plan(incoming_from_files(files), force=force))


@metadata.command("apply")
@_dirs
@_force
@click.option("--note", help="Why: kept with the new versions.")
@_author
@handle_errors
def metadata_apply(dirs: tuple[Path, ...], force: bool, note: str | None, author: str | None) -> None:
    """Apply a pack: create/migrate tables and store new versions, all or nothing (idempotent)."""
    with services() as svc:
        plan = apply_packs(svc, dirs, force=force, note=note, author=author)
        print_plan(plan)
        click.echo("applied" if plan.changed else "already up to date")


@metadata.command("rollback")
@click.argument("kind")
@click.argument("name")
@click.option("--to", "version", type=int, required=True, help="The version to return to (see the history).")
@_force
@click.option("--dry-run", is_flag=True, help="Show the plan (with its effect on stored data) and change nothing.")
@click.option("--note", help="Why: kept with the new version (default: 'rollback to version N').")
@_author
@handle_errors
def metadata_rollback(kind: str, name: str, version: int, force: bool, dry_run: bool, note: str | None,
                      author: str | None) -> None:
    """Return a definition to an earlier version: planned and applied like any change (a change
    that would lose stored data is refused, the return itself becomes a new version)."""
    with services() as svc:
        row = next((r for r in svc.metadata.history(kind, name) if r["version"] == version), None)
        if row is None:
            raise NotFound(f"{kind} {name} has no version {version}", [Problem("version", "not_found", str(version))])
        incoming = [(kind, name, json.loads(row["body"]))]
        if dry_run:
            print_plan(svc.metadata.plan(incoming, force=force))
            return
        plan = svc.metadata.apply(incoming, force=force, note=note or f"rollback to version {version}",
                                  author=author)
        print_plan(plan)
        click.echo(f"rolled back to version {version}" if plan.changed else "already at that version")


@metadata.command("export")
@click.argument("dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--with-secrets", is_flag=True,
              help="Write secrets (webhook secrets, tokens) in clear; by default they are written as '***', "
                   "which applying back keeps.")
@handle_errors
def metadata_export(dir: Path, with_secrets: bool) -> None:
    """Write the live definitions as schema files (applying them back changes nothing)."""
    with services() as svc:
        live = svc.metadata.export()
        box = svc.metadata.box
        show = (lambda k, n, d: revealed(d, box, f"{k}/{n}")) if with_secrets else (lambda k, n, d: masked(d))
        live = DefinitionSet({k: {n: show(k, n, d) for n, d in live.items(k)} for k in live.kinds()})
        written = write_pack(dir, live)
    click.echo(f"wrote {len(written)} file(s) to {dir}")


@metadata.command("encrypt-secrets")
@handle_errors
def metadata_encrypt_secrets() -> None:
    """Encrypt the secrets of definitions, their history and workflow drafts that are stored in clear
    (`init` does it too); list any stored secret the current secret key cannot open."""
    with services() as svc:
        sealed, problems = seal_everything(svc)
    report_sealing(sealed, problems)
    if not sealed:
        click.echo("no secret is stored in clear")
    if problems:
        raise ValidationError(f"{len(problems)} stored secret(s) cannot be read with the current secret key",
                              problems, code="secret_unreadable")


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
@handle_errors
def metadata_history(kind: str, name: str) -> None:
    """List the stored versions of one definition."""
    with services() as svc:
        for row in svc.metadata.history(kind, name):
            click.echo(f"v{row['version']:<4} {row['action']:8} {row['created_at']:%Y-%m-%d %H:%M:%S}Z "
                       f"{row['checksum'][:12]} {row.get('author') or '-':12} {'forced ' if row.get('forced') else ''}"
                       f"{row['note'] or ''}")
            for action in json.loads(row.get("actions") or "[]"):
                click.echo(f"      table: {action}")


def register(main: click.Group) -> None:
    main.add_command(init)
    main.add_command(metadata)
