"""`metacrm segment ...`: list segments, count and list a segment's records, test one record."""

from __future__ import annotations

import json

import click

from ..engines import segments as engine
from . import handle_errors, services


@click.group("segment")
def segment_group() -> None:
    """Segments: saved rules over one object."""


@segment_group.command("ls")
@handle_errors
def segment_ls() -> None:
    """Every segment: name, object, tracked or not, label."""
    with services() as svc:
        snap = svc.registry.current()
        for doc in engine.segments_of(snap):
            label = doc["label"].get("en") or next(iter(doc["label"].values()))
            click.echo(f"{doc['name']:28} {doc['object']:14} {'tracked' if doc.get('track') else '-':8} {label}")


@segment_group.command("count")
@click.argument("name")
@handle_errors
def segment_count(name: str) -> None:
    """How many live records are in the segment now."""
    with services() as svc, svc.engine.connect() as conn:
        snap = svc.registry.current(conn)
        click.echo(engine.count(conn, snap, name, tz=svc.settings.timezone))


@segment_group.command("list")
@click.argument("name")
@click.option("--limit", default=20, show_default=True)
@click.option("--offset", default=0, show_default=True)
@handle_errors
def segment_list(name: str, limit: int, offset: int) -> None:
    """One page of the segment's records in its sort order, one JSON object per line."""
    with services() as svc:
        for row in engine.list_records(svc, name, limit=limit, offset=offset):
            click.echo(json.dumps(row, ensure_ascii=False))


@segment_group.command("has")
@click.argument("name")
@click.argument("record_id", type=int)
@handle_errors
def segment_has(name: str, record_id: int) -> None:
    """Whether one record is in the segment (prints true/false; exit status 1 when false)."""
    with services() as svc, svc.engine.connect() as conn:
        snap = svc.registry.current(conn)
        inside = engine.contains(conn, snap, name, record_id, tz=svc.settings.timezone)
        click.echo("true" if inside else "false")
        if not inside:
            raise SystemExit(1)


@segment_group.command("refresh")
@click.argument("names", nargs=-1)
@handle_errors
def segment_refresh(names: tuple[str, ...]) -> None:
    """Re-evaluate tracked segments now (time-relative rules), recording entered/left events."""
    with services() as svc, svc.records.transaction() as conn:
        done = engine.refresh_tracked(conn, svc.registry.current(conn), names=list(names) or None,
                                      tz=svc.settings.timezone)
        for item in done:
            name = item.get("segment") or item.get("tag")
            click.echo(f"{item['object']:14} {name:28} entered {item['added']}  left {item['removed']}")


def register(main: click.Group) -> None:
    main.add_command(segment_group)
