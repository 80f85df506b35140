"""Schema-file packs: reading collects every problem with the file and the JSON pointer."""

import json
from pathlib import Path

import pytest

from metacrm.errors import DefinitionError
from metacrm.meta.kinds import DefinitionSet
from metacrm.meta.packs import load_pack, read_pack, write_pack

ROOT = Path(__file__).resolve().parents[2]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_standard_pack_is_valid():
    files = load_pack([ROOT / "metadata"], DefinitionSet())
    names = {(f.kind, f.name) for f in files}
    for obj in ("lead", "customer", "account", "opportunity", "activity", "channel"):
        assert ("object", obj) in names
        assert ("form", f"{obj}_default") in names


def test_reading_reports_every_file_problem(tmp_path):
    write(tmp_path / "objects" / "broken.json", '{"$id": "broken",')
    write(tmp_path / "objects" / "dupe.json", '{"$id": "dupe", "$id": "dupe"}')
    write(tmp_path / "objects" / "nan.json", '{"$id": "nan", "x": NaN}')
    write(tmp_path / "objects" / "other.json", '{"$id": "not_other", "type": "object", "properties": {}}')
    write(tmp_path / "objects" / "list.json", "[1, 2]")
    write(tmp_path / "widgets" / "w.json", "{}")
    _, problems = read_pack([tmp_path])
    by_code = {p.code: p for p in problems}
    broken = next(p for p in problems if p.field.endswith("broken.json#"))
    assert broken.code == "invalid_json" and "line 1" in broken.message
    assert any("duplicate key" in p.message for p in problems)
    assert any("NaN" in p.message for p in problems)
    assert by_code["name_mismatch"].field.endswith("other.json#/$id")
    assert by_code["type"].field.endswith("list.json#")
    assert by_code["unknown_kind"].field.endswith("widgets")


def test_validation_errors_name_file_and_pointer(tmp_path):
    write(tmp_path / "objects" / "lead.json", json.dumps(
        {"$id": "lead", "type": "object", "properties": {"name": {"x-field": "txt"}}}))
    with pytest.raises(DefinitionError) as info:
        load_pack([tmp_path], DefinitionSet())
    [problem] = info.value.problems
    assert problem.field == f"{tmp_path / 'objects' / 'lead.json'}#/properties/name/x-field"
    assert "txt" in problem.message


def test_a_folder_named_for_a_kind_is_that_kinds_folder(tmp_path):
    files = load_pack([ROOT / "metadata"], DefinitionSet())
    objects_only = write_pack(tmp_path, DefinitionSet({"object": {f.name: f.doc for f in files if f.kind == "object"}}))
    assert objects_only
    again, problems = read_pack([tmp_path / "objects"])
    assert not problems
    assert {f.name for f in again} == {f.name for f in files if f.kind == "object"}


def test_write_then_read_round_trips_exactly(tmp_path):
    files = load_pack([ROOT / "metadata"], DefinitionSet())
    defs = DefinitionSet()
    for f in files:
        defs.put(f.kind, f.name, f.doc)
    write_pack(tmp_path, defs)
    again = load_pack([tmp_path], DefinitionSet())
    assert sorted((f.kind, f.name, json.dumps(f.doc)) for f in again) == \
        sorted((f.kind, f.name, json.dumps(f.doc)) for f in files)
