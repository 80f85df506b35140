"""Member benefits and coupons (kind `benefit`) on the limits ledger.

A redemption moves, in the caller's transaction and in one conditional upsert (store/limits.py
`take_many` / `reserve_many`, lock order: member counters first, the shared ones last):

    bf:<key>:m:<member>   per member and calendar period (cap per_member_limit.count)
    bf:<key>:md:<member>  rolling windows: day buckets, summed under a lock on bf:<key>:mr:<member>
    bf:<key>:c:<CODE>     a coupon code (cap code_cap)
    bf:<key>:budget       Σ qty × unit_cost (cap budget_cap)
    bf:<key>              the total (cap total_quota), carrying the benefit's switch and window

The switch (`enabled`) and the window (`valid_from`/`valid_to`) are columns of the total counter,
written by the definition's apply (the same transaction as the new version) and tested by the
statement that moves the counter, never read from a cached definition: a switch-off commits
after every move holding the row and every later move sees it. A refused move raises and the
caller's transaction rolls back; only the audit line (`benefit_audit`, its own transaction)
stays (successful redemptions are their own record; confirms, releases and reversals are
audited too). Each redemption is a `benefit_redemption` row keyed by the caller's
Idempotency-Key, inserted with its answer before any counter moves, so a concurrent replay waits
for the first call and answers with its result.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
from sqlalchemy import BigInteger, Column, Connection, Engine, Index, String, Table, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..errors import Conflict, NotFound, Problem, ValidationError
from ..flows.jobs import periodic
from ..meta.kinds import DefinitionSet, Kind, register_kind
from ..meta.sqltypes import JSONType, UTCDateTime
from ..rules import matches, validate_rule
from ..store import limits
from ..store.definitions import Snapshot
from ..store.services import Services
from ..store.system import ID, metadata

NAME = String(64)
MEMBER = "member"
ROLLING_DAYS = {"day": 1, "week": 7, "month": 30, "year": 365}

redemptions = Table(
    "benefit_redemption", metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("benefit", NAME, nullable=False),
    Column("member_id", BigInteger, nullable=False),
    Column("ref_object", NAME, nullable=True),
    Column("ref_id", String(200), nullable=True),
    Column("qty", BigInteger, nullable=False),
    Column("code", String(32), nullable=True),
    Column("campaign", NAME, nullable=True),
    Column("status", String(16), nullable=False),  # reserved | consumed | released | expired | reversed
    Column("moves", JSONType, nullable=True),  # [[key, period_key, qty, hot], ...]
    Column("reservation_ids", JSONType, nullable=True),
    Column("expires_at", UTCDateTime(), nullable=True),
    Column("idempotency_key", String(200), nullable=False, unique=True),
    Column("payload", String(64), nullable=False),
    Column("result", JSONType, nullable=True),
    Column("actor_id", BigInteger, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index("ix_benefit_redemption_member", "member_id", "benefit"),
    Index("ix_benefit_redemption_due", "status", "expires_at"),
)

audit = Table(
    "benefit_audit", metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("benefit", NAME, nullable=False),
    Column("member_id", BigInteger, nullable=True),
    Column("action", String(16), nullable=False),  # consume | reserve | confirm | release | reverse
    Column("outcome", String(48), nullable=False),  # ok | a refusal code
    Column("redemption_id", BigInteger, nullable=True),
    Column("idempotency_key", String(200), nullable=True),
    Column("actor_id", BigInteger, nullable=True),
    Column("at", UTCDateTime(), nullable=False),
    Index("ix_benefit_audit_benefit", "benefit", "id"),
)

codes = Table(
    "benefit_code", metadata,
    Column("code", String(32), primary_key=True),
    Column("benefit", NAME, nullable=False),
    Column("cap", BigInteger, nullable=False),
    Column("campaign", NAME, nullable=True),
    Column("member_id", BigInteger, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_benefit_code_benefit", "benefit"),
)


class Refused(Conflict):
    """A redemption the benefit's switch, window, caps or rule refuse (409, nothing written)."""

    def __init__(self, code: str, message: str, field: str, resets_at: datetime | None = None) -> None:
        super().__init__(message, [Problem(field, code, message)], code=code)
        self.resets_at = resets_at

    def to_dict(self) -> dict[str, object]:
        out = super().to_dict()
        if self.resets_at is not None:
            out["resets_at"] = iso(self.resets_at)
        return out


