"""The limits ledger: counters many writers move at once that never pass their cap.

One primitive under assignment cursors and loads, lead-pool quotas, benefits, coupons, campaign
budgets and the autopilot. A counter (`limit_counter`, one row per key and period) moves only by
one conditional statement in the caller's transaction:

    UPDATE limit_counter SET used = used + :q
     WHERE key = :k AND period_key = :p AND enabled AND (cap IS NULL OR used + reserved + :q <= cap)
    RETURNING used

and a counter of a new period is born by `INSERT ... ON CONFLICT DO UPDATE ... WHERE ...
RETURNING` with the same condition. No row back means refused. Nothing is read first and
written later, and no counter lives in Redis or memory, so a rolled-back caller leaves the
counter as it was and two writers can never both take the last unit.

Every move appends one row to `limit_ledger` (grant | reserve | consume | release | expire |
reverse); `verify` folds the ledger and reports counters that drifted from it. A call with an
`idempotency_key` runs once: a replay returns the first call's result, the same key with another
payload is 409 `idempotency_key_reused`. Two-phase callers `reserve` (a `limit_reservation` with
a TTL), then `consume` or `release`; `sweep` expires what was left held (PostgreSQL: FOR UPDATE
SKIP LOCKED, so sweepers never wait on each other). Consume and sweep both require `status =
'held'`, so exactly one of them wins.

Lock order: callers moving several counters in one transaction pass them to `take_many`, which
moves them sorted by (hot, key, period), the hottest last, so two such transactions never wait
on each other in a cycle and the hot row is held for the shortest time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import (
    Connection,
    and_,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from ..errors import Conflict, Problem, ValidationError
from .limit_periods import period_key, utcnow
from .limit_reads import counter, counters_of, fold, held, usage, verify
from .limit_tables import KINDS, NO_PERIOD, counters, ledger, reservations


class LimitReached(Conflict):
    """The move would pass the counter's cap (or the counter is switched off): nothing moved."""

    code = "limit_reached"

    def __init__(self, key: str, period_key: str, qty: int, cap: int | None, enabled: bool = True,
                 resets_at: datetime | None = None, label: str | None = None) -> None:
        self.key, self.period_key, self.cap, self.resets_at = key, period_key, cap, resets_at
        what = label or key
        if not enabled:
            message = f"{what} is switched off"
        else:
            message = f"{what}: taking {qty} would pass the limit of {cap}"
            if resets_at is not None:
                message += f" (resets at {resets_at.isoformat().replace('+00:00', 'Z')})"
        super().__init__(message, [Problem(label or key, "limit_reached", message)])


class ReservationExpired(Conflict):
    code = "reservation_expired"


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"


@dataclass(frozen=True)
class Move:
    """One counter move for `take_many`: `hot` counters (shared by every caller) are moved last."""

    key: str
    qty: int = 1
    period_key: str = NO_PERIOD
    cap: int | None = None
    hot: bool = False
    label: str | None = None
    resets_at: datetime | None = None


def _insert(conn: Connection) -> Any:
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(counters)


def _open(now: datetime | None = None) -> Any:
    """The counter is switched on and `now` is inside its validity window (if it has one)."""
    c = counters.c
    now = now or utcnow()
    return and_(c.enabled.is_(True), or_(c.valid_from.is_(None), c.valid_from <= now),
                or_(c.valid_to.is_(None), c.valid_to > now))


def _room(qty: Any) -> Any:
    c = counters.c
    return and_(_open(), or_(c.cap.is_(None), c.used + c.reserved + qty <= c.cap))


def _check_qty(qty: int) -> None:
    if not isinstance(qty, int) or isinstance(qty, bool) or qty <= 0 or qty > 2**53:
        raise ValidationError("a quantity is a positive whole number", [Problem("qty", "invalid_qty", str(qty))])


