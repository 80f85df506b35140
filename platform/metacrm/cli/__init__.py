"""The `metacrm` command: set-up, schema-file packs, records, the demo and the server.

Each area's commands live in a module of this package and are added to `main` below.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any

import click

from ..config import Settings
from ..engines.wiring import build_services
from ..errors import MetaCRMError
from ..flows.executor import drain
from ..store.services import Services


def handle_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Our errors become a clear message on stderr and exit status 2, never a traceback."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except MetaCRMError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)

    return wrapper


@contextmanager
def services(init: bool = True) -> Iterator[Services]:
    """The installation's services, built from METACRM_* settings, closed afterwards."""
    svc = build_services(Settings.from_env())
    try:
        if init:
            svc.init()
        yield svc
    finally:
        drain(svc)  # background jobs started by this command (embedded mode) finish before exit
        svc.close()


@click.group()
@click.version_option(package_name="metacrm")
def main() -> None:
    """MetaCRM: a metadata-driven, low-code CRM. Settings come from METACRM_* environment variables."""


def _register() -> None:
    from . import (
        benefits,
        dedupe,
        demo,
        imports,
        limits,
        metadata,
        metadata_delete,
        records,
        rollups,
        segments,
        tags,
        users,
        workflows,
    )

    for module in (metadata, metadata_delete, records, demo, users, workflows, tags, segments, imports, dedupe,
                   limits, rollups, benefits):
        module.register(main)


_register()
