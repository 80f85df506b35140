"""Who a notification goes to: the record's owner or creator, a named user, or a user field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, select

from ..store.system import users

RECIPIENT_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"enum": ["owner", "creator"]},
        {"type": "object", "required": ["user"], "properties": {"user": {"type": "string"}},
         "additionalProperties": False},
        {"type": "object", "required": ["field"], "properties": {"field": {"type": "string"}},
         "additionalProperties": False},
    ]
}


def user_ids_by_name(conn: Connection, names: list[str]) -> dict[str, int]:
    rows = conn.execute(select(users.c.username, users.c.id).where(users.c.username.in_(names),
                                                                   users.c.active.is_(True)))
    return {name: int(uid) for name, uid in rows}


def recipient_id(conn: Connection, spec: Any, record: Mapping[str, Any] | None) -> int | None:
    record = record or {}
    if spec == "owner":
        return record.get("owner_id")
    if spec == "creator":
        return record.get("created_by")
    if isinstance(spec, Mapping) and "user" in spec:
        return user_ids_by_name(conn, [str(spec["user"])]).get(str(spec["user"]))
    if isinstance(spec, Mapping) and "field" in spec:
        value = record.get(str(spec["field"]))
        return int(value) if value is not None else None
    return None
