"""An import reads the sheet the user picks (issue 16): the preview lists a workbook's sheets, reads the
first one with data rows unless `sheet` names another (for the preview and the import, kept for a
resume), an unknown name is a 422 naming it; the web form's phone region reaches the import as
`phone_region`."""

from __future__ import annotations

import io

from openpyxl import Workbook


def workbook() -> bytes:
    book = Workbook()
    notes = book.active
    notes.title = "说明"
    notes.append(["本文件由旧系统导出"])
    notes.append(["导出时间", "2026-12-01"])
    leads = book.create_sheet("客户")
    leads.append(["姓名", "手机", "公司"])
    leads.append(["王芳", "+86 138 0013 8000", "上海某某有限公司"])
    leads.append(["Li Lei", "(212) 555-0199", "Acme"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_the_preview_lists_sheets_and_reads_the_one_picked(admin):
    first = admin.upload("/imports/preview", workbook(), "export.xlsx")
    assert first.status_code == 200, first.json
    # the notes sheet first has no data rows under a header: the first sheet with data is read
    assert first.json["sheets"] == ["说明", "客户"] and first.json["sheet"] == "客户"
    picked = admin.upload("/imports/preview", workbook(), "export.xlsx", sheet="客户")
    assert picked.status_code == 200, picked.json
    assert (picked.json["sheet"], picked.json["headers"], picked.json["total_rows"]) == ("客户", ["姓名", "手机", "公司"], 2)
    assert picked.json["suggested_mapping"]["姓名"] == "name"
    notes = admin.upload("/imports/preview", workbook(), "export.xlsx", sheet="说明")  # asked for: refused, not skipped
    assert notes.status_code == 422 and notes.json["errors"][0]["code"] == "empty"
    missing = admin.upload("/imports/preview", workbook(), "export.xlsx", sheet="Leads")
    assert missing.status_code == 422
    [problem] = missing.json["errors"]
    assert (problem["field"], problem["code"]) == ("sheet", "no_sheet") and "说明, 客户" in problem["message"]


def test_the_import_reads_the_picked_sheet_with_the_phone_region_asked(admin):
    done = admin.upload("/imports?wait=true", workbook(), "export.xlsx", sheet="客户", phone_region="US")
    assert done.status_code == 200, done.json
    assert (done.json["created"], done.json["failed"]) == (2, 0), done.json
    leads = {r["name"]: r for r in admin.get("/records/lead?limit=10").json["items"]}
    assert leads["Li Lei"]["phone"] == "+12125550199"  # a US number under the region the import asked for
    assert leads["王芳"]["phone"] == "+8613800138000"  # a number with its country code keeps it
