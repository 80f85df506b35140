"""Kanban on a pipeline (issue 18): header sums, a drop on Lost asks for the reason and saves stage and
reason in one request, and a refused move snaps back with the server's message."""

from __future__ import annotations

from typing import Any

DRAG = """([cardSel, colSel]) => {
    const card = document.querySelector(cardSel), col = document.querySelector(colSel);
    const data = new DataTransfer();
    card.dispatchEvent(new DragEvent('dragstart', {bubbles: true, dataTransfer: data}));
    col.dispatchEvent(new DragEvent('dragover', {bubbles: true, cancelable: true, dataTransfer: data}));
    col.dispatchEvent(new DragEvent('drop', {bubbles: true, cancelable: true, dataTransfer: data}));
    card.dispatchEvent(new DragEvent('dragend', {bubbles: true, dataTransfer: data}));
}"""


def _api(page: Any, path: str) -> Any:
    base = page.url.split("/o/")[0]
    response = page.request.get(base + "/api/v1" + path)
    assert response.ok, f"{path}: {response.status} {response.text()}"
    return response.json()


def _drag(page: Any, record_id: str, stage: str) -> None:
    page.evaluate(DRAG, [f"article.kanban-card[data-id='{record_id}']", f"section.kanban-col[data-option='{stage}']"])


def test_drop_on_lost_asks_for_the_reason_and_a_refused_move_snaps_back(open_page: Any, browser_problems: Any,
                                                                          screenshot: Any) -> None:
    browser_problems.allow_http(422)
    page = open_page("john.smith")
    page.goto(page.url.split("/o/")[0] + "/o/opportunity/kanban")
    source = page.locator("section.kanban-col[data-option='prospecting']")
    card = source.locator("article.kanban-card").first
    card.wait_for()
    page.wait_for_load_state("networkidle")
    board = _api(page, "/pipelines/new_business/board?limit=1")["columns"]
    sums = page.locator("section.kanban-col[data-option='proposal'] .kanban-sums")
    proposal = next(c for c in board if c["stage"] == "proposal")
    assert sums.get_attribute("data-amount") == proposal["amount"]
    assert sums.get_attribute("data-weighted") == proposal["weighted"]
    record_id = card.get_attribute("data-id")
    assert record_id is not None
    lost = page.locator("section.kanban-col[data-option='lost']")

    _drag(page, record_id, "lost")
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Lost reason").select_option("price")
    screenshot(page, "kanban_lost_reason")
    dialog.get_by_role("button", name="Save and move").click()
    lost.locator(f"article.kanban-card[data-id='{record_id}']").wait_for()
    record = _api(page, f"/records/opportunity/{record_id}")
    assert (record["stage"], record["lost_reason"]) == ("lost", "price")
    history = _api(page, f"/stage-history/opportunity/{record_id}")["items"]
    assert history[-1]["to_stage"] == "lost"
    assert lost.locator("article.kanban-card").first.get_attribute("data-id") == record_id  # order saved: on top

    _drag(page, record_id, "won")  # lost -> won is not an allowed move
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "The card was not moved" in alert.inner_text() and "may not move" in alert.inner_text()
    lost.locator(f"article.kanban-card[data-id='{record_id}']").wait_for()
    assert _api(page, f"/records/opportunity/{record_id}")["stage"] == "lost"
