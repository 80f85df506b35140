"""System tables of the data factory: the duplicate review queue and the merge history."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Index, String, Table, Text, UniqueConstraint

from ...meta.sqltypes import JSONType, UTCDateTime
from ...store.system import ID, metadata

candidates = Table(
    "sys_dedupe_candidate", metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("object", String(64), nullable=False),
    Column("left_id", BigInteger, nullable=False),
    Column("right_id", BigInteger, nullable=False),
    Column("score", Float, nullable=False),
    Column("rules", JSONType, nullable=False),
    Column("fields", JSONType, nullable=False),
    # pending | merged | dismissed
    Column("status", String(16), nullable=False),
    Column("source", String(16), nullable=False),  # scan | import | create
    Column("created_at", UTCDateTime(), nullable=False),
    Column("decided_at", UTCDateTime(), nullable=True),
    Column("decided_by", BigInteger, nullable=True),
    Column("merge_id", BigInteger, nullable=True),
    UniqueConstraint("object", "left_id", "right_id", name="uq_sys_dedupe_candidate_pair"),
    Index("ix_sys_dedupe_candidate_queue", "object", "status", "score"),
)

merges = Table(
    "sys_dedupe_merge", metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("object", String(64), nullable=False),
    Column("survivor_id", BigInteger, nullable=False),
    Column("merged_ids", JSONType, nullable=False),
    Column("before", JSONType, nullable=False),
    Column("after", JSONType, nullable=False),
    Column("repointed", JSONType, nullable=False),
    Column("tags_added", JSONType, nullable=True),
    Column("source", String(32), nullable=False),
    Column("note", Text, nullable=True),
    Column("actor_id", BigInteger, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("undone_at", UTCDateTime(), nullable=True),
    Column("undone_by", BigInteger, nullable=True),
    Index("ix_sys_dedupe_merge_survivor", "object", "survivor_id"),
)
