"""The registry of definition kinds and their meta-schemas.

A kind is a name, the folder its files live in, the key that names a definition, a meta-schema
(JSON Schema 2020-12, shipped in meta_schemas/) and an optional semantic check that looks across
definitions (a form's fields exist on its object, a relation's target exists, ...). Higher
layers register their kinds here with their own checks; nothing here knows about storage.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from ..errors import Problem
from .fields import FIELD_TYPES
from .jsonvalue import TooDeep, json_leaves

Doc = dict[str, Any]


class DefinitionSet:
    """Definitions by kind and name: the live set, or the live set overlaid with a pack."""

    def __init__(self, docs: Mapping[str, Mapping[str, Doc]] | None = None) -> None:
        self._docs: dict[str, dict[str, Doc]] = {k: dict(v) for k, v in (docs or {}).items()}

    def get(self, kind: str, name: str) -> Doc | None:
        return self._docs.get(kind, {}).get(name)

    def names(self, kind: str) -> list[str]:
        return list(self._docs.get(kind, {}))

    def items(self, kind: str) -> list[tuple[str, Doc]]:
        return list(self._docs.get(kind, {}).items())

    def put(self, kind: str, name: str, doc: Doc) -> None:
        self._docs.setdefault(kind, {})[name] = doc

    def kinds(self) -> list[str]:
        return [k for k, v in self._docs.items() if v]

    def overlay(self, docs: Iterable[tuple[str, str, Doc]]) -> DefinitionSet:
        merged = DefinitionSet(self._docs)
        for kind, name, doc in docs:
            merged.put(kind, name, doc)
        return merged

    def __len__(self) -> int:
        return sum(len(v) for v in self._docs.values())


Check = Callable[[Doc, DefinitionSet], Iterator[Problem]]


@dataclass(frozen=True)
class Kind:
    """One kind of definition."""

    name: str
    folder: str
    id_key: str = "name"
    check: Check | None = None
    refers_to: tuple[str, ...] = field(default=())
    """Kinds this one names in its documents: they are applied first."""

    def id_of(self, doc: Mapping[str, Any]) -> Any:
        return doc.get(self.id_key)


KINDS: dict[str, Kind] = {}


def register_kind(kind: Kind) -> Kind:
    """Add (or replace, e.g. with a richer check from a higher layer) a kind."""
    KINDS[kind.name] = kind
    return kind


def kind(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        raise KeyError(f"unknown definition kind {name!r}; known: {', '.join(sorted(KINDS))}") from None


def kind_for_folder(folder: str) -> Kind | None:
    return next((k for k in KINDS.values() if k.folder == folder), None)


def apply_order(kinds: Iterable[str]) -> list[str]:
    """Kinds sorted so that every kind comes after the kinds it refers to."""
    wanted = set(kinds)
    ordered: list[str] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in ordered or name in path:
            return
        for dep in KINDS[name].refers_to if name in KINDS else ():
            visit(dep, (*path, name))
        ordered.append(name)

    for name in sorted(wanted):
        visit(name, ())
    return [k for k in ordered if k in wanted]


# --- meta-schemas ---------------------------------------------------------------------------

def _read_schema(filename: str) -> Doc:
    text = resources.files(__package__).joinpath("meta_schemas", filename).read_text(encoding="utf-8")
    return json.loads(text)


def _bundle(schema: Doc) -> Doc:
    """Inline references to sibling files ("common.json#/$defs/x") as local $defs.

    Bundled meta-schemas stand alone, so editors and validators need no resolver.
    """
    out = copy.deepcopy(schema)
    defs: dict[str, Any] = out.setdefault("$defs", {})
    pending = [out]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and not ref.startswith("#") and "#/$defs/" in ref:
                filename, name = ref.split("#/$defs/", 1)
                if name not in defs:
                    defs[name] = copy.deepcopy(_read_schema(filename)["$defs"][name])
                    pending.append(defs[name])
                node["$ref"] = f"#/$defs/{name}"
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return out


def _inject_registry_facts(name: str, schema: Doc) -> Doc:
    if name == "object":
        schema["$defs"]["fieldType"]["enum"] = sorted(FIELD_TYPES)
    return schema


@cache
def meta_schema(name: str) -> Doc:
    """The bundled meta-schema of a kind, with registry facts (field types) filled in."""
    kind(name)
    return _inject_registry_facts(name, _bundle(_read_schema(f"{name}.json")))


@cache
def _validator(name: str) -> Draft202012Validator:
    schema = meta_schema(name)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def pointer(path: Iterable[Any]) -> str:
    """A JSON pointer (RFC 6901) for a path of keys and indexes."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _shape_problems(name: str, doc: Any) -> list[Problem]:
    validator = _validator(name)
    problems = []
    for error in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path))):
        # anyOf/oneOf/if-then report a summary; its best sub-error says what to fix.
        detail = best_match(error.context) if error.context else error
        where = pointer(detail.absolute_path)
        problems.append(Problem(where or "/", str(detail.validator), detail.message))
    return problems


def validate_definition(kind_name: str, doc: Any, context: DefinitionSet) -> list[Problem]:
    """Every problem of one definition: its shape (meta-schema), then its meaning (the kind's check).

    The meaning is checked only when the shape is right, so checks can rely on the shape.
    """
    try:  # before any recursive check: a 2,000-level rule must not reach the meta-schema
        for _ in json_leaves(doc):
            pass
    except TooDeep as exc:
        return [Problem("/", "too_deep", str(exc))]
    problems = _shape_problems(kind_name, doc)
    the_kind = kind(kind_name)
    if not problems and the_kind.check is not None:
        problems.extend(the_kind.check(doc, context))
    return problems


def _register_builtin_kinds() -> None:
    from .forms import check_form
    from .objects import check_object

    register_kind(Kind("object", "objects", id_key="$id", check=check_object))
    register_kind(Kind("form", "forms", check=check_form, refers_to=("object",)))


_register_builtin_kinds()
