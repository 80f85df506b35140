"""Properties of reports over random definitions, data and roles (hypothesis, bounded), on SQLite
and PostgreSQL, each example in a transaction that is rolled back:

- the drill-down rule of every cell, sent through the list endpoint's own function (run_list),
  gives a total equal to the cell's count, and the sum of its rows equals the cell's sum;
- the cells of a report partition exactly the rows in the caller's scope (no row outside it);
- a report reading a field hidden from the caller is refused, and a hidden value never appears in
  any result.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from metacrm.api.listing import ListQuery, run_list
from metacrm.auth.permissions import Permission
from metacrm.auth.principal import Principal
from metacrm.engines import reports
from metacrm.engines.scope import base_where, compile_rule
from metacrm.errors import PermissionDenied
from metacrm.store.users import ensure_user

SECRET = "s3cr3t-value"
DEAL = {"$id": "deal", "type": "object", "required": ["name"], "properties": {
    "name": {"x-field": "text", "maxLength": 50},
    "stage": {"x-field": "select", "enum": ["open", "won", "lost", "hold"]},
    "amount": {"x-field": "decimal"},
    "score": {"x-field": "integer"},
    "closed_at": {"x-field": "datetime"},
    "close_on": {"x-field": "date"},
    "secret": {"x-field": "text"},
}}
START = datetime(2026, 3, 1, tzinfo=UTC)

deal = st.fixed_dictionaries({
    "owner": st.sampled_from([1, 2, 3]),
    "stage": st.one_of(st.none(), st.sampled_from(["open", "won", "lost", "hold"])),
    "amount": st.one_of(st.none(), st.decimals(min_value=0, max_value=10**5, places=2, allow_nan=False,
                                               allow_infinity=False)),
    "score": st.one_of(st.none(), st.integers(min_value=-20, max_value=120)),
    "hours": st.one_of(st.none(), st.integers(min_value=-24 * 60, max_value=24 * 300)),
})
dimension = st.sampled_from([
    {"field": "stage"}, {"field": "owner_id"}, {"field": "stage", "top": 2},
    {"field": "score", "bins": {"width": 25}}, {"field": "score", "bins": {"edges": [0, 50, 100]}},
    {"field": "closed_at", "bucket": "day"}, {"field": "closed_at", "bucket": "week"},
    {"field": "closed_at", "bucket": "month"}, {"field": "close_on", "bucket": "quarter"},
    {"field": "secret"},
])
measure_filter = st.one_of(st.none(), st.just({"field": "stage", "op": "in", "value": ["won", "lost"]}),
                           st.just({"field": "score", "op": "gte", "value": 50}))
role = st.sampled_from(["admin", "own", "team", "all_hidden_amount", "all_hidden_secret"])
zone = st.sampled_from(["UTC", "Asia/Shanghai", "America/New_York"])
report_filter = st.one_of(st.none(), st.just({"field": "amount", "op": "gt", "value": 100}),
                          st.just({"field": "stage", "op": "ne", "value": "hold"}))


class Rollback(Exception):
    pass


def principal(kind: str) -> Principal:
    if kind == "admin":
        return Principal(1, "u1", "", "en", True)
    if kind == "own":
        return Principal(2, "u2", "", "en", False, grants={"deal": Permission(read=True, scope="own")})
    if kind == "team":
        return Principal(2, "u2", "", "en", False, team_user_ids=frozenset({3}),
                         grants={"deal": Permission(read=True, scope="team")})
    hidden = "amount" if kind == "all_hidden_amount" else "secret"
    return Principal(3, "u3", "", "en", False, grants={"deal": Permission(read=True, scope="all",
                                                                           hidden=frozenset({hidden}))})


def sees(kind: str, owner: int) -> bool:
    return {"own": owner == 2, "team": owner in (2, 3)}.get(kind, True)


@pytest.fixture
def svc(services, apply_docs):
    apply_docs(services, ("object", DEAL))
    with services.engine.begin() as conn:
        for i in (1, 2, 3):
            ensure_user(conn, f"u{i}")
    return services


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(deals=st.lists(deal, min_size=1, max_size=30), dims=st.lists(dimension, max_size=2, unique_by=repr),
       mfilter=measure_filter, who_kind=role, tz=zone, rfilter=report_filter)
def test_cells_drill_scope_and_hidden(svc, deals, dims, mfilter, who_kind, tz, rfilter):
    names = [reports.dimension_name(d) for d in dims]
    if len(set(names)) != len(names):
        return
    measures = [{"name": "n", "agg": "count"}, {"name": "total", "agg": "sum", "field": "amount"},
                {"name": "part", "agg": "count", **({"filter": mfilter} if mfilter else {})},
                {"name": "share", "agg": "ratio", "of": "part", "over": "n"}]
    doc = {"name": "p", "label": {"en": "P"}, "object": "deal", "dimensions": dims, "measures": measures,
           "time_zone": tz, **({"filters": rfilter} if rfilter else {})}
    who = principal(who_kind)
    with pytest.raises(Rollback), svc.engine.begin() as conn:
        rows = []
        for d in deals:
            at = None if d["hours"] is None else START + timedelta(hours=d["hours"])
            rows.append({"name": "d", "stage": d["stage"], "amount": None if d["amount"] is None else str(d["amount"]),
                         "score": d["score"], "closed_at": at and at.isoformat(),
                         "close_on": at and at.date().isoformat(), "secret": SECRET, "owner_id": d["owner"]})
        svc.records.bulk_create("deal", rows, conn=conn)
        snap = svc.registry.current(conn)
        reports.validate_report(doc, snap)
        hidden = who.permission("deal").hidden
        try:
            result = reports.run_report(conn, snap, doc, who, {}, use_cache=False)
        except PermissionDenied as exc:
            assert hidden & ({"amount"} | {d["field"] for d in dims}), exc.problems
            raise Rollback from None
        assert not (hidden & ({"amount"} | {d["field"] for d in dims}))
        event("ran")
        text = json.dumps(result)
        if "secret" in hidden:
            assert SECRET not in text
        # the export writes the same cells (labels for keys), and never a hidden value
        sink = io.BytesIO()
        written = reports.export_report(conn, snap, doc, who, sink, "csv")
        exported = list(csv.reader(io.StringIO(sink.getvalue().decode("utf-8-sig"))))[1:]
        assert written == len(result["rows"]) == len(exported)
        assert [row[len(dims)] for row in exported] == [str(r[len(dims)]) for r in result["rows"]]
        if "secret" in hidden:
            assert SECRET not in sink.getvalue().decode("utf-8-sig")
        # the cells partition the rows in scope that pass the report's filter
        obj, table = snap.object("deal"), snap.tables["deal"]
        expected = sum(1 for d in deals if sees(who_kind, d["owner"]) and _passes(rfilter, d))
        assert sum(r[len(dims)] for r in result["rows"]) == expected
        for r in result["rows"]:
            cell = dict(zip(names, r[:len(dims)], strict=True))
            count, total, part, share = r[len(dims):]
            assert share == (None if count == 0 else round(part / count, 6))
            for measure, want in (("total", count), ("part", part)):
                rule = reports.drill_rule(conn, snap, doc, who, {}, cell, measure)
                listed = run_list(conn, svc.records, snap, obj, who.permission("deal"), who,
                                  ListQuery(rule=rule, count=True, limit=1), "UTC")
                assert listed["count"] == want, (cell, measure, rule)
            rule = reports.drill_rule(conn, snap, doc, who, {}, cell, "total")
            where = [*base_where(obj, table, who), compile_rule(rule, obj, snap, who, "UTC")]
            got = conn.execute(select(func.coalesce(func.sum(table.c.amount), 0)).where(*where)).scalar_one()
            assert abs(Decimal(str(got)) - Decimal(str(total))) < Decimal("0.01") * max(1, count)
        raise Rollback


def _passes(rule, d) -> bool:
    if rule is None:
        return True
    if rule["field"] == "amount":
        return d["amount"] is not None and d["amount"] > 100
    return d["stage"] is not None and d["stage"] != "hold"
