"""Deleting definitions (issue 16): refused with the list of users while referenced, soft (versions kept),
admins only; `metacrm metadata delete KIND NAME` does the same."""

from __future__ import annotations

from typing import Any

TAG = {"name": "t_fair", "label": {"en": "Fair"}, "objects": ["lead"]}
SEGMENT = {"name": "s_fair", "label": {"en": "Fair leads"}, "object": "lead",
           "rule": {"op": "has_tag", "value": "t_fair"}}


def test_delete_refused_while_used_then_soft(admin: Any, make_user: Any, apply_docs: Any, app: Any) -> None:
    svc = app.extensions["metacrm"]
    apply_docs(svc, ("tag", TAG), ("segment", SEGMENT))
    refused = admin.delete("/definitions/tag/t_fair")
    assert refused.status_code == 409
    assert [p["field"] for p in refused.json["errors"]] == ["segment/s_fair"]
    assert admin.get("/definitions/tag/t_fair/usage").json["items"][0]["name"] == "s_fair"
    rep = make_user("rep", grants=[("lead", ["read"], "own")])
    assert rep.delete("/definitions/segment/s_fair").status_code == 403
    assert admin.delete("/definitions/segment/s_fair").status_code == 200
    assert admin.get("/definitions/segment/s_fair").status_code == 404
    versions = admin.get("/definitions/segment/s_fair/versions").json
    items = versions["items"] if isinstance(versions, dict) else versions
    assert any(v.get("action") == "delete" for v in items)
    assert admin.delete("/definitions/tag/t_fair").status_code == 200
    assert admin.delete("/definitions/tag/t_fair").status_code == 404
    assert admin.delete("/definitions/object/lead").status_code == 422


def test_cli_delete(run: Any, apply_docs: Any, standard_pack: Any) -> None:
    apply_docs(standard_pack, ("tag", TAG))
    out = run("metadata", "delete", "tag", "t_fair")
    assert "deleted tag t_fair" in out.output
    run("metadata", "delete", "tag", "t_fair", code=2)
