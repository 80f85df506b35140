"""Report engine: buckets in a time zone, bins, top N + other, measures, ratio over zero, scope,
hidden fields refused, drill-down rules that give back exactly the cell's rows, and export."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from metacrm.auth.permissions import Permission
from metacrm.auth.principal import Principal
from metacrm.engines import reports
from metacrm.engines.scope import base_where, compile_rule
from metacrm.errors import PermissionDenied, ValidationError
from metacrm.store.db import reading
from metacrm.store.users import ensure_user

DEAL = {"$id": "deal", "type": "object", "required": ["name"], "properties": {
    "name": {"x-field": "text", "maxLength": 50},
    "stage": {"x-field": "select", "enum": ["open", "won", "lost"],
              "x-option-labels": {"won": {"en": "Won", "zh": "赢单"}}},
    "amount": {"x-field": "decimal"},
    "score": {"x-field": "integer"},
    "closed_at": {"x-field": "datetime"},
    "close_on": {"x-field": "date"},
    "secret": {"x-field": "text"},
    "vip": {"x-field": "boolean"},
}}

ROWS = [  # (owner, stage, amount, score, closed_at UTC, close_on)
    (1, "won", "100.50", 5, "2026-03-31T16:30:00Z", "2026-03-31"),  # Shanghai: 2026-04-01 00:30
    (1, "won", "200.00", 15, "2026-03-31T15:30:00Z", "2026-04-01"),  # Shanghai: 2026-03-31 23:30
    (1, "lost", "50.00", 25, "2026-01-10T00:00:00Z", "2026-01-10"),
    (2, "open", "300.00", 35, "2026-03-29T01:30:00Z", None),
    (2, "won", None, None, None, None),
    (3, "open", "10.00", 95, "2025-12-31T23:00:00Z", "2025-12-31"),
]


def admin() -> Principal:
    return Principal(1, "admin", "", "en", True)


def rep(uid: int, hidden: frozenset[str] = frozenset()) -> Principal:
    return Principal(uid, f"u{uid}", "", "en", False, grants={"deal": Permission(read=True, scope="own",
                                                                                   hidden=hidden)})


@pytest.fixture
def svc(services, apply_docs):
    apply_docs(services, ("object", DEAL))
    with services.engine.begin() as conn:
        for i in (1, 2, 3):
            ensure_user(conn, f"u{i}")
    for owner, stage, amount, score, at, on in ROWS:
        services.records.create("deal", {"name": f"{stage}{amount}", "stage": stage, "amount": amount,
                                         "score": score, "closed_at": at, "close_on": on, "owner_id": owner,
                                         "secret": "=cmd"})
    reports.clear_cache()
    return services


def report(**kw):
    return {"name": "r", "label": {"en": "R"}, "object": "deal", **kw}


def run(svc, doc, who=None, params=None, **kw):
    reports.validate_report(doc, svc.registry.current())
    with reading(svc.engine) as conn:
        return reports.run_report(conn, svc.registry.current(conn), doc, who or admin(), params,
                                  use_cache=False, **kw)


def drill_count_and_sum(svc, doc, cell, measure=None, who=None, params=None, field="amount"):
    who = who or admin()
    with reading(svc.engine) as conn:
        snap = svc.registry.current(conn)
        rule = reports.drill_rule(conn, snap, doc, who, params, cell, measure)
        obj = snap.object("deal")
        table = snap.tables["deal"]
        where = [*base_where(obj, table, who), compile_rule(rule, obj, snap, who, "UTC")]
        count, total = conn.execute(select(func.count(), func.coalesce(func.sum(table.c[field]), 0))
                                    .where(*where)).one()
    return int(count), Decimal(str(total)).quantize(Decimal("0.01"))


def test_month_buckets_in_a_zone_and_drill(svc):
    doc = report(dimensions=[{"field": "closed_at", "bucket": "month"}],
                 measures=[{"agg": "count"}, {"agg": "sum", "field": "amount"}], time_zone="Asia/Shanghai")
    out = run(svc, doc)
    assert out["rows"] == [["2026-01", 1, 50.0], ["2026-03", 2, 500.0], ["2026-04", 1, 100.5],
                           [None, 2, 10.0]] or out["rows"][0][0] == "2026-01"
    rows = {r[0]: r[1:] for r in out["rows"]}
    assert rows["2026-04"] == [1, 100.5] and rows["2026-03"] == [2, 500.0]
    assert rows["2026-01"] == [2, 60.0]  # 2025-12-31T23:00Z is 2026-01-01 07:00 in Shanghai
    for key, (count, total) in rows.items():
        assert drill_count_and_sum(svc, doc, {"closed_at_month": key}) == (count, Decimal(str(total)).quantize(
            Decimal("0.01")))
    utc = run(svc, {**doc, "time_zone": "UTC"})
    assert {r[0]: r[1] for r in utc["rows"]}["2026-03"] == 3


def test_date_field_buckets_week_quarter_year(svc):
    for unit, expected in (("week", "2026-W14"), ("quarter", "2026-Q2"), ("year", "2026"), ("day", "2026-04-01")):
        doc = report(dimensions=[{"field": "close_on", "bucket": unit}], measures=[{"agg": "count"}])
        keys = [r[0] for r in run(svc, doc)["rows"]]
        assert expected in keys, (unit, keys)
        for r in run(svc, doc)["rows"]:
            assert drill_count_and_sum(svc, doc, {f"close_on_{unit}": r[0]})[0] == r[1]


def test_bins_top_n_other_and_ratio(svc):
    doc = report(dimensions=[{"field": "score", "bins": {"width": 30}}], measures=[{"agg": "count"}])
    rows = run(svc, doc)["rows"]
    assert [r[1] for r in rows] == [3, 1, 1, 1]  # 0-30: 5,15,25; 30-60: 35; 90-120: 95; none
    for r in rows:
        assert drill_count_and_sum(svc, doc, {"score": r[0]})[0] == r[1]
    top = report(dimensions=[{"field": "stage", "top": 1}], measures=[{"agg": "count"}])
    out = run(svc, top)
    assert out["rows"] == [["won", 3], [reports.OTHER, 3]]
    assert out["labels"]["stage"]["won"] == "Won"
    assert drill_count_and_sum(svc, top, {"stage": reports.OTHER})[0] == 3
    ratio = report(dimensions=[{"field": "owner_id"}],
                   measures=[{"name": "won", "agg": "count", "filter": {"field": "stage", "op": "eq", "value": "won"}},
                             {"name": "closed", "agg": "count",
                              "filter": {"field": "stage", "op": "in", "value": ["won", "lost"]}},
                             {"name": "win_rate", "agg": "ratio", "of": "won", "over": "closed"}])
    out = run(svc, ratio)
    assert out["rows"] == [[1, 2, 3, 0.666667], [2, 1, 1, 1.0], [3, 0, 0, None]]
    assert drill_count_and_sum(svc, ratio, {"owner_id": 1}, "won")[0] == 2
    assert drill_count_and_sum(svc, ratio, {"owner_id": 1}, "win_rate")[0] == 3


def test_scope_and_hidden_fields(svc):
    doc = report(dimensions=[{"field": "stage"}], measures=[{"agg": "count"}, {"agg": "sum", "field": "amount"}])
    out = run(svc, doc, rep(2))
    assert sorted(out["rows"], key=str) == sorted([["open", 1, 300.0], ["won", 1, 0]], key=str)
    hidden = rep(1, frozenset({"amount"}))
    with pytest.raises(PermissionDenied) as exc:
        run(svc, doc, hidden)
    assert exc.value.problems[0].field == "/measures/1/field"
    filtered = report(dimensions=[{"field": "stage"}], measures=[{"agg": "count"}],
                      filters={"field": "secret", "op": "eq", "value": "x"})
    with pytest.raises(PermissionDenied):
        run(svc, filtered, rep(1, frozenset({"secret"})))


@pytest.mark.parametrize(("change", "pointer", "code"), [
    ({"dimensions": [{"field": "nope"}]}, "/dimensions/0/field", "unknown_field"),
    ({"dimensions": [{"field": "account.name"}]}, "/dimensions/0/field", "unknown_field"),
    ({"measures": [{"agg": "sum", "field": "name"}]}, "/measures/0/agg", "aggregate_not_allowed"),
    ({"dimensions": [{"field": "score", "bucket": "month"}]}, "/dimensions/0/bucket", "bucket_needs_date"),
    ({"dimensions": [{"field": "stage"}, {"field": "score"}, {"field": "name"}, {"field": "owner_id"}]},
     "/dimensions", "too_many_dimensions"),
    ({"limit": reports.LIMIT_CAP + 1}, "/limit", "limit_above_cap"),
    ({"filters": {"field": "ghost", "op": "eq", "value": 1}}, "/filters/field", "unknown_field"),
])
def test_bad_definitions_name_the_pointer(svc, change, pointer, code):
    doc = report(**{"measures": [{"agg": "count"}], **change})
    with pytest.raises(ValidationError) as exc:
        reports.validate_report(doc, svc.registry.current())
    assert (pointer, code) in [(p.field, p.code) for p in exc.value.problems], exc.value.problems


def test_parameters_cache_and_export(svc):
    doc = report(dimensions=[{"field": "stage"}], measures=[{"agg": "count"}],
                 parameters=[{"name": "period", "type": "date_range", "field": "close_on"},
                             {"name": "owner", "type": "owner"}])
    out = run(svc, doc, params={"period": {"from": "2026-01-01", "to": "2026-03-31"}, "owner": [1]})
    assert out["rows"] == [["won", 1], ["lost", 1]]  # the options' order
    assert drill_count_and_sum(svc, doc, {"stage": "won"}, params={"period": {"from": "2026-01-01",
                                                                             "to": "2026-03-31"}, "owner": [1]})[0] == 1
    with pytest.raises(ValidationError):
        run(svc, doc, params={"nope": 1})
    with reading(svc.engine) as conn:
        snap = svc.registry.current(conn)
        first = reports.run_report(conn, snap, doc, admin(), {})
        assert reports.run_report(conn, snap, doc, admin(), {})["cached"] and not first["cached"]
    svc.records.create("deal", {"name": "new", "stage": "won", "owner_id": 1})
    with reading(svc.engine) as conn:
        again = reports.run_report(conn, svc.registry.current(conn), doc, admin(), {})
    assert not again["cached"] and dict(map(tuple, again["rows"]))["won"] == 4
    sheet = report(label={"en": "Deals", "zh": "商机"}, dimensions=[{"field": "stage"}, {"field": "secret"}],
                   measures=[{"agg": "count"}])
    buf = io.BytesIO()
    with reading(svc.engine) as conn:
        n = reports.export_report(conn, svc.registry.current(conn), sheet, admin(), buf, "csv", language="zh")
    lines = list(csv.reader(io.StringIO(buf.getvalue().decode("utf-8-sig"))))
    assert n == 4 and ["赢单", "'=cmd", "3"] in lines and ["赢单", "（空）", "1"] in lines
    from openpyxl import load_workbook
    buf = io.BytesIO()
    with reading(svc.engine) as conn:
        reports.export_report(conn, svc.registry.current(conn), sheet, admin(), buf, "xlsx", sheet_rows=2)
    book = load_workbook(io.BytesIO(buf.getvalue()), read_only=True)
    assert len(book.sheetnames) == 2
    assert sum(len(list(book[s].iter_rows())) - 1 for s in book.sheetnames) == 4


def test_datetime_values_come_back_as_iso(svc):
    doc = report(dimensions=[{"field": "stage"}], measures=[{"agg": "max", "field": "closed_at"}])
    rows = dict(map(tuple, run(svc, doc)["rows"]))
    assert datetime.fromisoformat(rows["won"]) == datetime(2026, 3, 31, 16, 30, tzinfo=UTC)


def test_region_province_level_labels_and_drill(services, apply_docs):
    shop = {"$id": "shop", "type": "object", "required": ["name"], "properties": {
        "name": {"x-field": "text"}, "region": {"x-field": "region"}}}
    apply_docs(services, ("object", shop))
    for region in ("440300", "440000", "广东省广州市", "110000", "Tokyo", None):
        services.records.create("shop", {"name": "s", "region": region})
    doc = {"name": "m", "label": {"en": "M"}, "object": "shop", "chart": {"type": "map"},
           "dimensions": [{"field": "region", "level": "province"}], "measures": [{"agg": "count"}]}
    with reading(services.engine) as conn:
        snap = services.registry.current(conn)
        reports.validate_report(doc, snap)
        out = reports.run_report(conn, snap, doc, admin(), {}, use_cache=False, language="zh")
        assert dict(map(tuple, out["rows"])) == {"440000": 3, "110000": 1, "Tokyo": 1, None: 1}
        assert out["labels"]["region"]["440000"] == "广东"
        for key, count in out["rows"]:
            rule = reports.drill_rule(conn, snap, doc, admin(), {}, {"region": key}, "count")
            obj, table = snap.object("shop"), snap.tables["shop"]
            where = [*base_where(obj, table, admin()), compile_rule(rule, obj, snap, admin(), "UTC")]
            assert conn.execute(select(func.count()).where(*where)).scalar_one() == count
    with pytest.raises(ValidationError):
        reports.validate_report({**doc, "dimensions": [{"field": "name", "level": "province"}]},
                                services.registry.current())


def test_compare_with_the_previous_period(svc):
    doc = report(dimensions=[{"field": "stage"}], measures=[{"agg": "count"}],
                 parameters=[{"name": "period", "type": "date_range", "field": "close_on"}],
                 chart={"type": "bar", "compare_previous": True})
    out = run(svc, doc, params={"period": {"from": "2026-04-01", "to": "2026-06-29"}})
    assert out["rows"] == [["won", 1]]
    assert out["previous"]["parameters"]["period"] == {"from": "2026-01-01", "to": "2026-03-31"}
    assert out["previous"]["rows"] == [["won", 1], ["lost", 1]]
    assert "previous" not in run(svc, doc, params={"period": {"from": "2026-04-01"}})


def test_a_report_whose_field_went_away_answers_422(svc, apply_docs):
    doc = report(dimensions=[{"field": "score"}], measures=[{"agg": "count"}])
    run(svc, doc)
    props = {k: v for k, v in DEAL["properties"].items() if k != "score"}
    apply_docs(svc, ("object", {**DEAL, "properties": props}), force=True)
    with reading(svc.engine) as conn, pytest.raises(ValidationError) as exc:
        reports.run_report(conn, svc.registry.current(conn), doc, admin(), {}, use_cache=False)
    assert exc.value.problems[0].field == "/dimensions/0/field"


def test_a_yes_no_dimension_is_labelled_in_the_readers_language(svc):
    [first] = svc.records.list("deal", limit=1)
    svc.records.update("deal", first["id"], {"vip": True})
    doc = report(dimensions=[{"field": "vip"}], measures=[{"agg": "count"}])
    out = run(svc, doc, language="zh")
    assert sorted(out["rows"], key=str) == sorted([[True, 1], [None, 5]], key=str)
    assert out["labels"]["vip"] == {"": "（空）", "true": "是", "false": "否"}
    assert run(svc, doc)["labels"]["vip"]["true"] == "Yes"
