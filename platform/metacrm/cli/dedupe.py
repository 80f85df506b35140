"""`metacrm dedupe scan OBJECT`, the review queue, merge and undo."""

from __future__ import annotations

import json
from typing import Any

import click

from ..engines.dedupe.definition import definition
from ..engines.dedupe.merge import list_merges, merge_records, undo_merge
from ..engines.dedupe.review import count_candidates, dismiss, list_candidates, merge_candidate
from ..engines.dedupe.scan import scan_pool
from ..store.db import reading
from . import handle_errors, services


def _echo(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, default=str))


@click.group()
def dedupe() -> None:
    """Find, review, merge and un-merge duplicate records (dedupe definitions in metadata/dedupe/)."""


@dedupe.command("scan")
@click.argument("name")
@click.option("--no-queue", is_flag=True, help="Only report; do not add pairs to the review queue.")
@click.option("--groups", "show_groups", default=20, show_default=True, help="How many groups to print.")
@handle_errors
def dedupe_scan(name: str, no_queue: bool, show_groups: int) -> None:
    """Find duplicate groups among the live records of an object (NAME: object or dedupe definition)."""
    with services() as svc:
        result = scan_pool(svc, name, queue=not no_queue)
    click.echo(f"{result.records} records, {result.comparisons} comparisons, {result.pairs} pairs in "
               f"{len(result.groups)} groups, {result.queued} new for review ({result.seconds:.2f}s)")
    for rule, count in result.by_rule.items():
        click.echo(f"  rule {rule}: {count} pairs")
    for group in result.groups[:show_groups]:
        click.echo("  group: " + " ".join(map(str, group)))


@dedupe.command("review")
@click.argument("object_name")
@click.option("--status", default="pending", type=click.Choice(["pending", "merged", "dismissed"]))
@click.option("--limit", default=20, show_default=True)
@handle_errors
def dedupe_review(object_name: str, status: str, limit: int) -> None:
    """List candidate pairs, best score first."""
    with services() as svc, reading(svc.engine) as conn:
        title = svc.registry.current(conn).object(object_name).title_field or "id"
        counts = count_candidates(conn, object_name)
        click.echo(", ".join(f"{n} {s}" for s, n in counts.items()))
        for item in list_candidates(svc, conn, object_name, status, limit):
            left, right = item.get("left") or {}, item.get("right") or {}
            click.echo(f"#{item['id']} score {item['score']:.2f} [{', '.join(item['fields'])}] "
                       f"{item['left_id']} {left.get(title)!r} ~ {item['right_id']} {right.get(title)!r}")


@dedupe.command("merge")
@click.argument("target")
@click.argument("others", nargs=-1, type=int)
@click.option("--object", "object_name", help="Merge records: TARGET is the survivor id, OTHERS the rest.")
@click.option("--survivor", type=int, help="For a candidate: which of the pair survives.")
@handle_errors
def dedupe_merge(target: str, others: tuple[int, ...], object_name: str | None, survivor: int | None) -> None:
    """Merge a candidate pair (`merge 12`) or records (`merge 5 9 10 --object lead`)."""
    with services() as svc, svc.engine.begin() as conn:
        if object_name:
            dd = definition(svc.registry.current(conn).definitions, object_name)
            _echo(merge_records(svc, conn, dd, int(target), list(others), source="cli"))
        else:
            _echo(merge_candidate(svc, conn, int(target), survivor_id=survivor))


@dedupe.command("dismiss")
@click.argument("candidate_id", type=int)
@handle_errors
def dedupe_dismiss(candidate_id: int) -> None:
    """Mark a candidate pair as not duplicates (it is never proposed again)."""
    with services() as svc, svc.engine.begin() as conn:
        _echo(dismiss(conn, candidate_id))


@dedupe.command("undo")
@click.argument("merge_id", type=int)
@click.option("--force", is_flag=True, help="Undo even if the survivor was edited since the merge.")
@handle_errors
def dedupe_undo(merge_id: int, force: bool) -> None:
    """Undo a merge: fields back, merged records restored, related records pointed back."""
    with services() as svc, svc.engine.begin() as conn:
        _echo(undo_merge(svc, conn, merge_id, force=force))


@dedupe.command("history")
@click.argument("object_name")
@click.option("--record", "record_id", type=int)
@handle_errors
def dedupe_history(object_name: str, record_id: int | None) -> None:
    """Merges of an object (or of one surviving record), newest first."""
    with services() as svc, reading(svc.engine) as conn:
        for item in list_merges(conn, object_name, record_id):
            _echo(item)


def register(main: click.Group) -> None:
    main.add_command(dedupe)
