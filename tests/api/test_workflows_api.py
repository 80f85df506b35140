"""The workflow API: run history and control for admins, record-level access for others, the inbox."""

from __future__ import annotations

from metacrm.flows import executor
from metacrm.meta.kinds import kind

FLOW = {"name": "api_flow", "object": "lead", "trigger": {"type": "record_created"},
        "steps": [{"id": "tell", "type": "notify", "to": "owner", "title": "Lead {name}"},
                  {"id": "fail", "type": "update_record", "set": {"score": "x"}}]}


def _setup(svc):
    svc.metadata.apply([("workflow", "api_flow", FLOW)])
    assert kind("workflow")


def test_runs_notifications_and_control(standard_pack, admin, make_user):
    _setup(standard_pack)
    seller = make_user("seller", grants=[("lead", ["read", "create", "update"], "own")])
    other = make_user("other", grants=[("lead", ["read"], "own")])
    created = seller.post("/records/lead", {"name": "Gao"})
    assert created.status_code == 201, created.get_json()
    lead_id = created.get_json()["id"]
    assert executor.wait_idle(standard_pack, 20)

    runs = admin.get("/runs?workflow=api_flow").get_json()["items"]
    assert [(r["record_id"], r["status"]) for r in runs] == [(lead_id, "failed")]
    run_id = runs[0]["id"]
    shown = admin.get(f"/runs/{run_id}").get_json()
    assert [s["step"] for s in shown["steps"]] == ["tell", "fail"] and shown["error"]["step"] == "fail"

    assert seller.get("/runs").status_code == 400  # non-admins ask about one record
    assert seller.get(f"/runs?object=lead&record_id={lead_id}").get_json()["items"][0]["id"] == run_id
    assert seller.get(f"/runs/{run_id}").status_code == 200
    assert other.get(f"/runs/{run_id}").status_code == 404  # not their record: no leak
    assert seller.post(f"/runs/{run_id}/retry").status_code == 403

    inbox = seller.get("/notifications").get_json()
    assert inbox["unread"] == 1 and inbox["items"][0]["title"] == "Lead Gao"
    assert seller.post("/notifications/read", {}).get_json() == {"marked": 1}
    assert seller.get("/notifications?unread=true").get_json()["items"] == []

    assert admin.post(f"/runs/{run_id}/retry").status_code == 200
    assert executor.wait_idle(standard_pack, 20)
    assert admin.post(f"/runs/{run_id}/cancel").status_code == 409  # failed again: nothing to cancel

    started = seller.post("/workflows/api_flow/start", {"record_id": lead_id, "key": "k1"})
    assert started.status_code == 202
    again = seller.post("/workflows/api_flow/start", {"record_id": lead_id, "key": "k1"})
    assert again.get_json()["id"] == started.get_json()["id"]
    assert other.post("/workflows/api_flow/start", {"record_id": lead_id}).status_code == 403
    assert admin.post("/workflows/nope/start", {"record_id": lead_id}).status_code == 404
    listed = admin.get("/workflows").get_json()["items"]
    assert [w["name"] for w in listed] == ["api_flow"]
    executor.wait_idle(standard_pack, 20)
    executor.shutdown(standard_pack)


def test_form_submission_starts_form_workflows(standard_pack, admin):
    standard_pack.metadata.apply([("workflow", "on_lead_form", {
        "name": "on_lead_form", "object": "lead", "trigger": {"type": "form_submitted", "form": "lead_default"},
        "steps": [{"id": "flag", "type": "update_record", "set": {"status": "contacted"}}]})])
    submitted = admin.post("/forms/lead_default/submit", {"name": "From the form"})
    assert submitted.status_code == 201, submitted.get_json()
    assert executor.wait_idle(standard_pack, 20)
    lead_id = submitted.get_json()["id"]
    assert admin.get(f"/records/lead/{lead_id}").get_json()["status"] == "contacted"
    timeline = admin.get(f"/records/lead/{lead_id}/timeline").get_json()
    kinds = [e["kind"] for e in (timeline["items"] if isinstance(timeline, dict) else timeline)]
    assert "form_submitted" in kinds
    executor.shutdown(standard_pack)


def test_openapi_lists_the_workflow_paths(admin):
    spec = admin.get("/openapi.json").get_json()
    for path in ("/workflows", "/workflows/{name}/start", "/runs", "/runs/{run_id}", "/runs/{run_id}/retry",
                 "/runs/{run_id}/cancel", "/notifications", "/notifications/read"):
        assert path in spec["paths"], path
