"""Where background jobs run: RQ on Redis when configured, else one in-process thread.

This is the only module that imports rq. Jobs cross Redis as JSON (`JSONSerializer`), with
ids prefixed by the queue name, and results are not kept (`result_ttl=0`): whatever a job
produces that matters is written to SQL by the job itself. Workers are `SimpleWorker`s (no fork
per job: steps are short, and forking costs ~20 ms a job), and each worker process also runs the
registered periodic tasks (sweepers) on their intervals.
"""

from __future__ import annotations

import logging
import queue
import signal
import threading
import time
import uuid
import weakref
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, SimpleWorker
from rq.serializers import JSONSerializer

from ..errors import Problem, ServiceUnavailable
from .jobs import Periodic, run_job, run_periodic

if TYPE_CHECKING:
    from ..store.services import Services

log = logging.getLogger(__name__)

JOB_TIMEOUT = 600
FAILURE_TTL = 7 * 24 * 3600


# --- the in-process thread (embedded default) ------------------------------------------------

class ThreadTransport:
    """Runs jobs one at a time on a daemon thread; optionally runs periodic tasks too.

    Holds its services weakly, so a forgotten Services object ends its thread at the next tick.
    """

    def __init__(self, services: Services, tick: float = 0.5) -> None:
        self._ref = weakref.ref(services)
        self._queue: queue.Queue[tuple[str, dict[str, Any]] | None] = queue.Queue()
        self._tick = tick
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._periodic = False
        self._last: dict[str, float] = {}

    def submit(self, name: str, calls: Sequence[dict[str, Any]]) -> list[str]:
        ids = [uuid.uuid4().hex for _ in calls]
        for kwargs in calls:
            self._queue.put((name, kwargs))
        self.start()
        return ids

    def start(self, periodic: bool = False) -> None:
        with self._lock:
            self._periodic = self._periodic or periodic
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="metacrm-jobs", daemon=True)
                self._thread.start()

    def _due(self, task: Periodic) -> bool:
        now = time.monotonic()
        if now - self._last.get(task.name, -1e9) < task.every:
            return False
        self._last[task.name] = now
        return True

    def _loop(self) -> None:
        while True:
            try:
                item = self._queue.get(timeout=self._tick)
            except queue.Empty:
                item = ()  # type: ignore[assignment]
            services = self._ref()
            if services is None or item is None:
                if item is None:
                    self._queue.task_done()
                return
            if item:
                name, kwargs = item
                try:
                    run_job(services, name, kwargs)
                except Exception:  # a failing job must not end the thread; owners record their errors
                    log.exception("background job %s failed", name)
                finally:
                    self._queue.task_done()
            if self._periodic:
                run_periodic(services, self._due)
            del services

    def lost_jobs(self) -> bool:
        """Never between calls: this process's queue dies only with the process (see `recover`)."""
        return False

    def abandon(self) -> int:
        dropped = 0
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return dropped
            if item is None:  # keep a stop request
                self._queue.task_done()
                self._queue.put(None)
                return dropped
            dropped += 1
            self._queue.task_done()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """True once every submitted job has finished (tests and the CLI use it)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self._queue.unfinished_tasks == 0:
                return True
            time.sleep(0.005)
        return False

    def stop(self, timeout: float = 10.0) -> None:
        thread = self._thread
        if thread is not None and thread.is_alive():
            self._queue.put(None)
            thread.join(timeout)


# --- RQ on Redis -----------------------------------------------------------------------------

def redis_connection(url: str) -> Redis:
    return Redis.from_url(url, socket_connect_timeout=5)


def marker_key(queue_name: str) -> str:
    """A key that lives as long as Redis keeps its data: its absence means queued jobs were lost."""
    return f"metacrm:queue-alive:{queue_name}"


def _unavailable(exc: RedisError) -> ServiceUnavailable:
    return ServiceUnavailable("the job queue (Redis) does not answer", [Problem("redis", "unavailable", str(exc))])


class RQTransport:
    """Enqueues jobs on one RQ queue, many per Redis round trip."""

    def __init__(self, url: str, queue_name: str) -> None:
        self.redis = redis_connection(url)
        self.queue_name = queue_name
        self.queue = Queue(queue_name, connection=self.redis, serializer=JSONSerializer)
        self.marker = marker_key(queue_name)
        self._failed = False

    def submit(self, name: str, calls: Sequence[dict[str, Any]]) -> list[str]:
        ids = [f"{self.queue_name}-{uuid.uuid4().hex}" for _ in calls]
        datas = [Queue.prepare_data(perform, args=(name, kwargs), job_id=job_id, result_ttl=0,
                                    failure_ttl=FAILURE_TTL, timeout=JOB_TIMEOUT, description=name)
                 for job_id, kwargs in zip(ids, calls, strict=True)]
        try:
            with self.redis.pipeline() as pipe:
                self.queue.enqueue_many(datas, pipeline=pipe)
                pipe.execute()
        except RedisError as exc:
            self._failed = True
            raise _unavailable(exc) from None
        return ids

    def lost_jobs(self) -> bool:
        """Whether jobs handed to Redis may have been lost since the last call.

        Redis lost its data (flushed, restarted without persistence, replaced) exactly when the
        marker key set here is gone; an enqueue of this process that failed lost its jobs too.
        The first call ever also says True (nothing tells a new marker from a lost one).
        """
        failed, self._failed = self._failed, False
        try:
            created = bool(self.redis.set(self.marker, "1", nx=True))
        except RedisError as exc:
            self._failed = True
            raise _unavailable(exc) from None
        return created or failed

    def start(self, periodic: bool = False) -> None:
        """Nothing to start here: `metacrm worker` processes run the jobs and periodic tasks."""

    def wait_idle(self, timeout: float = 10.0) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.queue.count == 0 and self.queue.started_job_registry.count == 0:
                return True
            time.sleep(0.02)
        return False

    def stop(self, timeout: float = 10.0) -> None:
        self.redis.close()


Transport = ThreadTransport | RQTransport

_transports: dict[int, Transport] = {}
_transports_lock = threading.Lock()


def _forget(key: int) -> None:
    with _transports_lock:
        _transports.pop(key, None)


def transport(services: Services) -> Transport:
    """The transport of these services (one per Services object, made on first use)."""
    key = id(services)
    with _transports_lock:
        found = _transports.get(key)
        if found is None:
            settings = services.settings
            found = (RQTransport(settings.redis_url, settings.queue_name) if settings.redis_url
                     else ThreadTransport(services))
            _transports[key] = found
            weakref.finalize(services, _forget, key)
        return found


def submit(services: Services, name: str, calls: Sequence[dict[str, Any]]) -> list[str]:
    return transport(services).submit(name, calls)


def lost_jobs(services: Services) -> bool:
    return transport(services).lost_jobs()


def start_background(services: Services) -> None:
    """Embedded mode: start the in-process thread with periodic tasks (sweepers). No-op with RQ.

    A new process has an empty in-process queue, so whatever earlier processes had queued is
    gone: the `startup` periodic hooks (the workflow sweeper's recovery) run first to take it back
    from SQL.
    """
    found = transport(services)
    if isinstance(found, ThreadTransport):
        from .jobs import job_names

        if "workflows.recover" in job_names():
            found.submit("workflows.recover", [{}])
        found.start(periodic=True)


def abandon(services: Services) -> int:
    """Drop this process's queued in-process jobs (their work is in SQL; the next process recovers it)."""
    found = _transports.get(id(services))
    if not isinstance(found, ThreadTransport):
        return 0
    return found.abandon()


def wait_idle(services: Services, timeout: float = 10.0) -> bool:
    return transport(services).wait_idle(timeout)


def drain(services: Services, timeout: float = 120.0) -> None:
    """Before a process exits: let its in-process jobs finish (CLI commands). Nothing to do with RQ."""
    found = _transports.get(id(services))
    if isinstance(found, ThreadTransport):
        found.wait_idle(timeout)


def shutdown(services: Services, timeout: float = 10.0) -> None:
    """Stop this services' thread (or close its Redis connection)."""
    with _transports_lock:
        found = _transports.pop(id(services), None)
    if found is not None:
        found.stop(timeout)


# --- the worker side -------------------------------------------------------------------------

_worker_services: Services | None = None


def perform(name: str, kwargs: Mapping[str, Any]) -> None:
    """The function every RQ job calls: run the named job with the worker's services."""
    if _worker_services is None:
        raise RuntimeError("MetaCRM jobs run in `metacrm worker` processes, which set up their services first")
    run_job(_worker_services, name, kwargs)


def _periodic_loop(services: Services, stop: threading.Event) -> None:
    last: dict[str, float] = {}

    def due(task: Periodic) -> bool:
        now = time.monotonic()
        if now - last.get(task.name, -1e9) < task.every:
            return False
        last[task.name] = now
        return True

    while not stop.wait(0.5):
        run_periodic(services, due)


def run_worker(services: Services, *, burst: bool = False, queue_names: Sequence[str] = (),
               logging_level: str = "WARNING", max_rounds: int = 1000) -> int:
    """Run one RQ worker in this process until stopped (or, with `burst`, until nothing is due).

    Periodic tasks run on a side thread; in burst mode they run between rounds instead, and the
    worker stops once a round found neither queued jobs nor work for the sweepers. Returns the
    number of rounds (burst) or 0.
    """
    global _worker_services
    if not services.settings.redis_url:
        raise ServiceUnavailable("workers need Redis: set METACRM_REDIS_URL",
                                 [Problem("redis_url", "missing", "METACRM_REDIS_URL is not set")])
    _worker_services = services
    connection = redis_connection(services.settings.redis_url)
    names = list(queue_names) or [services.settings.queue_name]
    queues = [Queue(n, connection=connection, serializer=JSONSerializer) for n in names]

    def new_worker() -> SimpleWorker:
        return SimpleWorker(queues, connection=connection, serializer=JSONSerializer,
                            log_job_description=False)

    saved = _signal_handlers()
    try:
        if burst:
            for rounds in range(1, max_rounds + 1):
                found = _sweep_count(services)
                worked = new_worker().work(burst=True, logging_level=logging_level)
                if not found and not worked:
                    return rounds
            return max_rounds
        stop = threading.Event()
        sweeper = threading.Thread(target=_periodic_loop, args=(services, stop), name="metacrm-sweeper",
                                   daemon=True)
        sweeper.start()
        try:
            new_worker().work(logging_level=logging_level, with_scheduler=True)  # enqueue_at jobs (bench/waits.py)
        finally:
            stop.set()
        return 0
    finally:
        _restore_signal_handlers(saved)
        _worker_services = None
        connection.close()


def _signal_handlers() -> dict[int, object]:
    """The SIGINT/SIGTERM handlers now set: RQ's worker replaces them and never puts them back, so a
    burst run inside a host process (a test runner, the CLI) would leave the host stopping through RQ."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}


def _restore_signal_handlers(saved: dict[int, object]) -> None:
    for sig, handler in saved.items():
        if handler is not None:
            signal.signal(sig, handler)  # type: ignore[arg-type]


def _sweep_count(services: Services) -> int:
    """Run every periodic task once; return how much work they found (tasks return counts)."""
    from .jobs import periodic_tasks

    found = 0
    for task in periodic_tasks():
        try:
            found += int(task.fn(services) or 0)
        except Exception:
            log.exception("periodic task %s failed", task.name)
    return found


def delete_queue(url: str, queue_name: str) -> int:
    """Delete a queue's Redis keys and its jobs (tests and benchmarks with their own queue names); return keys removed."""
    connection = redis_connection(url)
    try:
        keys = [*connection.scan_iter(match=f"rq:*{queue_name}*", count=1000), marker_key(queue_name)]
        removed = int(connection.delete(*keys))
        connection.srem("rq:queues", f"rq:queue:{queue_name}")
        return removed
    finally:
        connection.close()
