"""`metacrm record ...`: create, read and list records through the record service."""

from __future__ import annotations

import json
from typing import Any

import click

from ..errors import Problem, ValidationError
from ..meta.packs import parse_json
from . import handle_errors, services


def json_argument(text: str, name: str = "data") -> Any:
    try:
        return parse_json(text)
    except ValueError as exc:
        raise ValidationError("not valid JSON", [Problem(name, "invalid_json", str(exc))]) from None


@click.group()
def record() -> None:
    """Create, read, update and list records through the record service."""


@record.command("create")
@click.argument("object_name")
@click.argument("data")
@handle_errors
def record_create(object_name: str, data: str) -> None:
    """Create one record from a JSON object, e.g. '{"name": "王伟"}'."""
    with services() as svc:
        click.echo(json.dumps(svc.records.create(object_name, json_argument(data)), ensure_ascii=False))


@record.command("update")
@click.argument("object_name")
@click.argument("record_id", type=int)
@click.argument("data")
@click.option("--version", "expected_version", type=int, help="Refuse if the record is not at this version.")
@handle_errors
def record_update(object_name: str, record_id: int, data: str, expected_version: int | None) -> None:
    """Change some fields of one record."""
    with services() as svc:
        updated = svc.records.update(object_name, record_id, json_argument(data), expected_version=expected_version)
        click.echo(json.dumps(updated, ensure_ascii=False))


@record.command("get")
@click.argument("object_name")
@click.argument("record_id", type=int)
@handle_errors
def record_get(object_name: str, record_id: int) -> None:
    with services() as svc:
        click.echo(json.dumps(svc.records.get(object_name, record_id), ensure_ascii=False))


@record.command("list")
@click.argument("object_name")
@click.option("--limit", default=20, show_default=True)
@handle_errors
def record_list(object_name: str, limit: int) -> None:
    """The newest records of an object, one JSON object per line."""
    with services() as svc:
        for row in svc.records.list(object_name, limit=limit):
            click.echo(json.dumps(row, ensure_ascii=False))


def register(main: click.Group) -> None:
    main.add_command(record)
