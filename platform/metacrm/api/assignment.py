"""`/api/v1/assignment`: assignment definitions, `explain` (who would get a record, and why) and `assign`.

Explain is a dry run: it reads the cursors and capacities without moving them. Assign moves them
in the record's transaction, exactly as a create or the assign_owner workflow step would.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, jsonify
from sqlalchemy import select

from ..engines import routing
from ..errors import Problem, ValidationError
from ..store.db import reading
from ..store.system import users
from .access import hidden_in_rule, object_for, require_in_scope, visible
from .context import principal, services, snapshot
from .pipelines import ID, checked

bp = Blueprint("assignment", __name__)

EXPLAIN = {"type": "object", "additionalProperties": False, "minProperties": 1, "maxProperties": 1, "properties": {
    "record_id": ID, "values": {"type": "object", "description": "Field values of a record not saved yet."}}}
ASSIGN = {"type": "object", "required": ["record_id"], "additionalProperties": False, "properties": {"record_id": ID}}


def _names(conn: Any, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(conn.execute(select(users.c.id, users.c.username).where(users.c.id.in_(ids))).all())


def _rules_read_hidden(doc: dict[str, Any], who: Any) -> list[str]:
    rules = [e["when"] for e in doc["entries"] if "when" in e]
    rules += [t["when"] for e in doc["entries"] for t in e.get("territories", ())]
    return [name for rule in rules for name in hidden_in_rule(rule, doc["object"], who)]


@bp.get("/assignment")
def list_assignments() -> Any:
    who, snap = principal(), snapshot()
    return jsonify({"items": [doc for _, doc in sorted(snap.definitions.items("assignment"))
                              if doc["object"] in snap.objects and who.permission(doc["object"]).read]})


@bp.post("/assignment/<name>/explain")
def explain(name: str) -> Any:
    svc, who = services(), principal()
    body = checked(EXPLAIN)
    with reading(svc.engine) as conn:
        snap = snapshot(conn)
        doc = routing.definition(snap, name)
        obj, _perm = object_for(snap, who, doc["object"])
        hidden = _rules_read_hidden(doc, who)
        if hidden:  # the answer would tell values of fields the caller may not see
            raise ValidationError("the assignment's rules read fields you may not see",
                                  [Problem("assignment", "forbidden_field", n) for n in hidden])
        if "record_id" in body:
            row = svc.records.get(obj.name, body["record_id"], conn=conn)
            require_in_scope(who, obj, row)
        else:
            stored, problems = obj.prepare(body["values"], True, svc.records.ctx)
            if problems:
                raise ValidationError("the values are invalid", [Problem(f"values/{p.field}", p.code, p.message)
                                                                 for p in problems])
            row = routing.shown_row(obj, stored)
        [decision] = routing.decide(conn, snap, doc, [row], now=datetime.now(UTC), tz=svc.settings.timezone,
                                    take=False)
        ids = {s["user_id"] for s in decision.skipped} | ({decision.owner_id} if decision.owner_id else set())
        out = decision.to_dict(_names(conn, ids))
    entry = doc["entries"][decision.entry] if decision.entry is not None else None
    return jsonify({"assignment": name, "object": obj.name, "matched": decision.entry is not None,
                    "entry_strategy": entry["strategy"] if entry else None, **out})


@bp.post("/assignment/<name>/assign")
def assign(name: str) -> Any:
    """Give an existing record to whoever the rules pick now (turns and capacities move)."""
    svc, who = services(), principal()
    body = checked(ASSIGN)
    with svc.records.transaction() as conn:
        snap = snapshot(conn)
        doc = routing.definition(snap, name)
        obj, perm = object_for(snap, who, doc["object"], "update")
        who.require(obj.name, "read")
        row = svc.records.get(obj.name, body["record_id"], conn=conn)
        require_in_scope(who, obj, row)
        if "owner_id" in perm.readonly or "owner_id" in perm.hidden:
            raise ValidationError("you may not change owners", [Problem("owner_id", "readonly", "owner_id")])
        [decision] = routing.decide(conn, snap, doc, [row], tz=svc.settings.timezone)
        record = row
        if decision.owner_id is not None and decision.owner_id != row["owner_id"]:
            record = svc.records.update(obj.name, row["id"], {"owner_id": decision.owner_id}, actor_id=who.id,
                                        conn=conn)
        names = _names(conn, {s["user_id"] for s in decision.skipped} | {decision.owner_id or 0})
    return jsonify({"record": visible(record, perm), "decision": decision.to_dict(names)})
