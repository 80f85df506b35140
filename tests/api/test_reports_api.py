"""Reports over the API: scope, hidden fields refused (not blanked), drill-down = the list's total,
dashboards per widget, saving by a user, preview with pointers, export."""

from __future__ import annotations

import csv
import io
import json

import pytest

from metacrm.engines import reports


@pytest.fixture
def world(admin, make_user):
    reports.clear_cache()
    rep = make_user("rep", grants=[("opportunity", ["read", "create", "update"], "own"),
                                   ("lead", ["read"], "own"), ("channel", ["read"], "all")])
    other = make_user("other", grants=[("opportunity", ["read", "create", "update"], "own")])
    blind = make_user("blind", grants=[("opportunity", ["read"], "all")], hidden={"opportunity": ["amount"]})
    deals = [(rep, "prospecting", 100, "2026-01-15"), (rep, "proposal", 250, "2026-01-20"),
             (rep, "proposal", 50, "2026-02-03"), (other, "proposal", 1000, "2026-01-05"),
             (other, "qualification", 70, None)]
    for who, stage, amount, close in deals:
        r = admin.post("/records/opportunity", {"name": f"{stage}-{amount}", "stage": stage, "amount": amount,
                                                "expected_close": close, "owner_id": who.user_id})
        assert r.status_code == 201, r.json
    return {"admin": admin, "rep": rep, "other": other, "blind": blind}


def cells(result):
    n = sum(1 for c in result["columns"] if c["role"] == "dimension")
    return {tuple(r[:n]): r[n:] for r in result["rows"]}


def list_total(api, drilled):
    r = api.get(f"/records/{drilled['object']}", query_string={"filter": json.dumps(drilled["rule"]),
                                                              "count": "true", "limit": 1000})
    assert r.status_code == 200, r.json
    return r.json["count"], sum(float(i.get("amount") or 0) for i in r.json["items"])


def test_run_is_scoped_and_drill_matches_the_list(world):
    rep, admin = world["rep"], world["admin"]
    mine = rep.post("/reports/pipeline_by_month_stage/run", {}).json
    assert cells(mine) == {("2026-01", "prospecting"): [100.0, 1], ("2026-01", "proposal"): [250.0, 1],
                           ("2026-02", "proposal"): [50.0, 1]}
    everything = cells(admin.post("/reports/pipeline_by_month_stage/run", {}).json)
    assert everything[("2026-01", "proposal")] == [1250.0, 2] and everything[(None, "qualification")] == [70.0, 1]
    for who in (rep, admin):
        result = who.post("/reports/pipeline_by_month_stage/run", {}).json
        for key, (amount, count) in cells(result).items():
            drilled = who.post("/reports/pipeline_by_month_stage/drill",
                               {"cell": {"expected_close_month": key[0], "stage": key[1]}, "measure": "amount"}).json
            assert list_total(who, drilled) == (count, amount)
    # parameters: a date range and a team/owner; the drill carries them
    body = {"parameters": {"period": {"from": "2026-01-01", "to": "2026-01-31"}, "owner": [world["other"].user_id]}}
    result = admin.post("/reports/pipeline_by_month_stage/run", body).json
    assert cells(result) == {("2026-01", "proposal"): [1000.0, 1]}
    drilled = admin.post("/reports/pipeline_by_month_stage/drill", {**body, "cell": {"stage": "proposal"}}).json
    assert list_total(admin, drilled) == (1, 1000.0)
    funnel = admin.post("/reports/opportunity_funnel/run", {}).json
    assert [r[0] for r in funnel["rows"]] == ["prospecting", "qualification", "proposal"]  # the options' order
    _export_is_scoped_and_labelled(world)


