"""Definition checks of formula and roll-up fields (called from meta.objects.check_object): declared
result types, inputs, depth and cycles (with their path), roll-up relations, aggregates and filters;
and who uses a field through another object's roll-up (a meta/usage.py source)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ..errors import Problem
from .formulas import (
    _NUMERIC,
    AGGS,
    MAX_DEPTH,
    MAX_INPUTS,
    RESULT_TYPES,
    accepts,
    field_types,
    fields_read,
    is_volatile,
    is_volatile_field,
    parse,
    result_type,
    value_type,
)

# --- definition checks (called from meta.objects.check_object) -----------------------------------

RuleValidator = Callable[[Any, str, Any], list[Problem]]
_RULES: list[RuleValidator] = []


def set_rule_validator(fn: RuleValidator) -> None:
    """The rules layer (above meta) hands in `validate_rule` so roll-up filters are checked here."""
    _RULES[:] = [fn]


def rule_validator(defs: Any) -> Callable[[Any, str], list[Problem]] | None:
    if not _RULES:
        return None
    fn = _RULES[0]
    return lambda rule, obj: fn(rule, obj, defs)


def check_computed(doc: Mapping[str, Any], lookup: Callable[[str], Mapping[str, Any] | None],
                   validate_rule: Callable[[Any, str], list[Problem]] | None = None) -> Iterator[Problem]:
    """Formula and roll-up declarations of one object definition: types, cycles, depth, inputs.

    `lookup(object_name)` gives another object's definition (roll-up children); `validate_rule`
    checks a roll-up's filter rule against its child object (None: not checked here).
    """
    properties: Mapping[str, Mapping[str, Any]] = doc["properties"]
    types = field_types(properties)
    reads: dict[str, list[str]] = {}
    for name, decl in properties.items():
        at = f"/properties/{name}"
        kind = decl.get("x-field")
        if kind == "formula":
            yield from _check_formula(at, decl, types, reads, name)
        elif kind == "rollup":
            yield from _check_rollup(at, doc["$id"], decl, lookup, validate_rule)
        else:
            for key in ("x-formula", "x-rollup", "x-result", "x-stored"):
                if key in decl:
                    yield Problem(f"{at}/{key}", "keyword_not_allowed", f"'{key}' belongs to formula and roll-up fields")
    yield from _check_graph(reads, properties)


def _check_formula(at: str, decl: Mapping[str, Any], types: Mapping[str, str | None],
                   reads: dict[str, list[str]], name: str) -> Iterator[Problem]:
    if "x-formula" not in decl:
        yield Problem(at, "required", "a formula field needs 'x-formula'")
        return
    declared = decl.get("x-result")
    if declared not in RESULT_TYPES:
        yield Problem(f"{at}/x-result", "required", f"a formula field declares 'x-result': one of {', '.join(RESULT_TYPES)}")
        return
    node, problems = parse(decl["x-formula"], types)
    for p in problems:
        yield Problem(f"{at}/x-formula{'' if p.field == '/' else p.field}", p.code, p.message)
    if node is None:
        return
    if not accepts(declared, node.type):
        yield Problem(f"{at}/x-result", "type_mismatch", f"the formula gives {node.type}, not {declared}")
    volatile = is_volatile(decl["x-formula"])
    if volatile and decl.get("x-stored") is True:
        yield Problem(f"{at}/x-stored", "volatile_stored",
                      "a formula that reads today or now changes by itself: it is computed when read, never stored")
    used = fields_read(decl["x-formula"])
    if len(used) > MAX_INPUTS:
        yield Problem(f"{at}/x-formula", "too_many_inputs", f"a formula reads at most {MAX_INPUTS} fields, not {len(used)}")
    reads[name] = used


def _check_graph(reads: Mapping[str, list[str]], properties: Mapping[str, Mapping[str, Any]]) -> Iterator[Problem]:
    """Cycles (refused with their path) and chains longer than MAX_DEPTH among formulas."""
    state: dict[str, int] = {}
    depth: dict[str, int] = {}
    reported: set[str] = set()

    def visit(name: str, path: list[str]) -> Iterator[Problem]:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = [*path[path.index(name):], name]
            if not reported & set(cycle):
                reported.update(cycle)
                yield Problem(f"/properties/{cycle[0]}/x-formula", "cycle",
                              "formulas read each other in a cycle: " + " → ".join(cycle))
            return
        state[name] = 1
        deepest = 0
        for dep in reads.get(name, ()):
            if dep in reads:
                yield from visit(dep, [*path, name])
                deepest = max(deepest, depth.get(dep, 0))
        state[name] = 2
        depth[name] = deepest + 1
        if depth[name] > MAX_DEPTH and name not in reported:
            reported.add(name)
            yield Problem(f"/properties/{name}/x-formula", "too_deep",
                          f"computed fields chain at most {MAX_DEPTH} deep")
        volatile_deps = [d for d in reads.get(name, ()) if d in reads and is_volatile_field(d, properties, reads)]
        if volatile_deps and properties[name].get("x-stored") is True:
            yield Problem(f"/properties/{name}/x-stored", "volatile_stored",
                          f"reads the volatile formula '{volatile_deps[0]}': it cannot be stored")

    for name in reads:
        yield from visit(name, [])


def _check_rollup(at: str, parent: str, decl: Mapping[str, Any], lookup: Callable[[str], Mapping[str, Any] | None],
                  validate_rule: Callable[[Any, str], list[Problem]] | None) -> Iterator[Problem]:
    spec = decl.get("x-rollup")
    if not isinstance(spec, Mapping):
        yield Problem(at, "required", "a roll-up field needs 'x-rollup'")
        return
    at += "/x-rollup"
    if "link" in spec:
        child_name = _linked_object(parent, str(spec["link"]), lookup)
        if child_name is None or "object" in spec or "via" in spec:
            yield Problem(at + "/link", "unknown_link", f"'{spec['link']}' is not a many-to-many relation of {parent} "
                          "(and a link roll-up takes no object or via)")
            return
        child = lookup(child_name)
        if child is None:
            return
    else:
        child_name = spec.get("object")
        child = lookup(str(child_name)) if isinstance(child_name, str) else None
        if child is None:
            yield Problem(at + "/object", "unknown_object", f"no object named '{child_name}'")
            return
        via = spec.get("via")
        link = child["properties"].get(str(via)) if isinstance(via, str) else None
        if link is None or link.get("x-field") != "relation" or link.get("x-target") != parent:
            yield Problem(at + "/via", "unknown_relation", f"'{via}' is not a relation of {child_name} to {parent}")
    props: Mapping[str, Mapping[str, Any]] = child["properties"]
    agg = spec.get("agg")
    if agg not in AGGS:
        yield Problem(at + "/agg", "invalid_value", f"agg is one of {', '.join(AGGS)}")
        return
    target = spec.get("field")
    declared = result_type(decl)
    if agg == "count":
        if target is not None:
            yield Problem(at + "/field", "keyword_not_allowed", "count counts records: it takes no field")
        elif declared != "integer":
            yield Problem(at.replace("/x-rollup", "/x-result"), "type_mismatch", "a count is an integer")
    else:
        tdecl = props.get(str(target)) if isinstance(target, str) else None
        ttype = value_type(tdecl) if tdecl is not None and tdecl.get("x-field") not in ("formula", "rollup") else None
        if tdecl is None:
            yield Problem(at + "/field", "unknown_field", f"{child_name} has no field '{target}'")
        elif ttype is None or (agg in ("sum", "avg") and ttype not in _NUMERIC) or ttype == "boolean":
            yield Problem(at + "/field", "type_mismatch", f"cannot {agg} a {tdecl.get('x-field')} field")
        elif agg == "count_distinct" and declared != "integer":
            yield Problem(at.replace("/x-rollup", "/x-result"), "type_mismatch", "a distinct count is an integer")
        elif agg in ("min", "max") and not accepts(declared, ttype):
            yield Problem(at.replace("/x-rollup", "/x-result"), "type_mismatch",
                          f"the {agg} of {target} is {ttype}, not {declared}")
        elif (agg in ("sum", "avg") and declared not in _NUMERIC) or (agg == "avg" and declared != "decimal"):
            yield Problem(at.replace("/x-rollup", "/x-result"), "type_mismatch", f"a {agg} is a number (avg: decimal)")
        elif agg == "sum" and declared == "integer" and ttype == "decimal":
            yield Problem(at.replace("/x-rollup", "/x-result"), "type_mismatch", "the sum of decimals is a decimal")
    rule = spec.get("filter")
    if rule is not None and validate_rule is not None:
        for p in validate_rule(rule, str(child_name)):
            yield Problem(f"{at}/filter{'' if p.field == '/' else p.field}", p.code, p.message)
    for name, path in _rule_fields(rule) if rule is not None else ():
        decl = props.get(name) or {}
        if decl.get("x-field") == "rollup" or (decl.get("x-field") == "formula" and is_volatile_field(name, props)):
            yield Problem(f"{at}/filter/{'/'.join(map(str, path))}", "not_row_local",
                          f"'{name}' changes without the {child_name} being written (a roll-up or a volatile "
                          "formula): a roll-up filter cannot read it")


def _linked_object(parent: str, name: str, lookup: Callable[[str], Mapping[str, Any] | None]) -> str | None:
    """The object on the other side of `parent`'s many-to-many relation `name` (declared on either side)."""
    own = lookup(parent) or {}
    decl = (own.get("x-links") or {}).get(name)
    if decl is not None:
        return str(decl.get("x-target"))
    for other in _all_objects(lookup):
        for d in (other.get("x-links") or {}).values():
            if d.get("x-target") == parent and d.get("x-inverse") == name:
                return str(other["$id"])
    return None


