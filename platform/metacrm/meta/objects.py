"""Object definitions as typed models, their semantic checks and their record schemas."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import jsonschema_rs

from ..errors import Problem
from .fields import (
    EXACT_KEYWORDS,
    FIELD_TYPES,
    USER_TARGET,
    CoerceContext,
    CoercionError,
    FieldType,
    coerce_owner,
    keyword_allowed,
    options_of,
)
from .formula_checks import check_computed, rule_validator
from .jsonvalue import unstorable
from .links import check_links
from .names import field_name_problem, identifier_problem, table_name

if TYPE_CHECKING:
    from .kinds import DefinitionSet

MISSING: Any = object()

# Types that cannot carry a unique index (no equality on a JSON column, unbounded text).
_UNINDEXABLE = frozenset({"multiselect", "json", "textarea"})
# JSON Schema keywords that only describe; they do not belong in the record validator.
_ANNOTATIONS = frozenset({"title", "description", "default"})


@dataclass(frozen=True)
class FieldDef:
    """One field of an object, with its declaration completed by its type."""

    name: str
    type: FieldType
    schema: Mapping[str, Any]
    required: bool

    @property
    def unique(self) -> bool:
        return bool(self.schema.get("x-unique"))

    @property
    def indexed(self) -> bool:
        return bool(self.schema.get("x-index")) or self.type.is_relation

    @property
    def target(self) -> str | None:
        return self.schema.get("x-target")

    @property
    def label(self) -> Mapping[str, str]:
        return self.schema.get("x-label") or {}

    @property
    def default(self) -> Any:
        return self.schema.get("default", MISSING)

    @property
    def nullable(self) -> bool:
        """Whether input may set the field to null: neither required nor defaulted."""
        return not self.required and "default" not in self.schema

    @property
    def options(self) -> list[Any]:
        return options_of(self.schema)

    @property
    def renamed_from(self) -> str | None:
        """The field's earlier name (`x-renamed-from`): its column is renamed, its data kept."""
        return self.schema.get("x-renamed-from")

    @property
    def option_renames(self) -> dict[str, str]:
        """Renamed options, earlier value -> new value (`x-option-renames`): stored values are rewritten."""
        return dict(self.schema.get("x-option-renames") or {})

    def stored(self, value: Any, ctx: CoerceContext | None = None) -> Any:
        """The value as stored, from a schema-valid input value (raises CoercionError)."""
        if value is None or self.type.coerce is None:
            return value
        return self.type.coerce(value, self.schema, ctx or CoerceContext())

    def shown(self, value: Any) -> Any:
        """The stored value as JSON."""
        if value is None or self.type.dump is None:
            return value
        return self.type.dump(value)

    def value_schema(self, nullable: bool) -> dict[str, Any]:
        """The JSON Schema that validates this field's input values."""
        out = {k: v for k, v in self.schema.items()
               if not k.startswith("x-") and k not in _ANNOTATIONS and k not in EXACT_KEYWORDS}
        if nullable:
            declared = out.get("type")
            if isinstance(declared, str):
                out["type"] = [declared, "null"]
            elif isinstance(declared, list):
                out["type"] = [*declared, "null"]
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
        return out


