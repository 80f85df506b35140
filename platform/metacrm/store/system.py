"""System tables: users, definitions with their history, record events, small key/values.

Later layers add their own system tables to the same MetaData; `ensure_system_tables` creates
what is missing and adds missing columns (additive only), so upgrading an installation is
running `metacrm init` again.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Engine,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

from ..meta.sqltypes import JSONType, UTCDateTime

ID = BigInteger().with_variant(Integer(), "sqlite")  # SQLite needs INTEGER PRIMARY KEY for rowid ids

metadata = MetaData()

users = Table(
    "sys_user", metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False, default=""),
    Column("email", String(254)),
    Column("language", String(8), nullable=False, default="en"),
    # An IANA zone (store/users.py: check_time_zone); NULL: the installation's (server texts) or
    # the browser's (web app).
    Column("time_zone", String(64), nullable=True),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UTCDateTime(), nullable=False),
    # Accounts (auth/): an argon2 hash (None = cannot log in) and the admin flag.
    Column("password_hash", String(255), nullable=True),
    Column("is_admin", Boolean, nullable=False, default=False, server_default=false()),
)

definitions = Table(
    "sys_definition", metadata,
    Column("kind", String(32), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("checksum", String(64), nullable=False),
    # Text, not JSONB: PostgreSQL's JSONB reorders keys, and field order is meaningful.
    Column("body", Text, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("updated_by", ForeignKey("sys_user.id"), nullable=True),
)

definition_versions = Table(
    "sys_definition_version", metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("name", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("checksum", String(64), nullable=False),
    Column("body", Text, nullable=False),
    Column("action", String(16), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", ForeignKey("sys_user.id"), nullable=True),
    Column("note", Text),
    # who applied it (the CLI's --author, default the OS user), whether --force confirmed it, and
    # the table actions that ran (a JSON list of "op table.column: description")
    Column("author", String(200), nullable=True),
    Column("forced", Boolean, nullable=True),
    Column("actions", Text, nullable=True),
    UniqueConstraint("kind", "name", "version"),
)

meta_state = Table(
    "sys_meta_state", metadata,
    Column("id", Integer, primary_key=True),
    Column("revision", Integer, nullable=False),
)

record_events = Table(
    "sys_record_event", metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("object", String(64), nullable=False),
    Column("record_id", BigInteger, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("changes", JSONType, nullable=True),
    Column("actor_id", BigInteger, nullable=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("context", JSONType, nullable=True),
    Index("ix_sys_record_event_record", "object", "record_id", "id"),
    Index("ix_sys_record_event_at", "at"),
)

kv = Table(
    "sys_kv", metadata,
    Column("key", String(128), primary_key=True),
    Column("value", JSONType, nullable=True),
)


def ensure_system_tables(engine: Engine) -> list[str]:
    """Create missing system tables and columns; return what was done."""
    from .migrate import sync_table

    done: list[str] = []
    with engine.begin() as conn:
        for table in metadata.sorted_tables:
            done += sync_table(conn, table)
    return done
