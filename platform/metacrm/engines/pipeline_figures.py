"""Figures over a pipeline: kanban columns, funnel, forecast and its weekly snapshots, card order.

Every function takes `where`, the caller's conditions over the object's table (live rows and data
scope, built by the API from the auth layer), so a figure never counts a row its reader may not see.

- Funnel: stage k counts the records whose highest stage reached is >= k. The highest stage is the
  larger of the stage history's highest rank and the current stage's rank, so skipped stages
  count as passed, a record that bounced back counts once, and lost deals count where they got
  to (lost itself is no step). Drop-off is the share lost from one stage to the next.
- Forecast, by month of expected close: open deals add amount x probability (the deal's, or its
  stage's default); won deals add their amount; lost deals add 0. Commit = won + open amounts in
  `commit` stages; best case = commit + open amounts in `best_case` stages.
- Kanban: per stage the count, sum of amounts and weighted sum, and the first cards in the saved
  order (`sys_card_order`, then newest first).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Connection,
    Float,
    Index,
    String,
    Table,
    UniqueConstraint,
    case,
    cast,
    delete,
    func,
    literal,
    select,
)

from ..meta.sqltypes import ExactDecimal, UTCDateTime
from ..store.bulk import insert_many
from ..store.system import ID, metadata
from .pipelines import Pipeline, stage_history

NAME = String(48)
CENT = Decimal("0.01")

card_order = Table(
    "sys_card_order", metadata,
    Column("pipeline", NAME, primary_key=True),
    Column("record_id", BigInteger, primary_key=True, autoincrement=False),
    Column("position", Float, nullable=False),
    Index("ix_sys_card_order_position", "pipeline", "position"),
)

forecast_snapshots = Table(
    "sys_forecast_snapshot", metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("pipeline", NAME, nullable=False),
    Column("week", String(10), nullable=False),  # the Monday of the ISO week, local date
    Column("month", String(7), nullable=False),  # expected close month, or "none"
    Column("won", ExactDecimal(20, 2), nullable=False),
    Column("weighted_open", ExactDecimal(20, 2), nullable=False),
    Column("forecast", ExactDecimal(20, 2), nullable=False),
    Column("commit", ExactDecimal(20, 2), nullable=False),
    Column("best_case", ExactDecimal(20, 2), nullable=False),
    Column("open_amount", ExactDecimal(20, 2), nullable=False),
    Column("taken_at", UTCDateTime(), nullable=False),
    UniqueConstraint("pipeline", "week", "month", name="uq_sys_forecast_snapshot_week"),
)


def _money(value: Any) -> Decimal:
    return (Decimal(str(value)) if value is not None else Decimal(0)).quantize(CENT)


def serves(p: Pipeline, table: Table) -> list[ColumnElement[bool]]:
    """Conditions selecting the records this pipeline serves."""
    if p.chosen_by is None:
        return []
    field, values = p.chosen_by
    return [table.c[field].in_(sorted(values))]


def _probability(p: Pipeline, table: Table) -> ColumnElement[Any]:
    """The deal's probability, or its stage's default where it has none."""
    default = case({s.key: s.probability for s in p.stages if s.probability is not None},
                   value=table.c[p.stage_field], else_=0)
    if p.probability_field is None:
        return default
    return func.coalesce(table.c[p.probability_field], default)


def _amount(p: Pipeline, table: Table) -> ColumnElement[Any]:
    return table.c[p.amount_field] if p.amount_field else literal(0)


def _weighted(p: Pipeline, table: Table) -> ColumnElement[Any]:
    kinds = case({s.key: s.kind for s in p.stages}, value=table.c[p.stage_field], else_="open")
    open_part = _amount(p, table) * _probability(p, table) / 100.0
    return case((kinds == "won", _amount(p, table)), (kinds == "lost", 0), else_=open_part)


# --- kanban -----------------------------------------------------------------------------------

def columns(conn: Connection, table: Table, p: Pipeline, where: Sequence[ColumnElement[bool]]
            ) -> list[dict[str, Any]]:
    """Per stage: count, Σ amount, Σ amount x probability (won: amount, lost: 0)."""
    stage = table.c[p.stage_field]
    rows = conn.execute(select(stage, func.count(), func.sum(_amount(p, table)), func.sum(_weighted(p, table)))
                        .where(*where, *serves(p, table)).group_by(stage))
    found = {r[0]: r for r in rows}
    out = []
    for s in p.stages:
        r = found.get(s.key)
        out.append({"stage": s.key, "label": s.label, "kind": s.kind, "default_probability": s.probability,
                    "required_fields": list(s.required), "count": int(r[1]) if r else 0,
                    "amount": str(_money(r[2] if r else 0)), "weighted": str(_money(r[3] if r else 0))})
    return out


def cards(conn: Connection, table: Table, p: Pipeline, stage: str, where: Sequence[ColumnElement[bool]],
          limit: int) -> list[Mapping[str, Any]]:
    """The first cards of a column: saved order first, then newest first."""
    o = card_order.c
    query = (select(table).outerjoin(card_order, (o.record_id == table.c.id) & (o.pipeline == p.name))
             .where(*where, *serves(p, table), table.c[p.stage_field] == stage)
             .order_by(o.position.is_(None), o.position, table.c.id.desc()).limit(limit))
    return [r._mapping for r in conn.execute(query)]


def save_order(conn: Connection, p: Pipeline, record_ids: Sequence[int]) -> None:
    """Save a column's order: the given cards get positions 0..n-1 (others keep theirs, after them)."""
    conn.execute(delete(card_order).where(card_order.c.pipeline == p.name, card_order.c.record_id.in_(record_ids)))
    insert_many(conn, card_order, [{"pipeline": p.name, "record_id": rid, "position": float(i)}
                                   for i, rid in enumerate(record_ids)])


