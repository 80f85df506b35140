"""Benefit redemptions under real concurrency: processes and threads through the benefit engine.

The test starts its own worker processes (this file run as a script). Scaled to run in about a
minute on a shared two-core machine: on PostgreSQL 2 processes x 10 threads make 1,200 attempts
on a quota of 500 with per-member limit 1 over 2,000 members (then 200 members with limit 3, so
both caps bind); SQLite runs the same checks with 8 threads in one process. One idempotency key
replayed 100 times from 10 threads consumes once; one coupon code presented by 20 orders at once
serves one; a switch-off mid-run lets no consume commit after it; a SIGKILLed holder of
reservations leaves nothing held after its TTL and a sweep. Every run ends with counters = the
fold of the ledger and the redemption rows agreeing with the counters.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from metacrm.config import Settings
from metacrm.engines import benefits
from metacrm.engines.coupons import generate
from metacrm.engines.wiring import build_services
from metacrm.errors import Conflict, ValidationError
from metacrm.store import limits
from metacrm.store.db import make_engine

HERE = Path(__file__).resolve()
ATTEMPTS = 1200  # 8 threads x 150 (SQLite); 2 processes x 10 threads x 60 (PostgreSQL)
MEMBER = {"$id": "member", "title": "Member", "type": "object", "properties": {
    "member_no": {"x-field": "text", "maxLength": 32},
    "status": {"x-field": "select", "enum": ["active", "frozen"]}}}


def _services(url: str, tmp: str, pool: int = 5) -> Any:
    engine = make_engine(url) if url.startswith("sqlite") else make_engine(url, pool_size=pool, max_overflow=0,
                                                                           pool_timeout=60)
    return build_services(Settings(database_url=url, secret_key="test-secret", instance_dir=Path(tmp)), engine)


def _spawn(url: str, tmp: Path, *args: object) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen([sys.executable, str(HERE), url, str(tmp), *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def _finish(procs: list[subprocess.Popen[str]]) -> list[dict[str, Any]]:
    out = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=240)
        assert p.returncode == 0, stderr[-3000:]
        out.append(json.loads(stdout.strip().splitlines()[-1]))
    return out


@pytest.fixture
def program(db_url: str, tmp_path: Path) -> Any:
    """Services with the member object applied; `program.members(n)` creates n members (their ids)."""
    svc = _services(db_url, str(tmp_path))
    svc.init()
    svc.metadata.apply([("object", "member", MEMBER)])

    def members(n: int) -> list[int]:
        return svc.records.bulk_create("member", [{"member_no": f"M{i}", "status": "active"}
                                                  for i in range(n)]).ids

    def define(doc: dict[str, Any]) -> None:
        svc.metadata.apply([("benefit", doc["key"], doc)])

    svc.members, svc.define, svc.url, svc.tmp = members, define, db_url, tmp_path
    yield svc
    svc.close()


def _check_ledger(svc: Any, key: str) -> dict[str, int]:
    """Counters = fold of the ledger; consumed redemptions = the total counter; Σ per member = total."""
    with svc.engine.connect() as conn:
        assert limits.verify(conn, f"bf:{key}") == []
        total = limits.counter(conn, f"bf:{key}") or {"used": 0, "reserved": 0}
        r = benefits.redemptions.c
        consumed = conn.execute(select(func.coalesce(func.sum(r.qty), 0)).where(
            r.benefit == key, r.status == "consumed")).scalar_one()
        c = limits.counters.c
        per_member = conn.execute(select(c.used).where(c.key.startswith(f"bf:{key}:m:"))).scalars().all()
        assert int(consumed) == int(total["used"])
        if per_member:
            assert sum(per_member) == int(total["used"])
        return {"used": int(total["used"]), "reserved": int(total["reserved"]),
                "max_member": max(per_member, default=0)}


def _run_attempts(svc: Any, key: str, members: list[int], attempts: int) -> dict[str, int]:
    if svc.url.startswith("sqlite"):
        return _attempts(svc, key, members, 8, attempts // 8)
    per = attempts // 20
    procs = [_spawn(svc.url, svc.tmp, "attempts", key, 10, per, ",".join(map(str, members))) for _ in range(2)]
    results = _finish(procs)
    return {k: sum(r[k] for r in results) for k in ("ok", "refused", "error")}


@pytest.mark.parametrize(("n_members", "limit"), [(2000, 1), (200, 3)])
def test_quota_and_member_limit_never_pass(program: Any, n_members: int, limit: int) -> None:
    members = program.members(n_members)
    program.define({"key": "gift", "label": {"en": "Gift"}, "total_quota": 500,
                    "per_member_limit": {"count": limit, "period": "lifetime"}})
    out = _run_attempts(program, "gift", members, ATTEMPTS)
    assert out["error"] == 0, out
    assert out["ok"] == 500 and out["ok"] + out["refused"] == ATTEMPTS
    state = _check_ledger(program, "gift")
    assert state == {"used": 500, "reserved": 0, "max_member": state["max_member"]} and state["max_member"] <= limit
    with program.engine.connect() as conn:
        a = benefits.audit.c
        refused = conn.execute(select(func.count()).where(a.benefit == "gift", a.outcome != "ok")).scalar_one()
        assert refused == out["refused"]  # each refused call left its audit line and nothing else
        pending = conn.execute(select(func.count()).select_from(benefits.redemptions).where(
            benefits.redemptions.c.status != "consumed")).scalar_one()
        assert pending == 0


def test_one_idempotency_key_replayed_consumes_once(program: Any) -> None:
    member = program.members(1)[0]
    program.define({"key": "once", "label": {"en": "Once"}, "total_quota": 50})
    if program.url.startswith("sqlite"):
        answers = _replays(program, member, 10, 10)
    else:
        answers = [a for r in _finish([_spawn(program.url, program.tmp, "replay", member, 5, 10)
                                       for _ in range(2)]) for a in r["answers"]]
    assert len(answers) == 100 and all(a == answers[0] for a in answers)
    assert answers[0]["status"] == "consumed" and answers[0]["qty"] == 3
    assert _check_ledger(program, "once")["used"] == 3


def test_one_coupon_code_serves_one_of_twenty_orders(program: Any) -> None:
    members = program.members(20)
    program.define({"key": "c20", "label": {"en": "Coupon"}, "requires_code": True, "code_cap": 1})
    with program.engine.begin() as conn:
        code = generate(conn, program.registry.current(conn).definitions.get("benefit", "c20"), 1)[0]
    results: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(20)

    def order(i: int) -> None:
        barrier.wait()
        try:
            benefits.attempt(program, benefits.Request("c20", members[i], 1, f"order-{i}", code=code,
                                                       ref_object="sales_order", ref_id=str(i)))
            outcome = "ok"
        except Conflict as err:
            outcome = err.code
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=order, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 1 and results.count("quota_exhausted") == 19, results
    assert _check_ledger(program, "c20")["used"] == 1


def test_switch_off_mid_run_stops_every_later_consume(program: Any) -> None:
    members = program.members(50)
    doc = {"key": "flash", "label": {"en": "Flash"}}
    program.define(doc)
    stop = threading.Event()
    if program.url.startswith("sqlite"):
        worker = threading.Thread(target=_attempts, args=(program, "flash", members, 4, 10**6, stop))
        worker.start()
    else:
        procs = [_spawn(program.url, program.tmp, "until_off", "flash", 5, ",".join(map(str, members)))
                 for _ in range(2)]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # until the workers (processes take a while to start) consume
        with program.engine.connect() as conn:
            if (limits.counter(conn, "bf:flash") or {}).get("used", 0) >= 20:
                break
        time.sleep(0.2)
    with program.engine.begin() as conn:
        benefits.sync(conn, {**doc, "enabled": False})  # what the definition's apply runs
        at_switch = limits.counter(conn, "bf:flash")["used"]  # the row is ours until commit
    time.sleep(1.0)
    if program.url.startswith("sqlite"):
        stop.set()
        worker.join()
    else:
        for p in procs:
            os.kill(p.pid, signal.SIGTERM)
        for p in procs:
            p.communicate(timeout=60)
    state = _check_ledger(program, "flash")
    assert at_switch > 0 and state["used"] == at_switch


def test_killed_holder_of_reservations_leaves_nothing_held(program: Any) -> None:
    members = program.members(20)
    program.define({"key": "hold", "label": {"en": "Hold"}, "total_quota": 100, "reservation_ttl": 1})
    proc = _spawn(program.url, program.tmp, "hold", "hold", ",".join(map(str, members)))
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert json.loads(line) == {"held": 20}, proc.stderr.read() if proc.stderr else ""
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    time.sleep(1.2)
    with program.engine.begin() as conn:
        assert benefits.expire_redemptions(conn) == 20
    with program.engine.connect() as conn:
        assert limits.held(conn, "bf:hold") == 0
    assert _check_ledger(program, "hold") == {"used": 0, "reserved": 0, "max_member": 0}


# --- the workers (threads here, or processes running this file) -------------------------------

def _attempts(svc: Any, key: str, members: list[int], threads: int, per_thread: int,
              stop: threading.Event | None = None) -> dict[str, int]:
    out = {"ok": 0, "refused": 0, "error": 0}
    lock = threading.Lock()

    def run(seed: int) -> None:
        rng = random.Random(seed)
        for i in range(per_thread):
            if stop is not None and stop.is_set():
                return
            req = benefits.Request(key, rng.choice(members), 1, f"{key}-{os.getpid()}-{seed}-{i}")
            try:
                benefits.attempt(svc, req)
                what = "ok"
            except (Conflict, ValidationError):
                what = "refused"
            except Exception as exc:  # counted: the test fails on any
                print(repr(exc), file=sys.stderr)
                what = "error"
            with lock:
                out[what] += 1

    workers = [threading.Thread(target=run, args=(random.randrange(10**9),)) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    return out


def _replays(svc: Any, member: int, threads: int, per_thread: int) -> list[dict[str, Any]]:
    answers: list[dict[str, Any]] = []
    lock = threading.Lock()

    def run() -> None:
        for _ in range(per_thread):
            answer = benefits.attempt(svc, benefits.Request("once", member, 3, "order-42", ref_object="sales_order",
                                                            ref_id="42"))
            with lock:
                answers.append(answer)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    return answers


def _worker(url: str, tmp: str, mode: str, *args: str) -> None:
    svc = _services(url, tmp)
    if mode == "attempts":
        key, threads, per_thread, members = args[0], int(args[1]), int(args[2]), list(map(int, args[3].split(",")))
        print(json.dumps(_attempts(svc, key, members, threads, per_thread)), flush=True)
    elif mode == "replay":
        member, threads, per_thread = int(args[0]), int(args[1]), int(args[2])
        print(json.dumps({"answers": _replays(svc, member, threads, per_thread)}), flush=True)
    elif mode == "until_off":
        signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
        key, threads, members = args[0], int(args[1]), list(map(int, args[2].split(",")))
        _attempts(svc, key, members, threads, 10**6)
    elif mode == "hold":
        key, members = args[0], list(map(int, args[1].split(",")))
        for i, m in enumerate(members):
            benefits.attempt(svc, benefits.Request(key, m, 1, f"hold-{i}", mode="reserve"))
        print(json.dumps({"held": len(members)}), flush=True)
        time.sleep(600)  # killed by the test


if __name__ == "__main__":
    _worker(sys.argv[1], sys.argv[2], sys.argv[3], *sys.argv[4:])
