"""Identifiers that come from definitions and become SQL names.

Every name an admin or integrator chooses (object, field, definition) must pass here before any
SQL is built from it: a strict pattern, a length that leaves room for prefixes, and no reserved
words of SQL, PostgreSQL or SQLite.
"""

from __future__ import annotations

import re

IDENTIFIER_PATTERN = r"^[a-z][a-z0-9_]{0,47}$"
_IDENTIFIER = re.compile(r"[a-z][a-z0-9_]{0,47}")

# Columns every object table has; fields may not take these names.
SYSTEM_COLUMNS = ("id", "created_at", "updated_at", "created_by", "owner_id", "version", "deleted_at")

# Reserved in SQL:2016, PostgreSQL or SQLite (the ones that break unquoted or confuse readers),
# plus names our own read model and API use for themselves.
RESERVED_WORDS = frozenset("""
abort action add after all alter always analyze and any array as asc asymmetric attach
authorization autoincrement before begin between bigint binary bit boolean both by cascade case
cast char character check collate collation column commit concurrently conflict constraint
create cross current current_catalog current_date current_role current_schema current_time
current_timestamp current_user database date decimal default deferrable deferred delete desc
detach distinct do drop each else end escape except exclusive exists explain fail false fetch
filter first float following for foreign freeze from full generated glob grant group groups
having if ignore ilike immediate in index indexed initially inner insert instead int integer
intersect interval into is isnull join key last lateral leading left like limit localtime
localtimestamp match materialized natural no not nothing notnull null nulls numeric of offset
on only or order others outer over overlaps partition placing plan pragma preceding primary
query raise range real recursive references regexp reindex release rename replace restrict
returning right rollback row rows savepoint select session_user set similar smallint some
symmetric system_user table tablesample temp temporary then ties time timestamp to trailing
transaction trigger true unbounded union unique update user using vacuum values varchar
variadic verbose view virtual when where window with without
tags events timeline meta self
""".split())


def identifier_problem(name: object) -> str | None:
    """Why `name` cannot be an identifier, or None when it can."""
    if not isinstance(name, str):
        return "must be a string"
    if not _IDENTIFIER.fullmatch(name):
        return ("must start with a lowercase letter and hold only lowercase letters, digits and "
                "underscores, at most 48 characters")
    if name in RESERVED_WORDS:
        return f"'{name}' is a reserved word"
    return None


def field_name_problem(name: object) -> str | None:
    """Like identifier_problem, and also refuses the system column names."""
    problem = identifier_problem(name)
    if problem is None and name in SYSTEM_COLUMNS:
        return f"'{name}' is a system column"
    return problem


def is_identifier(name: object) -> bool:
    return identifier_problem(name) is None


def table_name(object_name: str) -> str:
    """The SQL table of an object; the prefix keeps object tables apart from system tables."""
    if not is_identifier(object_name):
        raise ValueError(f"not a valid object name: {object_name!r}")
    return f"obj_{object_name}"
