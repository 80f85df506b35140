"""`metacrm rollup ...`: rebuild a roll-up (or formula) field over every record, or verify them all."""

from __future__ import annotations

import sys
import time

import click

from ..errors import NotFound, Problem
from ..store import computed, rollups
from . import handle_errors, services


@click.group("rollup")
def rollup_group() -> None:
    """Roll-up and formula fields: rebuild from scratch, verify against a full recompute."""


@rollup_group.command("rebuild")
@click.argument("target", metavar="OBJECT.FIELD")
@click.option("--batch", default=rollups.BATCH, show_default=True, help="Parents per transaction.")
@handle_errors
def rollup_rebuild(target: str, batch: int) -> None:
    """Recompute OBJECT.FIELD (a roll-up, or a stored formula) for every record, batch by batch."""
    object_name, _, field = target.partition(".")
    with services() as svc:
        snap = svc.registry.current()
        obj = snap.object(object_name)
        started = time.monotonic()
        if field in obj.fields and obj.fields[field].type.name == "formula":
            with svc.engine.begin() as conn:
                changed = computed.backfill(conn, obj, snap.tables[obj.name], {field}, svc.records.ctx,
                                            progress=lambda last, n: click.echo(f"  up to id {last}: {n} changed", err=True))
            click.echo(f"{target}: {changed} record(s) changed in {time.monotonic() - started:.1f}s")
            return
        r = rollups.find(snap, object_name, field)
        if r is None:
            raise NotFound(f"{target} is not a roll-up or formula field", [Problem("target", "unknown_field", target)])

        def progress(done: int, total: int) -> None:
            click.echo(f"  {done}/{total} parents ({100 * done // max(total, 1)}%)", err=True)
        done = rollups.rebuild(svc.engine.begin, snap, r, progress, batch=batch)
        click.echo(f"{target}: rebuilt {done} record(s) in {time.monotonic() - started:.1f}s")


@rollup_group.command("verify")
@click.option("--fix/--no-fix", default=True, show_default=True, help="Rewrite values that drifted.")
@handle_errors
def rollup_verify(fix: bool) -> None:
    """Compare every roll-up with a full recompute (the nightly check); exit 1 when any drifted."""
    drifted = 0
    with services() as svc:
        snap = svc.registry.current()
        for obj in sorted(snap.objects):
            for r in rollups.rollups_of(snap, obj):
                with svc.engine.begin() as conn:
                    found = rollups.verify(conn, snap, r, fix=fix)
                drifted += len(found)
                for rid, stored, fresh in found[:20]:
                    click.echo(f"{obj}.{r.name} #{rid}: stored {stored}, recomputed {fresh}")
        click.echo(f"{drifted} drifted value(s){' fixed' if fix and drifted else ''}")
    if drifted:
        sys.exit(1)


def register(main: click.Group) -> None:
    main.add_command(rollup_group)
