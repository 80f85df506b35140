"""`metacrm metadata delete KIND NAME`: soft-delete a definition (refused while anything uses it)."""

from __future__ import annotations

import click

from ..engines.definition_delete import delete_definition
from . import handle_errors, services


@click.command("delete")
@click.argument("kind")
@click.argument("name")
@click.option("--note", default=None, help="Kept with the version that records the deletion.")
@handle_errors
def metadata_delete(kind: str, name: str, note: str | None) -> None:
    """Delete definition KIND NAME (its versions are kept; re-apply its file to bring it back)."""
    with services() as svc, svc.engine.begin() as conn:
        done = delete_definition(conn, kind, name, None, note)
    click.echo(f"deleted {kind} {name} (version {done['version']} records it)")


def register(main: click.Group) -> None:
    group = main.commands.get("metadata")
    if isinstance(group, click.Group):
        group.add_command(metadata_delete)
