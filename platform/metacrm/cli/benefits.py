"""`metacrm benefits ...`: the member programme by hand: state, coupon codes, sweeps, the tier pass."""

from __future__ import annotations

import click

from ..engines import benefits as engine
from ..engines import coupons, points, tiers
from ..store import limits
from . import handle_errors, services


@click.group("benefits")
def benefits_group() -> None:
    """Member benefits, coupons, points and tiers on the limits ledger."""


@benefits_group.command("list")
@handle_errors
def benefits_list() -> None:
    """Each benefit: switch, window, used/reserved of its total quota."""
    with services() as svc, svc.engine.connect() as conn:
        snap = svc.registry.current(conn)
        for key, doc in sorted(snap.definitions.items("benefit")):
            row = limits.counter(conn, engine.total_key(key)) or {}
            state = "on" if row.get("enabled", doc.get("enabled", True)) else "off"
            click.echo(f"{key}: {state}, used {row.get('used', 0)} reserved {row.get('reserved', 0)} "
                       f"of {row.get('cap') if row.get('cap') is not None else 'no cap'}"
                       + (" (coupon)" if doc.get("requires_code") else ""))


@benefits_group.command("codes")
@click.argument("key")
@click.option("--count", type=int, default=10, show_default=True)
@click.option("--campaign", default=None)
@handle_errors
def benefits_codes(key: str, count: int, campaign: str | None) -> None:
    """Print a new batch of codes of a coupon benefit, one per line."""
    with services() as svc, svc.engine.begin() as conn:
        doc = engine.benefit(svc.registry.current(conn), key)
        for code in coupons.generate(conn, doc, count, campaign=campaign):
            click.echo(code)


@benefits_group.command("sweep")
@handle_errors
def benefits_sweep() -> None:
    """Expire reservations past their TTL and lapse points in past lots."""
    with services() as svc, svc.engine.begin() as conn:
        held = engine.expire_redemptions(conn)
        lapsed = points.expire(conn)
    click.echo(f"{held} reservation(s) expired, {lapsed} point(s) lapsed")


@benefits_group.command("tiers")
@handle_errors
def benefits_tiers() -> None:
    """Run the tier pass now (it also runs nightly)."""
    with services() as svc:
        moved = tiers.evaluate(svc, svc.settings.timezone)
    click.echo(f"{moved['up']} up, {moved['down']} down, {moved['warned']} warned")


def register(main: click.Group) -> None:
    main.add_command(benefits_group)
