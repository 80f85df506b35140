"""Coupon codes: batches of unguessable codes a person can read aloud, each a limits counter.

A coupon is a benefit with `requires_code`. Codes are 12 characters from an alphabet without
look-alikes (no 0/O, 1/I/L, 2/Z, 5/S, 8/B, U/V kept apart by dropping V), shown in groups of
four (`K7QX-M4TR-...`), about 55 bits from `secrets`; what a caller types is normalised (case,
dashes, spaces) before it is looked up. Each code is a counter `bf:<benefit>:c:<CODE>` with cap
`code_cap` (1: one order; N: a shared code), moved in the redemption's statement like every
other cap, so one code serves one order even when twenty present it at once.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.dialects import postgresql, sqlite

from ..errors import Problem, ValidationError
from ..store import limits
from .benefits import codes, total_key

ALPHABET = "ACDEFGHJKMNPQRTUWXY34679"
LENGTH = 12
MAX_BATCH = 10_000


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def shown(code: str) -> str:
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def generate(conn: Connection, doc: Mapping[str, Any], count: int, *, cap: int | None = None,
             campaign: str | None = None, member_id: int | None = None) -> list[str]:
    """`count` new codes of a coupon benefit, each with its counter; codes as shown (grouped)."""
    if not doc.get("requires_code"):
        raise ValidationError(f"{doc['key']} is not a coupon (requires_code)",
                              [Problem("requires_code", "not_a_coupon", doc["key"])])
    if not isinstance(count, int) or not 0 < count <= MAX_BATCH:
        raise ValidationError(f"count is 1 to {MAX_BATCH}", [Problem("count", "invalid", str(count)[:16])])
    cap = int(cap or doc.get("code_cap", 1))
    now = limits.utcnow()
    made: list[str] = []
    insert = (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(codes)
    while len(made) < count:
        batch = {new_code() for _ in range(count - len(made))}
        rows = [{"code": c, "benefit": doc["key"], "cap": cap, "campaign": campaign or doc.get("campaign"),
                 "member_id": member_id, "created_at": now} for c in batch]
        fresh = conn.execute(insert.values(rows).on_conflict_do_nothing(index_elements=["code"])
                             .returning(codes.c.code)).scalars().all()
        made.extend(fresh)  # a collision (never seen at 55 bits, but possible) is simply drawn again
    for code in made:
        limits.set_limit(conn, f"{total_key(doc['key'])}:c:{code}", cap)
    return [shown(c) for c in made]


def code_counts(conn: Connection, key: str) -> dict[str, int]:
    """How many codes a benefit has and how many are used up."""
    total = conn.execute(select(func.count()).select_from(codes).where(codes.c.benefit == key)).scalar_one()
    c = limits.counters.c
    used = conn.execute(select(func.count()).select_from(limits.counters).where(
        c.key.startswith(f"{total_key(key)}:c:", autoescape=True), c.used >= c.cap)).scalar_one()
    return {"codes": int(total), "used_up": int(used)}
