"""The builder's API: palette, drafts apart from published versions, validation naming nodes, publish, archive."""

from __future__ import annotations

import json
from typing import Any

import pytest

from metacrm.api.app import create_app
from metacrm.auth import accounts
from metacrm.auth.tokens import create_token
from metacrm.flows.executor import shutdown
from metacrm.store.users import ensure_user

FLOW = {
    "name": "score_route", "object": "lead", "trigger": {"type": "record_created"},
    "steps": [
        {"id": "check", "type": "if", "rule": {"field": "score", "op": "gt", "value": 50},
         "then": "assign", "else": "pause", "ui": {"x": 0, "y": 0}},
        {"id": "pause", "type": "wait", "duration": {"amount": 2, "unit": "day"}, "next": "assign"},
        {"id": "assign", "type": "update_record", "set": {"status": "contacted"}},
        {"id": "done", "type": "end"},
    ],
}


class Client:
    def __init__(self, app: Any, token: str) -> None:
        self.client, self.token = app.test_client(), token

    def call(self, method: str, path: str, body: Any = None) -> Any:
        return self.client.open("/api/v1" + path, method=method, data=None if body is None else json.dumps(body),
                                content_type="application/json", headers={"Authorization": f"Bearer {self.token}"})


@pytest.fixture
def api(standard_pack):
    app = create_app(standard_pack.settings, standard_pack)
    app.config["TESTING"] = True
    with standard_pack.engine.begin() as conn:
        uid = ensure_user(conn, "boss")
        accounts.set_admin(conn, uid, True)
        _, token = create_token(conn, uid, "test")
        plain = ensure_user(conn, "rep")
        _, rep_token = create_token(conn, plain, "test")
    yield Client(app, token), Client(app, rep_token)
    shutdown(standard_pack, 30)


def test_palette_lists_every_node_kind_with_its_schema(api):
    admin, rep = api
    items = admin.call("GET", "/workflow-steps").get_json()
    kinds = {i["kind"] for i in items}
    assert {"action", "if", "switch", "wait", "split", "foreach", "merge", "end"} <= kinds
    by_name = {i["name"]: i for i in items}
    assert by_name["webhook"]["side_effects"] is True and by_name["if"]["side_effects"] is False
    assert by_name["foreach"]["schema"]["properties"]["max"]["maximum"] >= 1
    assert by_name["if"]["label"]["zh"]
    assert rep.call("GET", "/workflow-steps").status_code == 403


def test_trigger_node_has_its_types_and_schema(api):
    from jsonschema import Draft202012Validator

    admin, rep = api
    node = admin.call("GET", "/workflow-triggers").get_json()
    assert node["node"] == "trigger" and {"record_created", "schedule", "webhook"} <= set(node["types"])
    check = Draft202012Validator(node["schema"])
    assert check.is_valid({"type": "schedule", "cron": "0 2 * * *", "rule": {"field": "score", "op": "gt", "value": 5}})
    assert not check.is_valid({"type": "record_created", "cron": "0 2 * * *"})  # cron belongs to schedules
    assert set(node["enrollment"]["properties"]["reenroll"]["enum"]) == {"never", "after_end", "always"}
    assert rep.call("GET", "/workflow-triggers").status_code == 403


def test_draft_is_saved_with_problems_and_apart_from_the_published_version(api, standard_pack):
    admin, _ = api
    broken = json.loads(json.dumps(FLOW))
    broken["steps"][0].pop("else")
    saved = admin.call("PUT", "/workflows/score_route/draft", {"definition": broken})
    assert saved.status_code == 200
    problems = saved.get_json()["problems"]
    assert any(p["node"] == "check" and p["code"] == "missing_branch" for p in problems)
    assert standard_pack.registry.current().definitions.get("workflow", "score_route") is None
    refused = admin.call("POST", "/workflows/score_route/publish", {"policy": "continue"})
    assert refused.status_code == 422
    body = refused.get_json()
    assert body["code"] == "invalid_workflow"
    assert any(e["field"] == "steps.check" and e["code"] == "missing_branch" for e in body["errors"]), body
    assert standard_pack.registry.current().definitions.get("workflow", "score_route") is None

    good = json.loads(json.dumps(FLOW))
    good["steps"][2]["next"] = "done"
    assert admin.call("PUT", "/workflows/score_route/draft", {"definition": good}).get_json()["problems"] == []
    published = admin.call("POST", "/workflows/score_route/publish", {"policy": "continue"})
    assert published.status_code == 200, published.get_json()
    version = published.get_json()["version"]
    assert version >= 1
    draft = admin.call("GET", "/workflows/score_route/draft").get_json()
    assert draft["draft"] is False and draft["published_version"] == version
    # a new draft does not change what runs
    good["steps"][2]["set"] = {"status": "qualified"}
    admin.call("PUT", "/workflows/score_route/draft", {"definition": good})
    live = standard_pack.registry.current().definitions.get("workflow", "score_route")
    assert live["steps"][2]["set"] == {"status": "contacted"}
    assert admin.call("GET", "/workflows/score_route/draft").get_json()["draft"] is True


