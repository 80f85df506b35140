"""`/api/v1/users`: the user directory (for owner pickers and relation fields that point at users)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from sqlalchemy import or_, select

from ..store.db import reading
from ..store.system import users
from .context import principal, services
from .jsonio import int_arg

bp = Blueprint("users", __name__)


@bp.get("/users")
def list_users() -> Any:
    principal()
    q = (request.args.get("q") or "").strip()[:64]
    query = select(users.c.id, users.c.username, users.c.display_name).where(users.c.active.is_(True))
    if q:
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        like = f"%{escaped}%"
        query = query.where(or_(users.c.username.ilike(like, escape="\\"),
                                users.c.display_name.ilike(like, escape="\\")))
    query = query.order_by(users.c.username).limit(int_arg("limit", 50, 1, 500))
    with reading(services().engine) as conn:
        return jsonify({"items": [dict(r._mapping) for r in conn.execute(query)]})
