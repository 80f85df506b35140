"""`metacrm limits sweep|verify` on a real database."""

from __future__ import annotations

import time

from sqlalchemy import update

from metacrm.store import limits
from metacrm.store.db import make_engine
from metacrm.store.system import ensure_system_tables


def test_sweep_and_verify(run, db_url: str) -> None:
    engine = make_engine(db_url)
    ensure_system_tables(engine)
    with engine.begin() as conn:
        limits.set_limit(conn, "assign:x", 10)
        limits.take(conn, "assign:x", 4)
        limits.reserve(conn, "assign:x", 2, ttl=0.01)
    time.sleep(0.05)
    assert "1 reservation(s) expired" in run("limits", "sweep").output
    assert "0 counter(s) drifted" in run("limits", "verify").output
    with engine.begin() as conn:  # someone wrote the counter behind the ledger's back
        conn.execute(update(limits.counters).values(used=7))
    out = run("limits", "verify", "--prefix", "assign:", code=1).output
    assert "drift assign:x: used 7 (ledger 4), reserved 0 (ledger 0)" in out
    assert "1 counter(s) drifted" in run("limits", "verify", "--fix").output
    assert "0 counter(s) drifted" in run("limits", "verify").output
    with engine.connect() as conn:
        assert limits.counter(conn, "assign:x")["used"] == 4  # type: ignore[index]
    engine.dispose()
