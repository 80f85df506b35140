"""Run debugger actions: re-run from a node, test a node (dry run), retry pinned/latest, bulk
retry/cancel/close by filter, close a failed run. Administrators only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, jsonify, request

from ..errors import Problem, ValidationError
from ..flows import bulk, debugger, drafts, hooks
from ..flows.events import deliver
from ..flows.model import Workflow
from ..flows.runs import current_workflows
from .access import require_in_scope
from .context import admin_only, principal, public, services
from .jsonio import json_body

bp = Blueprint("workflow_runs", __name__)


def _int(body: dict[str, Any], key: str, required: bool = True) -> int | None:
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValidationError(f"{key} must be a positive integer", [Problem(key, "type", "integer")])
    return value


def _text(body: dict[str, Any], key: str, required: bool = True) -> str | None:
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not 1 <= len(value) <= 64:
        raise ValidationError(f"{key} must be a text of 1 to 64 characters", [Problem(key, "type", "string")])
    return value


def _time(body: dict[str, Any], key: str) -> datetime | None:
    value = body.get(key)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(f"{key} must be an ISO date-time", [Problem(key, "format", "date-time")]) from None
    if moment.tzinfo is None:
        raise ValidationError(f"{key} needs a time zone (e.g. Z)", [Problem(key, "format", "date-time with zone")])
    return moment


@bp.post("/runs/<rid:run_id>/rerun")
@admin_only
def rerun(run_id: int) -> Any:
    who = principal()
    body = json_body()
    node = _text(body, "from_node")
    assert node is not None
    confirm = body.get("confirm_side_effects", False)
    if not isinstance(confirm, bool):
        raise ValidationError("confirm_side_effects must be true or false", [Problem("confirm_side_effects", "type", "boolean")])
    return jsonify(debugger.rerun(services(), run_id, node, confirm, who.id)), 201


@bp.post("/runs/<rid:run_id>/close")
@admin_only
def close(run_id: int) -> Any:
    return jsonify(bulk.close(services(), run_id))


@bp.post("/runs/<rid:run_id>/retry-on")
@admin_only
def retry_on(run_id: int) -> Any:
    """Body {"on": "pinned" | "latest"}."""
    return jsonify(bulk.retry(services(), run_id, str(json_body().get("on", "pinned"))))


@bp.post("/runs/bulk")
@admin_only
def bulk_action() -> Any:
    """Body {action: retry|cancel|close, on?, workflow?, status?, error_code?, since?, until?}."""
    body = json_body()
    return jsonify(bulk.bulk(services(), str(body.get("action")), str(body.get("on", "pinned")),
                             workflow=_text(body, "workflow", False), status=_text(body, "status", False),
                             error_code=_text(body, "error_code", False), since=_time(body, "since"),
                             until=_time(body, "until")))


SHAPE_CODES = frozenset(("type", "required", "enum", "const", "additionalProperties", "pattern", "format",
                         "minLength", "maxLength", "minimum", "maximum", "minItems", "maxItems", "oneOf", "anyOf",
                         "allOf", "not", "unknown_step_type"))


def _workflow_doc(doc: Any) -> dict[str, Any]:
    """A document shaped enough to run one node of (a draft may still have other problems)."""
    steps = doc.get("steps") if isinstance(doc, dict) else None
    if not isinstance(doc, dict) or not isinstance(doc.get("object"), str) or not isinstance(steps, list) or not all(
            isinstance(s, dict) and isinstance(s.get("id"), str) and isinstance(s.get("type"), str) for s in steps):
        raise ValidationError("definition must be a workflow document (object, steps with id and type)",
                              [Problem("definition", "type", "object")])
    return doc


@bp.post("/workflows/<name>/test-node")
@admin_only
def test_node(name: str) -> Any:
    """Body {node, record_id?, definition?}: run one node on a record, rolled back, nothing sent."""
    body = json_body()
    node = _text(body, "node")
    assert node is not None
    record_id = _int(body, "record_id", required=False)
    svc = services()
    doc = body.get("definition")
    if doc is not None:
        workflow = Workflow(name, 0, drafts.normalised(name, _workflow_doc(doc)))
    else:
        draft = drafts.get_draft(svc, name)
        if draft["draft"]:
            workflow = Workflow(name, 0, _workflow_doc(draft["definition"]))
        else:
            with svc.engine.connect() as conn:
                workflow = current_workflows(conn, svc.registry.current(conn))[name]
    if workflow.doc["object"] not in svc.registry.current().objects:
        raise ValidationError("unknown object", [Problem("definition.object", "unknown_object", workflow.doc["object"])])
    own = [p for p in drafts.problems(svc, name, workflow.doc) if p["node"] == node and p["code"] in SHAPE_CODES]
    if own:  # the rest of a draft (its graph too) may be unfinished; the node's own keys must be well formed
        raise drafts.as_error(name, own)
    return jsonify(debugger.test_node(svc, workflow, node, record_id))


@bp.post("/workflow-events")
def workflow_event() -> Any:
    """Body {object, record_id, event}: wake the record's runs waiting for that event (user who may update it)."""
    body = json_body()
    object_name, event = _text(body, "object"), _text(body, "event")
    record_id = _int(body, "record_id")
    assert object_name is not None and event is not None and record_id is not None
    who = principal()
    svc = services()
    if not who.is_admin:
        who.require(object_name, "update")
        require_in_scope(who, svc.registry.current().object(object_name), svc.records.get(object_name, record_id))
    with svc.engine.begin() as conn:
        return jsonify({"event": event, "woken": deliver(conn, object_name, record_id, event)})


@bp.post("/workflows/<name>/hook-secret")
@admin_only
def hook_info(name: str) -> Any:
    """The inbound webhook's URL path and signing secret: an explicit admin action, never a read."""
    return jsonify({"path": f"/api/v1/hooks/workflows/{name}", "secret": hooks.hook_secret(services(), name),
                    "signature": hooks.SIGNATURE_HELP})


@bp.post("/hooks/workflows/<name>")
@public
def inbound_hook(name: str) -> Any:
    svc = services()
    hooks.verify(svc, name, request.headers.get("X-MetaCRM-Timestamp", ""),
                 request.headers.get("X-MetaCRM-Signature", ""), request.get_data(cache=True))
    return jsonify(hooks.receive(svc, name, json_body())), 202
