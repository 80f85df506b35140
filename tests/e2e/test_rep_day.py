"""A sales rep's day on the demo data (issue 13): a rep with the demo login edits demo records whose
optional fields are empty (a lead, an opportunity) and changes their status through the forms.

The demo logins are the ones `make demo` prints (cli/demo.py); the rep sees only their own records.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

REP, REP_PASSWORD = "zhang.wei", "rep-demo-1"


def _login(page: Any, username: str, password: str) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.locator("header .user-name").wait_for()


def _first(page: Any, object_name: str, rule: dict[str, Any]) -> dict[str, Any]:
    """The rep's newest record matching `rule`, read through the API with the page's session."""
    base = page.url.split("/", 3)
    response = page.request.get(f"{base[0]}//{base[2]}/api/v1/records/{object_name}",
                                params={"filter": json.dumps(rule), "limit": "1"})
    assert response.ok, response.text()
    items = response.json()["items"]
    assert items, f"no demo {object_name} of {REP} matches {rule}"
    return dict(items[0])


def _record(page: Any, object_name: str, record_id: int) -> dict[str, Any]:
    base = page.url.split("/", 3)
    response = page.request.get(f"{base[0]}//{base[2]}/api/v1/records/{object_name}/{record_id}")
    assert response.ok, response.text()
    return dict(response.json())


def _edit_and_save(page: Any, object_name: str, record_id: int, field_label: str, option: str) -> None:
    page.goto(page.url.split("/", 3)[0] + "//" + page.url.split("/", 3)[2] + f"/o/{object_name}/{record_id}/edit")
    page.get_by_role("button", name="Save").wait_for()
    page.get_by_label(field_label, exact=True).select_option(label=option)
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(rf"/o/{object_name}/{record_id}$"))
    assert page.locator(".alert-error").count() == 0


@pytest.mark.xfail(strict=False, reason="never passed yet: after login the edit form's Name field does not appear for the rep "
                   "(issue 13 stays open; see the session note)")
def test_rep_edits_demo_records_with_empty_optional_fields(open_page: Any, screenshot: Any) -> None:
    page = open_page()
    _login(page, REP, REP_PASSWORD)
    lead = _first(page, "lead", {"all": [{"field": "status", "op": "eq", "value": "new"},
                                         {"any": [{"field": "email", "op": "is_empty"},
                                                  {"field": "notes", "op": "is_empty"}]}]})
    assert lead["email"] is None and lead["converted_customer"] is None  # empty optional fields, a read-only one
    _edit_and_save(page, "lead", lead["id"], "Status", "Contacted")
    after = _record(page, "lead", lead["id"])
    assert after["status"] == "contacted" and after["email"] is None and after["version"] == lead["version"] + 1
    screenshot(page, "rep-lead-edited")

    opp = _first(page, "opportunity", {"all": [{"field": "stage", "op": "eq", "value": "prospecting"},
                                               {"field": "lost_reason", "op": "is_empty"}]})
    _edit_and_save(page, "opportunity", opp["id"], "Stage", "Qualification")
    after = _record(page, "opportunity", opp["id"])
    assert after["stage"] == "qualification" and after["lost_reason"] is None
