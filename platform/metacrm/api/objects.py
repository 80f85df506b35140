"""`/api/v1/objects`: the objects a user may read, described for building UIs (schema, fields, forms)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from ..auth.permissions import VERBS, Permission
from ..meta.fields import FIELD_TYPES
from ..meta.formulas import result_type
from ..meta.objects import ObjectDef
from ..store.definitions import Snapshot
from .access import object_for
from .context import principal, snapshot
from .definition_access import form_for_reader, object_for_reader

bp = Blueprint("objects", __name__)


def summary(obj: ObjectDef) -> dict[str, Any]:
    return {"name": obj.name, "label": dict(obj.label),
            "plural_label": dict(obj.doc.get("x-plural-label") or obj.label),
            "title_field": obj.title_field}


def ui_schema(obj: ObjectDef, perm: Permission) -> dict[str, Any]:
    """The object's definition (a JSON Schema with x- keywords) without the caller's hidden fields."""
    return object_for_reader(obj.doc, perm)


def describe(snap: Snapshot, obj: ObjectDef, perm: Permission) -> dict[str, Any]:
    fields = []
    for name, f in obj.fields.items():
        if name in perm.hidden:
            continue
        fields.append({
            "name": name, "type": f.type.name, "label": dict(f.label) or {"en": name}, "required": f.required,
            "unique": f.unique, "options": f.options, "option_labels": f.schema.get("x-option-labels") or {},
            "target": f.target,
            "readonly": name in perm.readonly or (not perm.update and not perm.create) or f.type.computed,
            "widget": f.type.widget,
            "operators": list(FIELD_TYPES[result_type(f.schema)].operators if f.type.computed else f.type.operators),
            **({"result": result_type(f.schema)} if f.type.computed else {}),
            "help": f.schema.get("x-help") or {},
        })
    forms = [form_for_reader(doc, perm) for _, doc in snap.definitions.items("form") if doc.get("object") == obj.name]
    default = f"{obj.name}_default"
    names = [d["name"] for d in forms]
    return {**summary(obj), "schema": ui_schema(obj, perm), "fields": fields, "forms": forms,
            "default_form": default if default in names else (names[0] if names else None),
            "permissions": {verb: perm.allows(verb) for verb in VERBS}}


@bp.get("/objects")
def list_objects() -> Any:
    who = principal()
    snap = snapshot()
    return jsonify([summary(o) for o in snap.objects.values() if who.permission(o.name).read])


@bp.get("/objects/<object_name>")
def get_object(object_name: str) -> Any:
    who = principal()
    snap = snapshot()
    obj, perm = object_for(snap, who, object_name)
    return jsonify(describe(snap, obj, perm))