def set_limit(conn: Connection, key: str, cap: int | None, period_key: str = NO_PERIOD,
              enabled: bool = True, valid_from: datetime | None = None, valid_to: datetime | None = None) -> None:
    """Create or reconfigure a counter (cap, switch, window); its used and reserved figures stay.

    It is an update of the counter's row: a move in flight holds that row, so the switch commits
    after it, and every move that starts after the switch's commit sees the new settings."""
    values = {"cap": cap, "enabled": enabled, "valid_from": valid_from, "valid_to": valid_to}
    stmt = _insert(conn).values(key=key, period_key=period_key, used=0, reserved=0, **values)
    conn.execute(stmt.on_conflict_do_update(index_elements=["key", "period_key"], set_=values))


def _move_used(conn: Connection, key: str, period: str, qty: int, cap: int | None, column: str) -> int | None:
    """One conditional statement: add qty to `column` (used or reserved) if there is room; the new value or None."""
    if cap is not None and qty > cap:
        return None
    stmt = _insert(conn).values(key=key, period_key=period, used=qty if column == "used" else 0,
                                reserved=qty if column == "reserved" else 0, cap=cap, enabled=True)
    target = counters.c[column]
    stmt = stmt.on_conflict_do_update(index_elements=["key", "period_key"], set_={column: target + qty},
                                      where=_room(qty)).returning(target)
    value = conn.execute(stmt).scalar()
    return None if value is None else int(value)


def _refusal(conn: Connection, move: Move) -> LimitReached:
    c = counters.c
    row = conn.execute(select(c.cap, c.enabled).where(c.key == move.key, c.period_key == move.period_key)).first()
    cap, enabled = (row.cap, row.enabled) if row is not None else (move.cap, True)
    return LimitReached(move.key, move.period_key, move.qty, cap, bool(enabled), move.resets_at, move.label)


def _append(conn: Connection, kind: str, key: str, period: str, qty: int, *, ref: str | None = None,
            reservation_id: int | None = None, at: datetime | None = None, result: Any = None) -> None:
    conn.execute(ledger.insert().values(key=key, period_key=period, kind=kind, qty=qty, ref=ref, result=result,
                                        reservation_id=reservation_id, at=at or utcnow()))


# --- idempotency ------------------------------------------------------------------------------

def _digest(payload: Any) -> str:
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _replayed(conn: Connection, idem: str, digest: str) -> dict[str, Any] | None:
    row = conn.execute(select(ledger.c.payload, ledger.c.result).where(ledger.c.idempotency_key == idem)).first()
    if row is None:
        return None
    if row.payload != digest:
        raise IdempotencyKeyReused("this idempotency key was used for another request",
                                   [Problem("idempotency_key", "idempotency_key_reused", idem[:200])])
    return dict(row.result or {})


