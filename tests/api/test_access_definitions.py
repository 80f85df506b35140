"""Definitions: secrets are never returned by any read and survive a save of the masked document;
users who are not administrators see only the definitions they need, without hidden fields."""

import json

import pytest

from metacrm.meta.secret_box import revealed
from metacrm.meta.secrets import MASK, masked, restore, secret_pointers

SECRET = "s3cr3t-signing-key"
BEARER = "Bearer live-token-123"


def hook_workflow(secret=SECRET, auth=BEARER, url="https://hooks.example.com/a"):
    return {"name": "wf_hook", "object": "lead", "trigger": {"type": "record_created"},
            "steps": [{"id": "call", "type": "webhook", "url": url, "secret": secret,
                       "headers": {"Authorization": auth, "X-Trace": "visible"}}]}


@pytest.fixture
def hooked(admin, standard_pack, apply_docs):
    apply_docs(standard_pack, ("workflow", hook_workflow()))
    return standard_pack


def stored_body(svc, kind="workflow", name="wf_hook"):
    """The live definition with its secrets decrypted (they are stored encrypted: meta.secret_box)."""
    return revealed(svc.registry.current().definitions.get(kind, name), svc.metadata.box, f"{kind}/{name}")


def no_secret(response):
    text = response.get_data(as_text=True)
    assert SECRET not in text and "live-token-123" not in text, text[:400]


def test_secret_paths_are_found_by_key_and_header_name():
    doc = hook_workflow()
    assert secret_pointers(doc) == ["/steps/0/secret", "/steps/0/headers/Authorization"]
    shown = masked(doc)
    assert shown["steps"][0]["secret"] == MASK and shown["steps"][0]["headers"] == {
        "Authorization": MASK, "X-Trace": "visible"}
    assert doc["steps"][0]["secret"] == SECRET  # the original is untouched


def test_restore_follows_the_step_by_id_and_refuses_a_mask_with_nothing_behind_it():
    stored = hook_workflow()
    incoming = masked(stored)
    incoming["steps"].insert(0, {"id": "other", "type": "end"})
    back, problems = restore(incoming, stored)
    assert problems == [] and back["steps"][1]["secret"] == SECRET
    assert back["steps"][1]["headers"]["Authorization"] == BEARER
    _, problems = restore(masked(stored), None)
    assert {p.code for p in problems} == {"secret_required"}


def test_no_read_returns_a_secret(hooked, admin):
    for path in ("/definitions/workflow", "/definitions/workflow/wf_hook",
                 "/definitions/workflow/wf_hook/versions", "/definitions/workflow/wf_hook/versions/1",
                 "/workflows"):
        r = admin.get(path)
        assert r.status_code == 200, (path, r.json)
        no_secret(r)
    r = admin.get("/definitions/workflow/wf_hook")
    assert r.json["steps"][0]["secret"] == MASK
    assert r.json["steps"][0]["headers"] == {"Authorization": MASK, "X-Trace": "visible"}
    item = admin.get("/definitions/workflow").json["items"][0]
    assert item["secrets"] == ["/steps/0/secret", "/steps/0/headers/Authorization"]
    assert admin.get("/definitions/workflow/wf_hook/versions/1").json["body"]["steps"][0]["secret"] == MASK


def test_saving_the_masked_document_keeps_the_secret(hooked, admin):
    doc = admin.get("/definitions/workflow/wf_hook").json
    doc["steps"][0]["url"] = "https://hooks.example.com/b"
    r = admin.send("PUT", "/definitions/workflow/wf_hook", doc)
    assert r.status_code == 200, r.json
    no_secret(r)
    body = stored_body(hooked)
    assert body["steps"][0]["url"].endswith("/b")
    assert body["steps"][0]["secret"] == SECRET and body["steps"][0]["headers"]["Authorization"] == BEARER
    # the same masked document again: nothing changes, no new version
    r = admin.send("PUT", "/definitions/workflow/wf_hook", doc)
    assert r.json["changed"] is False
    assert len(admin.get("/definitions/workflow/wf_hook/versions").json["items"]) == 2


def test_changing_a_secret_is_planned_without_showing_it(hooked, admin):
    doc = hook_workflow(secret="another-secret-value")
    r = admin.post("/definitions/plan", {"definitions": [{"kind": "workflow", "name": "wf_hook", "body": doc}]})
    assert r.status_code == 200, r.json
    assert "another-secret-value" not in r.get_data(as_text=True)
    no_secret(r)
    assert r.json["changes"][0]["action"] == "update" and r.json["changes"][0]["diff"]  # a change, unseen
    r = admin.send("PUT", "/definitions/workflow/wf_hook", doc)
    assert r.status_code == 200 and stored_body(hooked)["steps"][0]["secret"] == "another-secret-value"
    no_secret(r)