def iso(at: datetime | None) -> str | None:
    return None if at is None else at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T")).astimezone(UTC)


# --- the kind -----------------------------------------------------------------------------------

def check_benefit(doc: Mapping[str, Any], defs: DefinitionSet) -> Iterator[Problem]:
    """Meaning beyond shape: the zone exists, the window is ordered, the rule fits the member object."""
    if "timezone" in doc:
        try:
            ZoneInfo(doc["timezone"])
        except (ZoneInfoNotFoundError, ValueError):
            yield Problem("/timezone", "unknown_timezone", f"no time zone named '{doc['timezone'][:64]}'")
    for name in ("valid_from", "valid_to"):
        if name in doc:
            try:
                parse_instant(doc[name])
            except ValueError:
                yield Problem(f"/{name}", "invalid_datetime", f"'{doc[name]}' is not a date and time")
    try:
        if "valid_from" in doc and "valid_to" in doc and parse_instant(doc["valid_to"]) <= parse_instant(
                doc["valid_from"]):
            yield Problem("/valid_to", "window_order", "valid_to must be after valid_from")
    except ValueError:
        pass
    if "budget_cap" in doc and not doc.get("unit_cost"):
        yield Problem("/unit_cost", "required", "a budget cap needs a unit cost above 0")
    if "eligibility" in doc:
        if defs.get("object", MEMBER) is None:
            yield Problem("/eligibility", "unknown_object", "an eligibility rule needs the member object")
        else:
            for p in validate_rule(doc["eligibility"], MEMBER, defs):
                yield Problem("/eligibility" + ("" if p.field == "/" else p.field), p.code, p.message)
    for other in doc.get("stackable_with", []):
        if other != doc["key"] and defs.get("benefit", other) is None:
            yield Problem("/stackable_with", "unknown_benefit", f"no benefit named '{other}'")


register_kind(Kind("benefit", "benefits", id_key="key", check=check_benefit, refers_to=("object",)))


def on_definitions_applied(conn: Connection, plan: Any, snap: Snapshot) -> None:
    """Write each benefit's switch, window and caps onto its counters, in the apply's transaction."""
    for _, doc in snap.definitions.items("benefit"):
        sync(conn, doc)


def sync(conn: Connection, doc: Mapping[str, Any]) -> None:
    key = doc["key"]
    window = {"valid_from": parse_instant(doc["valid_from"]) if "valid_from" in doc else None,
              "valid_to": parse_instant(doc["valid_to"]) if "valid_to" in doc else None}
    limits.set_limit(conn, total_key(key), doc.get("total_quota"), enabled=bool(doc.get("enabled", True)), **window)
    if "budget_cap" in doc:
        limits.set_limit(conn, f"{total_key(key)}:budget", doc["budget_cap"])
    pml = doc.get("per_member_limit")
    if pml and pml.get("window", "calendar") == "calendar":
        c = limits.counters.c
        conn.execute(update(limits.counters).where(c.key.startswith(f"{total_key(key)}:m:", autoescape=True),
                                                   c.cap != pml["count"]).values(cap=pml["count"]))


def total_key(key: str) -> str:
    return f"bf:{key}"


def norm_code(code: str) -> str:
    """A code as stored: what the caller typed without case, dashes or spaces."""
    return "".join(ch for ch in str(code).upper() if ch.isalnum())[:32]


# --- reading a benefit --------------------------------------------------------------------------

def benefit(snap: Snapshot, key: str) -> dict[str, Any]:
    doc = snap.definitions.get("benefit", key)
    if doc is None:
        raise NotFound(f"no benefit named '{key[:64]}'", [Problem("benefit", "not_found", key[:64])])
    return doc


def zone_of(doc: Mapping[str, Any], tz: str) -> str:
    return str(doc.get("timezone") or tz)