def test_list_shows_drafts_with_their_state(api, standard_pack):
    admin, rep = api
    by_name = lambda: {w["name"]: w for w in admin.call("GET", "/workflows").get_json()["items"]}  # noqa: E731
    draft_only = {**FLOW, "name": "fresh_draft", "label": {"en": "Fresh"}}
    assert admin.call("PUT", "/workflows/fresh_draft/draft", {"definition": draft_only}).status_code == 200
    listed = by_name()
    assert listed["fresh_draft"]["state"] == "draft" and listed["fresh_draft"]["published_version"] is None
    assert listed["fresh_draft"]["object"] == "lead" and listed["fresh_draft"]["enabled"] is False
    good = json.loads(json.dumps(FLOW))
    good["steps"][2]["next"] = "done"
    version = admin.call("POST", "/workflows/score_route/publish", {"definition": good}).get_json()["version"]
    assert by_name()["score_route"]["state"] == "published" and by_name()["score_route"]["draft"] is False
    good["steps"][2]["set"] = {"status": "qualified"}
    admin.call("PUT", "/workflows/score_route/draft", {"definition": good})
    changed = by_name()["score_route"]
    assert changed["state"] == "changed" and changed["draft"] is True and changed["published_version"] == version
    admin.call("POST", "/workflows/score_route/publish", {})
    assert by_name()["score_route"]["state"] == "published"
    admin.call("POST", "/workflows/score_route/archive")
    assert "score_route" not in by_name()
    archived = {w["name"]: w for w in admin.call("GET", "/workflows?archived=true").get_json()["items"]}
    assert archived["score_route"]["archived"] is True
    assert admin.call("PUT", "/workflows/Bad-Name/draft", {"definition": {}}).status_code == 422
    assert rep.call("GET", "/workflows").status_code == 403


def test_openapi_documents_every_builder_and_run_route(api, standard_pack):
    admin, _ = api
    paths = admin.call("GET", "/openapi.json").get_json()["paths"]
    app = admin.client.application
    routes = {r.rule.removeprefix("/api/v1") for r in app.url_map.iter_rules()
              if r.endpoint.split(".")[0] in ("workflows", "workflow_builder", "workflow_runs")}
    documented = {p.replace("{run_id}", "<rid:run_id>").replace("{name}", "<name>")
                  .replace("{notification_id}", "<rid:notification_id>") for p in paths}
    assert routes and routes <= documented, sorted(routes - documented)


@pytest.mark.parametrize(("mutate", "node", "code"), [
    (lambda d: d["steps"][0]["rule"].update(field="no_such_field"), "check", "unknown_field"),
    (lambda d: d["steps"].append({"id": "lonely", "type": "end"}), "lonely", "unreachable_node"),
    (lambda d: d["steps"].insert(3, {"id": "each", "type": "foreach", "items": {"values": [1]}, "body": "each_do"}),
     "each", "foreach_without_max"),
    (lambda d: d["steps"][2].update(next="check"), "check", "cycle_without_wait"),
])
def test_validate_names_the_node_and_reason(api, mutate, node, code):
    admin, _ = api
    doc = json.loads(json.dumps(FLOW))
    mutate(doc)
    found = admin.call("POST", "/workflows/score_route/validate", {"definition": doc}).get_json()["problems"]
    assert any(p["node"] == node and p["code"] == code for p in found), found


def test_archive_keeps_runs_and_starts_nothing(api, standard_pack):
    admin, _ = api
    doc = json.loads(json.dumps(FLOW))
    doc["steps"][2]["next"] = "done"
    assert admin.call("POST", "/workflows/score_route/publish", {"definition": doc}).status_code == 200
    standard_pack.records.create("lead", {"name": "Ma", "score": 10})
    runs = admin.call("GET", "/runs?workflow=score_route").get_json()["items"]
    assert len(runs) == 1
    assert admin.call("POST", "/workflows/score_route/archive").get_json()["archived"] is True
    standard_pack.records.create("lead", {"name": "Niu", "score": 10})
    assert len(admin.call("GET", "/runs?workflow=score_route").get_json()["items"]) == 1


