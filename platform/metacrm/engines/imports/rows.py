"""Turning spreadsheet rows into record inputs: mapping, normalizers, constants, relation names.

A relation cell may hold an id or the target record's title ("2026 trade show" for a channel);
titles are resolved with one query per batch and remembered for the rest of the job.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from ...auth.principal import Principal
from ...errors import Problem
from ...meta.fields import USER_TARGET, CoercionError
from ...meta.objects import ObjectDef
from ...store.bulk import is_in
from ...store.definitions import Snapshot
from ..normalize import cell_text, is_blank, normalize_cell, phone_parts


def json_cell(value: Any) -> Any:
    """A cell as a JSON value (kept with error rows, written back to the error file)."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return value


_CLOCK = re.compile(r"(?<![0-9])([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?")


def has_time(cell: Any) -> bool:
    """Whether a cell read into a date field carries a time of day other than midnight (which the
    date field drops: the import says so instead of dropping it silently)."""
    if isinstance(cell, datetime):
        return cell.time() != time()
    if isinstance(cell, float) and not isinstance(cell, bool):
        return not cell.is_integer()  # a spreadsheet serial date with a fraction of a day
    if isinstance(cell, str):
        found = _CLOCK.search(cell)
        return bool(found) and any(int(g or 0) for g in found.groups())
    return False


def time_dropped_notes(counts: Mapping[str, int], headers: Mapping[str, str],
                       earlier: Sequence[Mapping[str, Any]] = ()) -> list[dict[str, Any]]:
    """The import's notes for date fields fed with date-times, {field, header, code, rows, message},
    adding `counts` to the `earlier` notes (of the job's previous batches)."""
    counts = dict(counts)
    for note in earlier:
        if note.get("code") == "time_dropped":
            counts[note["field"]] = counts.get(note["field"], 0) + int(note["rows"])
    return [{"field": name, "header": headers.get(name, name), "code": "time_dropped", "rows": n,
             "message": f"{n} value(s) of '{headers.get(name, name)}' had a time of day; the date field "
                        f"'{name}' keeps the date only"} for name, n in sorted(counts.items()) if n]


_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def join_name(parts: Sequence[tuple[str | None, str]]) -> str:
    """A person's name from its columns: 姓 + 名 without a space (family first) in Chinese script,
    First Last with a space otherwise; columns without a role follow in their order."""
    family = [t for role, t in parts if role == "family"]
    given = [t for role, t in parts if role == "given"]
    other = [t for role, t in parts if role is None]
    if any(_CJK.search(t) for t in family + given):
        return " ".join(x for x in ["".join(family + given), *other] if x)
    return " ".join([*given, *family, *other])


def display(value: Any) -> Any:
    """A cell as text for people (kept columns): numbers as the sheet shows them, dates in ISO."""
    try:
        return cell_text(value) if not isinstance(value, str) else value.strip()
    except CoercionError:
        return str(value)


