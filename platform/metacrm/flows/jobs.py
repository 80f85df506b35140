"""Background jobs: named functions that run later, on RQ workers or on an in-process thread.

The contract every engine uses:

    @job("imports.run")
    def run_import(services, import_id: int) -> None: ...

    job_id = enqueue(services, "imports.run", import_id=7)

With `settings.redis_url` set the job goes to RQ (see `executor.py`, the one module that
imports rq) and `metacrm worker` runs it; without Redis an in-process thread runs it, so the
embedded install needs nothing else. Keyword arguments must be JSON values (they cross Redis
as JSON). The transport may lose a job (Redis flushed, worker killed): state users see, and
anything that must not be lost, lives in the owning engine's SQL tables, and the owner
re-enqueues from there (the workflow sweeper does exactly that).

`@periodic("name", every=seconds)` registers housekeeping (sweepers) that every worker process
and the in-process thread call on that interval; it must be safe to run concurrently.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from ..errors import NotFound, Problem

if TYPE_CHECKING:
    from ..store.services import Services

log = logging.getLogger(__name__)

JobFn = Callable[..., Any]


@dataclass(frozen=True)
class Periodic:
    name: str
    every: float
    fn: Callable[[Services], Any]


_jobs: dict[str, JobFn] = {}
_periodic: dict[str, Periodic] = {}


def job(name: str) -> Callable[[JobFn], JobFn]:
    """Register `fn(services, **kwargs)` as the background job `name` (one function per name)."""

    def register(fn: JobFn) -> JobFn:
        existing = _jobs.get(name)
        if existing is not None and existing is not fn and existing.__qualname__ != fn.__qualname__:
            raise ValueError(f"background job {name!r} is already registered by {existing.__module__}")
        _jobs[name] = fn
        return fn

    return register


def periodic(name: str, every: float) -> Callable[[Callable[[Services], Any]], Callable[[Services], Any]]:
    """Register housekeeping run every `every` seconds by each worker (and the in-process thread)."""

    def register(fn: Callable[[Services], Any]) -> Callable[[Services], Any]:
        _periodic[name] = Periodic(name, every, fn)
        return fn

    return register


def registered(name: str) -> JobFn:
    try:
        return _jobs[name]
    except KeyError:
        raise NotFound(f"no background job named {name!r}", [Problem("job", "unknown_job", name)]) from None


def job_names() -> list[str]:
    return sorted(_jobs)


def periodic_tasks() -> list[Periodic]:
    return list(_periodic.values())


def _check_json(name: str, kwargs: Mapping[str, Any]) -> None:
    try:
        orjson.dumps(dict(kwargs))
    except TypeError as exc:
        raise TypeError(f"arguments of background job {name!r} must be JSON values: {exc}") from None


def enqueue(services: Services, name: str, **kwargs: Any) -> str:
    """Run job `name` later with `kwargs`; return its job id."""
    return enqueue_many(services, name, [kwargs])[0]


def enqueue_many(services: Services, name: str, batch: Iterable[Mapping[str, Any]]) -> list[str]:
    """Enqueue many calls of one job in one round trip (a Redis pipeline); return their ids in order."""
    from .executor import submit

    registered(name)
    calls = [dict(kwargs) for kwargs in batch]
    for kwargs in calls:
        _check_json(name, kwargs)
    if not calls:
        return []
    return submit(services, name, calls)


def jobs_lost(services: Services) -> bool:
    """Whether the transport may have lost jobs since the last call (Redis flushed or restarted
    empty, an enqueue failed): then owners re-enqueue from SQL at once instead of after a lease.
    Each call answers for the time since the previous one, so one caller (the sweeper) asks."""
    from .executor import lost_jobs

    return lost_jobs(services)


def run_job(services: Services, name: str, kwargs: Mapping[str, Any]) -> Any:
    """Execute one job now, in this process (what workers and the thread call)."""
    return registered(name)(services, **kwargs)


def run_periodic(services: Services, due: Callable[[Periodic], bool] | None = None) -> int:
    """Run the registered periodic tasks (those `due` accepts); return how many ran. Errors are logged."""
    ran = 0
    for task in periodic_tasks():
        if due is not None and not due(task):
            continue
        ran += 1
        try:
            task.fn(services)
        except Exception:  # housekeeping must never kill the worker
            log.exception("periodic task %s failed", task.name)
    return ran


@job("noop")
def noop(services: Services, **kwargs: Any) -> None:
    """Does nothing: measures the transport's ceiling (bench/workflows.py) and checks that workers answer."""