def _all_objects(lookup: Callable[[str], Mapping[str, Any] | None]) -> list[Mapping[str, Any]]:
    every = getattr(lookup, "every", None)
    return list(every()) if every is not None else []


# --- who uses a field: roll-ups of other objects over this one (meta/usage.py) -----------------------

def _rule_fields(rule: Any) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """(field, path) for each own-field condition of a roll-up filter rule."""
    stack: list[tuple[Any, tuple[Any, ...]]] = [(rule, ())]
    while stack:
        node, at = stack.pop()
        if isinstance(node, Mapping):
            if isinstance(node.get("field"), str) and "related" not in node:
                yield node["field"], (*at, "field")
            for k, v in node.items():
                if k in ("all", "any", "not"):
                    stack.append((v, (*at, k)))
        elif isinstance(node, list):
            stack.extend((v, (*at, i)) for i, v in enumerate(node))


def rollup_usage(conn: Any, defs: Any, obj: str, fields: set[str]) -> list[Any]:
    """Roll-ups of other objects that read `fields` of `obj` (its relation, field or filter): removing
    one is refused like any field in use (a roll-up would no longer know what to add up)."""
    from .kinds import pointer
    from .usage import Usage

    found = []
    for parent, doc in defs.items("object"):
        for name, decl in (doc.get("properties") or {}).items():
            spec = decl.get("x-rollup") if isinstance(decl, Mapping) and decl.get("x-field") == "rollup" else None
            if not isinstance(spec, Mapping):
                continue
            child = spec.get("object") or _linked_object(parent, str(spec.get("link")), lambda n: defs.get("object", n))
            if child != obj:
                continue
            at = ("properties", name, "x-rollup")
            for key in ("via", "field"):
                if spec.get(key) in fields:
                    found.append(Usage("object", parent, pointer((*at, key)), str(spec[key])))
            for f, path in _rule_fields(spec.get("filter")):
                if f in fields:
                    found.append(Usage("object", parent, pointer((*at, "filter", *path)), f))
    return found
