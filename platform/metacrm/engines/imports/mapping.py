"""Column mappings: suggested from headers and field labels in every language, checked, saved as templates.

A mapping is {column header: field name}; constants are {field name: value} for fields no column
fills (e.g. every row of a trade-show list gets channel "2026 trade show").
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy import Connection, delete, select

from ...errors import NotFound, PermissionDenied, Problem, ValidationError
from ...meta.names import identifier_problem
from ...meta.objects import ObjectDef
from ..normalize import option_lookup, to_halfwidth
from .tables import import_templates

SUGGEST_THRESHOLD = 85
_NOISE = re.compile(r"[\s_\-./:()（）：*#]+")
COMBINABLE = frozenset({"text", "textarea", "phone"})
"""Field types several columns may fill: text is joined (First + Last name), phone takes the first
non-empty column in priority order (mobile before landline) and keeps the others."""
KEEP_FIELDS = ("more_information", "more_info", "extra_info", "notes", "description", "remarks")
"""Where columns mapped to no field are kept ("Header: value" lines), first that exists wins."""
ERROR_HEADERS = frozenset({"errors", "错误", "error", "错误原因"})
"""The column our error files add: never imported, replaced when that file goes round again."""


@cache
def _pack() -> dict[str, Any]:
    """Header and value synonyms of other CRMs' exports (synonyms.json beside this module)."""
    text = resources.files("metacrm.engines.imports").joinpath("synonyms.json").read_text(encoding="utf-8")
    return dict(json.loads(text))


def _key(text: str) -> str:
    return _NOISE.sub("", to_halfwidth(str(text)).casefold())


@cache
def _role_keys() -> tuple[frozenset[str], frozenset[str], dict[str, frozenset[str]]]:
    pack = _pack()
    return (frozenset(map(_key, pack["family"])), frozenset(map(_key, pack["given"])),
            {f: frozenset(map(_key, hs)) for f, hs in pack["secondary"].items()})


def name_part(header: str) -> str | None:
    """'family' (Last Name, 姓) or 'given' (First Name, 名) for the parts of a person's name."""
    family, given, _ = _role_keys()
    key = _key(header)
    return "family" if key in family else "given" if key in given else None


def is_secondary(field: str, header: str) -> bool:
    """A column that fills `field` only when the primary ones are empty (a landline for the mobile)."""
    return _key(header) in _role_keys()[2].get(field, frozenset())


def is_error_column(header: str) -> bool:
    return _key(header) in ERROR_HEADERS


def _candidates(obj: ObjectDef) -> dict[str, tuple[str, str]]:
    """Normalised names by which each field may appear in a header -> (field name, how it matched)."""
    out: dict[str, tuple[str, str]] = {}
    synonyms = _pack()["fields"]
    writable = {n: f for n, f in obj.fields.items() if not f.type.computed}  # formulas, roll-ups: read-only
    for name, f in writable.items():
        for text in (name, *f.label.values()):
            out.setdefault(_key(text), (name, "exact"))
    for name in writable:
        for text in synonyms.get(name, ()):
            out.setdefault(_key(text), (name, "synonym"))
    return out


def _person_field(obj: ObjectDef) -> str | None:
    f = obj.fields.get(obj.title_field or "") if obj.title_field else None
    if f is not None and f.type.name == "text":
        return f.name
    return "name" if "name" in obj.fields and obj.fields["name"].type.name == "text" else None


def header_score(obj: ObjectDef) -> Callable[[str], float]:
    """How well a header text names a field of `obj` (1 exact or synonym, 0.5 close): finds header rows."""
    candidates = _candidates(obj)
    family, given, secondary = _role_keys()
    known = set(candidates) | family | given | {k for ks in secondary.values() for k in ks}

    def score(text: str) -> float:
        key = _key(text)
        if not key or len(text) > 60:
            return 0.0
        if key in known:
            return 1.0
        best = max((fuzz.ratio(key, k) for k in candidates), default=0.0)
        return 0.5 if best >= SUGGEST_THRESHOLD else 0.0

    return score


