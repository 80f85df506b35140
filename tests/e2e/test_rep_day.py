"""A sales rep's day on the demo data (issue 13), as the demo rep zhang.wei (own records only).

The demo logins are the ones `make demo` prints (cli/demo.py). The rep's profile language is
Chinese: the tests choose the UI language explicitly (the language switch's stored choice), once
in English at desktop width and once in Chinese at phone width (390x844), and edit demo records
whose optional fields are empty, save, and read the saved value back on the record page.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

REP, REP_PASSWORD = "zhang.wei", "rep-demo-1"
TEXT = {  # the UI strings the tests look for, per language (i18n/en.ts, zh.ts; metadata labels)
    "en": {"save": "Save", "status": "Status", "qualified": "Qualified", "notes": "Notes"},
    "zh": {"save": "保存", "status": "状态", "qualified": "已确认", "notes": "备注"},
}


def _base(page: Any) -> str:
    parts = page.url.split("/", 3)
    return f"{parts[0]}//{parts[2]}"


def _rep_page(open_page: Any, lang: str, width: int = 1280, height: int = 800) -> Any:
    page = open_page(width=width, height=height, lang=lang)
    page.locator("#login-username").fill(REP)
    page.locator("#login-password").fill(REP_PASSWORD)
    page.locator("form.login button[type=submit]").click()
    page.locator("header .user-name").wait_for(state="attached")
    return page


def _first(page: Any, object_name: str, rule: dict[str, Any], skip: int = 0) -> dict[str, Any]:
    """The rep's newest record matching `rule`, read through the API with the page's session."""
    response = page.request.get(f"{_base(page)}/api/v1/records/{object_name}",
                                params={"filter": json.dumps(rule), "limit": str(skip + 1), "sort": "-id"})
    assert response.ok, response.text()
    items = response.json()["items"]
    assert len(items) > skip, f"no demo {object_name} of {REP} matches {rule}"
    return dict(items[skip])


def _record(page: Any, object_name: str, record_id: int) -> dict[str, Any]:
    response = page.request.get(f"{_base(page)}/api/v1/records/{object_name}/{record_id}")
    assert response.ok, response.text()
    return dict(response.json())


def _edit(page: Any, object_name: str, record_id: int, lang: str) -> None:
    page.goto(f"{_base(page)}/o/{object_name}/{record_id}/edit")
    page.get_by_role("button", name=TEXT[lang]["save"], exact=True).wait_for()


def _save(page: Any, object_name: str, record_id: int, lang: str) -> None:
    page.get_by_role("button", name=TEXT[lang]["save"], exact=True).click()
    page.wait_for_url(re.compile(rf"/o/{object_name}/{record_id}$"))
    assert page.locator(".alert-error").count() == 0


def _edit_lead(page: Any, lang: str, skip: int) -> dict[str, Any]:
    """An open lead with empty optional fields (notes, and email or budget): status -> qualified and a
    note typed, saved, shown on the record page; the empty fields stay empty."""
    text = TEXT[lang]
    lead = _first(page, "lead", {"all": [{"field": "status", "op": "in", "value": ["new", "contacted"]},
                                         {"field": "notes", "op": "is_empty"},
                                         {"any": [{"field": "email", "op": "is_empty"},
                                                  {"field": "budget", "op": "is_empty"}]}]}, skip)
    empty = [n for n in ("email", "budget", "notes", "converted_customer") if lead[n] is None]
    assert "notes" in empty and "converted_customer" in empty and len(empty) >= 3
    _edit(page, "lead", lead["id"], lang)
    page.get_by_label(text["status"], exact=True).select_option(label=text["qualified"])
    note = f"rep-day {lang} note"
    page.locator("details.form-section:has(#root_notes) > summary").click()  # a collapsed section
    page.get_by_label(text["notes"], exact=True).fill(note)
    _save(page, "lead", lead["id"], lang)
    page.locator(".field dd", has_text=note).wait_for()  # the record page shows the saved value
    assert page.locator(".field dd", has_text=text["qualified"]).count() >= 1
    after = _record(page, "lead", lead["id"])
    assert after["status"] == "qualified" and after["notes"] == note and after["version"] == lead["version"] + 1
    assert all(after[n] is None for n in empty if n != "notes")
    return after


def _log_activity(page: Any, lang: str, button: str, subject: str) -> None:
    """From the record page: a follow-up button opens the activity's own form; save; the timeline shows it."""
    page.get_by_role("button", name=button, exact=True).click()
    page.locator(".activity-panel #root_subject").fill(subject)
    page.locator(".activity-panel").get_by_role("button", name=TEXT[lang]["save"], exact=True).click()
    page.locator(".activity-panel [role=status]").wait_for()
    page.locator(".timeline li.activity", has_text=subject).wait_for()


