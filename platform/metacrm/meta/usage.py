"""Which definitions use a field of an object: what removing (or renaming) the field would break.

A pure walk over every live definition. A definition is about the object its `object` names (a tag:
the objects it lists); a nested `object` (a related rule, a create_activity step) switches the object
for its subtree. A field is named by:
- a string under `field`, `via` or a key ending in `_field` (a dotted path `channel.kind` names
  `channel` of this object and `kind` of the relation's target), or in a `fields` or `columns` list;
- an entry of `sort` (`-score`);
- a key of an update step's `set`, a create_activity step's `values`, a dedupe rule set's
  `merge.fields`;
- a `{name}` placeholder in a template string.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import Problem
from .kinds import DefinitionSet, pointer

_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*)\}")
_NAMING_LISTS = frozenset({"fields", "columns"})


@dataclass(frozen=True)
class Usage:
    """One place a definition names a field: `kind/name#path`."""

    kind: str
    name: str
    path: str
    field: str

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "name": self.name, "path": self.path, "field": self.field}


def _targets(defs: DefinitionSet) -> dict[tuple[str, str], str]:
    """(object, relation field) -> target object."""
    out = {}
    for obj, doc in defs.items("object"):
        for name, decl in (doc.get("properties") or {}).items():
            if isinstance(decl, Mapping) and decl.get("x-field") == "relation":
                out[(obj, name)] = str(decl.get("x-target"))
    return out


class _Walker:
    def __init__(self, defs: DefinitionSet, obj: str, fields: set[str]) -> None:
        self.obj, self.fields, self.targets = obj, fields, _targets(defs)
        self.source: str | None = None  # a conversion's source object

    def path(self, current: str, dotted: str) -> Iterator[str]:
        """The fields of `self.obj` a (dotted) field path from `current` names."""
        for seg in dotted.lstrip("-").split("."):
            if current == self.obj and seg in self.fields:
                yield seg
            nxt = self.targets.get((current, seg))
            if nxt is None:
                return
            current = nxt

    def walk(self, value: Any, current: str | None, at: tuple[Any, ...], key: str = "") -> Iterator[tuple[str, str]]:
        if isinstance(value, Mapping):
            if isinstance(value.get("object"), str):
                current = value["object"]
            elif value.get("type") == "create_activity":
                current = "activity"
            for k, v in value.items():
                if current is not None and k in ("set", "values") and isinstance(v, Mapping) \
                        and (k == "set" or value.get("type") == "create_activity"):
                    yield from ((f, pointer((*at, k, name))) for name in v for f in self.path(current, str(name)))
                if current is not None and k == "merge" and isinstance(v, Mapping) and isinstance(v.get("fields"), Mapping):
                    yield from ((f, pointer((*at, k, "fields", n))) for n in v["fields"] for f in self.path(current, n))
                if k == "fields" and isinstance(v, Mapping) and self.source and current is not None:
                    # a conversion target: target field -> source field
                    for name, src in v.items():
                        yield from ((f, pointer((*at, k, name))) for f in self.path(current, str(name)))
                        yield from ((f, pointer((*at, k, name))) for f in self.path(self.source, str(src)))
                    continue
                if k == "link" and isinstance(v, str) and self.source:
                    yield from ((f, pointer((*at, k))) for f in self.path(self.source, v))
                    continue
                yield from self.walk(v, current, (*at, k), str(k))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                yield from self.walk(v, current, (*at, i), key)
        elif isinstance(value, str) and current is not None:
            if key in ("field", "via", "sort", "back_link") or key.endswith("_field") or key in _NAMING_LISTS:
                yield from ((f, pointer(at)) for f in self.path(current, value))
            elif "{" in value:
                for token in _PLACEHOLDER.findall(value):
                    yield from ((f, pointer(at)) for f in self.path(current, token))


def _options_in(walker: _Walker, value: Any, current: str | None, at: tuple[Any, ...], field: str,
                options: set[str]) -> Iterator[tuple[str, str]]:
    """(option, pointer) for each rule value or form option_tags key naming one of `options` of `field`."""
    if isinstance(value, Mapping):
        if isinstance(value.get("object"), str):
            current = value["object"]
        named = value.get("field")
        if current is not None and isinstance(named, str) and named.split(".")[-1] == field \
                and field in walker.path(current, named):
            for key in ("value", "values"):
                given = value.get(key)
                items = given if isinstance(given, list) else [given]
                for i, item in enumerate(items):
                    if isinstance(item, str) and item in options:
                        yield item, pointer((*at, key, i) if isinstance(given, list) else (*at, key))
            tags = value.get("option_tags")
            if isinstance(tags, Mapping):
                yield from ((o, pointer((*at, "option_tags", o))) for o in tags if o in options)
        for k, v in value.items():
            yield from _options_in(walker, v, current, (*at, k), field, options)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _options_in(walker, v, current, (*at, i), field, options)


def option_usage(defs: DefinitionSet, obj: str, field: str, options: set[str]) -> list[Usage]:
    """Every place a definition names one of `options` of select/multiselect `field` of `obj` (rule values,
    a form's option_tags)."""
    walker = _Walker(defs, obj, {field})
    found = []
    for kind in sorted(defs.kinds()):
        if kind == "object":
            continue
        for name, doc in defs.items(kind):
            start = doc.get("object") if isinstance(doc.get("object"), str) else doc.get("source")
            objects = doc.get("objects") if isinstance(doc.get("objects"), list) else [start]
            body = {k: v for k, v in doc.items() if k not in ("object", "objects")}
            seen = set()
            for current in objects:
                for option, path in _options_in(walker, body, current if isinstance(current, str) else None, (),
                                                field, options):
                    if path not in seen:
                        seen.add(path)
                        found.append(Usage(kind, name, path, f"{field}={option}"))
    return found


def field_usage(defs: DefinitionSet, obj: str, fields: set[str]) -> list[Usage]:
    """Every place another definition names one of `fields` of object `obj`."""
    found: list[Usage] = []
    for kind in sorted(defs.kinds()):
        if kind != "object":
            for name, doc in defs.items(kind):
                found += usage_in(defs, kind, name, doc, obj, fields)
    return found


def usage_in(defs: DefinitionSet, kind: str, name: str, doc: Mapping[str, Any], obj: str,
             fields: set[str]) -> list[Usage]:
    """The places one document (a definition, or a saved view shaped like one) names `fields` of `obj`;
    `defs` resolve relation paths."""
    walker = _Walker(defs, obj, fields)
    start = doc.get("object") if isinstance(doc.get("object"), str) else None
    walker.source = doc.get("source") if isinstance(doc.get("source"), str) else None
    start = start or walker.source
    objects = doc.get("objects") if isinstance(doc.get("objects"), list) else [start]
    found, seen = [], set()
    body = {k: v for k, v in doc.items() if k not in ("object", "objects")}
    for current in objects:
        for f, path in walker.walk(body, current if isinstance(current, str) else None, ()):
            if (f, path) not in seen:
                seen.add((f, path))
                found.append(Usage(kind, name, path or "/", f))
    return found


UsageSource = Callable[[Any, DefinitionSet, str, set[str]], list[Usage]]
USAGE_SOURCES: list[UsageSource] = []
"""Users of fields kept outside definitions (saved views): `source(conn, defs, object, fields)`; a
higher layer appends its own (engines/views.py)."""


def _rollups_as_a_source() -> None:
    """Roll-ups read fields of other objects (meta/formulas.py); imported here, not there, because
    formulas is imported by meta.objects, which meta.kinds imports while usage is still loading."""
    from .formula_checks import rollup_usage

    USAGE_SOURCES.append(rollup_usage)


_rollups_as_a_source()


def removal_problems(conn: Any, defs: DefinitionSet, obj: str, old_fields: Mapping[str, Any],
                     new_fields: Mapping[str, Any], force: bool) -> list[Problem]:
    """Removing (or renaming) fields or select options that something still uses is refused, one
    problem per user, unless forced. `defs` are the definitions as they will be (a user changed in
    the same pack is not listed); the fields are FieldDefs by name."""
    if force:
        return []
    gone = set(old_fields) - set(new_fields)
    users = field_usage(defs, obj, gone) if gone else []
    for source in USAGE_SOURCES if gone else ():
        users += source(conn, defs, obj, gone)
    problems = [Problem(f"{u.kind}/{u.name}#{u.path}", "field_in_use",
                        f"{u.kind} '{u.name}' uses field '{u.field}' of {obj}, which this change removes; change "
                        f"it first (or in the same pack), or use force") for u in users]
    for name in set(old_fields) & set(new_fields):
        before, after = getattr(old_fields[name], "options", []), getattr(new_fields[name], "options", [])
        dropped = set(before) - set(after) if after else set()
        for u in option_usage(defs, obj, name, dropped) if dropped else ():
            field, option = u.field.split("=", 1)
            problems.append(Problem(f"{u.kind}/{u.name}#{u.path}", "option_in_use",
                                    f"{u.kind} '{u.name}' uses option '{option}' of {obj}.{field}, which this change "
                                    f"removes or renames; change it first (or in the same pack), or use force"))
    return problems
