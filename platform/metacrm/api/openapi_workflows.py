"""OpenAPI paths of the workflow API: runs, manual starts, notifications (api/workflows.py), the
builder (api/workflow_builder.py), run control and inbound hooks (api/workflow_runs.py)."""

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


SUMMARY = {"type": "object", "required": ["name", "state", "draft"], "properties": {
    "name": {"type": "string"}, "label": {}, "object": {"type": ["string", "null"]}, "trigger": {},
    "enabled": {"type": "boolean"}, "archived": {"type": "boolean"}, "steps": {"type": "integer"},
    "runs": {"type": "object", "additionalProperties": {"type": "integer"}},
    "state": {"enum": ["draft", "published", "changed"]}, "draft": {"type": "boolean"},
    "published_version": {"type": ["integer", "null"]}, "draft_updated_at": {"type": ["string", "null"]}}}
ANY_OBJECT: dict[str, Any] = {"type": "object"}
NAME = {"name": "name", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 64}}


def _query(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema}


def _op(op_id: str, summary: str, response: dict[str, Any], errors: tuple[int, ...],
        body: dict[str, Any] | None = None, params: list[dict[str, Any]] | None = None,
        status: str = "200", tag: str = "workflows", public: bool = False) -> dict[str, Any]:
    return operation(op_id, tag, summary, response, errors, body, params, status=status, public=public)


def workflow_paths() -> dict[str, Any]:
    run_id = {"name": "run_id", "in": "path", "required": True, "schema": ID}
    page = {"type": "object", "required": ["items"], "properties": {
        "items": {"type": "array", "items": RUN}, "next_cursor": {"type": ["string", "null"]}}}
    return {
        "/workflows": {"get": _op(
            "list_workflows", "Published workflows and drafts with their state and run counts per status (admins)",
            ok("Workflows", {"type": "object", "required": ["items"], "properties": {
                "items": {"type": "array", "items": SUMMARY}}}), (400, 401, 403),
            params=[_query("archived", {"type": "boolean"})])},
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
        **builder_paths(), **run_control_paths(), **suppression_paths(),
    }


DRAFT_PROBLEM = {"type": "object", "properties": {"node": {"type": "string"}, "code": {"type": "string"},
                                                 "message": {"type": "string"}, "pointer": {"type": "string"}}}


