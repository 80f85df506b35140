"""`metacrm worker`, `metacrm runs ...`, `metacrm workflow start`: run and watch the workflow engine."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from typing import Any

import click

from ..flows import executor, service
from ..flows.runner import run_due
from ..flows.sweeper import sweep
from . import handle_errors, services


def _echo(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


@click.command("worker")
@click.option("--burst", is_flag=True, help="Work until nothing is due, then exit (tests, cron).")
@click.option("--processes", "-n", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes to run on this machine.")
@click.option("--queue", "queues", multiple=True, help="Queue(s) to work on (default: METACRM_QUEUE).")
@click.option("--verbose", is_flag=True, help="Log every job (RQ INFO logging).")
@handle_errors
def worker(burst: bool, processes: int, queues: tuple[str, ...], verbose: bool) -> None:
    """Run RQ workers for background jobs and workflow steps (needs METACRM_REDIS_URL).

    Each process also runs the sweeper: due waits, retries, lost jobs and killed workers' steps
    are picked up from SQL, so workers may be stopped, killed or added at any time.
    """
    level = "INFO" if verbose else "WARNING"
    logging.basicConfig(level=level, format="%(asctime)s %(process)d %(name)s %(levelname)s %(message)s")
    children = []
    if processes > 1:
        args = [sys.executable, "-m", "metacrm.cli", "worker", "--processes", "1"]
        args += ["--burst"] if burst else []
        args += ["--verbose"] if verbose else []
        for name in queues:
            args += ["--queue", name]
        children = [subprocess.Popen(args) for _ in range(processes - 1)]
    try:
        with services() as svc:
            executor.run_worker(svc, burst=burst, queue_names=queues, logging_level=level)
    finally:
        for child in children:
            child.wait()


@click.group()
def runs() -> None:
    """Workflow run history and control."""


@runs.command("list")
@click.option("--workflow")
@click.option("--status")
@click.option("--object", "object_name")
@click.option("--record", "record_id", type=int)
@click.option("--limit", default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def runs_list(workflow: str | None, status: str | None, object_name: str | None, record_id: int | None,
              limit: int, as_json: bool) -> None:
    """Runs, newest first."""
    with services() as svc:
        items = service.list_runs(svc, workflow=workflow, status=status, object_name=object_name,
                                  record_id=record_id, limit=limit)
    if as_json:
        _echo(items)
        return
    for r in items:
        error = f"  {r['error'].get('message', '')}" if r.get("error") else ""
        click.echo(f"{r['id']:>7}  {r['workflow']:<32} {r['object']}:{r['record_id'] or '-':<8} "
                   f"{r['status']:<10} steps={r['steps_done']:<3} {r['created_at']}{error}")


@runs.command("show")
@click.argument("run_id", type=int)
@handle_errors
def runs_show(run_id: int) -> None:
    """A run with its step executions (status, attempts, output, error)."""
    with services() as svc:
        _echo(service.get_run(svc, run_id))


@runs.command("retry")
@click.argument("run_id", type=int)
@handle_errors
def runs_retry(run_id: int) -> None:
    """Retry a failed run from its failed step."""
    with services() as svc:
        _echo(service.retry_run(svc, run_id))
        executor.wait_idle(svc, 30)


@runs.command("cancel")
@click.argument("run_id", type=int)
@handle_errors
def runs_cancel(run_id: int) -> None:
    """Cancel a running or waiting run."""
    with services() as svc:
        _echo(service.cancel_run(svc, run_id))


@runs.command("sweep")
@handle_errors
def runs_sweep() -> None:
    """One sweeper round, then run what is due in this process (embedded installs without workers)."""
    with services() as svc:
        handed = sweep(svc)
        executor.wait_idle(svc, 300)
        ran = run_due(svc)
        executor.wait_idle(svc, 300)
    click.echo(f"handed out {handed} step(s)/message(s), ran {ran} more in this process")


@click.group()
def workflow() -> None:
    """Workflows (definitions live in workflows/; apply them with `metacrm metadata apply`)."""


@workflow.command("start")
@click.argument("name")
@click.option("--record", "record_id", type=int, help="The record to run on.")
@click.option("--key", help="Idempotency key: starting twice with one key starts one run.")
@handle_errors
def workflow_start(name: str, record_id: int | None, key: str | None) -> None:
    """Start a workflow by hand; without Redis its steps run in this process before it exits."""
    with services() as svc:
        run = service.start_workflow(svc, name, record_id, key=key)
        executor.wait_idle(svc, 60)
        _echo(service.get_run(svc, run["id"]))


def register(main: click.Group) -> None:
    for command in (worker, runs, workflow):
        main.add_command(command)
