"""The limits ledger's tables (store/limits.py moves them): counters, the ledger of every move, and
two-phase reservations."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    String,
    Table,
)

from ..meta.sqltypes import JSONType, UTCDateTime
from .system import ID, metadata

KINDS = ("grant", "reserve", "consume", "release", "expire", "reverse")
NO_PERIOD = ""

counters = Table(
    "limit_counter", metadata,
    Column("key", String(200), primary_key=True),
    Column("period_key", String(32), primary_key=True),
    Column("used", BigInteger, nullable=False, default=0),
    Column("reserved", BigInteger, nullable=False, default=0),
    Column("cap", BigInteger, nullable=True),  # NULL: no cap (cursors, load counters)
    Column("enabled", Boolean, nullable=False, default=True),
    # a validity window (benefits): outside it nothing moves; NULL: open on that side
    Column("valid_from", UTCDateTime(), nullable=True),
    Column("valid_to", UTCDateTime(), nullable=True),
)

ledger = Table(
    "limit_ledger", metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False),
    Column("period_key", String(32), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("qty", BigInteger, nullable=False),
    Column("idempotency_key", String(200), nullable=True, unique=True),
    Column("payload", String(64), nullable=True),  # sha256 of what the keyed call asked for
    Column("result", JSONType, nullable=True),  # what the keyed call answered (replays get it)
    Column("reservation_id", BigInteger, nullable=True),
    Column("ref", String(200), nullable=True),
    Column("at", UTCDateTime(), nullable=False),
    Index("ix_limit_ledger_counter", "key", "period_key"),
)

reservations = Table(
    "limit_reservation", metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False),
    Column("period_key", String(32), nullable=False),
    Column("qty", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),  # held | consumed | released | expired
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("ref", String(200), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_limit_reservation_due", "status", "expires_at"),
)
