"""`metacrm tags ...`: list tags with counts, recompute automatic tags, tag records by hand."""

from __future__ import annotations

import json

import click

from ..engines import tags as engine
from . import handle_errors, services


@click.group("tags")
def tags_group() -> None:
    """Tags: counts, bulk recompute of automatic tags, adding and removing manual tags."""


@tags_group.command("list")
@click.option("--object", "object_name", help="Only this object's tags.")
@handle_errors
def tags_list(object_name: str | None) -> None:
    """Every tag with its kind (manual/auto), group and number of live records, one per line."""
    with services() as svc, svc.engine.connect() as conn:
        snap = svc.registry.current(conn)
        counts = engine.tag_counts(conn, snap.tables, object_name)
        for name, doc in sorted(snap.definitions.items("tag")):
            for obj in doc["objects"]:
                if object_name is None or obj == object_name:
                    n = counts.get(obj, {}).get(name, 0)
                    kind = "auto" if "rule" in doc else "manual"
                    click.echo(f"{obj:14} {name:24} {kind:6} {doc.get('group', '-'):12} {n}")


@tags_group.command("recompute")
@click.option("--object", "object_name", help="Only automatic tags of this object.")
@click.option("--tag", "tag_names", multiple=True, help="Only this tag (repeatable).")
@handle_errors
def tags_recompute(object_name: str | None, tag_names: tuple[str, ...]) -> None:
    """Recompute automatic tags set-based (and what tests them); run it daily for time-relative rules."""
    with services() as svc, svc.engine.begin() as conn:
        snap = svc.registry.current(conn)
        done = engine.recompute(conn, snap, object_name=object_name, tags=list(tag_names) or None,
                                tz=svc.settings.timezone)
        for item in done:
            name = item.get("tag") or item.get("segment")
            kind = "tag" if "tag" in item else "segment"
            click.echo(f"{kind:8} {item['object']:14} {name:24} +{item['added']} -{item['removed']}")
        click.echo(f"{len(done)} rule(s) recomputed")


def _change(adding: bool, object_name: str, record_id: int, names: tuple[str, ...]) -> None:
    with services() as svc, svc.records.transaction() as conn:
        snap = svc.registry.current(conn)
        change = engine.add_tags if adding else engine.remove_tags
        done = change(conn, snap, object_name, [record_id], list(names), tz=svc.settings.timezone)
        click.echo(json.dumps({"changed": done.get(record_id, []),
                               "tags": engine.record_tags(conn, object_name, record_id)}, ensure_ascii=False))


@tags_group.command("add")
@click.argument("object_name")
@click.argument("record_id", type=int)
@click.argument("names", nargs=-1, required=True)
@handle_errors
def tags_add(object_name: str, record_id: int, names: tuple[str, ...]) -> None:
    """Add manual tags to one record (logged as tag_added events)."""
    _change(True, object_name, record_id, names)


@tags_group.command("remove")
@click.argument("object_name")
@click.argument("record_id", type=int)
@click.argument("names", nargs=-1, required=True)
@handle_errors
def tags_remove(object_name: str, record_id: int, names: tuple[str, ...]) -> None:
    """Remove manual tags from one record (logged as tag_removed events)."""
    _change(False, object_name, record_id, names)


@tags_group.command("show")
@click.argument("object_name")
@click.argument("record_id", type=int)
@handle_errors
def tags_show(object_name: str, record_id: int) -> None:
    """The tags of one record."""
    with services() as svc, svc.engine.connect() as conn:
        click.echo(json.dumps(engine.record_tags(conn, object_name, record_id), ensure_ascii=False))


def register(main: click.Group) -> None:
    main.add_command(tags_group)
