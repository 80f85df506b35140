"""OpenAPI paths of the sales API: pipelines (api/pipelines.py) and assignment (api/assignment.py)."""

from __future__ import annotations

from typing import Any

from .assignment import ASSIGN, EXPLAIN
from .openapi_records import ok, operation
from .pipelines import ID, MAX_CARDS, MOVE, ORDER
from .pools import CLAIM, RELEASE

LABEL = {"type": "object", "additionalProperties": {"type": "string"}}
MONEY = {"type": ["string", "null"], "description": "A decimal as a string; null when you may not see amounts."}
STAGE = {"type": "object", "required": ["key", "label", "kind"], "properties": {
    "key": {"type": "string"}, "label": LABEL, "kind": {"enum": ["open", "won", "lost"]},
    "default_probability": {"type": ["integer", "null"]}, "forecast": {"enum": ["pipeline", "best_case", "commit"]},
    "required_fields": {"type": "array", "items": {"type": "string"}}, "has_entry_rule": {"type": "boolean"}}}
PIPELINE = {"type": "object", "required": ["name", "object", "stage_field", "stages"], "properties": {
    "name": {"type": "string"}, "label": LABEL, "object": {"type": "string"}, "stage_field": {"type": "string"},
    "amount_field": {"type": ["string", "null"]}, "probability_field": {"type": ["string", "null"]},
    "close_date_field": {"type": ["string", "null"]}, "lost_reason_field": {"type": ["string", "null"]},
    "chosen_by": {"type": ["object", "null"]}, "stages": {"type": "array", "items": STAGE},
    "transitions": {"type": ["object", "null"]}}}
COLUMN = {"type": "object", "required": ["stage", "kind", "count", "amount", "weighted"], "properties": {
    "stage": {"type": "string"}, "label": LABEL, "kind": {"type": "string"},
    "default_probability": {"type": ["integer", "null"]},
    "required_fields": {"type": "array", "items": {"type": "string"},
                        "description": "Fields a drop on this column must send with the move."},
    "count": {"type": "integer"}, "amount": MONEY, "weighted": MONEY,
    "cards": {"type": "array", "items": {"type": "object"}}}}
FUNNEL_STAGE = {"type": "object", "required": ["stage", "rank", "count", "drop_off_pct"], "properties": {
    "stage": {"type": "string"}, "label": LABEL, "kind": {"type": "string"}, "rank": {"type": "integer"},
    "count": {"type": "integer", "description": "Records whose highest stage reached is this one or later."},
    "drop_off_pct": {"type": ["number", "null"]}}}
MONTH = {"type": "object", "required": ["month", "won", "weighted_open", "forecast", "commit", "best_case"],
         "properties": {k: {"type": "string"} for k in ("month", "won", "weighted_open", "forecast", "commit",
                                                         "best_case", "open_amount")}}
SNAPSHOT = {**MONTH, "required": ["week", *MONTH["required"]],
            "properties": {**MONTH["properties"], "week": {"type": "string", "format": "date"}}}
HISTORY = {"type": "object", "required": ["id", "pipeline", "to_stage", "at"], "properties": {
    "id": {"type": "integer"}, "object": {"type": "string"}, "record_id": {"type": "integer"},
    "pipeline": {"type": "string"}, "from_stage": {"type": ["string", "null"]}, "to_stage": {"type": "string"},
    "to_rank": {"type": "integer"}, "at": {"type": "string", "format": "date-time"},
    "actor_id": {"type": ["integer", "null"]}, "amount": MONEY, "probability": {"type": ["integer", "null"]}}}
USER_REF = {"type": ["object", "null"], "properties": {"id": {"type": "integer"}, "username": {"type": ["string", "null"]}}}
DECISION = {"type": "object", "required": ["entry", "owner", "skipped"], "properties": {
    "entry": {"type": ["integer", "null"]}, "entry_name": {"type": ["string", "null"]},
    "strategy": {"type": ["string", "null"]}, "territory": {"type": ["string", "null"]},
    "position": {"type": ["integer", "null"]}, "owner": USER_REF,
    "skipped": {"type": "array", "items": {"type": "object", "required": ["user_id", "reason"], "properties": {
        "user_id": {"type": "integer"}, "username": {"type": ["string", "null"]},
        "reason": {"enum": ["not_a_working_day", "out_of_office", "capacity_reached"]}}}},
    "fallback": {"type": ["string", "null"]}, "pool": {"type": ["string", "null"]}}}


QUOTA = {"type": "object", "required": ["held", "claimed_today"], "properties": {
    "held": {"type": "integer"}, "hold_limit": {"type": ["integer", "null"]}, "hold_left": {"type": ["integer", "null"]},
    "claimed_today": {"type": "integer"}, "daily_claim_cap": {"type": ["integer", "null"]},
    "claims_left_today": {"type": ["integer", "null"]}, "resets_at": {"type": ["string", "null"]}}}
POOL_WRITE = {"type": "object", "required": ["record", "quota"], "properties": {"record": {"type": "object"},
                                                                                "quota": QUOTA}}


def _name() -> dict[str, Any]:
    return {"name": "name", "in": "path", "required": True, "schema": {"type": "string", "minLength": 1,
                                                                       "maxLength": 200}}


