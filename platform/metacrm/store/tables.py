"""SQLAlchemy tables for object definitions: one real table, one typed column per field."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, MetaData, Table, text

from ..meta.fields import USER_TARGET
from ..meta.names import table_name
from ..meta.objects import ObjectDef
from ..meta.sqltypes import UTCDateTime
from .system import ID, users

MAX_NAME = 63  # PostgreSQL's identifier limit; SQLite has none, we keep both alike


def constraint_name(prefix: str, table: str, columns: Iterable[str]) -> str:
    """A deterministic index name within the identifier limit (hashed when too long)."""
    name = "_".join((prefix, table, *columns))
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:10]
    return f"{name[: MAX_NAME - 11]}_{digest}"


def _alive() -> object:
    return text("deleted_at IS NULL")


def build_tables(objects: Iterable[ObjectDef]) -> dict[str, Table]:
    """Tables for a set of objects, in one MetaData so relations between them resolve."""
    md = MetaData()
    users.to_metadata(md)
    out: dict[str, Table] = {}
    for obj in objects:
        out[obj.name] = _object_table(obj, md)
    return out


def _object_table(obj: ObjectDef, md: MetaData) -> Table:
    tname = obj.table
    columns: list[Column] = [Column("id", ID, primary_key=True, autoincrement=True)]
    indexes: list[Index] = []
    for f in obj.fields.values():
        col_type = f.type.column(f.schema)
        if f.type.is_relation:
            target = "sys_user" if f.target == USER_TARGET else table_name(str(f.target))
            # use_alter: objects may refer to each other in a cycle (lead -> customer -> lead);
            # on PostgreSQL the constraints are added after all new tables exist.
            fk = ForeignKey(f"{target}.id", name=constraint_name("fk", tname, [f.name]), use_alter=True)
            columns.append(Column(f.name, BigInteger, fk, nullable=True))
        else:
            columns.append(Column(f.name, col_type, nullable=True))
        if f.unique:
            indexes.append(Index(constraint_name("uq", tname, [f.name]), f.name, unique=True,
                                 sqlite_where=_alive(), postgresql_where=_alive()))
        elif f.indexed:
            indexes.append(Index(constraint_name("ix", tname, [f.name]), f.name))
    columns += [
        Column("created_at", UTCDateTime(), nullable=False),
        Column("updated_at", UTCDateTime(), nullable=False),
        Column("created_by", BigInteger, ForeignKey("sys_user.id", name=constraint_name("fk", tname, ["created_by"]))),
        Column("owner_id", BigInteger, ForeignKey("sys_user.id", name=constraint_name("fk", tname, ["owner_id"]))),
        Column("version", Integer, nullable=False, default=1),
        Column("deleted_at", UTCDateTime(), nullable=True),
    ]
    indexes.append(Index(constraint_name("ix", tname, ["owner_id"]), "owner_id"))
    indexes.append(Index(constraint_name("ix", tname, ["created_at"]), "created_at"))
    for cols in obj.indexes:
        indexes.append(Index(constraint_name("ix", tname, cols), *cols))
    return Table(tname, md, *columns, *indexes)
