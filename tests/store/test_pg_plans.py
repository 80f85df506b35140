"""Batch lookups (`col = ANY(array)`) are planned for their own array on PostgreSQL.

psycopg prepares a statement after five runs; a generic plan for `= ANY($1)` cannot hash the
array and compares every scanned row with every element (an import spent 70% of its time so).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, MetaData, String, Table, insert, select

from metacrm.store.bulk import is_in
from metacrm.store.db import make_engine


def test_repeated_array_lookups_never_use_a_generic_plan(pg_schema_url: str) -> None:
    engine = make_engine(pg_schema_url)
    meta = MetaData()
    table = Table("t_lookup", meta, Column("id", BigInteger, primary_key=True), Column("phone", String(40)),
                  Index("ix_t_lookup_phone", "phone"))
    try:
        with engine.begin() as conn:
            meta.create_all(conn)
            conn.execute(insert(table), [{"id": i, "phone": f"+86130{i:08d}"} for i in range(3000)])
        with engine.connect() as conn:
            for run in range(12):
                wanted = [f"+86130{i:08d}" for i in range(run * 100, run * 100 + 100)]
                rows = conn.execute(select(table.c.id).where(is_in(table.c.phone, wanted, "postgresql"))).all()
                assert len(rows) == 100
            plans = conn.exec_driver_sql(
                "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE strpos(statement, 't_lookup') > 0"
            ).all()
            assert plans, "psycopg should have prepared the repeated statement"
            assert all(generic == 0 for generic, _ in plans), plans
            assert sum(custom for _, custom in plans) >= 6
    finally:
        with engine.begin() as conn:
            meta.drop_all(conn)
        engine.dispose()
