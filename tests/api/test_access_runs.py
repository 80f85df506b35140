"""Workflow runs show no hidden field value (context, step input, output, evaluation) and no
secret to anyone; concurrent update_record steps computing from the record lose no update."""

from __future__ import annotations

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


def test_concurrent_read_modify_writes_lose_nothing(standard_pack):
    """30 writers adding 1 to one record's score at once: the score rises by exactly 30."""
    from concurrent.futures import ThreadPoolExecutor

    records = standard_pack.records
    lead = records.create("lead", {"name": "Counter", "score": 0})

    def bump(_: int) -> None:
        records.update_with("lead", lead["id"], lambda fresh: {"score": (fresh["score"] or 0) + 1})

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(bump, range(30)))
    after = records.get("lead", lead["id"])
    assert after["score"] == 30 and after["version"] == 31


def test_concurrent_update_record_steps_lose_nothing(standard_pack, admin):
    standard_pack.metadata.apply([("workflow", "counter_flow", COUNTER)])
    lead_id = admin.post("/records/lead", {"name": "Counted", "score": 0}).json["id"]
    for i in range(20):
        assert admin.post("/workflows/counter_flow/start", {"record_id": lead_id, "key": f"k{i}"}).status_code == 202
    assert executor.wait_idle(standard_pack, 60)
    assert admin.get(f"/records/lead/{lead_id}").json["score"] == 20
    runs = admin.get("/runs?workflow=counter_flow&limit=100").json["items"]
    assert len(runs) == 20 and {r["status"] for r in runs} == {"completed"}
    executor.shutdown(standard_pack)