def _member_moves(conn: Connection, doc: Mapping[str, Any], member_id: int, qty: int, now: datetime,
                  tz: str) -> tuple[list[limits.Move], Refused | None]:
    """The member's counter moves; for a rolling window, also its refusal when the window is full
    (raised by the caller after the idempotency key is claimed, so a replay still gets its answer)."""
    pml = doc.get("per_member_limit")
    if not pml:
        return [], None
    base = f"{total_key(doc['key'])}"
    if pml.get("window", "calendar") == "calendar":
        period, resets = limits.period_key(pml["period"], now, tz)
        return [limits.Move(f"{base}:m:{member_id}", qty, period, pml["count"], label="per_member_limit",
                            resets_at=resets)], None
    # rolling: hold the member's lock row, sum the day buckets of the window, take today's bucket
    days = ROLLING_DAYS[pml["period"]]
    limits.lock_counter(conn, f"{base}:mr:{member_id}")
    local = now.astimezone(ZoneInfo(tz))
    first = (local - timedelta(days=days - 1)).strftime("%Y-%m-%d")
    today = local.strftime("%Y-%m-%d")
    bucket = f"{base}:md:{member_id}"
    used = limits.window_sum(conn, bucket, first, today)
    if used + qty > pml["count"]:
        c = limits.counters.c
        oldest = conn.execute(select(func.min(c.period_key)).where(
            c.key == bucket, c.period_key >= first, c.period_key <= today, (c.used + c.reserved) > 0)).scalar()
        start = datetime.fromisoformat(oldest or today).replace(tzinfo=ZoneInfo(tz))
        return [], Refused("member_limit_reached", f"{doc['key']}: at most {pml['count']} per {days} days",
                           "per_member_limit", (start + timedelta(days=days)).astimezone(UTC))
    return [limits.Move(bucket, qty, today)], None


def _plan(conn: Connection, doc: Mapping[str, Any], member_id: int, qty: int, code: str | None, now: datetime,
          tz: str) -> tuple[list[limits.Move], Refused | None]:
    key = doc["key"]
    moves, refusal = _member_moves(conn, doc, member_id, qty, now, tz)
    if doc.get("requires_code"):
        if not code:
            raise ValidationError("this benefit is redeemed with a code", [Problem("code", "required", "")])
        row = conn.execute(select(codes.c.cap, codes.c.member_id).where(codes.c.code == norm_code(code),
                                                                        codes.c.benefit == key)).first()
        if row is None or (row.member_id is not None and row.member_id != member_id):
            raise ValidationError("no such code for this benefit", [Problem("code", "unknown_code", code[:32])])
        moves.append(limits.Move(f"{total_key(key)}:c:{norm_code(code)}", qty, cap=int(row.cap), label="code"))
    if doc.get("unit_cost"):
        moves.append(limits.Move(f"{total_key(key)}:budget", qty * int(doc["unit_cost"]), cap=doc.get("budget_cap"),
                                 hot=True, label="budget_cap"))
    moves.append(limits.Move(total_key(key), qty, cap=doc.get("total_quota"), hot=True, label="total_quota"))
    return moves, refusal


def _explain(conn: Connection, doc: Mapping[str, Any], err: limits.LimitReached, now: datetime) -> Refused:
    """A ledger refusal in the benefit's words: switched off, outside its window, or which cap."""
    key = doc["key"]
    if err.key == total_key(key):
        row = limits.counter(conn, err.key)
        if row is not None and not row["enabled"]:
            return Refused("benefit_disabled", f"{key} is switched off", "enabled")
        if row is not None and row["valid_from"] is not None and now < row["valid_from"]:
            return Refused("benefit_not_active", f"{key} starts at {iso(row['valid_from'])}", "valid_from")
        if row is not None and row["valid_to"] is not None and now >= row["valid_to"]:
            return Refused("benefit_not_active", f"{key} ended at {iso(row['valid_to'])}", "valid_to")
        return Refused("quota_exhausted", f"{key}: the total quota is used up", "total_quota")
    if err.key.endswith(":budget"):
        return Refused("quota_exhausted", f"{key}: the budget is used up", "budget_cap")
    if ":c:" in err.key:
        return Refused("quota_exhausted", f"{key}: this code was already used", "code")
    pml = doc.get("per_member_limit") or {}
    return Refused("member_limit_reached", f"{key}: at most {pml.get('count')} per {pml.get('period')}",
                   "per_member_limit", err.resets_at)


def failing_path(rule: Any, record: Mapping[str, Any], snap: Snapshot, conn: Connection, now: datetime, tz: str,
                 path: str = "/eligibility") -> str | None:
    """The JSON pointer of the part of `rule` the record fails (descending through `all`), or None."""
    if matches(rule, record, MEMBER, snap, conn, now=now, tz=tz):
        return None
    if isinstance(rule, dict) and "all" in rule:
        for i, sub in enumerate(rule["all"]):
            found = failing_path(sub, record, snap, conn, now, tz, f"{path}/all/{i}")
            if found is not None:
                return found
    return path


