"""The tag engine: tag and tag group definitions, manual tags with events, automatic tags.

Manual tags (no rule) are added and removed here, each change logged as a record event
(`tag_added` / `tag_removed`) in the caller's transaction. Automatic tags (a rule) are kept by
rule_members: per write for the records it touches (listener), and set-based for a whole object
when the definition changes (apply hook) or on demand (`recompute`, `metacrm tags recompute`).
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, select

from ..errors import MetaCRMError, NotFound, Problem, ValidationError
from ..flows.triggers import on_record_events as workflow_triggers
from ..meta.forms import check_form, option_tags
from ..meta.kinds import DefinitionSet, Kind, kind, register_kind
from ..meta.tag_names import ambiguous, tag_keys
from ..rules import rule_reads, validate_rule
from ..store.bulk import insert_new, is_in
from ..store.events import RecordEvent, append_events
from .rule_members import maintain, member_plan, refresh_members, tag_event
from .tag_store import chunks, record_tags, tag_counts, tag_links, tags_of

__all__ = ["add_tags", "recompute", "record_tags", "remove_tags", "tag_counts", "tags_of"]

MANUAL_SOURCES = ("manual", "form")


# --- definitions ---------------------------------------------------------------------------------

def check_tag(doc: Mapping[str, Any], defs: DefinitionSet) -> Iterator[Problem]:
    group = doc.get("group")
    if group is not None and defs.get("tag_group", group) is None:
        yield Problem("/group", "unknown_group", f"no tag group named '{group}'")
    objects = doc["objects"]
    missing = False
    for i, name in enumerate(objects):
        if defs.get("object", name) is None:
            missing = True
            yield Problem(f"/objects/{i}", "unknown_object", f"no object named '{name}'")
    if "rule" not in doc or missing:
        return
    valid = True
    for name in objects:
        for p in validate_rule(doc["rule"], name, defs):
            valid = False
            yield Problem("/rule" + ("" if p.field == "/" else p.field), p.code,
                          p.message if len(objects) == 1 else f"{p.message} (on {name})")
    if valid:
        cycle = _cycle(doc["name"], defs)
        if cycle:
            yield Problem("/rule", "tag_cycle", "automatic tags test each other in a cycle: " + " -> ".join(cycle))


def _tests(name: str, defs: DefinitionSet) -> set[str]:
    doc = defs.get("tag", name)
    if doc is None or "rule" not in doc:
        return set()
    out: set[str] = set()
    for obj in doc.get("objects", ()):
        with contextlib.suppress(MetaCRMError):
            out |= rule_reads(doc["rule"], obj, defs).every_tag
    return out


def _cycle(start: str, defs: DefinitionSet) -> list[str] | None:
    stack = [(start, [start])]
    seen: set[str] = set()
    while stack:
        name, path = stack.pop()
        for nxt in sorted(_tests(name, defs)):
            if nxt == start:
                return [*path, nxt]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, [*path, nxt]))
    return None


def check_form_tags(doc: Mapping[str, Any], defs: DefinitionSet) -> Iterator[Problem]:
    """The form check, plus: option tags are manual tags that apply to the form's object."""
    problems = list(check_form(doc, defs))
    yield from problems
    if problems:
        return
    from ..meta.forms import field_entries

    where = {entry["field"]: at for at, entry in field_entries(doc)}
    for field_name, mapping in option_tags(doc).items():
        for option, names in mapping.items():
            for i, name in enumerate(names):
                tag = defs.get("tag", name)
                at = f"{where[field_name]}/option_tags/{option}/{i}"
                if tag is None:
                    continue
                if "rule" in tag:
                    yield Problem(at, "automatic_tag", f"'{name}' is automatic: its rule sets it")
                elif doc["object"] not in tag["objects"]:
                    yield Problem(at, "tag_not_for_object", f"tag '{name}' does not apply to {doc['object']}")


register_kind(Kind("tag_group", "tag_groups"))
register_kind(Kind("tag", "tags", check=check_tag, refers_to=("object", "tag_group")))
register_kind(Kind("form", kind("form").folder, kind("form").id_key, check=check_form_tags,
                   refers_to=("object", "tag")))


# --- manual tags ----------------------------------------------------------------------------

def _manual_tags(snap: Any, object_name: str, names: Sequence[str]) -> list[dict[str, Any]]:
    problems, docs = [], []
    for i, text in enumerate(names):
        keys = tag_keys(snap.definitions, text)  # the key, or a label in any language
        name = keys[0] if len(keys) == 1 else text
        doc = snap.definitions.get("tag", name) if len(keys) == 1 else None
        if len(keys) > 1:
            problems.append(Problem(f"tags/{i}", "ambiguous_tag", ambiguous(str(text), keys)))
        elif doc is None:
            problems.append(Problem(f"tags/{i}", "unknown_tag", f"no tag named '{str(text)[:64]}'"))
        elif object_name not in doc["objects"]:
            problems.append(Problem(f"tags/{i}", "tag_not_for_object", f"tag '{name}' does not apply to {object_name}"))
        elif "rule" in doc:
            problems.append(Problem(f"tags/{i}", "automatic_tag", f"tag '{name}' is automatic: its rule sets it"))
        else:
            docs.append(doc)
    if problems:
        raise ValidationError("these tags cannot be set by hand", problems)
    return docs


def _live_ids(conn: Connection, snap: Any, object_name: str, ids: Sequence[int]) -> list[int]:
    table = snap.object(object_name) and snap.tables[object_name]
    found: set[int] = set()
    for part in chunks(list(ids)):
        found.update(conn.execute(select(table.c.id).where(
            is_in(table.c.id, part, conn.dialect.name), table.c.deleted_at.is_(None))).scalars())
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFound(f"{object_name} {missing[0]} does not exist",
                       [Problem("id", "not_found", str(i)) for i in missing[:20]])
    return list(dict.fromkeys(ids))


