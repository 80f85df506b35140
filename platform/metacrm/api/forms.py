"""`/api/v1/forms/{form}/submit`: answers to a form become a record, and chosen options set tags."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, jsonify

from ..engines.forms import submit_form
from .access import object_for, require_writable, visible, with_owner
from .context import principal, services
from .jsonio import json_body

bp = Blueprint("forms", __name__)


@bp.post("/forms/<form_name>/submit")
def submit(form_name: str) -> Any:
    svc, who = services(), principal()
    answers = json_body()
    allowed: dict[str, Any] = {}

    def prepare(snap: Any, form: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
        obj, perm = object_for(snap, who, form["object"], "create")
        require_writable(who, obj, perm, [dict(given)])
        allowed["perm"], allowed["snap"] = perm, snap
        return with_owner(who, obj, dict(given))

    record = submit_form(svc, form_name, answers, who.id, prepare,
                         reference_scope=lambda name: who.row_filter(name, allowed["snap"].tables[name]))
    out = visible(record, allowed["perm"])
    out["tags"] = record["tags"]
    response = jsonify(out)
    response.status_code = 201
    response.headers["ETag"] = f'"{record["version"]}"'
    return response
