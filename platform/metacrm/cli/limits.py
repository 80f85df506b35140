"""`metacrm limits ...`: expire held reservations and check counters against their ledger."""

from __future__ import annotations

import sys

import click

from ..engines import limits as engine
from ..store import limits
from . import handle_errors, services


@click.group("limits")
def limits_group() -> None:
    """The limits ledger: quotas, caps, cursors and reservations that many writers share."""


@limits_group.command("sweep")
@handle_errors
def limits_sweep() -> None:
    """Release reservations whose TTL passed (workers also do this every few seconds)."""
    with services() as svc:
        click.echo(f"{engine.sweep(svc)} reservation(s) expired")


@limits_group.command("verify")
@click.option("--prefix", help="Only counters whose key starts with this (e.g. 'assign:').")
@click.option("--fix", is_flag=True, help="Set drifted counters to what the ledger says.")
@handle_errors
def limits_verify(prefix: str | None, fix: bool) -> None:
    """Fold the ledger and compare with every counter; exit 1 when a counter drifted (unless --fix)."""
    with services() as svc, svc.engine.begin() as conn:
        drift = limits.verify(conn, prefix, fix=fix)
    for d in drift:
        period = f"[{d['period_key']}]" if d["period_key"] else ""
        click.echo(f"drift {d['key']}{period}: used {d['used']} (ledger {d['ledger_used']}), "
                   f"reserved {d['reserved']} (ledger {d['ledger_reserved']})" + (" fixed" if fix else ""))
    click.echo(f"{len(drift)} counter(s) drifted")
    if drift and not fix:
        sys.exit(1)


def register(main: click.Group) -> None:
    main.add_command(limits_group)
