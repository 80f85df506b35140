"""Fixtures for background jobs and workflows: a Redis URL on DB 15 with a queue of the test's own."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import redis

from metacrm.config import Settings
from metacrm.engines.wiring import build_services
from metacrm.flows import executor
from metacrm.flows.steps.webhook import sign
from metacrm.store.services import Services

REDIS_URL = os.environ.get("METACRM_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REQUIRE_SERVICES = os.environ.get("METACRM_REQUIRE_SERVICES") == "1"


def redis_available() -> bool:
    try:
        conn = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        conn.ping()
        conn.close()
        return True
    except redis.RedisError:
        return False


@pytest.fixture
def redis_queue() -> Iterator[tuple[str, str]]:
    """(redis_url, queue_name): a queue name unique to this test; its keys are deleted afterwards."""
    if not redis_available():
        if REQUIRE_SERVICES:
            pytest.fail(f"Redis is required (METACRM_REQUIRE_SERVICES=1) but {REDIS_URL} does not answer")
        pytest.skip("Redis does not answer")
    name = f"test_{uuid.uuid4().hex[:12]}"
    yield REDIS_URL, name
    executor.delete_queue(REDIS_URL, name)


@pytest.fixture
def rq_services(settings: Settings, redis_queue: tuple[str, str]) -> Iterator[Services]:
    """Services whose background jobs go to RQ on the test's own queue."""
    url, name = redis_queue
    svc = build_services(replace(settings, redis_url=url, queue_name=name, job_lease_seconds=2))
    svc.init()
    yield svc
    executor.shutdown(svc)
    svc.close()

class Receiver:
    def __init__(self, secret: str, slow_first: int = 0, delay: float = 0.0, fail_first: int = 0,
                 status_after: int = 200) -> None:
        self.secret = secret
        self.slow_first, self.delay = slow_first, delay
        self.fail_first, self.status_after = fail_first, status_after
        self.requests: list[str] = []
        self.effects: dict[str, int] = {}
        self.bad_signatures = 0
        self.in_flight = threading.Event()
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                key = self.headers.get("Idempotency-Key", "")
                expected = sign(receiver.secret, self.headers.get("X-MetaCRM-Timestamp", ""), body)
                with receiver.lock:
                    receiver.requests.append(key)
                    n = len(receiver.requests)
                    if self.headers.get("X-MetaCRM-Signature") != expected:
                        receiver.bad_signatures += 1
                if n <= receiver.slow_first:
                    receiver.in_flight.set()
                    time.sleep(receiver.delay)
                status = 500 if n <= receiver.fail_first else receiver.status_after
                if status < 300:
                    with receiver.lock:
                        receiver.effects[key] = receiver.effects.get(key, 0) + 1
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    """Make a local webhook receiver: `with receiver(secret, ...) as r:` (see Receiver)."""
    return Receiver


class WorkerProcesses:
    """`metacrm worker` processes on a test's database and queue, each in a process group of its own:
    RQ forks its scheduler as a child, which a SIGKILL of the worker alone would leave running
    forever (an orphan holding Redis and database connections after the test run)."""

    def __init__(self, instance_dir: str) -> None:
        self.instance_dir = instance_dir
        self.started: list[subprocess.Popen] = []

    def start(self, svc: Services) -> subprocess.Popen:
        s = svc.settings
        env = {**os.environ, "METACRM_DATABASE_URL": s.database_url, "METACRM_REDIS_URL": s.redis_url or "",
               "METACRM_QUEUE": s.queue_name, "METACRM_JOB_LEASE_SECONDS": str(s.job_lease_seconds),
               "METACRM_SECRET_KEY": s.secret_key, "METACRM_INSTANCE_DIR": self.instance_dir}
        proc = subprocess.Popen([sys.executable, "-m", "metacrm.cli", "worker"], env=env, start_new_session=True,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.started.append(proc)
        return proc

    def crash(self, proc: subprocess.Popen) -> None:
        """As if the machine died: SIGKILL to the worker and its scheduler at once."""
        self._kill_group(proc, signal.SIGKILL)
        proc.wait(10)

    def stop(self, proc: subprocess.Popen) -> None:
        """A warm shutdown (SIGTERM), then whatever is left of its group is killed."""
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(10)
        self._kill_group(proc, signal.SIGKILL)
        if proc.poll() is None:
            proc.wait(10)

    @staticmethod
    def _kill_group(proc: subprocess.Popen, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)


@pytest.fixture
def worker_processes(tmp_path) -> Iterator[WorkerProcesses]:
    """Start, crash and stop worker processes; every group still alive is killed at teardown."""
    procs = WorkerProcesses(str(tmp_path))
    yield procs
    for proc in procs.started:
        procs.stop(proc)
