"""Database engines for SQLite (embedded) and PostgreSQL (production), made to behave alike."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool


def _sqlite_setup(engine: Engine) -> None:
    """Real transactions (DDL included), WAL, foreign keys, and waiting on locks instead of failing.

    pysqlite's own transaction handling skips BEGIN before DDL, so a failed migration could
    half-apply; we take over BEGIN ourselves (SQLAlchemy's documented recipe).
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, record: Any) -> None:
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the write lock up front (no deadlock upgrading a read lock later);
        # readers (reading() below) begin deferred, so they never wait for writers in WAL mode.
        deferred = conn.get_execution_options().get(_READ_ONLY, False)
        conn.exec_driver_sql("BEGIN DEFERRED" if deferred else "BEGIN IMMEDIATE")


_READ_ONLY = "metacrm_read_only"


def reading(engine: Engine) -> Connection:
    """A connection for reads only: on SQLite it does not take the write lock."""
    return engine.connect().execution_options(**{_READ_ONLY: True})


def json_dumps(value: Any) -> str:
    """orjson where it can (several times faster on the event hot path), the standard library where not."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # integers beyond 64 bits and other values orjson refuses
        return json.dumps(value, ensure_ascii=False, allow_nan=False)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`; SQLite files get their folder created."""
    kwargs.setdefault("json_serializer", json_dumps)
    kwargs.setdefault("json_deserializer", orjson.loads)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        else:
            kwargs.setdefault("poolclass", StaticPool)
            kwargs.setdefault("connect_args", {"check_same_thread": False})
        engine = create_engine(parsed, **kwargs)
        _sqlite_setup(engine)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    kwargs.setdefault("pool_pre_ping", True)
    engine = create_engine(parsed, **kwargs)
    _postgresql_setup(engine)
    return engine


def _postgresql_setup(engine: Engine) -> None:
    """Plan every statement for its own parameters (plan_cache_mode = force_custom_plan).

    psycopg prepares a statement on the server after five runs, and PostgreSQL then may switch to
    a generic plan. For `col = ANY($1)` (our batch lookups) a generic plan knows neither the
    array's length nor its values: it cannot hash the array, so every row scanned is compared with
    every element. An import of 20,000 rows spent 44 s of its 61 s in such lookups; with custom
    plans they took 2 s. Planning a simple statement costs well under a millisecond.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, record: Any) -> None:
        autocommit = dbapi_conn.autocommit
        dbapi_conn.autocommit = True
        with dbapi_conn.cursor() as cursor:
            cursor.execute("SET plan_cache_mode = force_custom_plan")
        dbapi_conn.autocommit = autocommit