@dataclass
class RowMapper:
    """Maps the cells of one file to inputs of one object, for the whole job.

    Several columns may fill one text field (joined: First + Last name) or one phone field (the
    first non-empty in priority order; the others, extensions and every column mapped to no
    field are kept as "Header: value" lines in the `keep` field, never dropped silently).
    """

    obj: ObjectDef
    headers: Sequence[str]
    mapping: Mapping[str, str | None]
    constants: Mapping[str, Any]
    tz: ZoneInfo
    day_first: bool | None = None
    """The import's date order for forms like 04/06/2023 (None: such a date is `ambiguous_date`)."""
    value_map: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    keep: str | None = None
    """The field that keeps unmapped columns (None: they are listed in the summary, not imported)."""
    unmapped: Sequence[str] = ()
    phone_region: str = "CN"
    _groups: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    _kept: list[tuple[int, str]] = field(default_factory=list)
    _options: dict[str, dict[str, str]] = field(default_factory=dict)
    _names: dict[tuple[str, str], int | None] = field(default_factory=dict)
    _constants: dict[str, Any] = field(default_factory=dict)
    constant_problems: list[Problem] = field(default_factory=list)
    time_dropped: dict[str, int] = field(default_factory=dict)
    """Per date field, the rows whose cell had a time of day (dropped): reported as a note."""

    def __post_init__(self) -> None:
        from .mapping import is_secondary, value_lookup

        index = {h: i for i, h in enumerate(self.headers)}
        for h, f in self.mapping.items():
            if f and h in index:
                self._groups.setdefault(f, []).append((index[h], h))
        for name, cols in self._groups.items():
            cols.sort(key=lambda c: (is_secondary(name, c[1]), c[0]))
            if self.obj.fields[name].options:
                self._options[name] = value_lookup(self.obj, self.obj.fields[name], self.value_map.get(name))
        self._kept = [(index[h], h) for h in self.unmapped if h in index]
        for name, value in self.constants.items():
            try:
                self._constants[name] = normalize_cell(self.obj.fields[name], value, self.tz)
            except CoercionError as exc:
                self.constant_problems.append(Problem(f"constants/{name}", exc.code, exc.message))

    def inputs(self, cells: Sequence[Any]) -> tuple[dict[str, Any], list[Problem]]:
        """One row's record input (blank cells left out so defaults apply) and its cell problems."""
        from .mapping import name_part

        data: dict[str, Any] = {}
        problems: list[Problem] = []
        extras: list[tuple[str, Any]] = []
        fields = self.obj.fields
        for name, cols in self._groups.items():
            f = fields[name]
            kind = f.type.name
            values: list[tuple[str, Any]] = []
            try:
                for i, header in cols:
                    value = normalize_cell(f, cells[i], self.tz, self._options.get(name), self.day_first)
                    if value is not None:
                        values.append((header, value))
                        if kind == "date" and has_time(cells[i]):
                            self.time_dropped[name] = self.time_dropped.get(name, 0) + 1
                if not values:
                    continue
                if kind == "phone":
                    header, text = values[0]
                    number, ext = phone_parts(str(text), self.phone_region)
                    data[name] = number
                    if ext:
                        extras.append((f"{header} (ext.)", ext))
                    extras += [(h, v) for h, v in values[1:] if v != text]
                elif len(values) > 1:
                    data[name] = join_name([(name_part(h), str(v)) for h, v in values])
                else:
                    data[name] = values[0][1]
            except CoercionError as exc:
                problems.append(Problem(name, exc.code, exc.message))
        for i, header in self._kept:
            if not is_blank(cells[i]):
                extras.append((header, display(cells[i])))
        if extras and self.keep:
            self._keep(data, extras)
        for name, value in self._constants.items():
            if value is not None:
                data.setdefault(name, value)
        return data, problems

    def _keep(self, data: dict[str, Any], extras: Sequence[tuple[str, Any]]) -> None:
        keep = str(self.keep)
        current = data.get(keep)
        if self.obj.fields[keep].type.name == "json":
            base = current if isinstance(current, dict) else ({} if current is None else {"value": current})
            data[keep] = {**base, **{h: v for h, v in extras}}
            return
        lines = "\n".join(f"{h}: {v}" for h, v in extras)
        data[keep] = f"{current}\n{lines}" if current else lines

    def resolve_relations(self, conn: Connection, snap: Snapshot, rows: Sequence[dict[str, Any] | None],
                          problems: dict[int, list[Problem]], who: Principal | None = None) -> None:
        """Replace relation titles by record ids (in place); unknown titles become row problems.

        Names are looked up only among records the importer `who` may read (None: everything), and
        not at all when the target's title field is hidden from them, so an import is no oracle for
        records outside their scope nor for hidden titles.
        """
        for name, f in self.obj.fields.items():
            if not f.type.is_relation or f.target == USER_TARGET:
                continue
            target = snap.object(str(f.target))
            title = target.title_field
            wanted = {row[name] for row in rows if row is not None and isinstance(row.get(name), str)}
            missing = [t for t in wanted if (target.name, t) not in self._names]
            # a title field hidden from the importer is no lookup key either (an oracle of its values)
            readable = who is None or (who.permission(target.name).read and title not in who.permission(target.name).hidden)
            if missing and title and readable:
                table = snap.tables[target.name]
                scope = None if who is None else who.row_filter(target.name, table)
                found: dict[str, int] = {}
                for start in range(0, len(missing), 500):
                    query = select(table.c.id, table.c[title]).where(
                        is_in(table.c[title], missing[start:start + 500], conn.dialect.name),
                        table.c.deleted_at.is_(None)).order_by(table.c.id)
                    for rid, text in conn.execute(query if scope is None else query.where(scope)):
                        found.setdefault(text, int(rid))
                for t in missing:
                    self._names[(target.name, t)] = found.get(t)
            for i, row in enumerate(rows):
                if row is None or not isinstance(row.get(name), str):
                    continue
                rid = self._names.get((target.name, row[name]))
                if rid is None:
                    problems.setdefault(i, []).append(
                        Problem(name, "unknown_reference", f"no {target.name} named '{row[name]}'"))
                    row.pop(name)
                else:
                    row[name] = rid
