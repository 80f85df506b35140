"""Reading the limits ledger: counters, usage, and `verify` (the ledger folded and compared with the
counters) with `held` (what reservations still hold)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    Connection,
    func,
    select,
    tuple_,
    update,
)

from .limit_tables import NO_PERIOD, counters, ledger, reservations

# --- reading and checking ---------------------------------------------------------------------

def counter(conn: Connection, key: str, period_key: str = NO_PERIOD) -> dict[str, Any] | None:
    c = counters.c
    row = conn.execute(select(counters).where(c.key == key, c.period_key == period_key)).first()
    return None if row is None else dict(row._mapping)


def counters_of(conn: Connection, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
    """Many counters read at once, by (key, period_key); missing ones are absent."""
    c = counters.c
    wanted = sorted(set(pairs))
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for start in range(0, len(wanted), 500):
        rows = conn.execute(select(counters).where(tuple_(c.key, c.period_key).in_(wanted[start:start + 500])))
        out.update({(row.key, row.period_key): dict(row._mapping) for row in rows})
    return out


def usage(conn: Connection, keys: Sequence[str], period_key: str = NO_PERIOD) -> dict[str, int]:
    """`used` of many counters of one period at once (missing counters are 0)."""
    c = counters.c
    found: dict[str, int] = {k: 0 for k in keys}
    for start in range(0, len(keys), 500):
        rows = conn.execute(select(c.key, c.used).where(c.key.in_(list(keys[start:start + 500])),
                                                        c.period_key == period_key))
        found.update({k: int(u) for k, u in rows})
    return found


def fold(conn: Connection, prefix: str | None = None) -> dict[tuple[str, str], tuple[int, int]]:
    """(used, reserved) per counter as the ledger says: Σ consume − Σ reverse; Σ reserve − settled."""
    lg = ledger.c
    query = select(lg.key, lg.period_key, lg.kind, lg.reservation_id.is_not(None), func.sum(lg.qty)).group_by(
        lg.key, lg.period_key, lg.kind, lg.reservation_id.is_not(None))
    if prefix:
        query = query.where(lg.key.startswith(prefix, autoescape=True))
    out: dict[tuple[str, str], list[int]] = {}
    for key, period, kind, reserved_first, qty in conn.execute(query):
        used_reserved = out.setdefault((key, period), [0, 0])
        qty = int(qty)
        if kind == "consume":
            used_reserved[0] += qty
            if reserved_first:
                used_reserved[1] -= qty
        elif kind == "reverse":
            used_reserved[0] -= qty
        elif kind == "reserve":
            used_reserved[1] += qty
        elif kind == "expire" and not reserved_first:  # points left in a lot that lapsed
            used_reserved[0] += qty
        elif kind in ("release", "expire"):
            used_reserved[1] -= qty
    return {k: (v[0], v[1]) for k, v in out.items()}


def verify(conn: Connection, prefix: str | None = None, fix: bool = False) -> list[dict[str, Any]]:
    """Counters whose used/reserved differ from the ledger's fold (with fix: set to the fold)."""
    folded = fold(conn, prefix)
    c = counters.c
    query = select(c.key, c.period_key, c.used, c.reserved)
    if prefix:
        query = query.where(c.key.startswith(prefix, autoescape=True))
    drift = []
    seen = set()
    for key, period, used, reserved in conn.execute(query).all():
        seen.add((key, period))
        want = folded.get((key, period), (0, 0))
        if (int(used), int(reserved)) != want:
            drift.append({"key": key, "period_key": period, "used": int(used), "reserved": int(reserved),
                          "ledger_used": want[0], "ledger_reserved": want[1]})
    for (key, period), want in folded.items():
        if (key, period) not in seen and want != (0, 0):
            drift.append({"key": key, "period_key": period, "used": None, "reserved": None,
                          "ledger_used": want[0], "ledger_reserved": want[1]})
    if fix:
        for d in drift:
            if d["used"] is not None:
                conn.execute(update(counters).where(c.key == d["key"], c.period_key == d["period_key"])
                             .values(used=d["ledger_used"], reserved=d["ledger_reserved"]))
    return drift


def held(conn: Connection, prefix: str | None = None) -> int:
    r = reservations.c
    query = select(func.count()).select_from(reservations).where(r.status == "held")
    if prefix:
        query = query.where(r.key.startswith(prefix, autoescape=True))
    return int(conn.execute(query).scalar_one())
