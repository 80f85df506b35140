"""OpenAPI paths of the workflow API (api/workflows.py): runs, manual starts, notifications."""

from __future__ import annotations

from typing import Any

from ..flows.tables import RunStatus
from .openapi_records import ok, operation

ID = {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
STEP = {"type": "object", "required": ["id", "step", "type", "status", "attempts"], "properties": {
    "id": ID, "run_id": ID, "step": {"type": "string"}, "type": {"type": "string"}, "seq": {"type": "integer"},
    "status": {"enum": ["ready", "running", "done", "failed", "cancelled"]}, "attempts": {"type": "integer"},
    "due_at": {"type": "string"}, "started_at": {"type": ["string", "null"]},
    "finished_at": {"type": ["string", "null"]}, "output": {}, "error": {}}}
RUN = {"type": "object", "required": ["id", "workflow", "status"], "properties": {
    "id": ID, "workflow": {"type": "string"}, "version": {"type": "integer"}, "object": {"type": "string"},
    "record_id": {"type": ["integer", "null"]}, "status": {"enum": list(RunStatus.ALL)},
    "trigger": {"type": "string"}, "depth": {"type": "integer"}, "parent_run_id": {"type": ["integer", "null"]},
    "steps_done": {"type": "integer"}, "error": {}, "context": {}, "created_at": {"type": "string"},
    "finished_at": {"type": ["string", "null"]}, "steps": {"type": "array", "items": STEP}}}
NOTIFICATION = {"type": "object", "required": ["id", "title"], "properties": {
    "id": ID, "title": {"type": "string"}, "body": {"type": "string"}, "object": {"type": ["string", "null"]},
    "record_id": {"type": ["integer", "null"]}, "run_id": {"type": ["integer", "null"]},
    "created_at": {"type": "string"}, "read_at": {"type": ["string", "null"]}}}


def _query(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema}


def _op(op_id: str, summary: str, response: dict[str, Any], errors: tuple[int, ...],
        body: dict[str, Any] | None = None, params: list[dict[str, Any]] | None = None,
        status: str = "200", tag: str = "workflows") -> dict[str, Any]:
    return operation(op_id, tag, summary, response, errors, body, params, status=status)


def workflow_paths() -> dict[str, Any]:
    run_id = {"name": "run_id", "in": "path", "required": True, "schema": ID}
    page = {"type": "object", "required": ["items"], "properties": {
        "items": {"type": "array", "items": RUN}, "next_cursor": {"type": ["string", "null"]}}}
    return {
        "/workflows": {"get": _op("list_workflows", "Workflows with run counts per status (admins)",
                                  ok("Workflows", {"type": "object", "properties": {"items": {"type": "array"}}}),
                                  (401, 403))},
        "/workflows/{name}/start": {"post": _op(
            "start_workflow", "Start a workflow on a record (a key makes repeated starts one run)",
            ok("Started", RUN), (400, 401, 403, 404, 409, 415, 422),
            {"type": "object", "properties": {"record_id": ID, "key": {"type": "string", "maxLength": 200}}},
            [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}], status="202")},
        "/runs": {"get": _op(
            "list_runs", "Runs, newest first (non-admins: give object and record_id)", ok("Runs", page),
            (400, 401, 403, 404), params=[
                _query("workflow", {"type": "string"}), _query("status", {"enum": list(RunStatus.ALL)}),
                _query("object", {"type": "string"}), _query("record_id", ID),
                _query("limit", {"type": "integer", "minimum": 1, "maximum": 500}), _query("before", ID)])},
        "/runs/{run_id}": {"get": _op("get_run", "A run with its step executions", ok("Run", RUN),
                                      (401, 403, 404), params=[run_id])},
        "/runs/{run_id}/retry": {"post": _op("retry_run", "Retry a failed run from its failed step (admins)",
                                             ok("Run", RUN), (401, 403, 404, 409), params=[run_id])},
        "/runs/{run_id}/cancel": {"post": _op("cancel_run", "Cancel a running or waiting run (admins)",
                                              ok("Run", RUN), (401, 403, 404, 409), params=[run_id])},
        "/notifications": {"get": _op(
            "list_notifications", "My notifications, newest first, and how many are unread",
            ok("Notifications", {"type": "object", "required": ["items", "unread"], "properties": {
                "items": {"type": "array", "items": NOTIFICATION}, "unread": {"type": "integer"}}}),
            (400, 401), params=[_query("unread", {"type": "boolean"}),
                                _query("limit", {"type": "integer", "minimum": 1, "maximum": 500}),
                                _query("before", ID)], tag="notifications")},
        "/notifications/read": {"post": _op(
            "read_notifications", "Mark my notifications read (all of them without ids)",
            ok("Marked", {"type": "object", "properties": {"marked": {"type": "integer"}}}), (400, 401, 415, 422),
            {"type": "object", "properties": {"ids": {"type": "array", "items": ID, "maxItems": 1000}}},
            tag="notifications")},
        "/notifications/{notification_id}/read": {"post": _op(
            "read_notification", "Mark one of my notifications read",
            ok("Marked", {"type": "object", "properties": {"marked": {"type": "integer"}}}), (401,),
            params=[{"name": "notification_id", "in": "path", "required": True, "schema": ID}],
            tag="notifications")},
    }
