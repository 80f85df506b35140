"""Workflow runs show no hidden field value (context, step input, output, evaluation) and no
secret to anyone; concurrent update_record steps computing from the record lose no update."""

from __future__ import annotations

import json

from metacrm.flows import executor

BUDGET = 987654321
FLOW = {"name": "hidden_flow", "object": "lead", "trigger": {"type": "record_created"},
        "steps": [{"id": "tell", "type": "notify", "to": "owner", "title": "Lead {name} budget {budget}"},
                  {"id": "bump", "type": "update_record", "set": {"budget": BUDGET}},
                  {"id": "hook", "type": "webhook", "url": "https://127.0.0.1:9/none",
                   "secret": "super-secret-key", "headers": {"Authorization": "Bearer tok-xyz"}}]}


def test_run_detail_hides_hidden_fields_and_secrets(standard_pack, admin, make_user):
    standard_pack.metadata.apply([("workflow", "hidden_flow", FLOW)])
    rep = make_user("rep", grants=[("lead", ["read", "create", "update"], "own")], hidden={"lead": ["budget"]})
    lead_id = rep.post("/records/lead", {"name": "Gao"}).json["id"]
    assert executor.wait_idle(standard_pack, 30)
    runs = rep.get(f"/runs?object=lead&record_id={lead_id}").json["items"]
    assert runs
    for path in [f"/runs/{runs[0]['id']}", f"/runs?object=lead&record_id={lead_id}"]:
        text = rep.get(path).get_data(as_text=True)
        assert str(BUDGET) not in text and "budget" not in text, __import__("re").findall(r".{150}(?:budget|987654321).{60}", text)
        assert "super-secret-key" not in text and "tok-xyz" not in text
    shown = admin.get(f"/runs/{runs[0]['id']}")
    text = shown.get_data(as_text=True)
    assert "super-secret-key" not in text and "tok-xyz" not in text
    assert str(BUDGET) in text  # the administrator sees values
    steps = {s["step"]: s for s in rep.get(f"/runs/{runs[0]['id']}").json["steps"]}
    assert steps["bump"]["output"] == {"withheld": "reads a field hidden from you"}
    executor.shutdown(standard_pack)


COUNTER = {"name": "counter_flow", "object": "lead", "trigger": {"type": "manual"},
           "steps": [{"id": "inc", "type": "update_record",
                      "set": {"score": {"add": [{"field": "score"}, 1]}}}]}
