"""Reports in the browser (issue 21): build a funnel report in the editor, see the ECharts funnel with
drop-off %, click a segment and land on the list filtered to exactly that segment's records, export
gives the same rows; a sales rep opening the manager's dashboard sees only their own scope."""

from __future__ import annotations

import csv
import io
import json
from typing import Any
from urllib.parse import parse_qs, urlparse

REP, REP_PASSWORD = "zhang.wei", "rep-demo-1"


def _base(page: Any) -> str:
    parts = page.url.split("/", 3)
    return f"{parts[0]}//{parts[2]}"


def _post(page: Any, path: str, body: Any) -> Any:
    response = page.request.post(_base(page) + "/api/v1" + path, data=json.dumps(body),
                                 headers={"Content-Type": "application/json",
                                          "X-CSRF-Token": _get(page, "/me").json()["csrf_token"] or ""})
    assert response.ok, f"{path}: {response.status} {response.text()}"
    return response.json()


def _get(page: Any, path: str, **params: str) -> Any:
    response = page.request.get(_base(page) + "/api/v1" + path, params=params)
    assert response.ok, f"{path}: {response.status} {response.text()}"
    return response


def test_build_a_funnel_click_a_segment_and_export(open_page: Any, screenshot: Any) -> None:
    page = open_page("admin")
    page.goto(_base(page) + "/reports/new")
    editor = page.get_by_role("region", name="Edit")
    editor.get_by_label("Object").select_option("opportunity")
    editor.get_by_role("button", name="Add dimension").click()
    editor.get_by_label("Dimensions 1").select_option("stage")
    editor.get_by_label("Chart").select_option("funnel")
    page.locator("[data-testid=report-chart] canvas").first.wait_for()
    editor.get_by_label("Name (a-z, 0-9, _)").fill("e2e_funnel")
    editor.get_by_label("Title").fill("E2E funnel")
    editor.get_by_role("button", name="Save report").click()
    page.wait_for_url("**/reports/e2e_funnel")
    chart = page.locator("[data-testid=report-chart]")
    chart.locator("canvas").first.wait_for()
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(1500)  # ECharts' entry animation
    screenshot(page, "report_funnel")
    result = _post(page, "/reports/e2e_funnel/run", {})
    first_stage, first_count = result["rows"][0][0], result["rows"][0][1]
    box = chart.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] * 0.45, box["y"] + 60 + 8)  # the top segment (the funnel's top margin is 60px)
    page.wait_for_url("**/o/opportunity?filter=*")
    rule = json.loads(parse_qs(urlparse(page.url).query)["filter"][0])
    listed = _get(page, "/records/opportunity", filter=json.dumps(rule), count="true", limit="1").json()
    assert listed["count"] == first_count
    page.locator("span.count").filter(has_text=f"{first_count} records").wait_for()
    assert {"field": "stage", "op": "eq", "value": first_stage} in rule["all"]
    text = _get(page, "/reports/e2e_funnel/export", format="csv").body().decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    assert [int(line[1]) for line in lines[1:]] == [r[1] for r in result["rows"]]


def test_rep_on_the_managers_dashboard_sees_only_their_scope(open_page: Any, screenshot: Any) -> None:
    page = open_page()
    page.locator("#login-username").fill(REP)
    page.locator("#login-password").fill(REP_PASSWORD)
    page.locator("form.login button[type=submit]").click()
    page.locator("header .user-name").wait_for(state="attached")
    page.goto(_base(page) + "/dashboards/sales_manager")
    page.locator("[data-testid=widget-open_pipeline_total] [data-testid=report-number]").wait_for()
    page.locator("[data-testid=widget-win_rate_by_owner] [data-testid=widget-refused]").wait_for()
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(1500)  # ECharts' entry animation
    screenshot(page, "dashboard_rep_on_manager")
    mine = _get(page, "/records/opportunity", count="true", limit="1",
                filter=json.dumps({"field": "stage", "op": "not_in", "value": ["won", "lost"]})).json()["count"]
    shown = page.locator("[data-testid=widget-open_pipeline_total] .report-number-value strong").nth(1).inner_text()
    assert int(shown.replace(",", "")) == mine
    every = _get(page, "/records/opportunity", count="true", limit="1").json()["count"]
    owners = {r["owner_id"] for r in _get(page, "/records/opportunity", limit="1000").json()["items"]}
    assert len(owners) <= 1 and every >= mine


def test_marketing_dashboard_draws_the_market_map(open_page: Any, screenshot: Any) -> None:
    page = open_page("admin")
    page.goto(_base(page) + "/dashboards/marketing")
    widget = page.locator("[data-testid=widget-market_map]")
    widget.locator("canvas").first.wait_for()
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(1500)  # ECharts' entry animation
    screenshot(page, "market_map", readme=True)
    rows = _post(page, "/reports/market_map/run", {})["rows"]
    provinces = [r for r in rows if r[0] and str(r[0]).endswith("0000")]
    assert provinces, rows  # the demo's customers have Chinese mobiles: their regions come from the phone