def builder_paths() -> dict[str, Any]:
    """api/workflow_builder.py: the palette, drafts, validation, publishing, archive, enable/disable."""
    definition = {"type": "object", "required": ["definition"], "properties": {"definition": ANY_OBJECT}}
    draft = {"type": "object", "required": ["name", "definition", "draft"], "properties": {
        "name": {"type": "string"}, "definition": ANY_OBJECT, "draft": {"type": "boolean"},
        "published_version": {"type": ["integer", "null"]}, "problems": {"type": "array", "items": DRAFT_PROBLEM}}}
    problems = {"type": "object", "required": ["problems"], "properties": {"problems": {"type": "array",
                                                                                      "items": DRAFT_PROBLEM}}}
    return {
        "/workflow-steps": {"get": _op("list_workflow_steps", "Every node kind with its JSON schema (the palette; admins)",
                                       ok("Node kinds", {"type": "array", "items": ANY_OBJECT}), (401, 403))},
        "/workflow-triggers": {"get": _op(
            "workflow_trigger_node", "The trigger node: its types and JSON schema, enrollment and goal (admins)",
            ok("Trigger node", {"type": "object", "required": ["node", "types", "schema"], "properties": {
                "node": {"type": "string"}, "kind": {"type": "string"}, "types": {"type": "array", "items": {"type": "string"}},
                "schema": ANY_OBJECT, "enrollment": ANY_OBJECT, "goal": ANY_OBJECT, "exit": {"type": "string"}}}),
            (401, 403))},
        "/workflows/{name}/draft": {
            "get": _op("get_workflow_draft", "The draft, or the published definition when there is none (admins)",
                       ok("Draft", draft), (401, 403, 404), params=[NAME]),
            "put": _op("save_workflow_draft", "Save the draft, even with problems; secrets shown as *** are kept",
                       ok("Draft with its problems", draft), (400, 401, 403, 415, 422), definition, [NAME])},
        "/workflows/{name}/validate": {"post": _op(
            "validate_workflow", "Every problem of a definition, per node (nothing is saved)", ok("Problems", problems),
            (400, 401, 403, 415, 422), definition, [NAME])},
        "/workflows/{name}/publish": {"post": _op(
            "publish_workflow", "Publish the draft (or the given definition) as a new version; policy for older runs",
            ok("Published", {"type": "object", "required": ["version", "policy"], "properties": {
                "version": {"type": "integer"}, "policy": {"enum": ["continue", "move", "cancel"]},
                "continued": {"type": "integer"}, "moved": {"type": "integer"}, "cancelled": {"type": "integer"},
                "stayed": {"type": "array", "items": ID}}}),
            (400, 401, 403, 404, 415, 422),
            {"type": "object", "properties": {"policy": {"enum": ["continue", "move", "cancel"]},
                                              "definition": ANY_OBJECT}}, [NAME])},
        "/workflows/{name}/archive": {"post": _op(
            "archive_workflow", "Archive: starts nothing more; runs are kept (admins)",
            ok("Archived", {"type": "object", "properties": {"archived": {"type": "boolean"},
                                                              "version": {"type": "integer"}}}),
            (401, 403, 404, 422), params=[NAME])},
        "/workflows/{name}/disable": {"post": _op(
            "disable_workflow", "Disable; waiting runs finish (default) or exit now", ok("Disabled", ANY_OBJECT),
            (400, 401, 403, 404, 415, 422),
            {"type": "object", "properties": {"waiting": {"enum": ["finish", "exit"]}}}, [NAME])},
        "/workflows/{name}/enable": {"post": _op("enable_workflow", "Enable a disabled workflow (admins)",
                                                 ok("Enabled", ANY_OBJECT), (401, 403, 404, 409, 422), params=[NAME])},
        "/workflows/{name}/split-stats": {"get": _op(
            "workflow_split_stats", "Runs and conversions per arm of each split node (admins)",
            ok("Per arm", ANY_OBJECT), (401, 403, 404), params=[NAME])},
        "/workflows/{name}/test-node": {"post": _op(
            "test_workflow_node", "Run one node on a record, rolled back, nothing sent (admins)",
            ok("What the node did", ANY_OBJECT), (400, 401, 403, 404, 415, 422),
            {"type": "object", "required": ["node"], "properties": {
                "node": {"type": "string"}, "record_id": ID, "definition": ANY_OBJECT}}, [NAME])},
        "/workflows/{name}/hook-secret": {"post": _op(
            "workflow_hook_secret", "The inbound webhook's path and signing secret (an admin action, never a read)",
            ok("Hook", {"type": "object", "properties": {"path": {"type": "string"}, "secret": {"type": "string"},
                                                         "signature": {"type": "string"}}}),
            (401, 403), params=[NAME])},
    }


def run_control_paths() -> dict[str, Any]:
    """api/workflow_runs.py: re-run, close, retry pinned/latest, bulk control, events, the inbound hook."""
    run_id = {"name": "run_id", "in": "path", "required": True, "schema": ID}
    filters = {"workflow": {"type": "string"}, "status": {"enum": list(RunStatus.ALL)},
               "error_code": {"type": "string"}, "since": {"type": "string", "format": "date-time"},
               "until": {"type": "string", "format": "date-time"}}
    return {
        "/runs/{run_id}/rerun": {"post": _op(
            "rerun_run", "A new run from a node with the original run's data (side effects need confirming)",
            ok("New run", ANY_OBJECT), (400, 401, 403, 404, 409, 415, 422),
            {"type": "object", "required": ["from_node"], "properties": {
                "from_node": {"type": "string"}, "confirm_side_effects": {"type": "boolean"}}},
            [run_id], status="201")},
        "/runs/{run_id}/close": {"post": _op("close_run", "Close a failed run (admins)", ok("Run", RUN),
                                             (401, 403, 404, 409), params=[run_id])},
        "/runs/{run_id}/retry-on": {"post": _op(
            "retry_run_on", "Retry a failed run on its pinned version or the latest published one",
            ok("Run", ANY_OBJECT), (400, 401, 403, 404, 409, 415, 422),
            {"type": "object", "properties": {"on": {"enum": ["pinned", "latest"]}}}, [run_id])},
        "/runs/bulk": {"post": _op(
            "bulk_runs", "Retry, cancel or close every run matching a filter (admins)",
            ok("Outcome", {"type": "object", "properties": {"action": {"type": "string"}, "matched": {"type": "integer"},
                                                            "done": {"type": "integer"}, "skipped": {"type": "array", "items": {
                "type": "object", "properties": {"id": {"type": "integer"}, "code": {"type": "string"},
                                                 "message": {"type": "string"}}}}}}),
            (400, 401, 403, 415, 422),
            {"type": "object", "required": ["action"], "properties": {
                "action": {"enum": ["retry", "cancel", "close"]}, "on": {"enum": ["pinned", "latest"]}, **filters}})},
        "/workflow-events": {"post": _op(
            "deliver_workflow_event", "Wake a record's runs waiting for an event (users who may update the record)",
            ok("Woken runs", {"type": "object", "properties": {"event": {"type": "string"}, "woken": {"type": "array", "items": {"type": "integer"}}}}),
            (400, 401, 403, 404, 415, 422),
            {"type": "object", "required": ["object", "record_id", "event"], "properties": {
                "object": {"type": "string"}, "record_id": ID, "event": {"type": "string"}}})},
        "/hooks/workflows/{name}": {"post": _op(
            "workflow_inbound_hook", "A workflow's signed inbound webhook (X-MetaCRM-Timestamp, X-MetaCRM-Signature)",
            ok("Started or woken", ANY_OBJECT), (400, 403, 409, 415, 422),
            {"type": "object", "properties": {"record_id": ID, "key": {"type": "string", "maxLength": 150},
                                              "event": {"type": "string"}}},
            [NAME, {"name": "X-MetaCRM-Timestamp", "in": "header", "required": True, "schema": {"type": "string"}},
             {"name": "X-MetaCRM-Signature", "in": "header", "required": True, "schema": {"type": "string"}}],
            status="202", public=True)},
    }