# --- redeeming ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Request:
    benefit: str
    member: int
    qty: int
    idempotency_key: str
    mode: str = "consume"  # consume (one phase) | reserve (two phases)
    ref_object: str | None = None
    ref_id: str | None = None
    code: str | None = None
    actor_id: int | None = None

    def digest(self) -> str:
        payload = {"b": self.benefit, "m": self.member, "q": self.qty, "mode": self.mode, "o": self.ref_object,
                   "r": self.ref_id, "c": norm_code(self.code or "") or None}
        return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _insert(conn: Connection) -> Any:
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(redemptions)


def _claim_key(conn: Connection, idem: str, digest: str, values: dict[str, Any]) -> tuple[int | None, Any]:
    """Insert the redemption's row keyed by the idempotency key; (new id, None) or (None, first answer).

    A concurrent first call with the same key makes this insert wait for its commit; then the key
    is taken and its answer is ours. The row carries the answer (without its id) from the start."""
    new_id = conn.execute(_insert(conn).values(idempotency_key=idem, payload=digest, **values)
                          .on_conflict_do_nothing(index_elements=["idempotency_key"])
                          .returning(redemptions.c.id)).scalar()
    if new_id is not None:
        return int(new_id), None
    r = redemptions.c
    row = conn.execute(select(r.id, r.payload, r.result).where(r.idempotency_key == idem)).first()
    if row is None or row.payload != digest:
        raise Refused("idempotency_key_reused", "this Idempotency-Key was used for another request",
                      "Idempotency-Key")
    return None, {"redemption_id": int(row.id), **(row.result or {})}


def member_record(conn: Connection, snap: Snapshot, member_id: int) -> dict[str, Any]:
    """The member as a rule sees it; an unknown or deleted member is a 422 naming `member`."""
    table = snap.tables.get(MEMBER)
    if table is None:
        raise ValidationError("there is no member object", [Problem("member", "unknown_object", MEMBER)])
    row = None
    if isinstance(member_id, int) and not isinstance(member_id, bool) and 0 < member_id < 2**63:
        row = conn.execute(select(table).where(table.c.id == member_id, table.c.deleted_at.is_(None))).first()
    if row is None:
        raise ValidationError("no such member", [Problem("member", "unknown_member", str(member_id)[:32])])
    return {"id": row.id, **snap.objects[MEMBER].shown(row._mapping)}


def redeem(conn: Connection, snap: Snapshot, req: Request, tz: str = "UTC",
           now: datetime | None = None) -> dict[str, Any]:
    """Reserve or consume `qty` of a benefit for a member, once per idempotency key.

    Raises Refused (409) with the refusal's code, ValidationError (422) for a bad request; the
    caller's transaction must then roll back (the counters moved before the refused one stay
    moved until it does)."""
    doc = benefit(snap, req.benefit)
    if not isinstance(req.qty, int) or isinstance(req.qty, bool) or not 0 < req.qty <= 10**9:
        raise ValidationError("qty is a whole number above 0", [Problem("qty", "invalid_qty", str(req.qty)[:32])])
    if req.mode not in ("consume", "reserve"):
        raise ValidationError("mode is consume or reserve", [Problem("mode", "enum", str(req.mode)[:32])])
    now = now or limits.utcnow()
    zone = zone_of(doc, tz)
    record = member_record(conn, snap, req.member)
    moves, refusal = _plan(conn, doc, req.member, req.qty, req.code, now, zone)
    status = "consumed" if req.mode == "consume" else "reserved"
    answer: dict[str, Any] = {"benefit": doc["key"], "member": req.member, "qty": req.qty, "status": status,
                              "expires_at": None}
    new_id, replay = _claim_key(conn, req.idempotency_key, req.digest(), {
        "benefit": doc["key"], "member_id": req.member, "ref_object": req.ref_object, "ref_id": req.ref_id,
        "qty": req.qty, "code": norm_code(req.code or "") or None, "campaign": doc.get("campaign"),
        "status": status, "moves": [[m.key, m.period_key, m.qty, m.hot] for m in moves], "reservation_ids": [],
        "result": answer, "actor_id": req.actor_id, "created_at": now, "updated_at": now})
    if new_id is None:
        return replay
    if "eligibility" in doc:
        path = failing_path(doc["eligibility"], record, snap, conn, now, zone)
        if path is not None:
            raise Refused("not_eligible", f"member {req.member} does not meet {path}", path)
    if refusal is not None:
        raise refusal
    if req.ref_object and req.ref_id is not None:
        _check_stacking(conn, snap, doc, req.ref_object, req.ref_id, new_id)
    ref = f"bf:{new_id}"
    try:  # the shared counters move last, so their rows are held only until commit
        if req.mode == "consume":
            limits.take_many(conn, moves, ref=ref, savepoint=False)
        else:
            ids, expires = limits.reserve_many(conn, moves, ttl=float(doc.get("reservation_ttl", 900)), ref=ref)
            answer["expires_at"] = iso(expires)
            conn.execute(update(redemptions).where(redemptions.c.id == new_id).values(
                reservation_ids=ids, expires_at=expires, result=answer))
    except limits.LimitReached as err:
        raise _explain(conn, doc, err, now) from None
    return {"redemption_id": new_id, **answer}


