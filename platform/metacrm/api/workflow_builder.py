"""The workflow builder's endpoints: the node palette, drafts, validation, publishing, archiving.

All of them are for administrators. `GET /workflow-steps` lists every node kind the engine runs
with its JSON schema (the editor renders each node's form from it). Drafts are saved even with
problems; publishing refuses any problem with 422 `invalid_workflow` naming the node.
"""

from __future__ import annotations

import contextlib
from typing import Any

from flask import Blueprint, jsonify

from ..errors import NotFound, Problem, ValidationError
from ..flows import drafts, publish
from ..flows.steps import STEP_TYPES
from ..meta.secrets import masked, restore
from .context import admin_only, principal, services
from .jsonio import json_body

bp = Blueprint("workflow_builder", __name__)

COMMON_KEYS = {"label": {"type": "object", "properties": {"en": {"type": "string"}, "zh": {"type": "string"}}},
               "next": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,63}$"},
               "retry": {"type": "object", "properties": {"max_attempts": {"type": "integer", "minimum": 1, "maximum": 20},
                                                         "backoff_seconds": {"type": "number", "minimum": 0}}}}


def _definition(body: dict[str, Any], required: bool = True) -> dict[str, Any] | None:
    doc = body.get("definition")
    if doc is None and not required:
        return None
    if not isinstance(doc, dict):
        raise ValidationError("definition must be a JSON object", [Problem("definition", "type", "object")])
    return doc


@bp.get("/workflow-steps")
@admin_only
def workflow_steps() -> Any:
    items = [{"name": t.name, "kind": t.kind, "label": dict(t.label or {"en": t.name, "zh": t.name}),
              "schema": t.schema, "common": COMMON_KEYS, "side_effects": t.effect != "none",
              "effect": t.effect, "is_wait": t.is_wait}
             for t in sorted(STEP_TYPES.values(), key=lambda t: (t.kind != "action", t.kind, t.name))]
    return jsonify(items)


@bp.get("/workflow-triggers")
@admin_only
def workflow_triggers() -> Any:
    """The graph's trigger node: its types and JSON schema (`trigger` of the workflow meta-schema,
    references bundled), and the enrollment options that go with it. Its one exit is the workflow's
    `start` (default the first step); problems of the trigger are reported on node `trigger`."""
    from ..meta.kinds import meta_schema

    schema = meta_schema("workflow")
    trigger = schema["$defs"]["trigger"]
    return jsonify({"node": "trigger", "kind": "trigger", "types": trigger["properties"]["type"]["enum"],
                    "schema": {**trigger, "$defs": schema["$defs"]},
                    "enrollment": schema["properties"]["enrollment"], "goal": schema["properties"]["goal"],
                    "exit": "start"})


@bp.get("/workflows/<name>/draft")
@admin_only
def get_draft(name: str) -> Any:
    return jsonify(_shown(drafts.get_draft(services(), name)))


def _shown(draft: dict[str, Any]) -> dict[str, Any]:
    """A draft with its secrets masked (meta.secrets): never returned, kept when saved back."""
    return {**draft, "definition": masked(draft.get("definition"))} if "definition" in draft else draft


@bp.put("/workflows/<name>/draft")
@admin_only
def put_draft(name: str) -> Any:
    who = principal()
    doc = _definition(json_body())
    assert doc is not None
    with contextlib.suppress(NotFound):  # '***' keeps the secret of the draft (or version) it was read from
        doc, _ = restore(doc, drafts.get_draft(services(), name)["definition"])
    return jsonify(_shown(drafts.save_draft(services(), name, doc, who.id)))


@bp.post("/workflows/<name>/validate")
@admin_only
def validate(name: str) -> Any:
    doc = _definition(json_body())
    return jsonify({"problems": drafts.problems(services(), name, drafts.normalised(name, doc))})


@bp.post("/workflows/<name>/publish")
@admin_only
def publish_workflow(name: str) -> Any:
    who = principal()
    body = json_body()
    policy = body.get("policy", "continue")
    if not isinstance(policy, str):
        raise ValidationError("policy must be continue, move or cancel", [Problem("policy", "enum", "continue, move, cancel")])
    return jsonify(publish.publish(services(), name, policy, who.id, _definition(body, required=False)))


@bp.post("/workflows/<name>/archive")
@admin_only
def archive(name: str) -> Any:
    who = principal()
    return jsonify(publish.archive(services(), name, who.id))


@bp.post("/workflows/<name>/disable")
@admin_only
def disable(name: str) -> Any:
    """Body {"waiting": "finish" | "exit"}: let waiting runs finish (default) or exit them now."""
    who = principal()
    waiting = json_body().get("waiting", "finish")
    return jsonify(publish.set_enabled(services(), name, False, str(waiting), who.id))


@bp.post("/workflows/<name>/enable")
@admin_only
def enable(name: str) -> Any:
    who = principal()
    return jsonify(publish.set_enabled(services(), name, True, actor_id=who.id))


@bp.get("/workflows/<name>/split-stats")
@admin_only
def split_stats(name: str) -> Any:
    """Runs and conversions (goal reached) per arm of each split node."""
    from ..flows.debugger import split_stats as stats

    return jsonify(stats(services(), name))