def test_hidden_field_refuses_the_report_and_only_that_widget(world, make_user):
    _dashboards_per_role(world, make_user)
    blind = world["blind"]
    r = blind.post("/reports/pipeline_by_month_stage/run", {})
    assert r.status_code == 403
    assert {"field": "/measures/0/field", "code": "forbidden_field"}.items() <= r.json["errors"][0].items()
    assert "pipeline_by_month_stage" not in [d["name"] for d in blind.get("/reports").json["items"]]
    dash = blind.post("/dashboards/admin/run", {}).json
    by_report = {w["report"]: w for w in dash["widgets"]}
    assert by_report["pipeline_by_month_stage"]["problem"]["status"] == 403
    assert "result" not in by_report["pipeline_by_month_stage"]
    assert by_report["win_rate_by_owner"]["problem"]["status"] == 403  # visible_to sales_manager only
    # a report only counting is fine for them
    r = blind.send("PUT", "/reports/blind_count", {"name": "blind_count", "label": {"en": "Count"},
                                                   "object": "opportunity", "dimensions": [{"field": "stage"}],
                                                   "measures": [{"agg": "count"}]})
    assert r.status_code == 200, r.json
    assert blind.post("/reports/blind_count/run", {}).json["rows"]
    r = blind.send("PUT", "/reports/blind_sum", {"name": "blind_sum", "label": {"en": "Sum"}, "object": "opportunity",
                                                 "measures": [{"agg": "sum", "field": "amount"}]})
    assert r.status_code == 403 and r.json["errors"][0]["field"] == "/measures/0/field"
    # someone else may not overwrite it; the admin may
    r = world["rep"].send("PUT", "/reports/blind_count", {"name": "blind_count", "label": {"en": "Mine"},
                                                          "object": "opportunity", "measures": [{"agg": "count"}]})
    assert r.status_code == 403


PREVIEW_CASES = [
    ({"object": "opportunity", "measures": [{"agg": "sum", "field": "name"}]}, "/definition/measures/0/agg"),
    ({"object": "opportunity", "dimensions": [{"field": "amount", "bucket": "month"}], "measures": [{"agg": "count"}]},
     "/definition/dimensions/0/bucket"),
    ({"object": "opportunity", "dimensions": [{"field": "nope"}], "measures": [{"agg": "count"}]},
     "/definition/dimensions/0/field"),
    ({"object": "opportunity", "measures": [{"agg": "count"}], "limit": 10**6}, "/definition/limit"),
]


def test_bad_input_is_422_with_pointers_and_ratio_over_zero_is_null(world):
    admin = world["admin"]
    for definition, pointer in PREVIEW_CASES:  # the preview names the bad part
        r = admin.post("/reports/preview", {"definition": definition})
        assert r.status_code == 422 and pointer in [e["field"] for e in r.json["errors"]], r.json
    r = admin.post("/reports/preview", {"definition": {
        "object": "opportunity", "dimensions": [{"field": "stage"}],
        "measures": [{"name": "won", "agg": "count", "filter": {"field": "stage", "op": "eq", "value": "won"}},
                     {"name": "closed", "agg": "count", "filter": {"field": "stage", "op": "eq", "value": "lost"}},
                     {"name": "rate", "agg": "ratio", "of": "won", "over": "closed"}]}})
    assert r.status_code == 200 and all(row[-1] is None for row in r.json["rows"])
    r = admin.post("/reports/pipeline_by_month_stage/drill", {"cell": {"expected_close_month": "2026-13x"}})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "/cell/expected_close_month"
    r = admin.post("/reports/pipeline_by_month_stage/run", {"parameters": {"period": "yesterday"}})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "/parameters/period"
    for params in ({"owner": [2**70]}, {"owner": "x"}, {"team": 2**70}, {"team": "no_such_team"},
                   {"period": {"from": 7}}, {"nope": 1}):
        r = admin.post("/reports/pipeline_by_month_stage/run", {"parameters": params})
        assert r.status_code in (400, 422), (params, r.json)
    for cell in ({"expected_close_month": 7}, {"stage": 5}, {"stage": ["a"]}, {"ghost": 1}):
        r = admin.post("/reports/pipeline_by_month_stage/drill", {"cell": cell})
        assert r.status_code == 422, (cell, r.json)
    r = admin.post("/reports/lead_score_bands/drill", {"cell": {"score": "[1,2)"}})
    assert r.status_code == 422
    r = admin.post("/reports/lead_score_bands/drill", {"cell": {"score": "garbage"}})
    assert r.status_code == 422
    r = admin.post("/reports/pipeline_by_month_stage/run", {"limit": reports.LIMIT_CAP + 1})
    assert r.status_code == 422 and r.json["errors"][0]["code"] == "limit_above_cap"