def _check_stacking(conn: Connection, snap: Snapshot, doc: Mapping[str, Any], ref_object: str, ref_id: str,
                    new_id: int) -> None:
    """Benefits on one order must be stackable with each other (either lists the other in
    `stackable_with`). Checked under a lock on the order's own counter row, so two benefits
    redeemed for one order at once are checked one after the other."""
    limits.lock_counter(conn, f"bfref:{ref_object[:64]}:{ref_id[:120]}")
    r = redemptions.c
    others = conn.execute(select(r.benefit).distinct().where(
        r.ref_object == ref_object, r.ref_id == ref_id, r.id != new_id, r.benefit != doc["key"],
        r.status.in_(("reserved", "consumed")))).scalars().all()
    mine = set(doc.get("stackable_with", ()))
    for other in others:
        theirs = set((snap.definitions.get("benefit", other) or {}).get("stackable_with", ()))
        if other not in mine and doc["key"] not in theirs:
            raise Refused("not_stackable", f"{doc['key']} cannot be combined with {other} on one order",
                          "stackable_with")


def _redemption(conn: Connection, key: str, redemption_id: int, lock: bool = True) -> Any:
    r = redemptions.c
    query = select(redemptions).where(r.id == redemption_id, r.benefit == key)
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        raise NotFound(f"no redemption {redemption_id} of {key}", [Problem("redemption_id", "not_found",
                                                                            str(redemption_id))])
    return row


def settle(conn: Connection, snap: Snapshot, key: str, redemption_id: int, action: str, tz: str = "UTC",
           actor_id: int | None = None) -> dict[str, Any]:
    """confirm (consume a reservation), release it, or reverse a consumed redemption (a refund).

    Each is idempotent by the redemption's state: doing it again answers the same state."""
    doc = benefit(snap, key)
    row = _redemption(conn, key, redemption_id)
    now = limits.utcnow()
    done = {"confirm": "consumed", "release": "released", "reverse": "reversed"}[action]
    ref = f"bf:{redemption_id}"
    if row.status == done:
        pass
    elif action == "confirm":
        if row.status != "reserved":
            raise Conflict(f"redemption {redemption_id} is {row.status}",
                           [Problem("redemption_id", f"redemption_{row.status}", str(redemption_id))],
                           code="reservation_expired" if row.status == "expired" else f"redemption_{row.status}")
        try:
            limits.consume_many(conn, row.reservation_ids or [], ref=ref,
                                hot={m[0] for m in row.moves or [] if m[3]})
        except limits.ReservationExpired:
            raise Refused("reservation_expired", f"redemption {redemption_id}'s reservation expired",
                          "redemption_id") from None
        except limits.LimitReached as err:
            raise _explain(conn, doc, err, now) from None
    elif action == "release":
        if row.status != "reserved":
            raise Conflict(f"redemption {redemption_id} is {row.status}",
                           [Problem("redemption_id", f"redemption_{row.status}", str(redemption_id))],
                           code=f"redemption_{row.status}")
        limits.release_many(conn, row.reservation_ids or [], ref=ref)
    else:
        if row.status != "consumed":
            raise Conflict(f"only a consumed redemption can be reversed; {redemption_id} is {row.status}",
                           [Problem("redemption_id", f"redemption_{row.status}", str(redemption_id))],
                           code=f"redemption_{row.status}")
        limits.reverse_many(conn, [limits.Move(k, int(q), p, hot=bool(h)) for k, p, q, h in row.moves or []],
                            ref=ref)
    if row.status != done:
        conn.execute(update(redemptions).where(redemptions.c.id == redemption_id).values(status=done, updated_at=now))
        conn.execute(audit.insert().values(benefit=key, member_id=row.member_id, action=action, outcome="ok",
                                           redemption_id=redemption_id, actor_id=actor_id, at=now))
    return {"redemption_id": redemption_id, "benefit": key, "member": row.member_id, "qty": int(row.qty),
            "status": done, **remaining(conn, doc, row.member_id, now, tz)}


