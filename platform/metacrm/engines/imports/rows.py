"""Turning spreadsheet rows into record inputs: mapping, normalizers, constants, relation names.

A relation cell may hold an id or the target record's title ("2026 trade show" for a channel);
titles are resolved with one query per batch and remembered for the rest of the job.
"""

from __future__ import annotations

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
from ..normalize import normalize_cell, option_lookup


def json_cell(value: Any) -> Any:
    """A cell as a JSON value (kept with error rows, written back to the error file)."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return value


@dataclass
class RowMapper:
    """Maps the cells of one file to inputs of one object, for the whole job."""

    obj: ObjectDef
    headers: Sequence[str]
    mapping: Mapping[str, str]
    constants: Mapping[str, Any]
    tz: ZoneInfo
    day_first: bool | None = None
    """The import's date order for forms like 04/06/2023 (None: such a date is `ambiguous_date`)."""
    _columns: list[tuple[int, str]] = field(default_factory=list)
    _options: dict[str, dict[str, str]] = field(default_factory=dict)
    _names: dict[tuple[str, str], int | None] = field(default_factory=dict)
    _constants: dict[str, Any] = field(default_factory=dict)
    constant_problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        index = {h: i for i, h in enumerate(self.headers)}
        self._columns = [(index[h], f) for h, f in self.mapping.items() if f and h in index]
        for _, name in self._columns:
            if self.obj.fields[name].options:
                self._options[name] = option_lookup(self.obj.fields[name])
        for name, value in self.constants.items():
            try:
                self._constants[name] = normalize_cell(self.obj.fields[name], value, self.tz)
            except CoercionError as exc:
                self.constant_problems.append(Problem(f"constants/{name}", exc.code, exc.message))

    def inputs(self, cells: Sequence[Any]) -> tuple[dict[str, Any], list[Problem]]:
        """One row's record input (blank cells left out so defaults apply) and its cell problems."""
        data: dict[str, Any] = {}
        problems: list[Problem] = []
        fields = self.obj.fields
        for i, name in self._columns:
            try:
                value = normalize_cell(fields[name], cells[i], self.tz, self._options.get(name), self.day_first)
            except CoercionError as exc:
                problems.append(Problem(name, exc.code, exc.message))
                continue
            if value is not None:
                data[name] = value
        for name, value in self._constants.items():
            if value is not None:
                data.setdefault(name, value)
        return data, problems

    def resolve_relations(self, conn: Connection, snap: Snapshot, rows: Sequence[dict[str, Any] | None],
                          problems: dict[int, list[Problem]], who: Principal | None = None) -> None:
        """Replace relation titles by record ids (in place); unknown titles become row problems.

        Names are looked up only among records the importer `who` may read (None: everything), so
        an import is no oracle for records outside their scope.
        """
        for name, f in self.obj.fields.items():
            if not f.type.is_relation or f.target == USER_TARGET:
                continue
            target = snap.object(str(f.target))
            title = target.title_field
            wanted = {row[name] for row in rows if row is not None and isinstance(row.get(name), str)}
            missing = [t for t in wanted if (target.name, t) not in self._names]
            readable = who is None or who.permission(target.name).read
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
