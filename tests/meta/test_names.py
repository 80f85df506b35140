"""Identifiers from definitions: strict pattern, no reserved words, no system columns."""

import pytest

from metacrm.meta.kinds import DefinitionSet, validate_definition
from metacrm.meta.names import field_name_problem, identifier_problem, table_name

HOSTILE = [
    'lead"; DROP TABLE sys_user; --', "lead; drop table x", "Lead", "1lead", "_lead", "le ad", "lead-x",
    "léad", "线索", "lead\x00", "", "a" * 49, "select", "user", "order", "table", "group", "tags", None, 7,
    "lead)", "lead/**/", "$id",
]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_identifiers_are_refused(name):
    assert identifier_problem(name) is not None


@pytest.mark.parametrize("name", ["lead", "trade_show_lead", "a1", "x" * 48])
def test_plain_identifiers_pass(name):
    assert identifier_problem(name) is None
    assert table_name(name) == f"obj_{name}"


@pytest.mark.parametrize("name", ["id", "version", "owner_id", "deleted_at", "created_at"])
def test_system_columns_are_not_field_names(name):
    assert "system column" in field_name_problem(name)


def test_table_name_refuses_hostile_names():
    with pytest.raises(ValueError):
        table_name('x"; drop table y; --')


@pytest.mark.parametrize("name", [n for n in HOSTILE if isinstance(n, str) and n])
def test_hostile_names_in_definitions_are_errors_before_any_sql(name):
    doc = {"$id": name, "type": "object", "properties": {name: {"x-field": "text"}}}
    problems = validate_definition("object", doc, DefinitionSet())
    fields = {p.field for p in problems}
    assert "/$id" in fields
    assert any(f.startswith("/properties") for f in fields)