@dataclass(frozen=True)
class ObjectDef:
    """A record type: its name, fields and storage facts, built from a valid definition."""

    name: str
    doc: Mapping[str, Any]
    fields: Mapping[str, FieldDef]

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> ObjectDef:
        required = set(doc.get("required", ()))
        fields = {
            name: FieldDef(name, FIELD_TYPES[decl["x-field"]],
                           FIELD_TYPES[decl["x-field"]].json_schema(decl), name in required)
            for name, decl in doc["properties"].items()
        }
        return cls(doc["$id"], doc, fields)

    @property
    def table(self) -> str:
        return table_name(self.name)

    @property
    def label(self) -> Mapping[str, str]:
        return self.doc.get("x-label") or {"en": self.doc.get("title", self.name)}

    @property
    def title_field(self) -> str | None:
        return self.doc.get("x-title-field") or next(iter(self.fields), None)

    @property
    def indexes(self) -> list[tuple[str, ...]]:
        return [tuple(ix) for ix in self.doc.get("x-indexes", ())]

    def record_schema(self, partial: bool = False) -> dict[str, Any]:
        """The JSON Schema one record's input must satisfy.

        Optional fields accept null (clearing them); required ones never do, nor do fields with a
        default (an explicit null on create or update is a 422, not a silent wipe: generated
        clients send every nullable field). A partial schema (for updates) requires nothing but
        refuses nulls in the same fields. `owner_id` stays nullable: null is an unowned record.
        """
        properties = {name: f.value_schema(nullable=f.nullable) for name, f in self.fields.items()}
        properties["owner_id"] = {"type": ["integer", "null"], "minimum": 1}
        schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
        if not partial:
            schema["required"] = [n for n, f in self.fields.items() if f.required]
        return schema

    @cached_property
    def _dumped(self) -> tuple[tuple[str, ...], tuple[tuple[str, Any], ...]]:
        names = tuple(self.fields)
        return names, tuple((n, f.type.dump) for n, f in self.fields.items() if f.type.dump is not None)

    def shown(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """The field values of a stored row as JSON (the hot path of every read and event)."""
        names, dumpers = self._dumped
        out = {name: row[name] for name in names}
        for name, dump in dumpers:
            if out[name] is not None:
                out[name] = dump(out[name])
        return out

    @cached_property
    def computed(self) -> frozenset[str]:
        """Formula and roll-up fields: written by the record service, never by input."""
        return frozenset(n for n, f in self.fields.items() if f.type.computed)

    @cached_property
    def defaults(self) -> tuple[tuple[str, Any], ...]:
        return tuple((n, f.default) for n, f in self.fields.items() if f.default is not MISSING)

    def prepare(self, data: Mapping[str, Any], partial: bool, ctx: CoerceContext) -> tuple[dict[str, Any], list[Problem]]:
        """Validate one input and coerce it to stored values; every problem names its field.

        Defaults fill missing fields on create. Fields that fail the schema are not coerced, so
        each field reports its first real problem once.
        """
        if not partial and self.defaults:
            missing = [(n, d) for n, d in self.defaults if n not in data]
            if missing:
                data = {**data, **dict(missing)}
        validator = self.validators[1 if partial else 0]
        try:
            problems = [] if validator.is_valid(data) else schema_problems(validator, data)
        except (ValueError, TypeError, OverflowError, RecursionError):
            # a value the validator cannot even read (lone surrogate, nesting past its limit, not JSON)
            data, problems = _storable_part(data)
            problems += [p for p in _schema_problems_of(validator, data) if p.code != "required"
                         or p.field not in {q.field for q in problems}]
        failed = {p.field for p in problems}
        stored: dict[str, Any] = {}
        coercers = self._coercers
        for name, value in data.items():
            coerce = coercers.get(name)
            if name == "owner_id" and value is not None and name not in failed:
                try:
                    stored[name] = coerce_owner(value)
                except CoercionError as exc:
                    problems.append(Problem(name, exc.code, exc.message))
            elif coerce is None or value is None:
                stored[name] = value
            elif name not in failed:
                try:
                    stored[name] = coerce[0](value, coerce[1], ctx)
                except CoercionError as exc:
                    problems.append(Problem(name, exc.code, exc.message))
                except (ValueError, TypeError, ArithmeticError):  # a coercer's gap is still the value's fault
                    problems.append(Problem(name, "invalid_value", f"is not a valid {self.fields[name].type.name} value"))
        if failed:
            for name in failed:
                stored.pop(name, None)
        return stored, problems

    @cached_property
    def _coercers(self) -> dict[str, tuple[Any, Mapping[str, Any]]]:
        return {n: (f.type.coerce, f.schema) for n, f in self.fields.items() if f.type.coerce is not None}

    @cached_property
    def validators(self) -> tuple[jsonschema_rs.Validator, jsonschema_rs.Validator]:
        """Compiled (full, partial) record validators: ECMA regex semantics, every error with its path."""
        return (jsonschema_rs.Draft202012Validator(self.record_schema(), validate_formats=True),
                jsonschema_rs.Draft202012Validator(self.record_schema(partial=True), validate_formats=True))


def _storable_part(data: Mapping[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """The fields of an input the databases can store, and a problem for each other field."""
    kept: dict[str, Any] = {}
    problems: list[Problem] = []
    for name, value in data.items():
        found = unstorable(name) if isinstance(name, str) else ("invalid_json", "field names are text")
        if found is None:
            found = unstorable(value)
        if found is None:
            kept[name] = value
        else:
            problems.append(Problem(str(name).encode("utf-8", "backslashreplace").decode(), *found))
    return kept, problems


def _schema_problems_of(validator: jsonschema_rs.Validator, data: Any) -> list[Problem]:
    try:
        return [] if validator.is_valid(data) else schema_problems(validator, data)
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        return [Problem("", "invalid_json", f"not a readable record: {type(exc).__name__}")]


def schema_problems(validator: jsonschema_rs.Validator, data: Any) -> list[Problem]:
    """Every JSON Schema error of a record input as a Problem on its field."""
    problems = []
    for error in validator.iter_errors(data):
        kind = error.kind
        path = [str(p) for p in error.instance_path]
        code = kind.name
        if code == "required":
            problems.append(Problem(kind.as_dict()["property"], code, "is required"))
        elif code == "additionalProperties":
            problems += [Problem(str(n), "unknown_field", "is not a field of this object")
                         for n in kind.as_dict()["unexpected"]]
        else:
            problems.append(Problem("/".join(path), code, error.message))
    return problems


def check_object(doc: Mapping[str, Any], defs: DefinitionSet) -> Iterator[Problem]:
    """What the meta-schema cannot say about an object definition."""
    problem = identifier_problem(doc["$id"])
    if problem:
        yield Problem("/$id", "invalid_name", problem)
    properties: Mapping[str, Any] = doc["properties"]
    for name, decl in properties.items():
        yield from _check_field(name, decl, defs)
        earlier = decl.get("x-renamed-from")
        if earlier is not None and earlier in properties:
            yield Problem(f"/properties/{name}/x-renamed-from", "rename_source_declared",
                          f"'{earlier}' is still a property of this object: a renamed field is no longer declared")
    for i, name in enumerate(doc.get("required", ())):
        if name not in properties:
            yield Problem(f"/required/{i}", "unknown_field", f"'{name}' is not a property of this object")
        elif FIELD_TYPES[properties[name]["x-field"]].computed:
            yield Problem(f"/required/{i}", "read_only_field", f"'{name}' is computed: it cannot be required")
    yield from check_computed(doc, _Lookup(defs), rule_validator(defs))
    yield from check_links(doc, defs)
    title = doc.get("x-title-field")
    if title is not None and title not in properties:
        yield Problem("/x-title-field", "unknown_field", f"'{title}' is not a property of this object")
    elif title is not None and properties[title]["x-field"] in ("json", "multiselect"):
        yield Problem("/x-title-field", "not_a_title", "a title field must hold a single value")
    for i, index in enumerate(doc.get("x-indexes", ())):
        for j, name in enumerate(index):
            if name not in properties:
                yield Problem(f"/x-indexes/{i}/{j}", "unknown_field", f"'{name}' is not a property of this object")
            elif properties[name]["x-field"] in _UNINDEXABLE:
                yield Problem(f"/x-indexes/{i}/{j}", "not_indexable",
                              f"a {properties[name]['x-field']} field cannot be indexed")


class _Lookup:
    """Object definitions by name, and all of them (`every`), for the computed-field checks."""

    def __init__(self, defs: DefinitionSet) -> None:
        self.defs = defs

    def __call__(self, name: str) -> Mapping[str, Any] | None:
        return self.defs.get("object", name)

    def every(self) -> list[Mapping[str, Any]]:
        return [d for _, d in self.defs.items("object")]


def _check_field(name: str, decl: Mapping[str, Any], defs: DefinitionSet) -> Iterator[Problem]:
    at = "/properties/" + name
    problem = field_name_problem(name)
    if problem:
        yield Problem(at, "invalid_name", problem)
    ftype = FIELD_TYPES[decl["x-field"]]
    declared = decl.get("type")
    if declared is not None:
        declared_set = {declared} if isinstance(declared, str) else set(declared)
        if not declared_set <= set(ftype.json_types):
            yield Problem(at + "/type", "type_mismatch",
                          f"a {ftype.name} field has JSON type {' or '.join(ftype.json_types)}, not {declared}")
            return
    if (decl.get("x-unique") or decl.get("x-index")) and ftype.name in _UNINDEXABLE:
        yield Problem(at, "not_indexable", f"a {ftype.name} field cannot be unique or indexed")
    if decl.get("x-unique") and ftype.name == "boolean":
        yield Problem(at + "/x-unique", "not_indexable", "a boolean field cannot be unique")
    for keyword in decl:
        if not keyword_allowed(ftype, keyword):
            yield Problem(f"{at}/{keyword}", "keyword_not_allowed", f"'{keyword}' does not apply to a {ftype.name} field")
    for low, high in (("minimum", "maximum"), ("minLength", "maxLength"), ("minItems", "maxItems"),
                      ("x-scale", "x-precision")):
        if low in decl and high in decl and decl[low] > decl[high]:
            yield Problem(f"{at}/{low}", "inconsistent", f"'{low}' ({decl[low]}) is greater than '{high}' ({decl[high]})")
    if ftype.name == "decimal" and "x-scale" in decl and "x-precision" not in decl and decl["x-scale"] > 18:
        yield Problem(f"{at}/x-scale", "inconsistent", "'x-scale' is greater than the default precision 18")
    if ftype.is_relation:
        target = decl["x-target"]
        if target != USER_TARGET and defs.get("object", target) is None:
            yield Problem(at + "/x-target", "unknown_object", f"no object named '{target}'")
    renames = decl.get("x-option-renames") or {}
    for before, after in renames.items():
        if after not in options_of(decl):
            yield Problem(f"{at}/x-option-renames/{before}", "unknown_option", f"'{after}' is not an option")
        elif before in options_of(decl):
            yield Problem(f"{at}/x-option-renames/{before}", "option_still_declared",
                          f"'{before}' is still an option: a renamed option is no longer declared")
    labels = decl.get("x-option-labels")
    if labels:
        for option in set(labels) - set(options_of(decl)):
            yield Problem(f"{at}/x-option-labels/{option}", "unknown_option", f"'{option}' is not an option")
    complete = ftype.json_schema(decl)
    try:
        validator = jsonschema_rs.Draft202012Validator(
            FieldDef(name, ftype, complete, False).value_schema(nullable=False), validate_formats=True)
    except (ValueError, jsonschema_rs.ValidationError) as exc:
        yield Problem(at, "invalid_schema", f"not a usable JSON Schema: {exc}")
        return
    if "default" in decl:
        yield from _check_default(at, ftype, complete, decl["default"], validator)


def _check_default(at: str, ftype: FieldType, schema: Mapping[str, Any], default: Any,
                   validator: jsonschema_rs.Validator) -> Iterator[Problem]:
    for error in validator.iter_errors(default):
        yield Problem(at + "/default", error.kind.name, error.message)
        return
    if ftype.coerce is not None:
        try:
            ftype.coerce(default, schema, CoerceContext())
        except CoercionError as exc:
            yield Problem(at + "/default", exc.code, exc.message)
