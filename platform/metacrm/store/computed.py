"""Formula fields in the record service: read-only input, stored values computed in the write's
transaction, volatile values computed when read, and the backfill when a formula is defined.

Stored formulas are computed in Python from the full row being written (exact decimals), so what
is stored is what `meta.formulas.evaluate` gives; the SQL form (`ObjectFormulas.column_sql`)
serves queries over volatile formulas and the set-based backfill check.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any

from sqlalchemy import Connection, Table, select, update

from ..errors import Problem
from ..meta.fields import BIGINT_MAX, FIELD_TYPES, CoerceContext, CoercionError
from ..meta.formulas import Clock, ObjectFormulas, object_formulas
from ..meta.objects import ObjectDef

BATCH = 2000


def formulas(obj: ObjectDef) -> ObjectFormulas:
    return object_formulas(obj.doc["properties"])


def computed_names(obj: ObjectDef) -> frozenset[str]:
    return frozenset(n for n, f in obj.fields.items() if f.type.computed)


def read_only_problems(obj: ObjectDef, data: Mapping[str, Any], current: Mapping[str, Any] | None,
                       tz: tzinfo = UTC) -> list[Problem]:
    """A computed field sent with a value: refused, except a value equal to the current one (a client
    sending back the record it read, e.g. a merge)."""
    problems = []
    shown = current
    if current is not None and formulas(obj).volatile and any(n in data for n in formulas(obj).volatile):
        shown = with_volatile(obj, current, None, tz)  # as the client read it
    for name in computed_names(obj):
        if name not in data:
            continue
        value = data[name]
        if value is None and current is None:
            continue
        if shown is not None and obj.fields[name].shown(shown.get(name)) == value:
            continue
        problems.append(Problem(name, "read_only_field", "is computed (a formula or roll-up): it cannot be written"))
    return problems


def _checked(obj: ObjectDef, name: str, value: Any, ctx: CoerceContext) -> Any:
    """The computed value if its column can hold it (else CoercionError)."""
    if value is None:
        return None
    f = obj.fields[name]
    kind = f.schema.get("x-result")
    if kind == "decimal":
        return FIELD_TYPES["decimal"].coerce(value, f.schema, ctx)  # type: ignore[misc]
    if kind == "integer" and not -BIGINT_MAX <= int(value) <= BIGINT_MAX:
        raise CoercionError("out_of_range", "is outside the 64-bit integer range")
    return value


def compute_stored(obj: ObjectDef, row: dict[str, Any], clock: Clock, ctx: CoerceContext) -> tuple[dict[str, Any], list[Problem]]:
    """Stored formula values of a full row (written into `row` too); an overflow names its field."""
    out: dict[str, Any] = {}
    problems: list[Problem] = []
    for f in formulas(obj).stored:
        try:
            value = _checked(obj, f.name, f.value(row, clock), ctx)
        except CoercionError as exc:
            problems.append(Problem(f.name, exc.code, f"the formula's value {exc.message}"))
            value = None
        except (ArithmeticError, ValueError, OverflowError):
            problems.append(Problem(f.name, "out_of_range", "the formula's value is out of range"))
            value = None
        row[f.name] = out[f.name] = value
    return out, problems


def with_volatile(obj: ObjectDef, row: Mapping[str, Any], now: datetime | None, tz: tzinfo) -> dict[str, Any]:
    """A stored row with its volatile formulas filled in (they are never stored)."""
    vol = formulas(obj).volatile
    if not vol:
        return dict(row)
    out = dict(row)
    try:
        out.update(formulas(obj).compute_volatile(row, Clock(now or datetime.now(UTC), tz)))
    except (ArithmeticError, ValueError, OverflowError):
        out.update({n: None for n in vol})
    return out


def backfill(conn: Connection, obj: ObjectDef, table: Table, names: set[str] | None = None,
             ctx: CoerceContext | None = None, progress: Any = None) -> int:
    """Recompute stored formulas of every row (after a formula is added or changed), in id batches.

    Computed in Python like every write, so a populated table (SQLite too) gets exactly the values
    a write would store; returns the number of rows whose values changed.
    """
    stored = formulas(obj).stored
    if not stored:
        return 0
    ctx = ctx or CoerceContext()
    clock = Clock(datetime.now(UTC))
    changed, last = 0, 0
    while True:
        rows = conn.execute(select(table).where(table.c.id > last).order_by(table.c.id).limit(BATCH)).all()
        if not rows:
            return changed
        updates = []
        for r in rows:
            row = dict(r._mapping)
            values, _problems = compute_stored(obj, row, clock, ctx)
            if names is not None:
                values = {k: v for k, v in values.items() if k in names}
            diff = {k: v for k, v in values.items() if r._mapping[k] != v}
            if diff:
                updates.append((r.id, diff))
        for rid, diff in updates:
            conn.execute(update(table).where(table.c.id == rid).values(**diff))
        changed += len(updates)
        last = rows[-1].id
        if progress is not None:
            progress(last, changed)


def refresh_after_apply(conn: Connection, changes: Any, snapshot: Any) -> None:
    """After definitions are applied (same transaction): formulas and roll-ups added or changed get
    their values for the existing rows (a populated table, SQLite included)."""
    from contextlib import nullcontext

    from . import links, rollups

    links.ensure_tables(conn, snapshot)
    for change in changes:
        if change.kind != "object" or not change.changed or change.new is None:
            continue
        obj = snapshot.objects.get(change.name)
        if obj is None or not obj.computed:
            continue
        before = ((change.old or {}).get("properties") or {})
        fresh = {n for n in obj.computed if before.get(n) != obj.doc["properties"][n]}
        formula_names = {n for n in fresh if obj.fields[n].type.name == "formula"}
        for name in sorted(fresh - formula_names):
            r = rollups.find(snapshot, obj.name, name)
            if r is not None:
                rollups.rebuild(lambda: nullcontext(conn), snapshot, r)
        if formula_names or fresh:
            backfill(conn, obj, snapshot.tables[obj.name], None)
