"""The member programme in the browser (issue 20): an admin switches a benefit off and the member
page shows it "disabled"; the remaining count per period is shown for the others."""

from __future__ import annotations

from typing import Any


def _json(page: Any, base: str, path: str) -> Any:
    response = page.request.get(base + "/api/v1" + path)
    assert response.ok, f"{path}: {response.status} {response.text()}"
    return response.json()


def test_admin_switches_a_benefit_off_and_the_member_page_says_disabled(open_page: Any, server: Any) -> None:
    page = open_page("admin")
    base = server["base"]
    member = _json(page, base, "/records/member?limit=1")["items"][0]
    page.goto(f"{base}/members/{member['id']}")
    row = page.locator("[data-benefit=free_shipping]")
    row.wait_for()
    assert "left this month" in row.inner_text()
    page.goto(f"{base}/designer/benefits")
    page.get_by_role("button", name="Switch off Free shipping, 3 a month").click()
    page.get_by_role("button", name="Switch on Free shipping, 3 a month").wait_for()
    page.goto(f"{base}/members/{member['id']}")
    page.locator("[data-benefit=free_shipping]").filter(has_text="disabled").wait_for()
    assert "left in all" in page.locator("[data-benefit=welcome_coupon]").inner_text()
    page.goto(f"{base}/designer/benefits")
    page.get_by_role("button", name="Switch on Free shipping, 3 a month").click()
    page.get_by_role("button", name="Switch off Free shipping, 3 a month").wait_for()
