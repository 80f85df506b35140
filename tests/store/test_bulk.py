"""insert_many's fast paths (COPY on PostgreSQL, plain tuples on SQLite) store what Core would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import JSON, BigInteger, Column, Integer, MetaData, Numeric, String, Table, select

from metacrm.meta.sqltypes import UTCDateTime
from metacrm.store.bulk import COPY_MIN_ROWS, insert_many
from metacrm.store.db import make_engine


def _tables() -> tuple[MetaData, Table, Table]:
    meta = MetaData()
    cols = lambda: [Column("id", BigInteger, primary_key=True), Column("name", String(50)),  # noqa: E731
                    Column("amount", Numeric(12, 2)), Column("at", UTCDateTime()), Column("data", JSON),
                    Column("version", Integer, nullable=False, default=1)]
    return meta, Table("t_fast", meta, *cols()), Table("t_core", meta, *cols())


@pytest.mark.parametrize("count", [3, COPY_MIN_ROWS + 7])
def test_fast_paths_store_what_core_stores(db_url: str, count: int) -> None:
    engine = make_engine(db_url)
    meta, fast, core = _tables()
    now = datetime(2026, 11, 26, 12, 30, tzinfo=UTC)
    rows = [{"id": i + 1, "name": None if i % 5 == 0 else f"名字 {i}", "amount": Decimal(i) / 4,
             "at": now if i % 2 else now + timedelta(days=i), "data": {"i": i, "tags": ["a", "b"]} if i % 3 else None,
             "version": 1} for i in range(count)]
    try:
        with engine.begin() as conn:
            meta.create_all(conn)
            insert_many(conn, fast, rows)
            conn.execute(core.insert(), rows)
        with engine.connect() as conn:
            got = [tuple(r) for r in conn.execute(select(fast).order_by(fast.c.id))]
            want = [tuple(r) for r in conn.execute(select(core).order_by(core.c.id))]
        assert got == want
        assert len(got) == count
        assert got[1][3] == now and got[1][4] == {"i": 1, "tags": ["a", "b"]}
    finally:
        with engine.begin() as conn:
            meta.drop_all(conn)
        engine.dispose()


def test_a_left_out_column_still_gets_its_default(db_url: str) -> None:
    engine = make_engine(db_url)
    meta, fast, _ = _tables()
    try:
        with engine.begin() as conn:
            meta.create_all(conn)
            insert_many(conn, fast, [{"id": i, "name": "x"} for i in range(1, COPY_MIN_ROWS + 2)])
        with engine.connect() as conn:
            assert set(conn.execute(select(fast.c.version)).scalars()) == {1}
    finally:
        with engine.begin() as conn:
            meta.drop_all(conn)
        engine.dispose()
