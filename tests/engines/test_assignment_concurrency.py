"""Assignment under real concurrency: processes creating records through the record service.

8 processes x 500 creates, round robin over 7 users, 10% rolled back on purpose: the committed
records are spread with per-user max - min <= 1 and every cursor position is used exactly once.
With least_loaded and seeded loads, no pick ever goes to a user above the current minimum + 1.
The test starts its own worker processes (this file run as a script), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from metacrm.config import Settings
from metacrm.engines.wiring import build_services
from metacrm.store import limits
from metacrm.store.users import ensure_user

HERE = Path(__file__).resolve()
PROCESSES, CREATES, USERS = 8, 500, [f"u{i}" for i in range(7)]
OBJECT = {"$id": "ticket", "title": "Ticket", "x-label": {"en": "Ticket"}, "type": "object",
          "properties": {"name": {"x-field": "text", "maxLength": 50}}}


def _services(url: str, tmp: str):
    return build_services(Settings(database_url=url, secret_key="x", instance_dir=Path(tmp)))


def _setup(url: str, tmp: Path, strategy: str, apply_docs) -> dict[str, int]:
    svc = _services(url, str(tmp))
    svc.init()
    with svc.engine.begin() as conn:
        ids = {n: ensure_user(conn, n) for n in USERS}
    apply_docs(svc, ("object", OBJECT), ("assignment", {
        "name": "tickets", "label": {"en": "Tickets"}, "object": "ticket",
        "entries": [{"strategy": strategy, "users": USERS}]}))
    svc.close()
    return ids


def _run(url: str, tmp: Path, count: int) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = [subprocess.Popen([sys.executable, str(HERE), url, str(tmp), str(count), str(seed)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for seed in range(PROCESSES)]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err


def _owners(svc) -> Counter:
    table = svc.registry.current().tables["ticket"]
    with svc.engine.connect() as conn:
        return Counter({o: n for o, n in conn.execute(select(table.c.owner_id, func.count()).group_by(table.c.owner_id))})


def test_round_robin_spreads_and_uses_each_position_once(db_url: str, tmp_path: Path, apply_docs) -> None:
    ids = _setup(db_url, tmp_path, "round_robin", apply_docs)
    _run(db_url, tmp_path, CREATES)
    svc = _services(db_url, str(tmp_path))
    owners = _owners(svc)
    committed = sum(owners.values())
    assert PROCESSES * CREATES * 0.8 < committed < PROCESSES * CREATES  # some were rolled back
    assert set(owners) == set(ids.values())
    assert max(owners.values()) - min(owners.values()) <= 1
    with svc.engine.connect() as conn:
        rows = conn.execute(select(limits.ledger.c.result).where(
            limits.ledger.c.key == "assign:cursor:tickets:0")).scalars().all()
        positions = sorted(p for r in rows for p in range(*r["positions"]))
        assert positions == list(range(committed))  # each position once, none skipped
        assert limits.counter(conn, "assign:cursor:tickets:0")["used"] == committed  # type: ignore[index]
        assert limits.verify(conn) == []
    svc.close()


def test_least_loaded_never_picks_above_min_plus_one(db_url: str, tmp_path: Path, apply_docs) -> None:
    ids = _setup(db_url, tmp_path, "least_loaded", apply_docs)
    svc = _services(db_url, str(tmp_path))
    seeds = {ids[n]: s for n, s in zip(USERS, (0, 5, 10, 20, 30, 40, 60), strict=True)}
    svc.records.bulk_create("ticket", [{"name": "seed", "owner_id": u} for u, n in seeds.items() for _ in range(n)])
    _run(db_url, tmp_path, 40)
    owners = _owners(svc)
    low = min(owners.values())
    # every pick went to a user at the minimum: nobody ends above max(own seed, min + 1)
    assert all(owners[u] <= max(seeds[u], low + 1) for u in seeds), (owners, seeds)
    with svc.engine.begin() as conn:
        from metacrm.engines import routing

        assert routing.verify_loads(conn, svc.registry.current(conn)) == []
    svc.close()


def _worker(url: str, tmp: str, count: int, seed: int) -> None:
    rng = random.Random(seed)
    svc = _services(url, tmp)
    for i in range(count):
        try:
            with svc.engine.begin() as conn:
                svc.records.create("ticket", {"name": f"p{seed}-{i}"}, conn=conn)
                if rng.random() < 0.1:
                    raise LookupError("rolled back on purpose")
        except LookupError:
            pass
    svc.close()
    print(json.dumps({"done": count}))


if __name__ == "__main__":
    _worker(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))


pytestmark = pytest.mark.filterwarnings("error")
