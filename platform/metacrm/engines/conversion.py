"""Conversions (kind `conversion`): a lead becomes a customer, and optionally an account and an
opportunity, by a mapping defined in metadata (metadata/conversions/).

Everything goes through the record service in one transaction: the targets are created in the
definition's order (a later target may point at an earlier one, `refs`), the source gets its
link fields and its `mark` (status = converted), and both sides' timelines get a `converted`
event naming the other side. A source that already links to its first target, or holds the
mark, is refused with 409 `already_converted`. Fields the caller may not see on the source are
not copied; fields they may not write on a target are left out.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from ..auth.principal import Principal
from ..errors import Conflict, NotFound, Problem, ValidationError
from ..meta.kinds import DefinitionSet, Kind, register_kind
from ..store.definitions import Snapshot
from ..store.events import RecordEvent, append_events
from ..store.records import RecordService

Doc = Mapping[str, Any]


def _relation_to(props: Mapping[str, Any], name: str, target: str) -> bool:
    f = props.get(name) or {}
    return f.get("x-field") == "relation" and f.get("x-target") == target


def check_conversion(doc: Doc, defs: DefinitionSet) -> Iterator[Problem]:
    source = defs.get("object", doc["source"])
    if source is None:
        yield Problem("/source", "unknown_object", f"no object named '{doc['source']}'")
        return
    sprops = source.get("properties", {})
    for other_name, other in defs.items("conversion"):
        if other_name != doc["name"] and other.get("source") == doc["source"]:
            yield Problem("/source", "duplicate", f"conversion '{other_name}' already converts {doc['source']}")
    mark = doc.get("mark")
    if mark and mark["field"] not in sprops:
        yield Problem("/mark/field", "unknown_field", f"{doc['source']} has no field '{mark['field']}'")
    keys: dict[str, str] = {}
    for i, t in enumerate(doc["targets"]):
        at = f"/targets/{i}"
        target = defs.get("object", t["object"])
        if target is None:
            yield Problem(f"{at}/object", "unknown_object", f"no object named '{t['object']}'")
            continue
        tprops = target.get("properties", {})
        if t["key"] in keys:
            yield Problem(f"{at}/key", "duplicate", f"key '{t['key']}' is used twice")
        if not _relation_to(sprops, t["link"], t["object"]):
            yield Problem(f"{at}/link", "not_a_relation", f"{doc['source']}.{t['link']} is not a relation to {t['object']}")
        if "back_link" in t and not _relation_to(tprops, t["back_link"], doc["source"]):
            yield Problem(f"{at}/back_link", "not_a_relation",
                          f"{t['object']}.{t['back_link']} is not a relation to {doc['source']}")
        for tf, sf in (t.get("fields") or {}).items():
            if tf not in tprops:
                yield Problem(f"{at}/fields/{tf}", "unknown_field", f"{t['object']} has no field '{tf}'")
            if sf not in sprops:
                yield Problem(f"{at}/fields/{tf}", "unknown_field", f"{doc['source']} has no field '{sf}'")
        for tf, key in (t.get("refs") or {}).items():
            if key not in keys:
                yield Problem(f"{at}/refs/{tf}", "unknown_target", f"'{key}' is not an earlier target")
            elif not _relation_to(tprops, tf, keys[key]):
                yield Problem(f"{at}/refs/{tf}", "not_a_relation", f"{t['object']}.{tf} is not a relation to {keys[key]}")
        for tf in t.get("values") or {}:
            if tf not in tprops:
                yield Problem(f"{at}/values/{tf}", "unknown_field", f"{t['object']} has no field '{tf}'")
        keys[t["key"]] = t["object"]
    if all(t.get("optional") for t in doc["targets"]):
        yield Problem("/targets", "no_required_target", "at least one target must always be created")


register_kind(Kind("conversion", "conversions", check=check_conversion, refers_to=("object",)))


def conversion_for(snap: Snapshot, object_name: str) -> Doc | None:
    return next((doc for _, doc in snap.definitions.items("conversion") if doc.get("source") == object_name), None)


def _choices(doc: Doc, body: Mapping[str, Any]) -> dict[str, bool]:
    targets = {t["key"]: t for t in doc["targets"]}
    problems = [Problem(k, "unknown_target", f"use one of {', '.join(targets)}") for k in body if k not in targets]
    problems += [Problem(k, "type", "true or false") for k, v in body.items() if k in targets and not isinstance(v, bool)]
    if problems:
        raise ValidationError("invalid conversion request", problems)
    out = {}
    for key, t in targets.items():
        out[key] = True if not t.get("optional") else bool(body.get(key, t.get("default", False)))
    return out


def already_converted(doc: Doc, record: Mapping[str, Any]) -> bool:
    mark = doc.get("mark")
    main = next(t for t in doc["targets"] if not t.get("optional"))
    return record.get(main["link"]) is not None or bool(mark and record.get(mark["field"]) == mark["value"])


def convert(conn: Connection, records: RecordService, snap: Snapshot, who: Principal, object_name: str,
            record_id: int, body: Mapping[str, Any]) -> dict[str, int | None]:
    """Convert one record the caller may read and update (the API checked both); return {key: new id}."""
    doc = conversion_for(snap, object_name)
    if doc is None:
        raise NotFound(f"{object_name} records cannot be converted",
                       [Problem("object", "no_conversion", f"no conversion defined for {object_name}")])
    wanted = _choices(doc, body)
    source = records.get(object_name, record_id, conn=conn)
    if already_converted(doc, source):
        raise Conflict(f"{object_name} {record_id} is already converted",
                       [Problem("id", "already_converted", str(record_id))], code="already_converted")
    seen = who.permission(object_name)
    created: dict[str, int | None] = {t["key"]: None for t in doc["targets"]}
    link: dict[str, Any] = {}
    for t in doc["targets"]:
        if not wanted[t["key"]]:
            continue
        who.require(t["object"], "create")
        perm = who.permission(t["object"])
        data: dict[str, Any] = dict(t.get("values") or {})
        for tf, sf in (t.get("fields") or {}).items():
            if sf not in seen.hidden and source.get(sf) not in (None, "", []):
                data[tf] = source[sf]
        for tf, key in (t.get("refs") or {}).items():
            if created.get(key) is not None:
                data[tf] = created[key]
        if t.get("back_link"):
            data[t["back_link"]] = record_id
        data = {k: v for k, v in data.items() if perm.writable(k)}
        data["owner_id"] = source.get("owner_id") if who.may_own(t["object"], source.get("owner_id")) else who.id
        try:
            new = records.create(t["object"], data, actor_id=who.id, conn=conn)
        except ValidationError as exc:
            raise ValidationError(f"the new {t['object']} would be invalid: check the {doc['name']} mapping",
                                  [Problem(f"{t['key']}/{p.field}", p.code, p.message) for p in exc.problems]) from None
        created[t["key"]] = int(new["id"])
        link[t["link"]] = int(new["id"])
    mark = doc.get("mark")
    if mark:
        link[mark["field"]] = mark["value"]
    records.update(object_name, record_id, link, actor_id=who.id, conn=conn)
    now = datetime.now(UTC)
    made = {k: v for k, v in created.items() if v is not None}
    targets = {t["key"]: t["object"] for t in doc["targets"]}
    events = [RecordEvent(object_name, record_id, "converted", {"before": {}, "after": {
        k: {"object": targets[k], "id": v} for k, v in made.items()}}, who.id, now, {"conversion": doc["name"]})]
    events += [RecordEvent(targets[k], v, "converted", {"before": {}, "after": {
        "from": {"object": object_name, "id": record_id}}}, who.id, now, {"conversion": doc["name"]})
               for k, v in made.items()]
    append_events(conn, events)
    return created
