"""`/api/v1/forms/{form}/submit`: answers to a form become a record, and chosen options set tags."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from ..errors import NotFound, Problem, ValidationError
from ..flows.triggers import form_submitted
from ..meta.forms import field_entries, option_tags
from . import tagging
from .access import object_for, require_writable, visible, with_owner
from .context import principal, services, snapshot
from .jsonio import json_body

bp = Blueprint("forms", __name__)


def tags_for_answers(form: dict[str, Any], answers: dict[str, Any]) -> list[str]:
    """The tags the chosen options map to (select: one option; multiselect: each chosen one)."""
    tags: list[str] = []
    for field, mapping in option_tags(form).items():
        value = answers.get(field)
        chosen = value if isinstance(value, list) else [value]
        for option in chosen:
            if isinstance(option, str):
                tags += mapping.get(option, [])
    return list(dict.fromkeys(tags))


@bp.post("/forms/<form_name>/submit")
def submit(form_name: str) -> Any:
    svc, who = services(), principal()
    answers = json_body()
    with svc.records.transaction() as conn:
        snap = snapshot(conn)
        form = snap.definitions.get("form", form_name)
        if form is None:
            raise NotFound(f"no form named '{form_name[:64]}'", [Problem("form", "not_found", form_name[:64])])
        obj, perm = object_for(snap, who, form["object"], "create")
        placed = {entry["field"] for _, entry in field_entries(form)}
        unknown = [k for k in answers if k not in placed]
        if unknown:
            raise ValidationError("some answers are not on this form",
                                  [Problem(k[:64], "unknown_field", "is not a field of this form") for k in unknown])
        data = with_owner(who, obj, answers)
        require_writable(who, obj, perm, [answers])
        record = svc.records.create(obj.name, data, actor_id=who.id, conn=conn)
        tags = tags_for_answers(form, answers)
        if tags:
            tagging.add_tags(conn, snap, obj.name, [record["id"]], tags, who.id, svc.settings.timezone, source="form")
        form_submitted(conn, snap, form_name, obj.name, record["id"], who.id)  # starts form_submitted workflows
        out = visible(record, perm)
        out["tags"] = tagging.record_tags(conn, snap, obj.name, record["id"])
    response = jsonify(out)
    response.status_code = 201
    response.headers["ETag"] = f'"{record["version"]}"'
    return response