LOOP = {
    "name": "loop_demo", "object": "lead", "trigger": {"type": "manual"},
    "steps": [
        {"id": "check", "type": "if", "rule": {"all": [{"field": "score", "op": "gt", "value": 50},
                                                       {"field": "city", "op": "eq", "value": "shanghai"}]},
         "then": "each", "else": "each"},
        {"id": "each", "type": "foreach", "items": {"values": ["a", "b", "c"]}, "max": 2, "body": "note",
         "next": "mail"},
        {"id": "note", "type": "merge", "next": "each"},
        {"id": "mail", "type": "update_record", "set": {"status": "contacted"}, "next": "done"},
        {"id": "done", "type": "end"},
    ],
}


def _drain(svc):
    """Run due steps here until none is left, also waiting for the in-process executor's thread
    (it may hold a step this loop cannot claim)."""
    from metacrm.flows.executor import wait_idle
    from metacrm.flows.runner import run_due

    while True:
        while run_due(svc):
            pass
        assert wait_idle(svc, 20)
        if not run_due(svc):
            return


def test_debugger_shows_evaluation_iterations_and_reruns(api, standard_pack):
    admin, _ = api
    assert admin.call("POST", "/workflows/loop_demo/publish", {"definition": LOOP}).status_code == 200
    lead = standard_pack.records.create("lead", {"name": "Zhou", "score": 70, "city": "beijing"})
    started = admin.call("POST", "/workflows/loop_demo/start", {"record_id": lead["id"]})
    assert started.status_code == 202
    _drain(standard_pack)
    run = admin.call("GET", f"/runs/{started.get_json()['id']}").get_json()
    assert run["status"] == "completed" and run["version"] >= 1
    check = run["steps"][0]
    assert check["node"] == "check" and check["kind"] == "if"
    conditions = check["evaluation"]["conditions"]
    assert check["evaluation"]["result"] is False
    assert [(c["field"], c["actual"], c["result"]) for c in conditions] == [("score", 70, True), ("city", "beijing", False)]
    notes = [s for s in run["steps"] if s["node"] == "note"]
    assert [n["iteration"]["index"] for n in notes] == [0, 1]  # max 2 of 3 items
    foreach_last = [s for s in run["steps"] if s["node"] == "each"][-1]
    assert foreach_last["output"] == {"done": True, "count": 2, "truncated": True}
    assert [s["node"] for s in run["steps"]][-2:] == ["mail", "done"]

    refused = admin.call("POST", f"/runs/{run['id']}/rerun", {"from_node": "each"})
    assert refused.status_code == 409 and refused.get_json()["code"] == "confirm_side_effects"
    again = admin.call("POST", f"/runs/{run['id']}/rerun", {"from_node": "each", "confirm_side_effects": True})
    assert again.status_code == 201
    new_id = again.get_json()["run"]["id"]
    _drain(standard_pack)
    rerun = admin.call("GET", f"/runs/{new_id}").get_json()
    assert rerun["rerun_of"] == run["id"] and rerun["steps"][0]["node"] == "each" and rerun["status"] == "completed"
    assert admin.call("GET", f"/runs/{run['id']}").get_json()["reruns"] == [new_id]
    assert {r["id"] for r in admin.call("GET", f"/runs?workflow=loop_demo&version={run['version']}").get_json()["items"]} \
        == {run["id"], new_id}


def test_test_node_is_a_dry_run(api, standard_pack):
    admin, _ = api
    lead = standard_pack.records.create("lead", {"name": "Qian", "score": 10, "status": "new"})
    doc = json.loads(json.dumps(LOOP))
    doc["steps"].append({"id": "hook", "type": "webhook", "url": "http://127.0.0.1:9/never", "secret": "s3cretsecret"})
    out = admin.call("POST", "/workflows/loop_demo/test-node",
                     {"node": "mail", "record_id": lead["id"], "definition": doc}).get_json()
    assert out["dry_run"] is True and out["error"] is None and out["next"] == "done"
    assert standard_pack.records.get("lead", lead["id"])["status"] == "new"  # rolled back
    hook = admin.call("POST", "/workflows/loop_demo/test-node",
                      {"node": "hook", "record_id": lead["id"], "definition": doc}).get_json()
    assert hook["output"]["would_call"]["url"] == "http://127.0.0.1:9/never"
    assert "s3cretsecret" not in json.dumps(hook)  # the step's secret is never shown
    check = admin.call("POST", "/workflows/loop_demo/test-node",
                       {"node": "check", "record_id": lead["id"], "definition": doc}).get_json()
    assert check["evaluation"]["result"] is False and check["next"] == "each"
