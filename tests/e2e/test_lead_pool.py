"""The shared lead pool in the browser (issue 18): a rep claims a lead the demo put in the pool, sees
the quota from the server's ledger move, and puts it back with a reason; in Chinese at phone width too."""

from __future__ import annotations

from typing import Any


def _json(page: Any, path: str) -> Any:
    response = page.request.get(page.url.split("/pools")[0].rstrip("/") + "/api/v1" + path)
    assert response.ok, f"{path}: {response.status} {response.text()}"
    return response.json()


def test_claim_and_release_from_the_pool(open_page: Any, screenshot: Any) -> None:
    page = open_page("john.smith")
    page.get_by_role("link", name="Lead pool").click()
    quota = page.get_by_test_id("pool-quota")
    quota.wait_for()
    before = _json(page, "/pools/public_pool/records?limit=500")
    assert before["items"], "the demo leaves leads in the pool"
    held = before["quota"]["held"]
    assert f"Holding {held} / 50" in quota.inner_text()
    first = before["items"][0]
    page.get_by_role("button", name=f"Claim {first['name']}").click()
    page.get_by_role("status").filter(has_text=f"{first['name']} is yours now.").wait_for()
    assert f"Holding {held + 1} / 50" in quota.inner_text()
    after = _json(page, "/pools/public_pool/records?limit=500")
    assert first["id"] not in [r["id"] for r in after["items"]]
    record = _json(page, f"/records/lead/{first['id']}")
    me = _json(page, "/me")
    assert record["owner_id"] == me["id"]
    screenshot(page, "lead-pool", readme=True)

    mine = page.locator("li", has=page.get_by_role("link", name=first["name"]))
    mine.get_by_role("button", name="Release").click()
    dialog = page.get_by_role("dialog")
    dialog.locator("textarea").fill("wrong region")
    dialog.get_by_role("button", name="Release").click()
    page.get_by_role("status").filter(has_text="went back to the pool").wait_for()
    assert f"Holding {held} / 50" in quota.inner_text()
    assert _json(page, f"/records/lead/{first['id']}")["owner_id"] is None


def test_pool_in_chinese_at_phone_width(open_page: Any, screenshot: Any) -> None:
    page = open_page("john.smith", width=390, height=844, lang="zh")
    page.goto(page.url.rstrip("/") + "/pools")
    page.get_by_test_id("pool-quota").filter(has_text="持有").wait_for()
    page.get_by_role("heading", name="可领取的线索").wait_for()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow} px at phone width"
    screenshot(page, "lead-pool-zh-phone")