def _export_is_scoped_and_labelled(world):
    rep = world["rep"]
    r = rep.get("/reports/pipeline_by_month_stage/export?format=csv&language=zh")
    assert r.status_code == 200
    lines = list(csv.reader(io.StringIO(r.get_data().decode("utf-8-sig"))))
    assert lines[0][0] == "预计成交月" and lines[0][2:] == ["金额", "商机数"]
    assert len(lines) == 4 and not any("1000" in cell for line in lines for cell in line)
    r = rep.get("/reports/pipeline_by_month_stage/export?format=xlsx")
    assert r.status_code == 200 and r.get_data()[:2] == b"PK"
    assert world["blind"].get("/reports/pipeline_by_month_stage/export?format=csv").status_code == 403


def _dashboards_per_role(world, make_user):
    manager = make_user("boss", grants=[("opportunity", ["read"], "all"), ("lead", ["read"], "all")])
    names = [d["name"] for d in manager.get("/dashboards").json["items"]]
    assert names == []  # role_boss has no dashboard
    assert {d["name"] for d in world["admin"].get("/dashboards").json["items"]} >= {"sales_rep", "sales_manager",
                                                                                    "marketing", "admin"}
    out = world["rep"].post("/dashboards/sales_rep/run", {"filters": {"period": {"from": "2026-01-01"}}}).json
    totals = {w["report"]: w.get("result") for w in out["widgets"]}
    assert totals["open_pipeline_total"]["rows"] == [[400.0, 3]]


def test_region_from_phone_and_the_market_map(admin):
    reports.clear_cache()
    made = {}
    for name, phone, region, kind in (("gz", "+8613902321234", None, "enterprise"), ("bj", "+8613800138000", None, "consumer"),
                                      ("typed", "+8613902329999", "310000", "small_business"),
                                      ("abroad", "+12025550123", None, "consumer")):
        body = {"name": name, "phone": phone, "customer_type": kind, **({"region": region} if region else {})}
        r = admin.post("/records/customer", body)
        assert r.status_code == 201, r.json["errors"]
        made[name] = r.json
    assert (made["gz"]["region"], made["gz"]["region_from_phone"]) == ("440100", True)
    assert (made["typed"]["region"], made["typed"]["region_from_phone"]) == ("310000", False)
    assert made["abroad"]["region"] is None
    moved = admin.patch(f"/records/customer/{made['bj']['id']}", {"phone": "+8615921234567"},
                        version=made["bj"]["version"]).json
    assert (moved["region"], moved["region_from_phone"]) == ("310000", True)  # a derived region follows the phone
    out = admin.post("/reports/market_map/run", {}).json
    rows = dict(map(tuple, out["rows"]))
    assert rows == {"310000": 2, "440000": 1, None: 1}
    assert out["labels"]["region"]["440000"] == "广东" and out["chart"]["type"] == "map"
    for key, count in rows.items():
        drilled = admin.post("/reports/market_map/drill", {"cell": {"region": key}}).json
        assert list_total(admin, drilled)[0] == count
    only_b = admin.post("/reports/market_map/run", {"parameters": {"customer_type": "enterprise"}}).json
    assert only_b["rows"] == [["440000", 1]]
