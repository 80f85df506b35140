"""Exporting a segment or a filtered list to .xlsx or CSV, streamed, in the reader's language.

The caller states what the reader may see: `hidden_fields` are never written (not even as an
empty column), `where` carries the data scope as SQL conditions and `row_filter` the same scope
for the rule compiler's related-record subqueries (the API builds both from the permissions);
`hidden_of(object)` names the fields hidden from the reader on a relation's target, so a target
whose title field is hidden is written as its id.
Options are written as their labels and relations as the target's title, so the file reads like
the screen and imports back (the importer maps labels to options and titles to ids).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import IO, Any

from sqlalchemy import ColumnElement, Connection, select

from ..errors import Problem, ValidationError
from ..meta.fields import USER_TARGET
from ..meta.objects import ObjectDef
from ..rules import to_sql
from ..store.bulk import is_in
from ..store.db import reading
from ..store.definitions import Snapshot
from ..store.services import Services
from .sheets import write_csv, write_xlsx

FORMATS = ("xlsx", "csv")
SYSTEM_COLUMNS = {"id": {"en": "ID", "zh": "编号"}, "created_at": {"en": "Created at", "zh": "创建时间"},
                  "updated_at": {"en": "Updated at", "zh": "更新时间"}, "owner_id": {"en": "Owner", "zh": "负责人"}}
STREAM_ROWS = 2000


def label_in(labels: Mapping[str, str], language: str, fallback: str) -> str:
    return labels.get(language) or labels.get(language.split("-")[0]) or labels.get("en") or fallback


def export_columns(obj: ObjectDef, fields: Sequence[str] | None, hidden: Iterable[str]) -> list[str]:
    hidden = set(hidden)
    if fields:
        unknown = [f for f in fields if f not in obj.fields and f not in SYSTEM_COLUMNS]
        if unknown:
            raise ValidationError("unknown export fields", [Problem("fields", "unknown_field", f) for f in unknown])
        chosen = list(dict.fromkeys(fields))
    else:
        chosen = ["id", *obj.fields]
    return [c for c in chosen if c not in hidden]


class _Labeller:
    """Turns stored values into what a reader of `language` sees."""

    def __init__(self, conn: Connection, snap: Snapshot, obj: ObjectDef, columns: Sequence[str], language: str,
                 row_filter: Callable[[str], ColumnElement[bool] | None] | None = None,
                 hidden_of: Callable[[str], Iterable[str]] | None = None):
        self.conn, self.snap, self.obj, self.columns, self.language = conn, snap, obj, columns, language
        self.row_filter = row_filter
        self.hidden_of = hidden_of
        self.options: dict[str, dict[Any, str]] = {}
        for name in columns:
            f = obj.fields.get(name)
            if f is not None and f.options:
                labels = f.schema.get("x-option-labels") or {}
                self.options[name] = {o: label_in(labels.get(o) or {}, language, str(o)) for o in f.options}
        self.relations = {n: obj.fields[n].target for n in columns
                          if n in obj.fields and obj.fields[n].type.is_relation and obj.fields[n].target != USER_TARGET}

    def titles(self, rows: Sequence[Mapping[str, Any]]) -> dict[str, dict[int, Any]]:
        out: dict[str, dict[int, Any]] = {}
        for name, target in self.relations.items():
            ids = list({r[name] for r in rows if r[name] is not None})
            target_obj = self.snap.objects.get(str(target))
            title = target_obj.title_field if target_obj else None
            if title is not None and self.hidden_of is not None and title in set(self.hidden_of(str(target))):
                title = None  # a title field hidden from the reader: the id is written instead
            if not ids or not title:
                continue
            table = self.snap.tables[str(target)]
            query = select(table.c.id, table.c[title]).where(is_in(table.c.id, ids, self.conn.dialect.name))
            scope = self.row_filter(str(target)) if self.row_filter is not None else None
            if scope is not None:  # a target the reader may not see is written as its id only
                query = query.where(scope)
            out[name] = {int(i): t for i, t in self.conn.execute(query)}
        return out

    def row(self, record: Mapping[str, Any], titles: Mapping[str, Mapping[int, Any]]) -> list[Any]:
        out = []
        for name in self.columns:
            value = record[name]
            if value is not None and name in self.options:
                labels = self.options[name]
                value = [labels.get(v, v) for v in value] if isinstance(value, list) else labels.get(value, value)
            elif value is not None and name in titles:
                value = titles[name].get(value, value)
            out.append(value)
        return out


def export_records(services: Services, object_name: str, out: IO[bytes], fmt: str = "xlsx", *,
                   rule: Any = None, segment: str | None = None, fields: Sequence[str] | None = None,
                   language: str = "en", hidden_fields: Iterable[str] = frozenset(),
                   where: Sequence[ColumnElement[bool]] = (),
                   row_filter: Callable[[str], ColumnElement[bool] | None] | None = None,
                   hidden_of: Callable[[str], Iterable[str]] | None = None,
                   limit: int | None = None, encoding: str = "utf-8-sig",
                   progress: Callable[[int], None] | None = None,
                   sort: Sequence[tuple[str, bool]] = ()) -> int:
    """Write the live records of an object (optionally a segment's or a rule's) to `out`; return the count.
    `progress(rows_so_far)` is called after every batch of STREAM_ROWS rows (background exports).
    `sort`: (column, descending) pairs already checked (api.listing.parse_sort), as the list shows them."""
    if fmt not in FORMATS:
        raise ValidationError("format is xlsx or csv", [Problem("format", "enum", str(fmt))])
    with reading(services.engine) as conn:
        snap = services.registry.current(conn)
        if segment:
            doc = snap.definitions.get("segment", segment)
            if doc is None:
                raise ValidationError(f"no segment named '{segment}'", [Problem("segment", "not_found", segment)])
            object_name, seg_rule = doc["object"], doc["rule"]
            rule = {"all": [seg_rule, rule]} if rule else seg_rule
        obj = snap.object(object_name)
        table = snap.tables[obj.name]
        hidden = frozenset(hidden_fields)
        columns = export_columns(obj, fields, hidden)
        conditions = [table.c.deleted_at.is_(None), *where]
        if rule:
            conditions.append(to_sql(rule, obj.name, snap, tz=services.settings.timezone, row_filter=row_filter))
        order = [table.c[name].desc() if desc else table.c[name].asc() for name, desc in sort] or [table.c.id]
        query = select(table).where(*conditions).order_by(*order)
        if limit:
            query = query.limit(limit)
        labeller = _Labeller(conn, snap, obj, columns, language, row_filter, hidden_of)
        header = [label_in(obj.fields[c].label, language, c) if c in obj.fields
                  else label_in(SYSTEM_COLUMNS[c], language, c) for c in columns]

        def rows() -> Iterator[list[Any]]:
            batch: list[Mapping[str, Any]] = []
            done = 0
            for row in conn.execution_options(yield_per=STREAM_ROWS).execute(query):
                batch.append(row._mapping)
                if len(batch) >= STREAM_ROWS:
                    yield from _labelled(labeller, batch)
                    done += len(batch)
                    batch = []
                    if progress is not None:
                        progress(done)
            yield from _labelled(labeller, batch)

        if fmt == "csv":
            return write_csv(out, header, rows(), encoding=encoding)
        return write_xlsx(out, header, rows(), title=label_in(obj.label, language, obj.name))


def _labelled(labeller: _Labeller, batch: Sequence[Mapping[str, Any]]) -> Iterator[list[Any]]:
    titles = labeller.titles(batch)
    for record in batch:
        yield labeller.row(record, titles)
