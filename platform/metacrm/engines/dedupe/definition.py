"""The `dedupe` definition kind: match rules and merge policy of one object, as typed models.

Registered here (engines own the check) with meta-schema meta/meta_schemas/dedupe.json.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from ...errors import NotFound, Problem
from ...meta.kinds import DefinitionSet, Kind, register_kind

ACTION_STRENGTH = {"none": 0, "flag": 1, "skip": 2, "merge": 3}
_FUZZY_TYPES = frozenset({"text", "textarea", "email", "phone", "url", "select"})
_EXACT_TYPES = frozenset({"text", "email", "phone", "url", "select", "integer", "decimal", "date", "boolean",
                          "relation"})
_POLICY_TYPES = {"union": frozenset({"multiselect"}), "concatenate": frozenset({"text", "textarea"})}


@dataclass(frozen=True)
class FieldMatch:
    field: str
    fuzzy: bool
    threshold: float
    scorer: str


@dataclass(frozen=True)
class MatchRule:
    name: str
    fields: tuple[FieldMatch, ...]
    block_prefix: int
    max_block: int
    on_import: str
    on_create: str

    @cached_property
    def exact(self) -> tuple[FieldMatch, ...]:
        return tuple(f for f in self.fields if not f.fuzzy)

    @cached_property
    def fuzzy(self) -> tuple[FieldMatch, ...]:
        return tuple(f for f in self.fields if f.fuzzy)

    @cached_property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.field for f in self.fields)


@dataclass(frozen=True)
class DedupeDef:
    name: str
    object: str
    rules: tuple[MatchRule, ...]
    on_import: str
    on_create: str
    merge_default: str
    merge_fields: Mapping[str, str]
    survivor: str
    tags: str = "union"

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> DedupeDef:
        on_import = doc.get("on_import", "flag")
        on_create = doc.get("on_create", "none")
        rules = tuple(
            MatchRule(r["name"],
                      tuple(FieldMatch(f["field"], f.get("match", "exact") == "fuzzy", float(f.get("threshold", 0.85)),
                                       f.get("scorer", "ratio")) for f in r["fields"]),
                      int(r.get("block_prefix", 1)), int(r.get("max_block", 2000)),
                      r.get("on_import", on_import), r.get("on_create", on_create))
            for r in doc["rules"])
        merge = doc.get("merge") or {}
        return cls(doc["name"], doc["object"], rules, on_import, on_create, merge.get("default", "keep_non_empty"),
                   dict(merge.get("fields") or {}), merge.get("survivor", "oldest"), merge.get("tags", "union"))

    @property
    def fields(self) -> tuple[str, ...]:
        """Every field any rule reads, in first-use order."""
        out: list[str] = []
        for rule in self.rules:
            out += [f for f in rule.field_names if f not in out]
        return tuple(out)

    def policy(self, field: str) -> str:
        return self.merge_fields.get(field, self.merge_default)


def definitions_for(defs: DefinitionSet, object_name: str) -> list[DedupeDef]:
    return [DedupeDef.from_doc(doc) for _, doc in defs.items("dedupe") if doc.get("object") == object_name]


def definition(defs: DefinitionSet, name: str) -> DedupeDef:
    doc = defs.get("dedupe", name)
    if doc is None:
        matching = [d for _, d in defs.items("dedupe") if d.get("object") == name]
        if not matching:
            raise NotFound(f"no dedupe definition named (or for object) '{name}'",
                           [Problem("dedupe", "not_found", name)])
        doc = matching[0]
    return DedupeDef.from_doc(doc)


def check_dedupe(doc: Mapping[str, Any], defs: DefinitionSet) -> Iterator[Problem]:
    """Fields exist and suit their match; fuzzy rules are blocked so matching stays near linear."""
    obj = defs.get("object", doc["object"])
    if obj is None:
        yield Problem("/object", "unknown_object", f"no object named '{doc['object']}'")
        return
    props: Mapping[str, Any] = obj["properties"]
    names = set()
    for i, rule in enumerate(doc["rules"]):
        if rule["name"] in names:
            yield Problem(f"/rules/{i}/name", "duplicate_name", f"rule '{rule['name']}' is named twice")
        names.add(rule["name"])
        for j, fm in enumerate(rule["fields"]):
            at = f"/rules/{i}/fields/{j}/field"
            decl = props.get(fm["field"])
            if decl is None:
                yield Problem(at, "unknown_field", f"'{fm['field']}' is not a field of {doc['object']}")
                continue
            allowed = _FUZZY_TYPES if fm.get("match") == "fuzzy" else _EXACT_TYPES
            if decl["x-field"] not in allowed:
                yield Problem(at, "unsuitable_field",
                              f"a {decl['x-field']} field cannot be matched {fm.get('match', 'exact')}")
        exact = [f for f in rule["fields"] if f.get("match", "exact") == "exact"]
        if len(exact) < len(rule["fields"]) and not exact and rule.get("block_prefix", 1) == 0:
            yield Problem(f"/rules/{i}/block_prefix", "unblocked",
                          "a rule with only fuzzy fields needs block_prefix >= 1, or every record is compared "
                          "with every other")
    for field, policy in ((doc.get("merge") or {}).get("fields") or {}).items():
        at = f"/merge/fields/{field}"
        decl = props.get(field)
        if decl is None:
            yield Problem(at, "unknown_field", f"'{field}' is not a field of {doc['object']}")
        elif policy in _POLICY_TYPES and decl["x-field"] not in _POLICY_TYPES[policy]:
            yield Problem(at, "unsuitable_policy", f"{policy} does not apply to a {decl['x-field']} field")


register_kind(Kind("dedupe", "dedupe", check=check_dedupe, refers_to=("object",)))
