"""Form definitions: layouts over one object's fields, checked against that object."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import Problem
from .fields import options_of

if TYPE_CHECKING:
    from .kinds import DefinitionSet


def field_entries(doc: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(JSON pointer, entry) for every field placed on the form; bare names become {"field": name}."""
    for s, section in enumerate(doc["sections"]):
        for f, entry in enumerate(section["fields"]):
            yield f"/sections/{s}/fields/{f}", ({"field": entry} if isinstance(entry, str) else entry)


def option_tags(doc: Mapping[str, Any]) -> dict[str, dict[str, list[str]]]:
    """field -> option -> tag names: what answering a form sets as tags."""
    return {entry["field"]: entry["option_tags"] for _, entry in field_entries(doc) if entry.get("option_tags")}


def check_form(doc: Mapping[str, Any], defs: DefinitionSet) -> Iterator[Problem]:
    obj = defs.get("object", doc["object"])
    if obj is None:
        yield Problem("/object", "unknown_object", f"no object named '{doc['object']}'")
        return
    from .kinds import KINDS  # tags are a kind registered by a higher layer, when present

    properties: Mapping[str, Any] = obj["properties"]
    seen: dict[str, str] = {}
    for at, entry in field_entries(doc):
        name = entry["field"]
        if name not in properties:
            yield Problem(at, "unknown_field", f"'{name}' is not a field of {doc['object']}")
            continue
        if name in seen:
            yield Problem(at, "duplicate_field", f"'{name}' is already placed at {seen[name]}")
        seen[name] = at
        mapping = entry.get("option_tags")
        if not mapping:
            continue
        decl = properties[name]
        if decl["x-field"] not in ("select", "multiselect"):
            yield Problem(at + "/option_tags", "not_a_choice", "only select and multiselect options can set tags")
            continue
        options = set(options_of(decl))
        for option, tags in mapping.items():
            if option not in options:
                yield Problem(f"{at}/option_tags/{option}", "unknown_option", f"'{option}' is not an option of {name}")
            if "tag" in KINDS:
                for i, tag in enumerate(tags):
                    if defs.get("tag", tag) is None:
                        yield Problem(f"{at}/option_tags/{option}/{i}", "unknown_tag", f"no tag named '{tag}'")
    required = [n for n in obj.get("required", ()) if n not in seen and "default" not in properties[n]]
    if required and doc.get("default"):
        yield Problem("/sections", "missing_required",
                      f"the default form leaves out required fields: {', '.join(required)}")
    defaults = [n for n, d in defs.items("form") if d.get("object") == doc["object"] and d.get("default")
                and n != doc["name"]]
    if doc.get("default") and defaults:
        yield Problem("/default", "duplicate_default", f"{doc['object']} already has a default form: {defaults[0]}")
