"""What a rule may refer to: objects and their fields (with system fields), and tags.

A catalog is built from a live snapshot (anything with `.objects` and `.definitions`) or from a
DefinitionSet being validated before it is applied. Rules never see storage.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..meta.fields import FIELD_TYPES
from ..meta.formulas import Clock, FormulaField, object_formulas, result_type
from ..meta.kinds import KINDS, DefinitionSet
from ..meta.objects import ObjectDef
from ..meta.tag_names import tag_keys
from .model import TEXT_TYPES, FieldInfo

# System columns a rule may read, as the field type they behave like.
SYSTEM_FIELD_TYPES = {"id": "integer", "created_at": "datetime", "updated_at": "datetime",
                      "owner_id": "relation", "created_by": "relation"}
_KIND_OF_TYPE = {"integer": "integer", "decimal": "decimal", "boolean": "boolean", "date": "date",
                 "datetime": "datetime", "multiselect": "multi", "relation": "relation", "json": "json"}


def kind_of(type_name: str) -> str:
    return "text" if type_name in TEXT_TYPES else _KIND_OF_TYPE.get(type_name, "json")


def _normalizer(obj: ObjectDef, name: str) -> Callable[[Any], Any] | None:
    f = obj.fields[name]
    if f.type.name in ("email", "phone", "url", "region"):
        return f.stored
    return None


class _Volatile:
    """A volatile formula as rules read it: SQL at query time, or a value from one record."""

    def __init__(self, obj: ObjectDef, formula: FormulaField) -> None:
        self.obj = obj
        self.formula = formula

    def sql(self, tbl: Any, now: Any, tz: Any) -> Any:
        formulas = object_formulas(self.obj.doc["properties"])
        return formulas.column_sql(self.formula.name, lambda n: tbl.c[n], Clock(now, tz))

    def value(self, record: Mapping[str, Any], now: Any, tz: Any) -> Any:
        formulas = object_formulas(self.obj.doc["properties"])
        return formulas.compute_volatile(record, Clock(now, tz)).get(self.formula.name)


_FIELD_CACHE: dict[int, tuple[ObjectDef, dict[str, FieldInfo]]] = {}


def fields_of(obj: ObjectDef) -> dict[str, FieldInfo]:
    """Every field a rule may read on `obj`: its own fields, then the system fields."""
    hit = _FIELD_CACHE.get(id(obj))
    if hit is not None and hit[0] is obj:
        return hit[1]
    out: dict[str, FieldInfo] = {}
    volatile = object_formulas(obj.doc["properties"]).volatile
    for name, f in obj.fields.items():
        if f.type.computed:  # a formula or roll-up reads like a field of its result type
            tname = result_type(f.schema)
            if tname not in FIELD_TYPES:  # an invalid declaration being validated alongside
                tname = "json"
            out[name] = FieldInfo(name, tname, kind_of(tname), FIELD_TYPES[tname].operators, (),
                                  int(f.schema.get("x-scale", 2)), True,
                                  compute=_Volatile(obj, volatile[name]) if name in volatile else None)
            continue
        out[name] = FieldInfo(name, f.type.name, kind_of(f.type.name), f.type.operators, tuple(f.options),
                              int(f.schema.get("x-scale", 2)), True, _normalizer(obj, name))
    for name, type_name in SYSTEM_FIELD_TYPES.items():
        out[name] = FieldInfo(name, type_name, kind_of(type_name), FIELD_TYPES[type_name].operators,
                              nullable=name not in ("id", "created_at", "updated_at"))
    if len(_FIELD_CACHE) > 256:
        _FIELD_CACHE.clear()
    _FIELD_CACHE[id(obj)] = (obj, out)
    return out


class Catalog:
    """Objects (as ObjectDef) and tag definitions a rule can name."""

    def __init__(self, objects: Mapping[str, ObjectDef] | Callable[[str], ObjectDef | None],
                 tags: Callable[[str], Mapping[str, Any] | None] | None,
                 keys: Callable[[str], tuple[str, ...]] | None = None) -> None:
        self._objects = objects
        self._tags = tags
        self._keys = keys

    def object(self, name: str) -> ObjectDef | None:
        if callable(self._objects):
            return self._objects(name)
        return self._objects.get(name)

    def fields(self, name: str) -> dict[str, FieldInfo] | None:
        obj = self.object(name)
        return None if obj is None else fields_of(obj)

    @property
    def knows_tags(self) -> bool:
        return self._tags is not None

    def tag(self, name: str) -> Mapping[str, Any] | None:
        return None if self._tags is None else self._tags(name)

    def tag_keys(self, text: str) -> tuple[str, ...]:
        """Keys of the tags a rule's text names: the key, or tags labelled so (meta.tag_names)."""
        if self._keys is not None:
            return self._keys(text)
        return (text,) if self.tag(text) is not None else ()


_CATALOGS: dict[int, tuple[Any, Catalog]] = {}


def catalog_of(source: Any) -> Catalog:
    """A catalog over a Snapshot, a DefinitionSet or a Catalog (returned as is)."""
    if isinstance(source, Catalog):
        return source
    hit = _CATALOGS.get(id(source))
    if hit is not None and hit[0] is source:
        return hit[1]
    defs: DefinitionSet = source if isinstance(source, DefinitionSet) else source.definitions
    tags = (lambda n: defs.get("tag", n)) if "tag" in KINDS else None
    keys = (lambda t: tag_keys(defs, t)) if "tag" in KINDS else None
    if isinstance(source, DefinitionSet):
        built: dict[str, ObjectDef | None] = {}

        def lookup(name: str) -> ObjectDef | None:
            if name not in built:
                doc = defs.get("object", name)
                built[name] = ObjectDef.from_doc(doc) if doc is not None else None
            return built[name]

        cat = Catalog(lookup, tags, keys)
    else:
        cat = Catalog(source.objects, tags, keys)
    if len(_CATALOGS) > 64:
        _CATALOGS.clear()
    _CATALOGS[id(source)] = (source, cat)
    return cat