def _items(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": item}}}


def sales_paths() -> dict[str, Any]:
    name = _name()
    return {
        "/pipelines": {"get": operation("list_pipelines", "pipelines", "Pipelines of objects I may read",
                                        ok("Pipelines", _items(PIPELINE)), (401,))},
        "/pipelines/{name}/board": {"get": operation(
            "pipeline_board", "pipelines", "Kanban columns: count, Σ amount, weighted Σ and the first cards",
            ok("Board", {"type": "object", "required": ["pipeline", "columns"], "properties": {
                "pipeline": PIPELINE, "columns": {"type": "array", "items": COLUMN}}}),
            (400, 401, 403, 404), params=[name, {"name": "limit", "in": "query", "schema": {
                "type": "integer", "minimum": 1, "maximum": MAX_CARDS}}])},
        "/pipelines/{name}/board/order": {"put": operation(
            "pipeline_card_order", "pipelines", "Save a column's card order",
            ok("Saved", {"type": "object", "required": ["record_ids"], "properties": {
                "pipeline": {"type": "string"}, "record_ids": {"type": "array", "items": ID}}}),
            (400, 401, 403, 404, 415, 422), ORDER, params=[name])},
        "/pipelines/{name}/move": {"post": operation(
            "pipeline_move", "pipelines",
            "Move a card: stage, the fields it needs and the column order in one save "
            "(422 {field, code: required_for_stage|entry_rule|transition_not_allowed, stage} when refused)",
            ok("Moved", {"type": "object", "required": ["record", "columns"], "properties": {
                "record": {"type": "object"}, "columns": {"type": "array", "items": COLUMN}}}),
            (400, 401, 403, 404, 409, 415, 422), MOVE, params=[name])},
        "/pipelines/{name}/funnel": {"get": operation(
            "pipeline_funnel", "pipelines", "Funnel by highest stage reached, with drop-off %",
            ok("Funnel", {"type": "object", "required": ["stages"], "properties": {
                "pipeline": {"type": "string"}, "stages": {"type": "array", "items": FUNNEL_STAGE}}}),
            (401, 403, 404), params=[name])},
        "/pipelines/{name}/forecast": {"get": operation(
            "pipeline_forecast", "pipelines", "Forecast by month of expected close (weighted, commit, best case)",
            ok("Forecast", {"type": "object", "required": ["months"], "properties": {
                "pipeline": {"type": "string"}, "months": {"type": "array", "items": MONTH}}}),
            (401, 403, 404), params=[name])},
        "/pipelines/{name}/forecast/snapshots": {"get": operation(
            "pipeline_forecast_snapshots", "pipelines", "Weekly forecast snapshots (callers who see every record)",
            ok("Snapshots", {"type": "object", "required": ["items"], "properties": {
                "pipeline": {"type": "string"}, "items": {"type": "array", "items": SNAPSHOT}}}),
            (401, 403, 404), params=[name])},
        "/stage-history/{object}/{record_id}": {"get": operation(
            "stage_history", "pipelines", "A record's stage moves, oldest first", ok("History", _items(HISTORY)),
            (401, 403, 404), params=[
                {"name": "object", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 200}},
                {"name": "record_id", "in": "path", "required": True, "schema": ID}])},
        "/pools": {"get": operation("list_pools", "pools", "Lead pools I may browse, with my quota",
                                    ok("Pools", _items({"type": "object", "properties": {"quota": QUOTA}})), (401,))},
        "/pools/{name}/records": {"get": operation(
            "pool_records", "pools", "Unowned records of the pool, newest first",
            ok("Records", {"type": "object", "required": ["items", "quota"], "properties": {
                "items": {"type": "array", "items": {"type": "object"}}, "next_before": {"type": ["integer", "null"]},
                "quota": QUOTA}}),
            (400, 401, 403, 404), params=[name, {"name": "limit", "in": "query", "schema": {
                "type": "integer", "minimum": 1, "maximum": 500}}, {"name": "before", "in": "query", "schema": ID}])},
        "/pools/{name}/quota": {"get": operation("pool_quota", "pools", "My holds and claims left today",
                                                 ok("Quota", QUOTA), (401, 403, 404), params=[name])},
        "/pools/{name}/claim": {"post": operation(
            "pool_claim", "pools", "Claim a record (409 already_claimed, or limit_reached with the limit and reset)",
            ok("Claimed", POOL_WRITE), (400, 401, 403, 404, 409, 415, 422), CLAIM, params=[name])},
        "/pools/{name}/release": {"post": operation(
            "pool_release", "pools", "Put a record back in the pool, with a reason",
            ok("Released", POOL_WRITE), (400, 401, 403, 404, 409, 415, 422), RELEASE, params=[name])},
        "/assignment": {"get": operation("list_assignments", "assignment", "Assignment definitions of objects I read",
                                         ok("Assignments", _items({"type": "object"})), (401,))},
        "/assignment/{name}/explain": {"post": operation(
            "assignment_explain", "assignment", "Which entry matches, who is skipped and why, who gets it (dry run)",
            ok("Explanation", {**DECISION, "properties": {**DECISION["properties"], "assignment": {"type": "string"},
                                                          "object": {"type": "string"},
                                                          "matched": {"type": "boolean"},
                                                          "entry_strategy": {"type": ["string", "null"]}}}),
            (400, 401, 403, 404, 415, 422), EXPLAIN, params=[name])},
        "/assignment/{name}/assign": {"post": operation(
            "assignment_assign", "assignment", "Give a record to whoever the rules pick now",
            ok("Assigned", {"type": "object", "required": ["record", "decision"], "properties": {
                "record": {"type": "object"}, "decision": DECISION}}),
            (400, 401, 403, 404, 409, 415, 422), ASSIGN, params=[name])},
    }