def _keyed(conn: Connection, idem: str | None, payload: dict[str, Any], run: Any) -> dict[str, Any]:
    """Run `run() -> (result, ledger rows)` once per idempotency key; replays get the first result.

    The keyed ledger row is inserted with ON CONFLICT DO NOTHING inside a savepoint after the
    counter moved: a concurrent first call with the same key makes our insert wait for its commit
    and then do nothing, and we undo our own move and answer with the first call's result.
    """
    if idem is None:
        result, rows = run()
        for row in rows:
            _append(conn, **row)
        return result
    digest = _digest(payload)
    found = _replayed(conn, idem, digest)
    if found is not None:
        return found
    savepoint = conn.begin_nested()
    try:
        result, rows = run()
        first, *rest = rows
        ins = (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(ledger).values(
            **{k: first.get(k) for k in ("kind", "key", "qty", "ref", "reservation_id")},
            period_key=first["period"], at=utcnow(), idempotency_key=idem, payload=digest, result=result)
        inserted = conn.execute(ins.on_conflict_do_nothing(index_elements=["idempotency_key"])
                                .returning(ledger.c.id)).scalar()
        if inserted is None:
            savepoint.rollback()
            again = _replayed(conn, idem, digest)
            assert again is not None
            return again
        for row in rest:
            _append(conn, **row)
    except BaseException:
        if savepoint.is_active:
            savepoint.rollback()
        raise
    savepoint.commit()
    return result


def _row(kind: str, key: str, period: str, qty: int, ref: str | None = None,
         reservation_id: int | None = None) -> dict[str, Any]:
    return {"kind": kind, "key": key, "period": period, "qty": qty, "ref": ref, "reservation_id": reservation_id}


# --- moves ------------------------------------------------------------------------------------

def take(conn: Connection, key: str, qty: int = 1, *, period_key: str = NO_PERIOD, cap: int | None = None,
         idempotency_key: str | None = None, ref: str | None = None, label: str | None = None,
         resets_at: datetime | None = None) -> dict[str, Any]:
    """Consume `qty` at once (one-phase); {"used": new used}. `cap` applies when the counter is born."""
    _check_qty(qty)
    move = Move(key, qty, period_key, cap, label=label, resets_at=resets_at)

    def run() -> tuple[dict[str, Any], list[dict[str, Any]]]:
        used = _move_used(conn, key, period_key, qty, cap, "used")
        if used is None:
            raise _refusal(conn, move)
        return {"used": used}, [_row("consume", key, period_key, qty, ref)]

    return _keyed(conn, idempotency_key, {"op": "take", "key": key, "period": period_key, "qty": qty, "ref": ref}, run)


def _move_used_many(conn: Connection, moves: Sequence[Move]) -> dict[tuple[str, str], int]:
    """One statement for several counters (distinct keys, in lock order): add each qty to `used` where
    there is room. Returns the new `used` of the counters that moved; a refused one is absent."""
    stmt = _insert(conn).values([{"key": m.key, "period_key": m.period_key, "used": m.qty, "reserved": 0,
                                  "cap": m.cap, "enabled": True} for m in moves])
    c = counters.c
    stmt = stmt.on_conflict_do_update(index_elements=["key", "period_key"], set_={"used": c.used + stmt.excluded.used},
                                      where=_room(stmt.excluded.used)).returning(c.key, c.period_key, c.used)
    return {(key, period): int(used) for key, period, used in conn.execute(stmt)}


def _merged(moves: Iterable[Move]) -> list[Move]:
    """Moves of one counter added up (one row may be moved once per statement), hottest last."""
    by_counter: dict[tuple[str, str], Move] = {}
    for m in moves:
        _check_qty(m.qty)
        seen = by_counter.get((m.key, m.period_key))
        by_counter[(m.key, m.period_key)] = m if seen is None else replace(seen, qty=seen.qty + m.qty)
    return sorted(by_counter.values(), key=lambda m: (m.hot, m.key, m.period_key))


def take_many(conn: Connection, moves: Iterable[Move], ref: str | None = None, *,
              savepoint: bool = True) -> dict[tuple[str, str], int]:
    """Several counters in one transaction, all or none, locked in the fixed order (hottest last).

    One conditional upsert moves them all (a bulk create's capacity turns cost one round trip, not
    one per user); in a savepoint, so a refusal undoes the others and raises LimitReached. A
    caller whose whole transaction rolls back on LimitReached passes savepoint=False (two round
    trips fewer while the hot rows are held).
    """
    ordered = _merged(moves)
    if not ordered:
        return {}
    with conn.begin_nested() if savepoint else nullcontext():
        for m in ordered:
            if m.cap is not None and m.qty > m.cap:
                raise _refusal(conn, m)
        out = _move_used_many(conn, ordered)
        for m in ordered:
            if (m.key, m.period_key) not in out:
                raise _refusal(conn, m)
        now = utcnow()
        conn.execute(ledger.insert(), [{"key": m.key, "period_key": m.period_key, "kind": "consume",
                                        "qty": m.qty, "ref": ref, "at": now} for m in ordered])
    return out


def next_positions(conn: Connection, key: str, n: int = 1, ref: str | None = None) -> range:
    """n consecutive positions of an uncapped cursor (0, 1, 2, ...), taken in one statement.

    A bulk insert of n records takes n positions at once; a rolled-back caller gives them back.
    """
    return next_positions_many(conn, {key: n}, ref=ref)[key]


def next_positions_many(conn: Connection, wanted: Mapping[str, int], ref: str | None = None) -> dict[str, range]:
    """Positions of several uncapped cursors (key -> how many) in one statement, locked in key order."""
    moves = _merged(Move(key, n) for key, n in wanted.items())
    if not moves:
        return {}
    used = _move_used_many(conn, moves)
    out: dict[str, range] = {}
    for m in moves:
        if (m.key, NO_PERIOD) not in used:  # a cursor someone switched off
            raise _refusal(conn, m)
        end = used[(m.key, NO_PERIOD)]
        out[m.key] = range(end - m.qty, end)
    now = utcnow()
    conn.execute(ledger.insert(), [{"key": m.key, "period_key": NO_PERIOD, "kind": "consume", "qty": m.qty,
                                    "ref": ref, "at": now, "result": {"positions": [out[m.key].start, out[m.key].stop]}}
                                   for m in moves])
    return out


def reverse(conn: Connection, key: str, qty: int = 1, *, period_key: str = NO_PERIOD,
            idempotency_key: str | None = None, ref: str | None = None) -> dict[str, Any]:
    """Give back what was consumed (a refund, a released lead); never below zero."""
    _check_qty(qty)

    def run() -> tuple[dict[str, Any], list[dict[str, Any]]]:
        c = counters.c
        used = conn.execute(update(counters).where(c.key == key, c.period_key == period_key, c.used >= qty)
                            .values(used=c.used - qty).returning(c.used)).scalar()
        if used is None:
            raise Conflict(f"{key}: cannot give back {qty}, less than that was taken",
                           [Problem("qty", "over_reversal", f"{key} {period_key}".strip())])
        return {"used": int(used)}, [_row("reverse", key, period_key, qty, ref)]

    return _keyed(conn, idempotency_key,
                  {"op": "reverse", "key": key, "period": period_key, "qty": qty, "ref": ref}, run)


def grant(conn: Connection, key: str, qty: int, *, period_key: str = NO_PERIOD,
          idempotency_key: str | None = None, ref: str | None = None) -> dict[str, Any]:
    """Raise a counter's cap by qty (points earned, quota topped up); {"cap": new cap}."""
    _check_qty(qty)

    def run() -> tuple[dict[str, Any], list[dict[str, Any]]]:
        c = counters.c
        stmt = _insert(conn).values(key=key, period_key=period_key, used=0, reserved=0, cap=qty, enabled=True)
        cap = conn.execute(stmt.on_conflict_do_update(
            index_elements=["key", "period_key"], set_={"cap": func.coalesce(c.cap, 0) + qty}).returning(c.cap)
        ).scalar()
        return {"cap": int(cap)}, [_row("grant", key, period_key, qty, ref)]

    return _keyed(conn, idempotency_key, {"op": "grant", "key": key, "period": period_key, "qty": qty, "ref": ref},
                  run)


def reserve(conn: Connection, key: str, qty: int = 1, *, ttl: float, period_key: str = NO_PERIOD,
            cap: int | None = None, idempotency_key: str | None = None, ref: str | None = None,
            label: str | None = None) -> dict[str, Any]:
    """Hold `qty` for `ttl` seconds (checkout); {"reservation_id", "expires_at"}."""
    _check_qty(qty)
    if not ttl > 0:
        raise ValidationError("a reservation needs a positive TTL", [Problem("ttl", "invalid_ttl", str(ttl))])

    def run() -> tuple[dict[str, Any], list[dict[str, Any]]]:
        if _move_used(conn, key, period_key, qty, cap, "reserved") is None:
            raise _refusal(conn, Move(key, qty, period_key, cap, label=label))
        now = utcnow()
        expires = now + timedelta(seconds=ttl)
        rid = conn.execute(reservations.insert().values(
            key=key, period_key=period_key, qty=qty, status="held", expires_at=expires, ref=ref, created_at=now)
            .returning(reservations.c.id)).scalar_one()
        return ({"reservation_id": int(rid), "expires_at": expires.isoformat().replace("+00:00", "Z")},
                [_row("reserve", key, period_key, qty, ref, int(rid))])

    return _keyed(conn, idempotency_key,
                  {"op": "reserve", "key": key, "period": period_key, "qty": qty, "ref": ref, "ttl": ttl}, run)


def _settle(conn: Connection, reservation_id: int, status: str, now: datetime) -> Any:
    """held -> status, one conditional statement; the reservation's row or None."""
    r = reservations.c
    cond = [r.id == reservation_id, r.status == "held"]
    if status == "consumed":
        cond.append(r.expires_at > now)
    return conn.execute(update(reservations).where(*cond).values(status=status)
                        .returning(r.key, r.period_key, r.qty)).first()


def _unsettled(conn: Connection, reservation_id: int, verb: str) -> Conflict:
    row = conn.execute(select(reservations.c.status).where(reservations.c.id == reservation_id)).first()
    if row is None:
        return Conflict(f"no reservation {reservation_id}",
                        [Problem("reservation_id", "not_found", str(reservation_id))], code="reservation_not_found")
    if row.status in ("held", "expired"):
        return ReservationExpired(f"reservation {reservation_id} expired before it could be {verb}",
                                  [Problem("reservation_id", "reservation_expired", str(reservation_id))])
    return Conflict(f"reservation {reservation_id} is already {row.status}",
                    [Problem("reservation_id", f"reservation_{row.status}", str(reservation_id))],
                    code=f"reservation_{row.status}")


def consume(conn: Connection, reservation_id: int, *, idempotency_key: str | None = None,
            ref: str | None = None) -> dict[str, Any]:
    """Turn a held reservation into use (payment); 409 `reservation_expired` once its TTL passed."""

    def run() -> tuple[dict[str, Any], list[dict[str, Any]]]:
        row = _settle(conn, reservation_id, "consumed", utcnow())
        if row is None:
            raise _unsettled(conn, reservation_id, "consumed")
        c = counters.c
        used = conn.execute(update(counters).where(c.key == row.key, c.period_key == row.period_key)
                            .values(used=c.used + row.qty, reserved=c.reserved - row.qty).returning(c.used)).scalar()
        return ({"used": int(used), "reservation_id": reservation_id},
                [_row("consume", row.key, row.period_key, int(row.qty), ref, reservation_id)])

    return _keyed(conn, idempotency_key, {"op": "consume", "reservation_id": reservation_id, "ref": ref}, run)


def release(conn: Connection, reservation_id: int, *, ref: str | None = None) -> dict[str, Any]:
    """Give a held reservation back (checkout abandoned); releasing it again is a no-op answer."""
    row = _settle(conn, reservation_id, "released", utcnow())
    if row is None:
        err = _unsettled(conn, reservation_id, "released")
        if err.code == "reservation_released":
            return {"reservation_id": reservation_id, "status": "released"}
        raise err
    _unreserve(conn, [(row.key, row.period_key, int(row.qty))])
    _append(conn, "release", row.key, row.period_key, int(row.qty), ref=ref, reservation_id=reservation_id)
    return {"reservation_id": reservation_id, "status": "released"}


def _unreserve(conn: Connection, rows: Sequence[tuple[str, str, int]]) -> None:
    totals: dict[tuple[str, str], int] = {}
    for key, period, qty in rows:
        totals[(key, period)] = totals.get((key, period), 0) + qty
    c = counters.c
    for (key, period), qty in sorted(totals.items()):  # the fixed lock order
        conn.execute(update(counters).where(c.key == key, c.period_key == period)
                     .values(reserved=c.reserved - qty))


def sweep(conn: Connection, now: datetime | None = None, limit: int = 1000) -> int:
    """Expire held reservations past their TTL (at most `limit`); how many were expired."""
    now = now or utcnow()
    r = reservations.c
    due = select(r.id).where(r.status == "held", r.expires_at <= now).order_by(r.id).limit(limit)
    if conn.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = list(conn.execute(due).scalars())
    if not ids:
        return 0
    rows = conn.execute(update(reservations).where(r.id.in_(ids), r.status == "held")
                        .values(status="expired").returning(r.id, r.key, r.period_key, r.qty)).all()
    _unreserve(conn, [(row.key, row.period_key, int(row.qty)) for row in rows])
    if rows:
        conn.execute(ledger.insert(), [{"key": row.key, "period_key": row.period_key, "kind": "expire",
                                        "qty": int(row.qty), "reservation_id": int(row.id), "at": now}
                                       for row in rows])
    return len(rows)


# --- several counters at once (benefits: member, code, budget and total counters) -------------

def _move_many(conn: Connection, moves: Sequence[Move], column: str) -> dict[tuple[str, str], int]:
    """`_move_used_many` for `used` or `reserved`: one conditional upsert over all the moves."""
    stmt = _insert(conn).values([{"key": m.key, "period_key": m.period_key,
                                  "used": m.qty if column == "used" else 0,
                                  "reserved": m.qty if column == "reserved" else 0,
                                  "cap": m.cap, "enabled": True} for m in moves])
    c = counters.c
    target = c[column]
    stmt = stmt.on_conflict_do_update(index_elements=["key", "period_key"],
                                      set_={column: target + stmt.excluded[column]},
                                      where=_room(stmt.excluded[column])).returning(c.key, c.period_key, target)
    return {(key, period): int(v) for key, period, v in conn.execute(stmt)}


def _first_refused(conn: Connection, ordered: Sequence[Move], moved: Mapping[tuple[str, str], int]) -> None:
    for m in ordered:
        if (m.cap is not None and m.qty > m.cap) or (m.key, m.period_key) not in moved:
            raise _refusal(conn, m)


def reserve_many(conn: Connection, moves: Iterable[Move], *, ttl: float, ref: str | None = None
                 ) -> tuple[list[int], datetime]:
    """Hold several counters at once (all or none, lock order as `take_many`): one reservation per
    counter, all expiring together; (reservation ids, expires_at). Refused: LimitReached."""
    if not ttl > 0:
        raise ValidationError("a reservation needs a positive TTL", [Problem("ttl", "invalid_ttl", str(ttl))])
    ordered = _merged(moves)
    if not ordered:
        return [], utcnow()
    with conn.begin_nested():
        moved = _move_many(conn, ordered, "reserved")
        _first_refused(conn, ordered, moved)
        now = utcnow()
        expires = now + timedelta(seconds=ttl)
        r = reservations.c
        ids = [int(conn.execute(reservations.insert().values(
            key=m.key, period_key=m.period_key, qty=m.qty, status="held", expires_at=expires, ref=ref,
            created_at=now).returning(r.id)).scalar_one()) for m in ordered]
        conn.execute(ledger.insert(), [{"key": m.key, "period_key": m.period_key, "kind": "reserve", "qty": m.qty,
                                        "ref": ref, "reservation_id": rid, "at": now}
                                       for m, rid in zip(ordered, ids, strict=True)])
    return ids, expires


def consume_many(conn: Connection, reservation_ids: Sequence[int], *, ref: str | None = None,
                 hot: Collection[str] = ()) -> None:
    """Turn held reservations into use, all or none. Each counter moves only while it is switched on
    and inside its window (checked in the statement that moves it); an expired or settled
    reservation refuses with ReservationExpired / Conflict, a closed counter with LimitReached.
    Counters move in `take_many`'s lock order: the `hot` keys last."""
    now = utcnow()
    with conn.begin_nested():
        rows = []
        for rid in sorted(reservation_ids):
            row = _settle(conn, rid, "consumed", now)
            if row is None:
                raise _unsettled(conn, rid, "consumed")
            rows.append((row, rid))
        c = counters.c
        for row, _ in sorted(rows, key=lambda x: (x[0].key in hot, x[0].key, x[0].period_key)):
            moved = conn.execute(update(counters).where(c.key == row.key, c.period_key == row.period_key, _open(now))
                                 .values(used=c.used + row.qty, reserved=c.reserved - row.qty)
                                 .returning(c.used)).scalar()
            if moved is None:
                raise _refusal(conn, Move(row.key, int(row.qty), row.period_key))
        conn.execute(ledger.insert(), [{"key": row.key, "period_key": row.period_key, "kind": "consume",
                                        "qty": int(row.qty), "ref": ref, "reservation_id": rid, "at": now}
                                       for row, rid in rows])


def release_many(conn: Connection, reservation_ids: Sequence[int], *, ref: str | None = None) -> int:
    """Give held reservations back; ones already released or expired are skipped. How many were held."""
    r = reservations.c
    now = utcnow()
    rows = conn.execute(update(reservations).where(r.id.in_(list(reservation_ids)), r.status == "held")
                        .values(status="released").returning(r.id, r.key, r.period_key, r.qty)).all()
    _unreserve(conn, [(row.key, row.period_key, int(row.qty)) for row in rows])
    if rows:
        conn.execute(ledger.insert(), [{"key": row.key, "period_key": row.period_key, "kind": "release",
                                        "qty": int(row.qty), "ref": ref, "reservation_id": int(row.id), "at": now}
                                       for row in rows])
    return len(rows)


def reverse_many(conn: Connection, moves: Iterable[Move], *, ref: str | None = None) -> None:
    """Give back what several moves consumed (a refund), all or none; never below zero."""
    ordered = _merged(moves)
    c = counters.c
    now = utcnow()
    with conn.begin_nested():
        for m in ordered:
            done = conn.execute(update(counters).where(c.key == m.key, c.period_key == m.period_key, c.used >= m.qty)
                                .values(used=c.used - m.qty).returning(c.used)).scalar()
            if done is None:
                raise Conflict(f"{m.key}: cannot give back {m.qty}, less than that was taken",
                               [Problem("qty", "over_reversal", f"{m.key} {m.period_key}".strip())])
        conn.execute(ledger.insert(), [{"key": m.key, "period_key": m.period_key, "kind": "reverse", "qty": m.qty,
                                        "ref": ref, "at": now} for m in ordered])


def force(conn: Connection, key: str, qty: int, *, kind: str = "consume", period_key: str = NO_PERIOD,
          ref: str | None = None, at: datetime | None = None) -> int:
    """Move `used` up by qty whatever the cap (a claw-back, points lapsing): the new `used`.

    `kind` is the ledger row's kind: consume (claw-back) or expire (a lapsed remainder, folded as
    used since it has no reservation)."""
    _check_qty(qty)
    c = counters.c
    stmt = _insert(conn).values(key=key, period_key=period_key, used=qty, reserved=0, cap=0, enabled=True)
    used = conn.execute(stmt.on_conflict_do_update(index_elements=["key", "period_key"],
                                                   set_={"used": c.used + qty}).returning(c.used)).scalar_one()
    _append(conn, kind, key, period_key, qty, ref=ref, at=at)
    return int(used)


def lock_counter(conn: Connection, key: str, period_key: str = NO_PERIOD) -> None:
    """Hold a counter's row until the transaction ends (born if missing): the lock a rolling window
    is summed under, so two writers of one member never both see the same room."""
    c = counters.c
    stmt = _insert(conn).values(key=key, period_key=period_key, used=0, reserved=0, cap=None, enabled=True)
    conn.execute(stmt.on_conflict_do_update(index_elements=["key", "period_key"], set_={"used": c.used}))


def window_sum(conn: Connection, key: str, first_period: str, last_period: str) -> int:
    """Σ used + reserved of a key's period counters from first to last (day buckets "YYYY-MM-DD")."""
    c = counters.c
    total = conn.execute(select(func.coalesce(func.sum(c.used + c.reserved), 0)).where(
        c.key == key, c.period_key >= first_period, c.period_key <= last_period)).scalar_one()
    return int(total)


__all__ = ["KINDS", "IdempotencyKeyReused", "LimitReached", "Move", "ReservationExpired", "consume", "consume_many",
           "counter", "counters", "counters_of", "fold", "force", "grant", "held", "ledger", "lock_counter", "next_positions",
           "period_key", "release", "release_many", "reservations", "reserve", "reserve_many", "reverse",
           "reverse_many", "set_limit", "sweep", "take", "take_many", "usage", "verify", "window_sum"]
