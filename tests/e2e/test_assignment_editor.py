"""Assignment rules edited in the browser (issue 18): the admin changes the standard routing's daily
capacity and working days, saves, the server stores exactly that, and Explain names who gets a lead."""

from __future__ import annotations

from typing import Any


def _json(page: Any, path: str) -> Any:
    response = page.request.get(page.url.split("/designer")[0] + "/api/v1" + path)
    assert response.ok, f"{path}: {response.status} {response.text()}"
    return response.json()


def test_admin_edits_routing_and_explains_a_lead(open_page: Any, screenshot: Any) -> None:
    page = open_page("admin")
    page.goto(page.url.rstrip("/") + "/designer/assignments")
    page.get_by_role("link", name="Lead routing").click()
    entry = page.get_by_label("Entry 1")
    entry.get_by_label("At most per user per day").fill("150")
    entry.get_by_label("Sat").check()
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_role("status").filter(has_text="Saved").wait_for()
    body = _json(page, "/definitions/assignment/lead_routing")
    doc = body.get("body", body)
    first = doc["entries"][0]
    assert first["capacity"] == {"per_day": 150}
    assert first["availability"]["working_days"] == [6]
    assert first["territories"][0]["when"] == {"field": "city", "op": "in",
                                               "value": ["shanghai", "hangzhou", "nanjing", "suzhou"]}
    lead = _json(page, "/records/lead?limit=1")["items"][0]
    page.get_by_label("Record id").fill(str(lead["id"]))
    page.get_by_role("button", name="Explain").click()
    page.locator(".explain").filter(has_text="Entry by_region").wait_for()
    screenshot(page, "assignment-editor", readme=True, full_page=True)