def write_audit(engine: Engine, key: str, member: Any, action: str, outcome: str, idem: str | None,
                actor_id: int | None, redemption_id: int | None = None) -> None:
    """The one line a refused call leaves (its own transaction: the refused one rolled back)."""
    with engine.begin() as conn:
        conn.execute(audit.insert().values(
            benefit=key[:64], member_id=member if isinstance(member, int) and 0 < member < 2**63 else None,
            action=action, outcome=outcome[:48], redemption_id=redemption_id,
            idempotency_key=(idem or "")[:200] or None, actor_id=actor_id, at=limits.utcnow()))


def attempt(services: Services, req: Request, now: datetime | None = None) -> dict[str, Any]:
    """`redeem` in its own transaction, with the audit line of a refusal written after the rollback."""
    try:
        with services.engine.begin() as conn:
            snap = services.registry.current(conn)
            return redeem(conn, snap, req, services.settings.timezone, now)
    except (Refused, ValidationError, NotFound, Conflict) as err:
        write_audit(services.engine, req.benefit, req.member, req.mode, err.code, req.idempotency_key, req.actor_id)
        raise


# --- what is left -------------------------------------------------------------------------------

def remaining(conn: Connection, doc: Mapping[str, Any], member_id: int, now: datetime | None = None,
              tz: str = "UTC") -> dict[str, Any]:
    """The benefit's state for one member: switched on, in its window, total and per-period room."""
    now = now or limits.utcnow()
    key = doc["key"]
    zone = zone_of(doc, tz)
    total = limits.counter(conn, total_key(key)) or {}
    left_total = None
    if total.get("cap") is not None:
        left_total = max(0, int(total["cap"]) - int(total["used"]) - int(total["reserved"]))
    out: dict[str, Any] = {"enabled": bool(total.get("enabled", doc.get("enabled", True))),
                           "active": _active(total, now), "total_left": left_total,
                           "member_left": None, "period": None, "resets_at": None}
    pml = doc.get("per_member_limit")
    if pml:
        out["period"] = pml["period"]
        if pml.get("window", "calendar") == "calendar":
            period, resets = limits.period_key(pml["period"], now, zone)
            row = limits.counter(conn, f"{total_key(key)}:m:{member_id}", period) or {}
            taken = int(row.get("used", 0)) + int(row.get("reserved", 0))
            out["resets_at"] = iso(resets)
        else:
            local = now.astimezone(ZoneInfo(zone))
            first = (local - timedelta(days=ROLLING_DAYS[pml["period"]] - 1)).strftime("%Y-%m-%d")
            taken = limits.window_sum(conn, f"{total_key(key)}:md:{member_id}", first, local.strftime("%Y-%m-%d"))
        out["member_left"] = max(0, pml["count"] - taken)
    return out


def _active(total: Mapping[str, Any], now: datetime) -> bool:
    start, end = total.get("valid_from"), total.get("valid_to")
    return (start is None or start <= now) and (end is None or now < end)


def member_benefits(conn: Connection, snap: Snapshot, member_id: int, tz: str = "UTC") -> list[dict[str, Any]]:
    """Every benefit with what this member has left (the member page)."""
    now = limits.utcnow()
    return [{"key": key, "label": doc.get("label"), "requires_code": bool(doc.get("requires_code")),
             **remaining(conn, doc, member_id, now, tz)}
            for key, doc in sorted(snap.definitions.items("benefit"))]


# --- housekeeping -------------------------------------------------------------------------------

def expire_redemptions(conn: Connection, now: datetime | None = None) -> int:
    """Reservations past their TTL: give the counters back (the ledger's sweep) and mark the redemptions."""
    now = now or limits.utcnow()
    limits.sweep(conn, now)
    r = redemptions.c
    return conn.execute(update(redemptions).where(r.status == "reserved", r.expires_at <= now)
                        .values(status="expired", updated_at=now)).rowcount or 0


@periodic("benefits.sweep", every=30.0)
def sweep(services: Services) -> int:
    with services.engine.begin() as conn:
        return expire_redemptions(conn)
