"""The limits ledger under real concurrency: processes and threads against one counter.

The test starts its own worker processes (this file run as a script), on SQLite and PostgreSQL:
4 processes x 16 threads make 4,000 takes against a cap of 1,000; one idempotency key replayed
100 times from 10 threads; a process holding reservations is SIGKILLed and the sweep frees them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from metacrm.store import limits
from metacrm.store.db import make_engine
from metacrm.store.system import ensure_system_tables

HERE = Path(__file__).resolve()
PROCESSES, THREADS, TAKES, CAP = 4, 16, 4000, 1000


def _engine(url: str):
    # 16 threads share 4 connections per process: 16 PostgreSQL connections in all, so the test
    # leaves room for everyone else's tests on the shared server.
    if url.startswith("sqlite"):
        return make_engine(url)
    return make_engine(url, pool_size=4, max_overflow=0, pool_timeout=60)


def _spawn(url: str, *args: object) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen([sys.executable, str(HERE), url, *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def _finish(procs: list[subprocess.Popen[str]]) -> list[dict]:
    out = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=120)
        assert p.returncode == 0, stderr
        out.append(json.loads(stdout.strip().splitlines()[-1]))
    return out


@pytest.fixture
def url(db_url: str) -> str:
    engine = make_engine(db_url)
    ensure_system_tables(engine)
    engine.dispose()
    return db_url


def test_takes_never_pass_the_cap(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        limits.set_limit(conn, "quota", CAP)
    per_thread = TAKES // (PROCESSES * THREADS)
    procs = [_spawn(url, "take", THREADS, per_thread) for _ in range(PROCESSES)]
    results = _finish(procs)
    assert sum(r["ok"] for r in results) == CAP
    assert sum(r["refused"] for r in results) == PROCESSES * THREADS * per_thread - CAP
    with engine.connect() as conn:
        row = limits.counter(conn, "quota")
        assert row is not None and row["used"] == CAP and row["reserved"] == 0
        assert limits.fold(conn) == {("quota", ""): (CAP, 0)}
        assert limits.verify(conn) == []
    engine.dispose()


def test_replayed_key_moves_once(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        limits.set_limit(conn, "coupon", 50)
    procs = [_spawn(url, "replay", 5, 10) for _ in range(2)]
    answers = [a for r in _finish(procs) for a in r["answers"]]
    assert len(answers) == 100 and all(a == answers[0] for a in answers)
    with engine.connect() as conn:
        assert limits.counter(conn, "coupon")["used"] == 3  # type: ignore[index]
        rows = conn.execute(limits.ledger.select()).all()
        assert len(rows) == 1 and rows[0].idempotency_key == "order-42"
        assert limits.verify(conn) == []
    with engine.begin() as conn, pytest.raises(limits.IdempotencyKeyReused):
        limits.take(conn, "coupon", 4, idempotency_key="order-42")
    engine.dispose()


def test_killed_holder_leaves_nothing_held_after_ttl_and_sweep(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        limits.set_limit(conn, "stock", 100)
    proc = _spawn(url, "hold", 20, 1.0)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert json.loads(line) == {"held": 20}, proc.stderr.read() if proc.stderr else ""
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)  # reaps it and closes its pipes
    with engine.connect() as conn:
        assert limits.held(conn) == 20
        assert limits.counter(conn, "stock")["reserved"] == 20  # type: ignore[index]
    time.sleep(1.2)
    with engine.begin() as conn:
        assert limits.sweep(conn) == 20
    with engine.begin() as conn:
        assert limits.sweep(conn) == 0
        assert limits.held(conn) == 0
        assert limits.counter(conn, "stock")["reserved"] == 0  # type: ignore[index]
        assert limits.verify(conn) == []
        # The room came back: the whole cap can be taken again.
        assert limits.take(conn, "stock", 100) == {"used": 100}
    engine.dispose()


# --- worker processes -------------------------------------------------------------------------

def _threads(n: int, fn) -> None:
    threads = [threading.Thread(target=fn) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _worker(url: str, mode: str, *args: str) -> None:
    engine = _engine(url)
    out: dict = {"ok": 0, "refused": 0, "answers": []}
    lock = threading.Lock()
    if mode == "take":
        threads, per_thread = int(args[0]), int(args[1])

        def takes() -> None:
            for _ in range(per_thread):
                try:
                    with engine.begin() as conn:
                        limits.take(conn, "quota")
                    key = "ok"
                except limits.LimitReached:
                    key = "refused"
                with lock:
                    out[key] += 1

        _threads(threads, takes)
    elif mode == "replay":
        threads, per_thread = int(args[0]), int(args[1])

        def replays() -> None:
            for _ in range(per_thread):
                with engine.begin() as conn:
                    answer = limits.take(conn, "coupon", 3, idempotency_key="order-42", ref="order:42")
                with lock:
                    out["answers"].append(answer)

        _threads(threads, replays)
    elif mode == "hold":
        n, ttl = int(args[0]), float(args[1])
        with engine.begin() as conn:
            for _ in range(n):
                limits.reserve(conn, "stock", 1, ttl=ttl)
        print(json.dumps({"held": n}), flush=True)
        time.sleep(600)  # killed by the test
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    _worker(sys.argv[1], sys.argv[2], *sys.argv[3:])
