"""`/api/v1/workflows`, `/runs`, `/notifications`: run history and control, manual starts, the inbox.

Who may do what: administrators see and control every run. Other users may read the runs of a
record they can read (`GET /runs?object=lead&record_id=7`, `GET /runs/{id}`), start a workflow
on a record they may update, and read their own notifications.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from ..errors import BadRequest, NotFound, Problem, ValidationError
from ..flows import drafts, service
from ..flows.tables import RunStatus
from .access import require_in_scope
from .context import admin_only, principal, services, snapshot
from .jsonio import int_arg, json_body
from .run_access import run_for_reader

bp = Blueprint("workflows", __name__)


def _check_record_access(object_name: str, record_id: int | None, verb: str = "read") -> None:
    """Non-admins: the record must exist, be readable/updatable by them and be in their scope."""
    who = principal()
    if who.is_admin:
        return
    if record_id is None:
        who.require_admin()
    svc = services()
    who.require(object_name, verb)
    snap = snapshot()
    record = svc.records.get(object_name, int(record_id))
    require_in_scope(who, snap.object(object_name), record)


@bp.get("/workflows")
@admin_only
def list_workflows() -> Any:
    """Published workflows and drafts (`state`: draft, published, changed); `?archived=true` adds archived ones."""
    from .jsonio import bool_arg

    return jsonify({"items": drafts.summaries(services(), archived=bool_arg("archived"))})


@bp.post("/workflows/<name>/start")
def start(name: str) -> Any:
    body = json_body()
    record_id = body.get("record_id")
    if record_id is not None and (not isinstance(record_id, int) or isinstance(record_id, bool) or record_id < 1):
        raise ValidationError("record_id must be a positive integer", [Problem("record_id", "type", "integer")])
    key = body.get("key")
    if key is not None and (not isinstance(key, str) or not 1 <= len(key) <= 200):
        raise ValidationError("key must be a text of 1 to 200 characters", [Problem("key", "type", "string")])
    svc = services()
    doc = snapshot().definitions.get("workflow", name)
    if doc is None:
        raise NotFound(f"no workflow named '{name[:64]}'", [Problem("workflow", "not_found", name[:64])])
    _check_record_access(doc["object"], record_id, "update")
    run = service.start_workflow(svc, name, record_id, actor_id=principal().id,
                                 key=f"api:{key}" if key else None)
    return jsonify(run_for_reader(run, principal())), 202


@bp.get("/runs")
def list_runs() -> Any:
    args = request.args
    status = args.get("status") or None
    if status is not None and status not in RunStatus.ALL:
        raise BadRequest("unknown status", [Problem("status", "invalid_parameter", ", ".join(RunStatus.ALL))])
    object_name = args.get("object") or None
    record_id = int_arg("record_id", 0, 0, 2**62) or int_arg("record", 0, 0, 2**62) or None
    if not principal().is_admin:
        if object_name is None or record_id is None:
            raise BadRequest("give object and record_id (only administrators list every run)",
                             [Problem("record_id", "required", "object and record_id")])
        _check_record_access(object_name, record_id)
    limit = int_arg("limit", 50, 1, 500)
    items = service.list_runs(services(), workflow=args.get("workflow") or None, status=status,
                              object_name=object_name, record_id=record_id, limit=limit,
                              before_id=int_arg("before", 0, 0, 2**62) or int_arg("cursor", 0, 0, 2**62) or None,
                              version=int_arg("version", 0, 0, 2**31) or None)
    next_cursor = str(items[-1]["id"]) if len(items) == limit else None
    who = principal()
    return jsonify({"items": [run_for_reader(i, who) for i in items], "next_cursor": next_cursor})


@bp.get("/runs/<rid:run_id>")
def show_run(run_id: int) -> Any:
    run = service.get_run(services(), run_id)
    if not principal().is_admin:
        try:
            _check_record_access(run["object"], run["record_id"])
        except NotFound:
            raise NotFound(f"run {run_id} does not exist", [Problem("id", "not_found", str(run_id))]) from None
    return jsonify(run_for_reader(run, principal()))


@bp.post("/runs/<rid:run_id>/retry")
@admin_only
def retry_run(run_id: int) -> Any:
    return jsonify(run_for_reader(service.retry_run(services(), run_id), principal()))


@bp.post("/runs/<rid:run_id>/cancel")
@admin_only
def cancel_run(run_id: int) -> Any:
    return jsonify(run_for_reader(service.cancel_run(services(), run_id), principal()))


@bp.get("/notifications")
def notifications() -> Any:
    from .jsonio import bool_arg

    who = principal()
    return jsonify(service.list_notifications(services(), who.id, unread=bool_arg("unread"),
                                              limit=int_arg("limit", 50, 1, 500),
                                              before_id=int_arg("before", 0, 0, 2**62) or None))


@bp.post("/notifications/read")
def read_notifications() -> Any:
    """Mark notifications read: `{"ids": [1, 2]}`, or `{}` for all of them."""
    body = json_body()
    ids = body.get("ids")
    if ids is not None and (not isinstance(ids, list) or len(ids) > 1000 or
                            not all(isinstance(i, int) and not isinstance(i, bool) for i in ids)):
        raise ValidationError("ids must be a list of notification ids", [Problem("ids", "type", "list of integers")])
    return jsonify({"marked": service.mark_read(services(), principal().id, ids)})


@bp.post("/notifications/<rid:notification_id>/read")
def read_notification(notification_id: int) -> Any:
    return jsonify({"marked": service.mark_read(services(), principal().id, [notification_id])})
