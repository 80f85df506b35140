"""Merging duplicates into one surviving record, with full history and undo.

Everything goes through the record service in the caller's transaction: the merged-away records
are soft-deleted first (freeing their unique values), the survivor is updated with the values
the merge policy picks, and every related record (activities, opportunities, ...) that pointed
at a merged-away record is updated to point at the survivor. The history row keeps what the
survivor held before, what it got, and every re-pointed reference, which is what undo reverses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select, update

from ...auth.principal import Principal
from ...errors import Conflict, NotFound, PermissionDenied, Problem, ValidationError
from ...meta.fields import DEFAULT_TEXT_LENGTH
from ...meta.objects import ObjectDef
from ...store.bulk import is_in
from ...store.events import RecordEvent, append_events
from ...store.services import Services
from .definition import DedupeDef
from .guard import require_touch, writable_changes
from .tables import candidates, merges

_SEPARATOR = {"textarea": "\n", "text": " / "}


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def merged_values(dd: DedupeDef, obj: ObjectDef, survivor: Mapping[str, Any],
                  others: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The survivor's fields that change under the merge policy ({field: new JSON value})."""
    everyone = [survivor, *others]
    newest_first = sorted(everyone, key=lambda r: str(r.get("updated_at") or ""), reverse=True)
    oldest_first = sorted(everyone, key=lambda r: (str(r.get("created_at") or ""), r.get("id") or 0))
    changes: dict[str, Any] = {}
    for name, f in obj.fields.items():
        if f.type.computed:  # formulas and roll-ups follow the merge by themselves (read-only)
            continue
        policy = dd.policy(name)
        current = survivor.get(name)
        if policy == "keep_newest":
            value = next((r[name] for r in newest_first if not _empty(r.get(name))), current)
        elif policy == "keep_oldest":
            value = next((r[name] for r in oldest_first if not _empty(r.get(name))), current)
        elif policy == "union" and f.type.name == "multiselect":
            have = list(current or [])
            value = have + [o for o in f.options if o not in have and any(o in (r.get(name) or []) for r in others)]
        elif policy == "concatenate" and f.type.name in _SEPARATOR:
            parts: list[str] = []
            for r in everyone:
                v = r.get(name)
                if not _empty(v) and str(v) not in parts:
                    parts.append(str(v))
            value = _SEPARATOR[f.type.name].join(parts) if parts else current
            limit = int(f.schema.get("maxLength", DEFAULT_TEXT_LENGTH))
            if value is not None and len(value) > limit:
                value = current if not _empty(current) else parts[0]
        else:  # keep_non_empty
            value = current if not _empty(current) else next(
                (r[name] for r in others if not _empty(r.get(name))), current)
        if value != current and not _empty(value):
            changes[name] = value
    return changes


def _referrers(services: Services, conn: Connection, obj: ObjectDef) -> list[tuple[str, str]]:
    snap = services.registry.current(conn)
    return [(o.name, n) for o in snap.objects.values() for n, f in o.fields.items()
            if f.type.is_relation and f.target == obj.name]


def repoint(services: Services, conn: Connection, obj: ObjectDef, from_ids: Sequence[int], to_id: int,
            actor_id: int | None, who: Principal | None = None) -> list[list[Any]]:
    """Point every live related record at `to_id` instead of `from_ids`; return [object, id, field, old].
    With `who`, every re-pointed record must be one they may update (else nothing is written)."""
    snap = services.registry.current(conn)
    moved: list[list[Any]] = []
    for other, field in _referrers(services, conn, obj):
        table = snap.tables[other]
        rows = [r for r in conn.execute(select(table.c.id, table.c[field], table.c.owner_id).where(
            is_in(table.c[field], list(from_ids), conn.dialect.name), table.c.deleted_at.is_(None)
        ).order_by(table.c.id)).all() if not (other == obj.name and r[0] in from_ids)]
        if who is not None and rows:
            _require_repoint(who, other, field, [r[2] for r in rows])
        for rid, old, _owner in rows:
            services.records.update(other, rid, {field: to_id}, actor_id=actor_id, conn=conn)
            moved.append([other, rid, field, old])
    return moved