def _choose_zone(page: Any, zone: str) -> None:
    """The profile menu under the user's name: the zone every time is shown and entered in."""
    assert page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") != zone  # else the test proves nothing
    menu = page.locator("header .profile-menu > summary")
    menu.click()
    page.locator("#profile-zone").select_option(zone)
    page.locator(".profile-panel [role=status]").wait_for()
    assert page.request.get(f"{_base(page)}/api/v1/me").json()["time_zone"] == zone
    menu.click()


def test_rep_day_english_desktop(open_page: Any, screenshot: Any) -> None:
    page = _rep_page(open_page, "en")
    _choose_zone(page, "Asia/Shanghai")
    lead = _edit_lead(page, "en", 0)
    # names, not ids: the channel shows its name and links to it; the rep may not delete leads
    channel = page.locator(".field[data-field=channel] dd a")
    channel.wait_for()  # titles arrive in one batched request after the record: wait for the name, then check
    page.wait_for_function("() => !document.querySelector('.field[data-field=channel] dd a').textContent.startsWith('#')")
    assert channel.count() == 1 and not channel.inner_text().startswith("#")
    assert page.get_by_role("button", name="Delete", exact=True).count() == 0
    assert page.get_by_text(re.compile(r"\d{4}-\d\d-\d\dT\d\d:")).count() == 0  # no raw ISO times

    # follow-up: a call and a task, from the record page
    _log_activity(page, "en", "Log a call", "Called about the quote")
    _log_activity(page, "en", "New task", "Send the quote")
    task = _first(page, "activity", {"field": "subject", "op": "eq", "value": "Send the quote"})
    assert task["type"] == "task" and task["lead"] == lead["id"] and task["done"] is False and task["due_at"]
    # "due tomorrow 09:00" is 09:00 on the rep's clock (Shanghai), and the timeline shows it so
    due = datetime.fromisoformat(task["due_at"].replace("Z", "+00:00")).astimezone(ZoneInfo("Asia/Shanghai"))
    assert due.strftime("%H:%M") == "09:00"
    shown = page.locator(".timeline li.activity", has_text="Send the quote").locator("time").get_attribute("title")
    assert shown is not None and shown.endswith("9:00 AM") and str(due.day) in shown
    screenshot(page, "rep-lead-followup", readme=True)

    # convert the lead: the dialog says what it creates, then links to the new customer
    page.get_by_role("button", name="Convert", exact=True).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("Customer", exact=True).wait_for()
    screenshot(page, "rep-lead-convert", readme=True)
    dialog.get_by_role("button", name="Convert now").click()
    dialog.get_by_role("link", name="Open Customer").click()
    page.wait_for_url(re.compile(r"/o/customer/\d+$"))
    page.locator("h1", has_text=lead["name"]).wait_for()
    after = _record(page, "lead", lead["id"])
    assert after["status"] == "converted" and after["converted_customer"] == int(page.url.rsplit("/", 1)[1])

    # delete the call (activities are the rep's to delete) and restore it from the trash
    call = _first(page, "activity", {"field": "subject", "op": "eq", "value": "Called about the quote"})
    page.goto(f"{_base(page)}/o/activity/{call['id']}")
    page.get_by_role("button", name="Delete", exact=True).click()
    page.get_by_role("alertdialog").get_by_role("button", name="Delete", exact=True).click()
    page.wait_for_url(re.compile(r"/o/activity$"))
    page.get_by_role("link", name="Trash").click()
    row = page.locator("table.records tr", has_text="Called about the quote")
    row.get_by_role("button", name="Restore").click()
    page.get_by_role("status").filter(has_text="Restored").wait_for()
    assert _record(page, "activity", call["id"])["deleted_at"] is None

    # the relation picker: an opportunity's contact chosen by typing part of a name
    opp = _first(page, "opportunity", {"all": [{"field": "stage", "op": "eq", "value": "qualification"},
                                               {"field": "lost_reason", "op": "is_empty"}]})
    customer = _first(page, "customer", {"field": "name", "op": "is_not_empty"})
    _edit(page, "opportunity", opp["id"], "en")
    page.get_by_label("Stage", exact=True).select_option(label="Proposal")
    page.locator("#root_customer").fill(customer["name"][:2])
    page.get_by_role("option", name=re.compile(re.escape(customer["name"]))).first.click()
    _save(page, "opportunity", opp["id"], "en")
    page.locator(".field[data-field=customer] dd a", has_text=customer["name"]).wait_for()
    after = _record(page, "opportunity", opp["id"])
    assert after["stage"] == "proposal" and after["lost_reason"] is None and after["customer"] == customer["id"]


def test_rep_day_chinese_phone(open_page: Any, screenshot: Any) -> None:
    page = _rep_page(open_page, "zh", 390, 844)
    _edit_lead(page, "zh", 1)
    _log_activity(page, "zh", "添加备注", "客户想要报价")
    screenshot(page, "rep-lead-edited-zh-phone", readme=True)
