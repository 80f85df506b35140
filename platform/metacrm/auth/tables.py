"""The tables of accounts and access control: teams, roles, permissions, API tokens.

auth sits beside store (neither imports the other), so these tables live on their own MetaData;
the composition root (engines/wiring.py) copies them onto the system metadata, so `Services.init()`
creates and upgrades them with the other system tables. `users` is a light reference to the
system users table (store/system.py owns its DDL), enough to query it.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    column,
    false,
    table,
)

from ..meta.sqltypes import JSONType, UTCDateTime

ID = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData()

users = table(
    "sys_user", column("id"), column("username"), column("display_name"), column("email"),
    column("language"), column("time_zone"), column("active"), column("created_at"), column("password_hash"), column("is_admin"),
)

teams = Table(
    "sys_team", metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("label", String(200), nullable=False, default=""),
)

team_members = Table(
    "sys_team_member", metadata,
    Column("team_id", BigInteger, primary_key=True),
    Column("user_id", BigInteger, primary_key=True),
    Index("ix_sys_team_member_user", "user_id"),
)

roles = Table(
    "sys_role", metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("description", Text, nullable=False, default=""),
)

user_roles = Table(
    "sys_user_role", metadata,
    Column("user_id", BigInteger, primary_key=True),
    Column("role_id", BigInteger, primary_key=True),
)

permissions = Table(
    "sys_permission", metadata,
    Column("role_id", BigInteger, primary_key=True),
    Column("object", String(64), primary_key=True),  # an object name, or "*" for every object
    Column("can_read", Boolean, nullable=False, default=False),
    Column("can_create", Boolean, nullable=False, default=False),
    Column("can_update", Boolean, nullable=False, default=False),
    Column("can_delete", Boolean, nullable=False, default=False),
    Column("scope", String(8), nullable=False, default="own"),  # own | team | all
    Column("hidden_fields", JSONType, nullable=True),
    Column("readonly_fields", JSONType, nullable=True),
)

api_tokens = Table(
    "sys_api_token", metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("user_id", BigInteger, nullable=False),
    Column("name", String(100), nullable=False),
    Column("prefix", String(16), nullable=False),
    Column("token_hash", String(64), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("last_used_at", UTCDateTime(), nullable=True),
    Column("revoked_at", UTCDateTime(), nullable=True),
    Column("revoked", Boolean, nullable=False, default=False, server_default=false()),
    UniqueConstraint("token_hash", name="uq_sys_api_token_hash"),
    Index("ix_sys_api_token_user", "user_id"),
)

session_generations = Table(
    "sys_session_generation", metadata,  # auth/sessions.py: bumped to end every session of a user
    Column("user_id", BigInteger, primary_key=True),
    Column("generation", Integer, nullable=False, default=0),
)

login_failures = Table(
    "sys_login_failure", metadata,  # auth/sessions.py: failed logins per "user:<name>" / "addr:<ip>"
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False),
    Column("at", Float, nullable=False),  # epoch seconds
    Index("ix_sys_login_failure_key_at", "key", "at"),
)
