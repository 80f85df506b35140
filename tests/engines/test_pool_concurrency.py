"""The lead pool under real concurrency: 8 rep processes claim from a pool of 1,000 leads.

Hold limit 50 and daily cap 30: no lead ends with two owners (or two claims), no rep passes
either limit, and the ledger folds to the counters. The reps race for the same leads on purpose.
The test starts its own processes (this file run as a script), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select

from metacrm.config import Settings
from metacrm.engines import lead_pool
from metacrm.engines.wiring import build_services
from metacrm.errors import Conflict
from metacrm.store import limits
from metacrm.store.system import record_events
from metacrm.store.users import ensure_user

HERE = Path(__file__).resolve()
REPS, LEADS, ATTEMPTS = 8, 1000, 80
OBJECT = {"$id": "prospect", "title": "Prospect", "x-label": {"en": "Prospect"}, "type": "object",
          "properties": {"name": {"x-field": "text", "maxLength": 50}}}
POOL = {"name": "sea", "label": {"en": "Sea"}, "object": "prospect", "hold_limit": 50, "daily_claim_cap": 30}


def _services(url: str, tmp: str):
    return build_services(Settings(database_url=url, secret_key="x", instance_dir=Path(tmp)))


def test_rival_reps_never_share_a_lead_nor_pass_a_limit(db_url: str, tmp_path: Path, apply_docs) -> None:
    svc = _services(db_url, str(tmp_path))
    svc.init()
    with svc.engine.begin() as conn:
        reps = [ensure_user(conn, f"rep{i}") for i in range(REPS)]
    apply_docs(svc, ("object", OBJECT), ("lead_pool", POOL))
    svc.records.bulk_create("prospect", [{"name": f"P{i}"} for i in range(LEADS)])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = [subprocess.Popen([sys.executable, str(HERE), db_url, str(tmp_path), str(uid)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env) for uid in reps]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    snap = svc.registry.current()
    table = snap.tables["prospect"]
    with svc.engine.connect() as conn:
        owners = Counter(dict(conn.execute(select(table.c.owner_id, func.count()).where(
            table.c.owner_id.is_not(None)).group_by(table.c.owner_id)).all()))
        claims = Counter(conn.execute(select(record_events.c.record_id).where(
            record_events.c.kind == "pool_claimed")).scalars())
        held = Counter(conn.execute(select(lead_pool.holds.c.user_id)).scalars())
        assert sum(r["ok"] for r in results) == sum(owners.values()) == sum(claims.values())
        assert all(n == 1 for n in claims.values())  # no lead claimed twice
        assert sum(r["raced"] for r in results) > 0  # the reps did collide
        assert max(owners.values()) <= 30 and owners == held  # the daily cap binds first
        assert any(r["limited"] for r in results)  # the cap was reached, and only at 30
        assert all(r["ok"] == 30 for r in results if r["limited"])
        assert limits.verify(conn) == []
        for uid in reps:
            q = lead_pool.quota(conn, POOL, uid)
            assert (q["held"], q["claimed_today"], q["claims_left_today"]) == (owners[uid], owners[uid], 30 - owners[uid])
    svc.close()


def _worker(url: str, tmp: str, uid: int) -> None:
    svc = _services(url, tmp)
    snap = svc.registry.current()
    ids = sorted(r["id"] for r in svc.records.list("prospect", limit=1000))
    rng = random.Random(uid)
    wanted = rng.sample(ids[:300], ATTEMPTS)  # a small shared range: rivals collide
    out = {"ok": 0, "raced": 0, "limited": 0}
    for rid in wanted:
        try:
            with svc.engine.begin() as conn:
                lead_pool.claim(conn, svc.records, snap, POOL, rid, uid)
            out["ok"] += 1
        except limits.LimitReached:
            out["limited"] += 1
        except Conflict as exc:
            assert exc.code == "already_claimed", exc
            out["raced"] += 1
    svc.close()
    print(json.dumps(out))


if __name__ == "__main__":
    _worker(sys.argv[1], sys.argv[2], int(sys.argv[3]))
