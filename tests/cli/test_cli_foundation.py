"""The `metacrm` command: init, metadata validate/plan/apply/export/schemas, records, demo."""

import json
import shutil
from pathlib import Path

from jsonschema import Draft202012Validator

ROOT = Path(__file__).resolve().parents[2]


def test_init_is_idempotent(run):
    assert "created sys_definition" in run("init").output
    assert "up to date" in run("init").output


def test_apply_is_idempotent_and_export_then_apply_changes_nothing(run, tmp_path):
    first = run("metadata", "apply", "metadata").output
    assert "create    object lead" in first and "applied" in first
    assert "already up to date" in run("metadata", "apply", "metadata").output
    run("metadata", "export", tmp_path / "out")
    assert (tmp_path / "out" / "objects" / "lead.json").exists()
    plan = run("metadata", "plan", tmp_path / "out").output
    assert "0 definition(s) to change" in plan
    assert "already up to date" in run("metadata", "apply", tmp_path / "out").output
    assert "v1" in run("metadata", "history", "object", "lead").output


def test_plan_shows_table_changes_without_applying(run, tmp_path):
    run("metadata", "apply", "metadata")
    pack = tmp_path / "pack"
    shutil.copytree(ROOT / "metadata", pack)
    lead = json.loads((pack / "objects" / "lead.json").read_text())
    lead["properties"]["fax"] = {"x-field": "phone"}
    (pack / "objects" / "lead.json").write_text(json.dumps(lead))
    out = run("metadata", "plan", pack).output
    assert "update    object lead" in out and "add_column fax" in out
    assert "1 definition(s) to change" in run("metadata", "plan", pack).output  # still not applied


def test_validate_names_file_pointer_and_reason(run, tmp_path):
    bad = tmp_path / "bad" / "objects"
    bad.mkdir(parents=True)
    (bad / "thing.json").write_text(json.dumps(
        {"$id": "thing", "type": "object", "properties": {"when": {"x-field": "date", "maxLength": "x"}}}))
    result = run("metadata", "validate", tmp_path / "bad", code=2)
    assert f"{bad / 'thing.json'}#/properties/when/maxLength" in result.output
    assert "Traceback" not in result.output
    count = len(list((ROOT / "metadata").glob("*/*.json")))
    assert f"{count} definition(s) valid" in run("metadata", "validate", "metadata").output


def test_destructive_change_is_refused_with_a_clear_message(run, tmp_path):
    pack = tmp_path / "pack"
    shutil.copytree(ROOT / "metadata", pack)
    lead_file = pack / "objects" / "lead.json"
    lead = json.loads(lead_file.read_text())
    lead["properties"]["fax"] = {"x-field": "phone"}
    lead_file.write_text(json.dumps(lead))
    run("metadata", "apply", pack)
    del lead["properties"]["fax"]
    lead_file.write_text(json.dumps(lead))
    result = run("metadata", "apply", pack, code=2)
    assert "field_removed" in result.output and "force" in result.output
    assert "applied" in run("metadata", "apply", pack, "--force").output


def test_schemas_are_written_for_editors(run, tmp_path):
    run("metadata", "schemas", tmp_path / "schemas")
    for name in ("object", "form"):
        schema = json.loads((tmp_path / "schemas" / f"{name}.schema.json").read_text())
        Draft202012Validator.check_schema(schema)


def test_record_commands_and_bad_json(run):
    run("metadata", "apply", "metadata")
    created = json.loads(run("record", "create", "lead", '{"name": "王伟", "phone": "13812345678"}').output)
    assert created["phone"] == "+8613812345678"
    updated = json.loads(run("record", "update", "lead", created["id"], '{"status": "contacted"}',
                             "--version", "1").output)
    assert updated["version"] == 2
    assert "stale_version" in run("record", "update", "lead", created["id"], '{"status": "new"}',
                                  "--version", "1", code=2).output
    assert "invalid_json" in run("record", "create", "lead", "{nope", code=2).output
    assert "王伟" in run("record", "list", "lead").output


def test_demo_twice_loads_data_once(run):
    first = run("demo", "--no-serve", "--scale", "0.05").output
    assert "standard pack: applied" in first and "lead 150" in first
    second = run("demo", "--no-serve", "--scale", "0.05").output
    assert "already up to date" in second and "already loaded" in second
