"""Column mappings: suggested from headers and field labels in every language, checked, saved as templates.

A mapping is {column header: field name}; constants are {field name: value} for fields no column
fills (e.g. every row of a trade-show list gets channel "2026 trade show").
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy import Connection, delete, select

from ...errors import NotFound, PermissionDenied, Problem, ValidationError
from ...meta.names import identifier_problem
from ...meta.objects import ObjectDef
from ..normalize import to_halfwidth
from .tables import import_templates

SUGGEST_THRESHOLD = 85
_NOISE = re.compile(r"[\s_\-./:()（）：*#]+")
# Words people put in headers that no label says (both languages); field names as values.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "phone": ("手机", "手机号码", "电话", "联系电话", "mobile", "mobilephone", "cell", "tel", "telephone"),
    "email": ("e-mail", "mail", "电子邮件", "电子邮箱", "邮件"),
    "name": ("姓名", "名字", "联系人", "fullname", "contact"),
    "company": ("公司名称", "单位", "企业", "organization", "organisation"),
    "wechat_id": ("微信", "wechat", "weixin"),
    "notes": ("备注", "note", "remark", "remarks", "comment"),
    "city": ("所在城市", "城市"),
}


def _key(text: str) -> str:
    return _NOISE.sub("", to_halfwidth(str(text)).casefold())


def _candidates(obj: ObjectDef) -> dict[str, str]:
    """Normalised names by which each field may appear in a header -> field name."""
    out: dict[str, str] = {}
    for name, f in obj.fields.items():
        for text in (name, *f.label.values()):
            out.setdefault(_key(text), name)
        for text in SYNONYMS.get(name, ()):
            out.setdefault(_key(text), name)
    return out


def suggest_mapping(headers: Sequence[str], obj: ObjectDef) -> dict[str, str]:
    """{header: field} for the headers we can place: exact name/label/synonym first, then close matches."""
    candidates = _candidates(obj)
    out: dict[str, str] = {}
    used: set[str] = set()
    for header in headers:
        field = candidates.get(_key(header))
        if field and field not in used:
            out[header] = field
            used.add(field)
    for header in headers:
        if header in out or not _key(header):
            continue
        best, score = None, 0.0
        for text, field in candidates.items():
            if field in used:
                continue
            s = fuzz.ratio(_key(header), text)
            if s > score:
                best, score = field, s
        if best and score >= SUGGEST_THRESHOLD:
            out[header] = best
            used.add(best)
    return out


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
        elif field in seen:
            problems.append(Problem(f"mapping/{header}", "mapped_twice",
                                    f"'{field}' is already filled from column '{seen[field]}'"))
        else:
            seen[field] = header
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
                  is_admin: bool = True) -> dict[str, Any]:
    """Create or replace a template. Templates are shared: one made by someone else is changed by admins only."""
    problem = identifier_problem(name)
    if problem:
        raise ValidationError("invalid template name", [Problem("name", "invalid_name", problem)])
    check_mapping(obj, None, mapping, constants)
    owner = conn.execute(select(import_templates.c.created_by).where(import_templates.c.name == name)).first()
    if owner is not None and not is_admin and owner.created_by != actor_id:
        raise PermissionDenied(f"template '{name}' belongs to someone else; only administrators may change it",
                               [Problem("name", "not_yours", name)])
    row = {"name": name, "object": obj.name, "label": label, "mapping": dict(mapping),
           "constants": dict(constants), "created_by": owner.created_by if owner is not None else actor_id,
           "updated_at": datetime.now(UTC)}
    conn.execute(delete(import_templates).where(import_templates.c.name == name))
    conn.execute(import_templates.insert().values(**row))
    return template_dict(row)


def template_dict(row: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(row)
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
