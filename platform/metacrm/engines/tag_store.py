"""The tables behind tags and tracked segments, and the reads the API needs from them.

One table for the tag links of every object: primary key (object, record_id, tag), so "the tags
of these records" is a primary-key range scan, plus an index (object, tag, record_id), so
"records with tag T" (segments, has_tag, counts) is an index-only scan. Tags are linked by name:
tag names are identifiers and never change (a definition is renamed by creating a new one).
Tracked segments keep their current members the same way, so a write can tell who entered and
who left.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import BigInteger, Column, Connection, Index, String, Table, func, select

from ..meta.sqltypes import UTCDateTime
from ..rules import TAG_LINK_TABLE
from ..store.bulk import is_in
from ..store.system import metadata

NAME = String(48)

tag_links = Table(
    TAG_LINK_TABLE, metadata,
    Column("object", NAME, primary_key=True),
    Column("record_id", BigInteger, primary_key=True, autoincrement=False),
    Column("tag", NAME, primary_key=True),
    Column("source", String(8), nullable=False),  # manual | form | auto
    Column("actor_id", BigInteger, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_sys_tag_link_tag", "object", "tag", "record_id"),
)

segment_members = Table(
    "sys_segment_member", metadata,
    Column("object", NAME, primary_key=True),
    Column("record_id", BigInteger, primary_key=True, autoincrement=False),
    Column("segment", NAME, primary_key=True),
    Column("since", UTCDateTime(), nullable=False),
    Index("ix_sys_segment_member_segment", "object", "segment", "record_id"),
)

CHUNK = 1000


def chunks(values: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def tags_of(conn: Connection, object_name: str, ids: Iterable[int]) -> dict[int, list[str]]:
    """{record id: [tag names, sorted]} for the given records (every id present, maybe empty)."""
    wanted = list(dict.fromkeys(ids))
    out: dict[int, list[str]] = {i: [] for i in wanted}
    t = tag_links
    for part in chunks(wanted):
        rows = conn.execute(select(t.c.record_id, t.c.tag).where(
            t.c.object == object_name, is_in(t.c.record_id, part, conn.dialect.name)).order_by(t.c.record_id, t.c.tag))
        for record_id, tag in rows:
            out[record_id].append(tag)
    return out


def record_tags(conn: Connection, object_name: str, record_id: int) -> list[str]:
    return tags_of(conn, object_name, [record_id])[record_id]


def tag_counts(conn: Connection, tables: Mapping[str, Table], object_name: str | None = None) -> dict[str, dict[str, int]]:
    """{object: {tag: number of live records with it}}; soft-deleted records do not count."""
    out: dict[str, dict[str, int]] = {}
    t = tag_links
    objects = [object_name] if object_name is not None else list(tables)
    for name in objects:
        table = tables[name]
        rows = conn.execute(
            select(t.c.tag, func.count()).select_from(t.join(table, table.c.id == t.c.record_id))
            .where(t.c.object == name, table.c.deleted_at.is_(None)).group_by(t.c.tag).order_by(t.c.tag))
        counts = {tag: int(n) for tag, n in rows}
        if counts or object_name is not None:
            out[name] = counts
    return out