def add_tags(conn: Connection, snap: Any, object_name: str, record_ids: Sequence[int], names: Sequence[str],
             *, actor_id: int | None = None, source: str = "manual", tz: str = "UTC") -> dict[int, list[str]]:
    """Add manual tags to live records in the caller's transaction; returns what was new per record.

    Each new link is a `tag_added` event. Tags of an exclusive group replace the record's other
    manual tags of that group (each a `tag_removed` event).
    """
    docs = list({d["name"]: d for d in _manual_tags(snap, object_name, list(dict.fromkeys(names)))}.values())
    ids = _live_ids(conn, snap, object_name, record_ids)
    exclusive = _exclusive_groups(snap, docs)
    now = datetime.now(UTC)
    current = tags_of(conn, object_name, ids)
    wanted = [d["name"] for d in docs]
    added: dict[int, list[str]] = {}
    drop: dict[int, list[str]] = defaultdict(list)
    for rid in ids:
        have = set(current[rid])
        added[rid] = [t for t in wanted if t not in have]
        for group, members in exclusive.items():
            keep = {d["name"] for d in docs if d.get("group") == group}
            drop[rid] += [t for t in current[rid] if t in members and t not in keep]
    dropped = {rid: ts for rid, ts in drop.items() if ts}
    _unlink(conn, object_name, dropped)
    # a concurrent add of the same tag is a no-op, never a constraint error; events only for our rows
    new = insert_new(conn, tag_links, [{"object": object_name, "record_id": rid, "tag": t, "source": source,
                                        "actor_id": actor_id, "created_at": now}
                                       for rid, ts in added.items() for t in ts], ("record_id", "tag"))
    added = {rid: [t for t in ts if (rid, t) in new] for rid, ts in added.items()}
    events = _events(object_name, added, "tag_added", actor_id, now, source)
    events += _events(object_name, dropped, "tag_removed", actor_id, now, source)
    _after_change(conn, snap, events, tz, actor_id)
    return {rid: ts for rid, ts in added.items() if ts}


def remove_tags(conn: Connection, snap: Any, object_name: str, record_ids: Sequence[int], names: Sequence[str],
                *, actor_id: int | None = None, tz: str = "UTC") -> dict[int, list[str]]:
    """Remove manual tags; returns what was actually removed per record (each a `tag_removed` event)."""
    keys = list(dict.fromkeys(d["name"] for d in _manual_tags(snap, object_name, list(dict.fromkeys(names)))))
    ids = _live_ids(conn, snap, object_name, record_ids)
    current = tags_of(conn, object_name, ids)
    removed = {rid: [t for t in keys if t in current[rid]] for rid in ids}
    removed = {rid: ts for rid, ts in removed.items() if ts}
    _unlink(conn, object_name, removed)
    now = datetime.now(UTC)
    events = _events(object_name, removed, "tag_removed", actor_id, now, "manual")
    _after_change(conn, snap, events, tz, actor_id)
    return removed


def _exclusive_groups(snap: Any, docs: list[dict[str, Any]]) -> dict[str, set[str]]:
    groups = {d["group"] for d in docs if d.get("group")}
    out = {}
    for group in groups:
        gdoc = snap.definitions.get("tag_group", group)
        if gdoc and gdoc.get("exclusive"):
            chosen = [d["name"] for d in docs if d.get("group") == group]
            if len(chosen) > 1:
                raise ValidationError(f"tag group '{group}' allows one tag per record",
                                      [Problem("tags", "exclusive_group", ", ".join(chosen))])
            out[group] = {n for n, d in snap.definitions.items("tag") if d.get("group") == group and "rule" not in d}
    return out


def _unlink(conn: Connection, object_name: str, links: Mapping[int, list[str]]) -> None:
    t = tag_links
    for rid, names in links.items():
        conn.execute(delete(t).where(and_(t.c.object == object_name, t.c.record_id == rid,
                                          t.c.tag.in_(list(names)))))


def _events(object_name: str, links: Mapping[int, list[str]], kind_name: str, actor_id: int | None, now: datetime,
            source: str) -> list[RecordEvent]:
    return [tag_event(object_name, rid, kind_name, t, actor_id, now, source) for rid, ts in links.items() for t in ts]


def _after_change(conn: Connection, snap: Any, events: list[RecordEvent], tz: str, actor_id: int | None) -> None:
    """Log the tag events, then refresh automatic tags and tracked segments that test those tags
    (on these records or, through relations, on the records they belong to)."""
    if events:
        append_events(conn, events)
        events = events + maintain(conn, snap, events, tz, actor_id)
        workflow_triggers(conn, snap, events)  # tag_added and segment_entered/left start workflows here


# --- automatic tags in bulk ------------------------------------------------------------------

def recompute(conn: Connection, snap: Any, *, object_name: str | None = None, tags: Sequence[str] | None = None,
              tz: str = "UTC", now: datetime | None = None) -> list[dict[str, Any]]:
    """Set-based recompute of automatic tags (and the tags and tracked segments testing them).

    Returns one {"tag"|"segment", "object", "added", "removed"} per member refreshed, in order.
    Tracked segments that change record segment_entered/segment_left events (time moved them).
    """
    plan = member_plan(snap)
    if object_name is not None:
        snap.object(object_name)
    chosen = [m for m in plan.members if m.kind == "tag" and (object_name is None or m.object == object_name)
              and (tags is None or m.name in tags)]
    return refresh_members(conn, snap, chosen, tz, now, events=True)
