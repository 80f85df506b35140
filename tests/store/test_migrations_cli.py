"""`metacrm metadata rollback KIND NAME --to N`: the return to a version is planned and applied like any change."""

import copy
import json

LEAD = {"$id": "lead", "type": "object",
        "properties": {"name": {"x-field": "text", "maxLength": 50}, "score": {"x-field": "integer"}},
        "required": ["name"]}


def test_rollback_plans_applies_and_refuses_data_loss(services, apply_docs, run):
    apply_docs(services, ("object", LEAD))
    wider = copy.deepcopy(LEAD)
    wider["properties"]["name"]["maxLength"] = 200
    wider["properties"]["city"] = {"x-field": "text"}
    apply_docs(services, ("object", wider))
    rid = services.records.create("lead", {"name": "x" * 120, "city": "Shanghai"})["id"]

    dry = run("metadata", "rollback", "object", "lead", "--to", "1", "--dry-run", "--force")
    assert "1 stored value(s) are longer" in dry.output and "the longest has 120 characters" in dry.output
    assert [h["version"] for h in services.metadata.history("object", "lead")] == [1, 2]

    services.records.update("lead", rid, {"name": "short"})
    refused = run("metadata", "rollback", "object", "lead", "--to", "1", code=2)
    assert "field_removed" in refused.output
    done = run("metadata", "rollback", "object", "lead", "--to", "1", "--force")
    assert "rolled back to version 1" in done.output
    history = services.metadata.history("object", "lead")
    assert [h["version"] for h in history] == [1, 2, 3] and history[-1]["note"] == "rollback to version 1"
    services.registry.invalidate()
    assert services.records.get("lead", rid)["name"] == "short"
    assert "city" not in services.records.get("lead", rid)
    run("metadata", "rollback", "object", "lead", "--to", "9", code=2)


def test_history_records_author_force_and_the_table_actions(services, apply_docs, run, tmp_path):
    pack = tmp_path / "pack" / "objects"
    pack.mkdir(parents=True)
    (pack / "lead.json").write_text(json.dumps(LEAD))
    run("metadata", "apply", tmp_path / "pack", "--author", "alice")
    wider = copy.deepcopy(LEAD)
    wider["properties"]["city"] = {"x-field": "text", "default": "Shanghai"}
    (pack / "lead.json").write_text(json.dumps(wider))
    run("metadata", "apply", tmp_path / "pack", "--author", "bob")
    run("metadata", "rollback", "object", "lead", "--to", "1", "--force", "--author", "carol")
    history = services.metadata.history("object", "lead")
    assert [(h["author"], bool(h["forced"])) for h in history] == [("alice", False), ("bob", False), ("carol", True)]
    assert json.loads(history[0]["actions"]) == ["create_table obj_lead.*: create table with 2 fields"]
    assert [a.split(":")[0] for a in json.loads(history[1]["actions"])] == ["add_column obj_lead.city",
                                                                           "backfill obj_lead.city"]
    assert json.loads(history[2]["actions"])[0].startswith("retire_column obj_lead.city")
    shown = run("metadata", "history", "object", "lead").output
    assert "carol" in shown and "forced" in shown and "table: retire_column obj_lead.city" in shown
    run("metadata", "apply", tmp_path / "pack")  # the OS user by default
    assert services.metadata.history("object", "lead")[-1]["author"]
