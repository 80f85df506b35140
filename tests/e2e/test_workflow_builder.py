"""The workflow builder walkthrough (issue 17), without writing any JSON: build "new lead -> if score > 50
assign, else wait 2 days -> email" from the palette, forms and the rule builder; publish; test-run it on a
lead; open the run in the debugger; re-point the else branch straight to the email (no node deleted: the
wait shows as unreachable until the assign step leads to it); publish v2 with "continue". Screenshots of the builder and the debugger go to docs/screenshots/."""

from __future__ import annotations

import time
from typing import Any

NAME = "lead_score_route"


def _base(page: Any) -> str:
    return "/".join(page.url.split("/")[:3])


def _api(page: Any, method: str, path: str) -> Any:
    response = page.request.fetch(_base(page) + "/api/v1" + path, method=method)
    assert response.ok, f"{method} {path}: {response.status} {response.text()}"
    return response.json()


def _select_node(page: Any, node: str) -> Any:
    page.get_by_test_id(f"node-{node}").click()
    inspector = page.locator("section.flow-inspector")
    inspector.locator("h3 code", has_text=node).wait_for()
    return inspector


def _add(page: Any, step: str) -> Any:
    page.locator(f"button[data-step='{step}']").click()
    page.get_by_test_id(f"node-{step}").wait_for()
    inspector = page.locator("section.flow-inspector")
    inspector.locator("h3 code", has_text=step).wait_for()
    return inspector


def _publish(page: Any) -> None:
    page.get_by_role("button", name="Publish", exact=True).click()
    dialog = page.get_by_role("dialog", name="Publish")
    dialog.get_by_label("continue on their version (default)").check()
    dialog.get_by_role("button", name="Publish now").click()
    page.get_by_role("status").filter(has_text="Published as version").wait_for()


def test_build_publish_run_debug_and_repoint_without_code(open_page: Any, screenshot: Any) -> None:
    page = open_page("admin", width=1400, height=900)
    page.goto(_base(page) + "/workflows")
    form = page.get_by_role("form", name="New workflow")
    form.locator("input[name=wf-name]").fill(NAME)
    form.locator("select[name=wf-object]").select_option("lead")
    form.locator("select[name=wf-trigger]").select_option("record_created")
    form.get_by_role("button", name="Create draft").click()
    page.locator("aside.flow-palette").wait_for()

    # if score > 50, with the rule builder
    inspector = _add(page, "if")
    inspector.get_by_role("button", name="+ Condition").click()
    inspector.get_by_label("Field", exact=True).select_option("score")
    inspector.get_by_label("Operator").select_option("gt")
    inspector.get_by_label("Value", exact=True).fill("50")
    # assign (round robin in the sales team), wait 2 days, email: forms from the steps' JSON schemas
    inspector = _add(page, "assign_owner")
    inspector.locator("#root_team").fill("sales")
    inspector.locator("#root_strategy").select_option(label="round_robin")
    inspector = _add(page, "wait")
    inspector.locator("#root_duration_amount").fill("2")
    inspector.locator("#root_duration_unit").select_option(label="day")
    inspector = _add(page, "send_message")
    inspector.locator("#root_channel").select_option(label="email")
    inspector.locator("#root_body").fill("Hello {name}, thanks for your interest.")

    inspector = _select_node(page, "if")
    inspector.get_by_label("then →").select_option("assign_owner")
    inspector.get_by_label("else →").select_option("wait")
    inspector = _select_node(page, "assign_owner")
    inspector.get_by_label("next →").select_option("send_message")
    inspector = _select_node(page, "wait")
    inspector.get_by_label("next →").select_option("send_message")
    page.get_by_role("button", name="Save draft").click()
    status = page.get_by_role("status").filter(has_text="Draft saved")
    status.wait_for()
    problems = page.locator(".flow-node-problems li, ul.problems li").all_inner_texts()
    assert status.inner_text() == "Draft saved.", problems
    assert page.locator(".flow-node-bad").count() == 0
    screenshot(page, "workflow_builder", readme=True)

    _publish(page)
    draft = _api(page, "GET", f"/workflows/{NAME}/draft")
    v1 = draft["published_version"]
    steps = {s["id"]: s for s in draft["definition"]["steps"]}
    assert steps["if"]["rule"] == {"all": [{"field": "score", "op": "gt", "value": 50}]}
    assert (steps["if"]["then"], steps["if"]["else"]) == ("assign_owner", "wait")
    assert steps["wait"]["duration"] == {"amount": 2, "unit": "day"}
    assert steps["send_message"]["channel"] == "email"

    # test-run on a lead, then the debugger
    lead = _api(page, "GET", "/records/lead?limit=1&fields=id,score")["items"][0]
    page.get_by_label("Record id", exact=True).fill(str(lead["id"]))
    page.get_by_role("button", name="Test run").click()
    page.wait_for_url("**/workflows/runs/*")
    run_id = int(page.url.rstrip("/").split("/")[-1])
    deadline = time.monotonic() + 30
    while not page.locator("details[data-node='if']").count():
        assert time.monotonic() < deadline, f"run {run_id} never executed its first step"
        time.sleep(0.5)
        page.reload()
        page.get_by_test_id("run-version").wait_for()
    assert page.get_by_test_id("run-version").inner_text() == str(v1)
    branch = page.locator("details[data-node='if']")
    branch.locator("summary").click()
    chosen = "assign_owner" if (lead.get("score") or 0) > 50 else "wait"
    page.locator(f"details[data-node='{chosen}']").wait_for()
    branch.locator(".run-evaluation").wait_for()
    screenshot(page, "workflow_debugger", readme=True, full_page=True)

    # re-point the else branch to the email without deleting anything; publish v2 with "continue"
    page.goto(_base(page) + f"/workflows/{NAME}")
    page.locator("aside.flow-palette").wait_for()
    inspector = _select_node(page, "if")
    inspector.get_by_label("else →").select_option("send_message")
    # nothing deleted: the wait is still there, now marked unreachable until something leads to it
    page.get_by_test_id("node-wait").locator("li[data-code='unreachable']").wait_for()
    screenshot(page, "workflow_repointed")
    inspector = _select_node(page, "assign_owner")
    inspector.get_by_label("next →").select_option("wait")  # hot leads: assign, wait 2 days, then the email
    page.get_by_test_id("node-wait").locator("li[data-code='unreachable']").wait_for(state="detached")
    _publish(page)
    draft = _api(page, "GET", f"/workflows/{NAME}/draft")
    assert draft["published_version"] > v1
    steps = {s["id"]: s for s in draft["definition"]["steps"]}
    assert set(steps) == {"if", "assign_owner", "wait", "send_message"}
    assert (steps["if"]["then"], steps["if"]["else"]) == ("assign_owner", "send_message")
    assert (steps["assign_owner"]["next"], steps["wait"]["next"]) == ("wait", "send_message")
    assert page.get_by_test_id("publish-result").inner_text().startswith(f"Version {draft['published_version']}:")
    # the run started on v1 stays on v1
    assert _api(page, "GET", f"/runs/{run_id}")["version"] == v1


