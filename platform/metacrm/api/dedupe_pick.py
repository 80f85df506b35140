"""`POST /api/v1/dedupe/candidates/<id>/merge-fields`: merge a pair keeping, per field, the value of the
record the reviewer picked (engines/dedupe/pick.py).

Body: {"survivor_id": id, "keep": {field: record id of the pair}}. Same rights and scope as `/merge`;
only fields the caller may write can be picked. Undo (`/dedupe/merges/<id>/undo`) reverses the picks too.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from ..engines.dedupe.guard import merge_view
from ..engines.dedupe.pick import merge_picking
from . import dedupe as dedupe_api
from .context import principal, services, snapshot
from .jsonio import json_body

bp = Blueprint("dedupe_pick", __name__)


@bp.post("/dedupe/candidates/<rid:candidate_id>/merge-fields")
def merge_fields(candidate_id: int) -> Any:
    svc, who = services(), principal()
    body = json_body()
    item = dedupe_api._candidate(candidate_id)  # 404 outside the caller's scope
    _, perm = dedupe_api._require(item["object"], "update", "delete")
    survivor = body.get("survivor_id", item["left_id"])
    with svc.engine.begin() as conn:
        done = merge_picking(svc, conn, candidate_id, survivor, body.get("keep") or {}, perm.writable, who.id, who)
        return jsonify(merge_view(snapshot(conn), conn, who, done))