def _require_repoint(who: Principal, other: str, field: str, owners: Sequence[Any]) -> None:
    perm = who.permission(other)
    if not perm.update or not perm.writable(field) or not all(who.sees_owner(other, o) for o in owners):
        raise PermissionDenied(f"{other} records you may not update point at these records",
                               [Problem(f"{other}.{field}", "forbidden", "ask someone who may update them")])


def _union_tags(services: Services, conn: Connection, object_name: str, survivor_id: int,
                others_ids: Sequence[int], actor_id: int | None) -> list[str]:
    """Give the survivor the manual tags only the merged records had (automatic tags follow their rules)."""
    if not others_ids:
        return []
    from ..tag_store import tags_of
    from ..tags import add_tags

    snap = services.registry.current(conn)
    have = tags_of(conn, object_name, [survivor_id, *others_ids])
    own = set(have.get(survivor_id, []))
    wanted = []
    for rid in others_ids:
        for name in have.get(rid, []):
            doc = snap.definitions.get("tag", name)
            if name not in own and name not in wanted and doc and "rule" not in doc \
                    and object_name in doc.get("objects", ()):
                wanted.append(name)
    if wanted:
        add_tags(conn, snap, object_name, [survivor_id], wanted, actor_id=actor_id, source="merge",
                 tz=services.settings.timezone)
    return wanted


def merge_records(services: Services, conn: Connection, dd: DedupeDef, survivor_id: int,
                  other_ids: Sequence[int], actor_id: int | None = None, source: str = "review",
                  note: str | None = None, incoming: Mapping[str, Any] | None = None,
                  who: Principal | None = None) -> dict[str, Any]:
    """Merge `other_ids` (and/or one `incoming` row's values) into `survivor_id`, in `conn`'s transaction.
    With `who`, every record touched must be one they may update, and only fields they may write change."""
    snap = services.registry.current(conn)
    obj = snap.object(dd.object)
    others_ids = [i for i in dict.fromkeys(other_ids) if i != survivor_id]
    if not others_ids and incoming is None:
        raise ValidationError("nothing to merge", [Problem("ids", "too_few", "name at least one other record")])
    require_touch(snap, conn, who, obj.name, [survivor_id, *others_ids])
    survivor = services.records.get(obj.name, survivor_id, conn=conn)
    others = [services.records.get(obj.name, i, conn=conn) for i in others_ids]
    if incoming is not None:
        now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        others.append({**incoming, "id": None, "created_at": now, "updated_at": now})
    changes = writable_changes(who, obj.name, merged_values(dd, obj, survivor, others))
    tags_added = _union_tags(services, conn, obj.name, survivor_id, others_ids, actor_id) if dd.tags == "union" else []
    for record in others[: len(others_ids)]:
        services.records.delete(obj.name, record["id"], actor_id=actor_id, conn=conn)
    if changes:
        services.records.update(obj.name, survivor_id, changes, actor_id=actor_id, conn=conn)
    moved = repoint(services, conn, obj, others_ids, survivor_id, actor_id, who)
    now_dt = datetime.now(UTC)
    row = {"object": obj.name, "survivor_id": survivor_id, "merged_ids": others_ids,
           "before": {n: survivor.get(n) for n in changes}, "after": changes, "repointed": moved,
           "tags_added": tags_added,
           "source": source, "note": note, "actor_id": actor_id, "created_at": now_dt}
    merge_id = int(conn.execute(merges.insert().values(**row).returning(merges.c.id)).scalar_one())
    if others_ids:
        group = [survivor_id, *others_ids]
        conn.execute(update(candidates).where(
            candidates.c.object == obj.name, candidates.c.status == "pending",
            is_in(candidates.c.left_id, group, conn.dialect.name),
            is_in(candidates.c.right_id, group, conn.dialect.name),
        ).values(status="merged", decided_at=now_dt, decided_by=actor_id, merge_id=merge_id))
    append_events(conn, [RecordEvent(obj.name, survivor_id, "merged", {"before": row["before"], "after": changes},
                                     actor_id, now_dt, {"merge_id": merge_id, "merged_ids": others_ids,
                                                        "source": source})])
    return merge_dict({**row, "id": merge_id, "undone_at": None, "undone_by": None})