def test_a_mask_for_a_new_step_is_refused(hooked, admin):
    doc = admin.get("/definitions/workflow/wf_hook").json
    doc["steps"].append({"id": "second", "type": "webhook", "url": "https://x.example.com", "secret": MASK})
    r = admin.send("PUT", "/definitions/workflow/wf_hook", doc)
    assert r.status_code == 422
    assert any(p["code"] == "secret_required" for p in r.json["errors"])
    assert len(stored_body(hooked)["steps"]) == 1


def test_export_masks_secrets_and_applying_it_back_changes_nothing(hooked, run, tmp_path, monkeypatch):
    monkeypatch.setenv("METACRM_SECRET_KEY", hooked.settings.secret_key)  # the key the secrets were sealed with
    out = tmp_path / "pack"
    run("metadata", "export", str(out))
    text = (out / "workflows" / "wf_hook.json").read_text()
    assert SECRET not in text and json.loads(text)["steps"][0]["secret"] == MASK
    result = run("metadata", "apply", str(out))
    assert "already up to date" in result.output
    assert stored_body(hooked)["steps"][0]["secret"] == SECRET


@pytest.fixture
def rep(make_user):
    return make_user("rep", grants=[("lead", ["read", "create", "update"], "own")],
                     hidden={"lead": ["budget"]}, readonly={"lead": ["score"]})


@pytest.mark.parametrize("kind", ["workflow", "assignment", "dedupe", "conversion"])
def test_admin_only_kinds_are_refused_to_others(hooked, rep, kind):
    r = rep.get(f"/definitions/{kind}")
    assert r.status_code == 403 and r.json["errors"][0]["code"] == "admin_only"
    assert rep.get(f"/definitions/{kind}/wf_hook").status_code == 403
    assert rep.get(f"/definitions/{kind}/wf_hook/versions").status_code == 403


def test_a_rep_reads_only_objects_and_forms_they_may_read_without_hidden_fields(rep, admin):
    objects = {d["name"] for d in rep.get("/definitions/object").json["items"]}
    assert objects == {"lead"}
    lead = rep.get("/definitions/object/lead").json
    assert "budget" not in lead["properties"] and "budget" not in json.dumps(lead)
    assert "budget" in admin.get("/definitions/object/lead").json["properties"]
    assert rep.get("/definitions/object/customer").status_code == 404
    forms = rep.get("/definitions/form").json["items"]
    assert forms and {f["body"]["object"] for f in forms} == {"lead"}
    for form in forms:
        fields = [e if isinstance(e, str) else e["field"] for s in form["body"]["sections"] for e in s["fields"]]
        assert "budget" not in fields
        assert all(e.get("readonly") for s in form["body"]["sections"] for e in s["fields"]
                   if isinstance(e, dict) and e["field"] == "score")
    assert "budget" not in rep.get("/definitions/form/lead_default").get_data(as_text=True)
    assert rep.get("/definitions/form/customer_default").status_code == 404
    described = rep.get("/objects/lead").get_data(as_text=True)
    assert '"budget"' not in described


def test_workflow_drafts_and_node_tests_never_show_secrets(hooked, admin):
    r = admin.get("/workflows/wf_hook/draft")
    assert r.status_code == 200 and r.json["definition"]["steps"][0]["secret"] == MASK
    no_secret(r)
    doc = r.json["definition"]
    doc["steps"][0]["url"] = "https://hooks.example.com/draft"
    r = admin.send("PUT", "/workflows/wf_hook/draft", {"definition": doc})
    assert r.status_code == 200, r.json
    no_secret(r)
    r = admin.post("/workflows/wf_hook/publish", {})
    assert r.status_code == 200, r.json
    body = stored_body(hooked)
    assert body["steps"][0]["url"].endswith("/draft") and body["steps"][0]["secret"] == SECRET
    r = admin.post("/workflows/wf_hook/test-node", {"node": "call"})
    assert r.status_code == 200, r.json
    no_secret(r)


def test_a_read_only_form_entry_is_not_writable_through_the_form(admin, rep, standard_pack, apply_docs):
    apply_docs(standard_pack, ("form", {"name": "lead_fixed", "object": "lead", "sections": [
        {"fields": ["name", {"field": "city", "readonly": True}]}]}))
    r = rep.post("/forms/lead_fixed/submit", {"name": "Form lead", "city": "shanghai"})
    assert r.status_code == 403 and r.json["errors"][0]["field"] == "city"
    assert rep.post("/forms/lead_fixed/submit", {"name": "Form lead"}).status_code == 201
    r = rep.post("/forms/lead_default/submit", {"name": "Scored", "score": 5})
    assert r.status_code == 403  # read-only for the rep's role
