"""An admin's day in the browser (issue 16), as the e2e server's admin (conftest USERS):
import a messy spreadsheet (a title row above the headers, a bad email, two near-duplicates) through
the preview and mapping, download the error rows; review the duplicate pair, keep the other record's
email, merge and undo; create a role that hides a lead field and a user with it (one-time password),
then log in as that user and see the field gone and /designer refused.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook


def _login(open_page: Any, user: str, password: str, lang: str = "en", width: int = 1280) -> Any:
    page = open_page(width=width, lang=lang)
    page.locator("#login-username").fill(user)
    page.locator("#login-password").fill(password)
    page.locator("form.login button[type=submit]").click()
    page.locator("header .user-name").wait_for(state="attached")
    return page


def _messy_sheet(path: Path) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.append(["Trade fair leads, Shanghai 2026"])  # a title row above the headers
    ws.append(["姓名", "公司", "邮箱", "手机", "Booth note"])
    ws.append(["Ruth Quinlan", "Quinlan Tea", "ruth@quinlan.cn", "13911112222", "hall 2"])
    ws.append(["Ruth Quinlen", "Quinlan Tea", "ruth.q@quinlan.cn", "13911113333", "hall 2 again"])
    ws.append(["Bad Mail", "Nowhere Ltd", "not-an-email", "13911114444", ""])
    wb.save(path)
    return path


def test_admin_day(open_page: Any, tmp_path: Path, browser_problems: Any, screenshot: Any) -> None:
    browser_problems.allow_http(409)
    page = open_page(user="admin")

    # 1. Import: preview (header row found below the title), mapping suggested, run, result, error rows.
    page.goto(page.url.split("/", 3)[0] + "//" + page.url.split("/", 3)[2] + "/designer/import")
    page.get_by_label("File (.xlsx or .csv)").set_input_files(str(_messy_sheet(tmp_path / "fair.xlsx")))
    page.get_by_text("headers taken from row 2").wait_for()
    assert page.get_by_label("Field for column 姓名").input_value() == "name"
    assert page.get_by_label("Field for column 邮箱").input_value() == "email"
    page.get_by_label("Field for column Booth note").select_option("")  # ignore it explicitly
    screenshot(page, "admin-import-preview", readme=True, full_page=True)
    page.get_by_role("button", name=re.compile(r"^Import 3 rows")).click()
    result = page.get_by_test_id("import-result")
    result.wait_for(timeout=90_000)  # a busy machine: the job waits for a worker
    assert result.locator("[data-count=created]").inner_text() == "2"
    assert result.locator("[data-count=failed]").inner_text() == "1"
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the failed rows (.xlsx)").click()
    download.value.save_as(tmp_path / "errors.xlsx")
    errors = load_workbook(tmp_path / "errors.xlsx").active
    assert any("not-an-email" in str(c.value) for row in errors.iter_rows() for c in row)
    for row in errors.iter_rows():  # fix the row and import the error file again
        for cell in row:
            if cell.value == "not-an-email":
                cell.value = "bad.mail@nowhere.cn"
    errors.parent.save(tmp_path / "fixed.xlsx")
    page.get_by_role("button", name="Import another file").click()
    page.get_by_label("File (.xlsx or .csv)").set_input_files(str(tmp_path / "fixed.xlsx"))
    assert page.get_by_label("Field for column 邮箱").input_value() == "email"
    page.get_by_role("button", name=re.compile(r"^Import 1 rows")).click()
    result.wait_for(timeout=90_000)
    assert result.locator("[data-count=created]").inner_text() == "1"
    assert result.locator("[data-count=failed]").inner_text() == "0"

    # 2. Duplicate review: the two Ruths side by side, keep the second one's email, merge, undo.
    page.get_by_role("link", name="Duplicates").click()
    page.get_by_role("button", name="Find duplicates now").click()
    pair = page.locator("section.dup-pair", has_text="Ruth Quinlen").first
    pair.wait_for()
    pair.get_by_label(re.compile(r"^Keep Email of #")).last.check()
    screenshot(page, "admin-duplicate-review", readme=True)
    pair.get_by_role("button", name="Merge").click()
    page.get_by_text(re.compile(r"^Merged into Ruth")).wait_for()
    page.get_by_role("button", name="Undo").first.click()
    page.get_by_text("Merge undone.").wait_for()

    # 3. A role that hides the lead's email, and a user with it.
    page.get_by_role("link", name="Roles & permissions").click()
    page.get_by_label("New role name").fill("fair_rep")
    page.get_by_role("button", name="Create role").click()
    page.get_by_label("Create Lead", exact=True).check()
    page.get_by_role("row", name=re.compile(r"^Lead\b")).get_by_role("button", name=re.compile("Field rules")).click()
    page.get_by_label("Rule for Email").select_option("hidden")
    screenshot(page, "admin-role-matrix", readme=True, full_page=True)
    page.get_by_role("button", name="Save permissions").click()
    page.get_by_text("Saved.").wait_for()

    page.get_by_role("link", name="Users & teams").click()
    page.get_by_label("User name").fill("chen.fair")
    page.get_by_label("Display name").fill("Chen Fair")
    form = page.get_by_role("form", name="New user")
    form.get_by_label("fair_rep").check()
    form.get_by_role("button", name="Create user").click()
    password = page.get_by_test_id("one-time-password").locator("code").inner_text()
    assert len(password) >= 8

    # 4. The new rep: no email field on a new lead, and the designer is not for them.
    rep = _login(open_page, "chen.fair", password, lang="zh", width=390)
    base = rep.url.split("/", 3)[0] + "//" + rep.url.split("/", 3)[2]
    fields = rep.request.get(base + "/api/v1/objects/lead").json()["fields"]
    assert "email" not in {f["name"] for f in fields} and "name" in {f["name"] for f in fields}
    rep.goto(base + "/o/lead/new")
    rep.locator("form").first.wait_for()
    assert rep.get_by_label("邮箱").count() == 0
    rep.goto(base + "/designer")
    rep.get_by_test_id("not-allowed").wait_for()