def suggest(headers: Sequence[str], obj: ObjectDef) -> list[dict[str, Any]]:
    """Per header that we can place: {header, field, match, score, confirm, part}.

    match is exact (a field's name or label), synonym (another CRM's name for it), part (First /
    Last name into the person's name), secondary (a landline column kept behind the mobile) or
    similar (a close spelling: shown with confirm=true, for the user to accept or change).
    """
    candidates = _candidates(obj)
    person = _person_field(obj)
    out: list[dict[str, Any]] = []
    used: set[str] = set()
    placed: set[str] = set()
    # a bare "Name" beside a column that is surely the person's (Odoo's crm.lead: name is the deal's
    # title, contact_name the person's) is not taken: it stays a column of its own, shown unmapped
    bare = {_key(person)} if person and any(
        candidates.get(_key(h)) == (person, "synonym") for h in headers) else set()
    for header in headers:
        if is_error_column(header):
            continue
        key = _key(header)
        found = candidates.get(key)
        part = name_part(header)
        if key in bare:
            continue
        if found and is_secondary(found[0], header):
            continue  # a landline column named like the field ("Phone") stands behind a mobile column
        if found and found[0] not in used:
            out.append({"header": header, "field": found[0], "match": found[1], "score": 100, "confirm": False})
            used.add(found[0])
            placed.add(header)
        elif part and person:
            out.append({"header": header, "field": person, "match": "part", "part": part, "score": 100,
                        "confirm": False})
            placed.add(header)
    parts = [d for d in out if d["match"] == "part"]
    if parts and person in used:  # a Full Name column and First/Last columns: the full name wins
        out = [d for d in out if d["match"] != "part"]
        placed -= {d["header"] for d in parts}
    elif parts:
        used.add(str(person))
    for header in headers:
        if header in placed or is_error_column(header):
            continue
        field = next((f for f, keys in _role_keys()[2].items() if _key(header) in keys and f in obj.fields), None)
        if field is not None:
            out.append({"header": header, "field": field, "match": "secondary", "score": 100, "confirm": False})
            placed.add(header)
    for header in headers:
        if header in placed or not _key(header) or is_error_column(header):
            continue
        best, score = None, 0.0
        for text, (field, _) in candidates.items():
            if field in used:
                continue
            s = fuzz.ratio(_key(header), text)
            if s > score:
                best, score = field, s
        if best and score >= SUGGEST_THRESHOLD:
            out.append({"header": header, "field": best, "match": "similar", "score": round(score),
                        "confirm": True})
            used.add(best)
    order = {h: i for i, h in enumerate(headers)}
    return sorted(out, key=lambda d: order[d["header"]])


def suggest_mapping(headers: Sequence[str], obj: ObjectDef) -> dict[str, str]:
    """{header: field} for the headers we can place (see `suggest`)."""
    return {d["header"]: d["field"] for d in suggest(headers, obj)}


def keep_field(obj: ObjectDef, choice: str | None = None) -> str | None:
    """The text field that keeps unmapped columns: the import's choice, else the first of KEEP_FIELDS."""
    if choice:
        f = obj.fields.get(choice)
        if f is None or f.type.name not in ("text", "textarea", "json"):
            raise ValidationError(f"'{choice}' cannot keep other columns (it is not a text field of {obj.name})",
                                  [Problem("keep_field", "not_text", choice[:64])])
        return choice
    return next((n for n in KEEP_FIELDS if n in obj.fields and obj.fields[n].type.name in ("textarea", "json")),
                None)


def unmapped_columns(headers: Sequence[str], mapping: Mapping[str, Any]) -> list[str]:
    """Columns no decision covers: kept in the more-information field (or listed when there is none).
    A header mapped to null or "" was explicitly ignored."""
    return [h for h in headers if h not in mapping and not is_error_column(h)]