def merge_dict(row: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for key in ("created_at", "undone_at"):
        if isinstance(out.get(key), datetime):
            out[key] = out[key].isoformat().replace("+00:00", "Z")
    return out


def get_merge(conn: Connection, merge_id: int) -> dict[str, Any]:
    row = conn.execute(select(merges).where(merges.c.id == merge_id)).first()
    if row is None:
        raise NotFound(f"no merge {merge_id}", [Problem("merge", "not_found", str(merge_id))])
    return merge_dict(row._mapping)


def list_merges(conn: Connection, object_name: str, record_id: int | None = None, limit: int = 50,
                survivors: Any = None) -> list[dict[str, Any]]:
    """Newest first; `survivors` (a subquery of ids) limits it to merges into those records."""
    query = select(merges).where(merges.c.object == object_name).order_by(merges.c.id.desc()).limit(limit)
    if survivors is not None:
        query = query.where(merges.c.survivor_id.in_(survivors))
    if record_id is not None:
        query = query.where(merges.c.survivor_id == record_id)
    return [merge_dict(r._mapping) for r in conn.execute(query)]


def undo_merge(services: Services, conn: Connection, merge_id: int, actor_id: int | None = None,
               force: bool = False, who: Principal | None = None) -> dict[str, Any]:
    """Reverse a merge: survivor fields back, merged records restored, references pointed back.

    Refused (Conflict) when the survivor's merged fields changed since, unless forced: undoing
    would silently throw that later edit away.
    """
    m = get_merge(conn, merge_id)
    if m["undone_at"] is not None:
        raise Conflict(f"merge {merge_id} is already undone", [Problem("merge", "already_undone", str(merge_id))])
    obj_name, survivor_id = m["object"], m["survivor_id"]
    if who is not None:
        snap = services.registry.current(conn)
        require_touch(snap, conn, who, obj_name, [survivor_id], m["before"])
        require_touch(snap, conn, who, obj_name, m["merged_ids"])
        by_field: dict[tuple[str, str], list[int]] = {}
        for other, rid, field, _old in m["repointed"]:
            by_field.setdefault((other, field), []).append(rid)
        for (other, field), rids in by_field.items():
            if other in snap.tables:
                table = snap.tables[other]
                owners = conn.execute(select(table.c.owner_id).where(
                    is_in(table.c.id, rids, conn.dialect.name))).scalars().all()
                _require_repoint(who, other, field, owners)
    current = services.records.get(obj_name, survivor_id, conn=conn)
    changed = [n for n, v in m["after"].items() if current.get(n) != v]
    if changed and not force:
        raise Conflict(f"{obj_name} {survivor_id} changed since the merge; undo with force to overwrite",
                       [Problem(n, "changed_since_merge", "was edited after the merge") for n in changed])
    if m["before"]:
        services.records.update(obj_name, survivor_id, m["before"], actor_id=actor_id, conn=conn)
    for rid in m["merged_ids"]:
        services.records.restore(obj_name, rid, actor_id=actor_id, conn=conn)
    for other, rid, field, old in reversed(m["repointed"]):
        record = services.records.get(other, rid, include_deleted=True, conn=conn)
        if record.get(field) == survivor_id and record["deleted_at"] is None:
            services.records.update(other, rid, {field: old}, actor_id=actor_id, conn=conn)
    if m.get("tags_added"):
        from ..tags import remove_tags

        remove_tags(conn, services.registry.current(conn), obj_name, [survivor_id], m["tags_added"],
                    actor_id=actor_id, tz=services.settings.timezone)
    now = datetime.now(UTC)
    conn.execute(update(merges).where(merges.c.id == merge_id).values(undone_at=now, undone_by=actor_id))
    conn.execute(update(candidates).where(candidates.c.merge_id == merge_id)
                 .values(status="pending", decided_at=None, decided_by=None, merge_id=None))
    append_events(conn, [RecordEvent(obj_name, survivor_id, "unmerged", {"before": m["after"], "after": m["before"]},
                                     actor_id, now, {"merge_id": merge_id, "restored_ids": m["merged_ids"]})])
    return get_merge(conn, merge_id)