# --- funnel -----------------------------------------------------------------------------------

def highest_reached(table: Table, p: Pipeline, dialect: str) -> ColumnElement[Any]:
    """Per record: the highest funnel rank reached (history or current stage), -1 for none."""
    h = stage_history.c
    reached = (select(func.max(h.to_rank)).where(h.object == p.object, h.pipeline == p.name,
                                                 h.record_id == table.c.id, h.to_rank >= 0)
               .correlate(table).scalar_subquery())
    current = case({s.key: s.rank for s in p.stages}, value=table.c[p.stage_field], else_=-1)
    greatest = func.greatest if dialect == "postgresql" else func.max
    return greatest(func.coalesce(reached, -1), current)


def funnel(conn: Connection, table: Table, p: Pipeline, where: Sequence[ColumnElement[bool]]) -> list[dict[str, Any]]:
    top = highest_reached(table, p, conn.dialect.name).label("top")
    inner = select(top).where(*where, *serves(p, table)).subquery()
    by_top = dict(conn.execute(select(inner.c.top, func.count()).group_by(inner.c.top)).all())
    steps = [s for s in p.stages if s.kind == "open"] + [s for s in p.stages if s.kind == "won"][:1]
    out = []
    for k, s in enumerate(steps):
        count = sum(int(n) for top_rank, n in by_top.items() if top_rank is not None and int(top_rank) >= k)
        out.append({"stage": s.key, "label": s.label, "kind": s.kind, "rank": k, "count": count})
    for k, item in enumerate(out):
        nxt = out[k + 1]["count"] if k + 1 < len(out) else None
        item["drop_off_pct"] = (None if nxt is None or item["count"] == 0
                                else round(100.0 * (item["count"] - nxt) / item["count"], 1))
    return out


# --- forecast ---------------------------------------------------------------------------------

def _month(value: Any, tz: str) -> str:
    if value is None:
        return "none"
    if isinstance(value, datetime):
        value = value.astimezone(ZoneInfo(tz)).date()
    return value.strftime("%Y-%m") if isinstance(value, date) else str(value)[:7]


def forecast(conn: Connection, table: Table, p: Pipeline, where: Sequence[ColumnElement[bool]],
             tz: str = "UTC") -> list[dict[str, Any]]:
    """Per month of expected close: won, weighted open, forecast (= won + weighted open), commit, best case."""
    close = table.c[p.close_field] if p.close_field else literal(None)
    stage = table.c[p.stage_field]
    amount = cast(_amount(p, table), ExactDecimal(20, 4)) if conn.dialect.name == "postgresql" else _amount(p, table)
    rows = conn.execute(select(close, stage, func.sum(amount), func.sum(_weighted(p, table)))
                        .where(*where, *serves(p, table)).group_by(close, stage))
    months: dict[str, dict[str, Decimal]] = {}
    for close_value, stage_key, total, weighted in rows:
        s = p.by_key.get(stage_key)
        if s is None:
            continue
        m = months.setdefault(_month(close_value, tz), {k: Decimal(0) for k in (
            "won", "weighted_open", "commit_open", "best_case_open", "open_amount")})
        if s.kind == "won":
            m["won"] += _money(total)
        elif s.kind == "open":
            m["weighted_open"] += _money(weighted)
            m["open_amount"] += _money(total)
            if s.forecast == "commit":
                m["commit_open"] += _money(total)
            elif s.forecast == "best_case":
                m["best_case_open"] += _money(total)
    out = []
    for month in sorted(months):
        m = months[month]
        commit = m["won"] + m["commit_open"]
        out.append({"month": month, "won": str(m["won"]), "weighted_open": str(m["weighted_open"]),
                    "forecast": str(m["won"] + m["weighted_open"]), "commit": str(commit),
                    "best_case": str(commit + m["best_case_open"]), "open_amount": str(m["open_amount"])})
    return out


def week_of(now: datetime, tz: str) -> str:
    local = now.astimezone(ZoneInfo(tz)).date()
    return (local - timedelta(days=local.isoweekday() - 1)).isoformat()


def take_snapshot(conn: Connection, table: Table, p: Pipeline, tz: str = "UTC", now: datetime | None = None) -> int:
    """Store this week's forecast of every record of the pipeline (once per week); rows written."""
    now = now or datetime.now(UTC)
    week = week_of(now, tz)
    s = forecast_snapshots.c
    if conn.execute(select(s.id).where(s.pipeline == p.name, s.week == week).limit(1)).first():
        return 0
    rows = [{"pipeline": p.name, "week": week, "month": m["month"], "won": m["won"],
             "weighted_open": m["weighted_open"], "forecast": m["forecast"], "commit": m["commit"],
             "best_case": m["best_case"], "open_amount": m["open_amount"], "taken_at": now}
            for m in forecast(conn, table, p, [table.c.deleted_at.is_(None)], tz)]
    if rows:
        insert_many(conn, forecast_snapshots, rows)
    return len(rows)


def snapshots(conn: Connection, p: Pipeline, limit: int = 520) -> list[dict[str, Any]]:
    s = forecast_snapshots.c
    rows = conn.execute(select(forecast_snapshots).where(s.pipeline == p.name)
                        .order_by(s.week.desc(), s.month).limit(limit))
    out = []
    for r in rows:
        item = {k: r._mapping[k] for k in ("week", "month")}
        item.update({k: str(r._mapping[k]) for k in ("won", "weighted_open", "forecast", "commit", "best_case",
                                                     "open_amount")})
        out.append(item)
    return out