def suppression_paths() -> dict[str, Any]:
    """api/suppressions.py: the suppression list (admins) and the signed bounce callback."""
    channel = {"enum": ["email", "sms", "wechat"]}
    entry = {"type": "object", "required": ["channel", "address", "reason"], "properties": {
        "channel": {"type": "string"}, "address": {"type": "string"}, "reason": {"type": "string"},
        "detail": {"type": ["string", "null"]}, "created_at": {"type": "string"}}}
    reasons = {"enum": ["unsubscribe", "bounce", "complaint", "manual"]}
    event = {"type": "object", "required": ["address", "type"], "properties": {
        "address": {"type": "string", "maxLength": 320}, "type": {"enum": ["bounce", "complaint"]},
        "detail": {"type": "string"}}}
    return {
        "/suppressions": {
            "get": _op("list_suppressions", "Addresses no workflow message goes to, by channel and address (admins)",
                       ok("Suppressed addresses", {"type": "object", "required": ["items"], "properties": {
                           "items": {"type": "array", "items": entry}, "next_cursor": {"type": ["string", "null"]}}}),
                       (400, 401, 403, 422), params=[
                           _query("channel", channel), _query("reason", reasons), _query("q", {"type": "string"}),
                           _query("limit", {"type": "integer", "minimum": 1, "maximum": 1000}),
                           _query("cursor", {"type": "string"})], tag="suppressions"),
            "post": _op("add_suppression", "Suppress an address (reason manual by default; admins)",
                        ok("Suppressed", ANY_OBJECT), (400, 401, 403, 415, 422),
                        {"type": "object", "required": ["channel", "address"], "properties": {
                            "channel": channel, "address": {"type": "string", "maxLength": 320}, "reason": reasons}},
                        status="201", tag="suppressions")},
        "/suppressions/{channel}/{address}": {"delete": _op(
            "remove_suppression", "Take an address off the list: later messages go to it again (admins)",
            ok("Removed", ANY_OBJECT), (401, 403, 404, 422), params=[
                {"name": "channel", "in": "path", "required": True, "schema": {"type": "string"}},
                {"name": "address", "in": "path", "required": True, "schema": {"type": "string"}}],
            tag="suppressions")},
        "/suppressions/hook-secret": {"post": _op(
            "bounce_hook_secret", "The bounce callback's path and signing secret for a channel (an admin action)",
            ok("Hook", {"type": "object", "properties": {"path": {"type": "string"}, "secret": {"type": "string"},
                                                         "signature": {"type": "string"}}}),
            (400, 401, 403, 415, 422), {"type": "object", "required": ["channel"], "properties": {"channel": channel}},
            tag="suppressions")},
        "/hooks/bounces/{channel}": {"post": _op(
            "report_bounces", "A provider reports bounces and complaints (signed like a workflow's inbound webhook)",
            ok("Recorded", {"type": "object", "properties": {"channel": {"type": "string"},
                                                             "received": {"type": "integer"},
                                                             "added": {"type": "integer"}}}),
            (400, 403, 415, 422),
            {"type": "object", "properties": {"events": {"type": "array", "items": event, "maxItems": 1000}}},
            [{"name": "channel", "in": "path", "required": True, "schema": channel},
             {"name": "X-MetaCRM-Timestamp", "in": "header", "required": True, "schema": {"type": "string"}},
             {"name": "X-MetaCRM-Signature", "in": "header", "required": True, "schema": {"type": "string"}}],
            status="202", tag="suppressions", public=True)},
    }