def value_lookup(obj: ObjectDef, f: Any, value_map: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Source value (case-folded) -> option key: the import's value map, then the pack's synonyms of
    other CRMs' values, then the options' keys and labels in every language."""
    out = {str(k).casefold(): str(v) for k, v in (value_map or {}).items()}
    for option, texts in (_pack()["values"].get(f"{obj.name}.{f.name}") or {}).items():
        if option in f.options:
            for text in texts:
                out.setdefault(str(text).casefold(), option)
    for k, v in option_lookup(f).items():
        out.setdefault(k, v)
    return out


def check_value_map(obj: ObjectDef, value_map: Any) -> None:
    """{field: {source value: option}}: fields with options, options that exist."""
    problems: list[Problem] = []
    if not isinstance(value_map, Mapping):
        raise ValidationError("value_map is a JSON object {field: {source value: option}}",
                              [Problem("value_map", "type", "must be an object")])
    for field, values in value_map.items():
        f = obj.fields.get(field)
        if f is None or not f.options:
            problems.append(Problem(f"value_map/{field}", "unknown_field", f"'{field}' is not an option field"))
            continue
        if not isinstance(values, Mapping):
            problems.append(Problem(f"value_map/{field}", "type", "must be an object {source value: option}"))
            continue
        for source, option in values.items():
            if option not in f.options:
                problems.append(Problem(f"value_map/{field}/{source}"[:200], "enum",
                                        f"'{option}' is not an option of {field}"))
    if problems:
        raise ValidationError("the value mapping is invalid", problems)


def check_mapping(obj: ObjectDef, headers: Sequence[str] | None, mapping: Any, constants: Any) -> None:
    """Refuse mappings to unknown fields, a field filled twice, or headers the file lacks."""
    problems: list[Problem] = []
    if not isinstance(mapping, Mapping):
        raise ValidationError("the mapping is a JSON object {column: field}",
                              [Problem("mapping", "type", "must be an object")])
    if not isinstance(constants, Mapping):
        raise ValidationError("constants are a JSON object {field: value}",
                              [Problem("constants", "type", "must be an object")])
    seen: dict[str, str] = {}
    for header, field in mapping.items():
        if field in (None, ""):
            continue
        if field not in obj.fields:
            problems.append(Problem(f"mapping/{header}", "unknown_field", f"'{field}' is not a field of {obj.name}"))
        elif field in seen and obj.fields[field].type.name not in COMBINABLE:
            problems.append(Problem(f"mapping/{header}", "mapped_twice",
                                    f"'{field}' is already filled from column '{seen[field]}'"))
        else:
            seen.setdefault(field, header)
        if headers is not None and header not in headers:
            problems.append(Problem(f"mapping/{header}", "unknown_column", f"the file has no column '{header}'"))
    for field in constants:
        if field not in obj.fields:
            problems.append(Problem(f"constants/{field}", "unknown_field", f"'{field}' is not a field of {obj.name}"))
        elif field in seen:
            problems.append(Problem(f"constants/{field}", "mapped_twice",
                                    f"'{field}' is already filled from column '{seen[field]}'"))
    if problems:
        raise ValidationError("the column mapping is invalid", problems)


# --- templates --------------------------------------------------------------------------------

def save_template(conn: Connection, name: str, obj: ObjectDef, mapping: Mapping[str, str],
                  constants: Mapping[str, Any], label: str | None = None, actor_id: int | None = None,
                  is_admin: bool = True, value_map: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Create or replace a template. Templates are shared: one made by someone else is changed by admins only."""
    problem = identifier_problem(name)
    if problem:
        raise ValidationError("invalid template name", [Problem("name", "invalid_name", problem)])
    check_mapping(obj, None, mapping, constants)
    check_value_map(obj, value_map or {})
    owner = conn.execute(select(import_templates.c.created_by).where(import_templates.c.name == name)).first()
    if owner is not None and not is_admin and owner.created_by != actor_id:
        raise PermissionDenied(f"template '{name}' belongs to someone else; only administrators may change it",
                               [Problem("name", "not_yours", name)])
    row = {"name": name, "object": obj.name, "label": label, "mapping": dict(mapping),
           "constants": dict(constants), "value_map": dict(value_map or {}), "created_by": owner.created_by if owner is not None else actor_id,
           "updated_at": datetime.now(UTC)}
    conn.execute(delete(import_templates).where(import_templates.c.name == name))
    conn.execute(import_templates.insert().values(**row))
    return template_dict(row)


def template_dict(row: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(row)
    out["value_map"] = out.get("value_map") or {}
    out["updated_at"] = row["updated_at"].isoformat().replace("+00:00", "Z")
    return out


def get_template(conn: Connection, name: str) -> dict[str, Any]:
    row = conn.execute(select(import_templates).where(import_templates.c.name == name)).first()
    if row is None:
        raise NotFound(f"no import template named '{name}'", [Problem("template", "not_found", name)])
    return template_dict(row._mapping)


def list_templates(conn: Connection, object_name: str | None = None) -> list[dict[str, Any]]:
    query = select(import_templates).order_by(import_templates.c.name)
    if object_name:
        query = query.where(import_templates.c.object == object_name)
    return [template_dict(r._mapping) for r in conn.execute(query)]


def delete_template(conn: Connection, name: str) -> None:
    if conn.execute(delete(import_templates).where(import_templates.c.name == name)).rowcount == 0:
        raise NotFound(f"no import template named '{name}'", [Problem("template", "not_found", name)])