def test_trigger_node_is_edited_saved_and_kept(open_page: Any, screenshot: Any) -> None:
    """The trigger is the first node: select it, make the workflow start on a tag instead of an update
    (the form comes from the trigger's JSON schema), save the draft, reload: the change is there."""
    name = "opportunity_stage_notification"
    page = open_page("admin", width=1400, height=900)
    page.goto(_base(page) + f"/workflows/{name}")
    node = page.get_by_test_id("node-__trigger")
    node.filter(has_text="A record is updated").wait_for()
    node.click()
    inspector = page.get_by_test_id("trigger-inspector")
    inspector.locator("#root_type").select_option(label="A tag is added")
    # saved without its tag: the server's problem (pointer /trigger...) is shown on the trigger node
    page.get_by_role("button", name="Save draft").click()
    page.locator("[data-testid='node-__trigger'].flow-node-bad").wait_for()
    inspector.locator("#root_tag").fill("vip")
    assert page.get_by_role("button", name="Delete", exact=True).is_disabled()  # the trigger is not deletable
    node.filter(has_text="A tag is added").wait_for()
    page.get_by_role("button", name="Save draft").click()
    page.get_by_role("status").filter(has_text="Draft saved.").wait_for()
    assert page.locator("[data-testid='node-__trigger'].flow-node-bad").count() == 0
    screenshot(page, "workflow_trigger", readme=True)
    draft = _api(page, "GET", f"/workflows/{name}/draft")
    assert draft["definition"]["trigger"] == {"type": "tag_added", "tag": "vip"}  # `fields` went with the old type

    page.reload()
    node = page.get_by_test_id("node-__trigger")
    node.filter(has_text="A tag is added").wait_for()
    node.click()
    inspector = page.get_by_test_id("trigger-inspector")
    assert inspector.locator("#root_tag").input_value() == "vip"
    assert inspector.locator("#root_type option:checked").inner_text() == "A tag is added"
    assert page.get_by_test_id("node-__trigger").count() == 1


def test_phone_width_shows_the_graph_read_only(open_page: Any, screenshot: Any) -> None:
    page = open_page("admin", width=390, height=844)
    page.goto(_base(page) + "/workflows/new_lead_routing")
    page.get_by_test_id("node-assign").wait_for()
    assert page.get_by_test_id("node-__trigger").is_visible()  # the trigger is drawn at phone width too
    assert page.get_by_text("Read-only on a phone").is_visible()
    assert page.locator("aside.flow-palette").count() == 0
    assert page.get_by_role("button", name="Save draft").count() == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    screenshot(page, "workflow_phone")
    # the trigger's settings can be read there (not edited), and fit the width
    page.get_by_test_id("node-__trigger").click()
    inspector = page.get_by_test_id("trigger-inspector")
    inspector.scroll_into_view_if_needed()
    assert inspector.locator("#root_type").is_disabled()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1
