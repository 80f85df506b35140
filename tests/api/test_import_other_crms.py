"""Coming from SuiteCRM, Odoo and HubSpot (all properties; issue 23): exports in their published
formats, built here with our own rows, imported into the standard lead through the HTTP API with no mapping file.

SuiteCRM writes the field labels of the module (colons stripped) as headers, quotes every value,
puts a BOM first and dates in the user's format (m/d/Y H:i by default). Odoo's export dialog
writes an .xlsx with the field labels (crm.lead: `Opportunity` is the deal's title, `Contact Name`
the person) or, as an "import-compatible export", a CSV with the technical names (name,
contact_name, partner_name, email_from, stage_id, ...). The time of a date-time read into a date
field is dropped with a note, never silently."""

from __future__ import annotations

import io
import json
from datetime import datetime
from typing import Any

from openpyxl import Workbook, load_workbook


def _post(api: Any, path: str, content: bytes, filename: str, **form: Any) -> Any:
    data = {"object": "lead", "file": (io.BytesIO(content), filename), **form}
    return api.client.post(f"/api/v1{path}", data=data, headers=api._headers(None), content_type="multipart/form-data")


def _import(api: Any, content: bytes, filename: str, **form: Any) -> dict[str, Any]:
    resp = _post(api, "/imports?wait=true", content, filename, **form)
    assert resp.status_code == 200, resp.json
    return resp.json


def _errors(api: Any, job: dict[str, Any]) -> list[tuple[Any, ...]]:
    resp = api.get(f"/imports/{job['id']}/errors?language=en")
    return list(load_workbook(io.BytesIO(resp.data)).active.iter_rows(values_only=True))


def _leads(api: Any) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in api.get("/records/lead?limit=200").json["items"]}


SUITECRM_HEADERS = ["ID", "Salutation", "First Name", "Last Name", "Title", "Department", "Account Name",
                    "Office Phone", "Mobile", "Home", "Email Address", "Primary Address City", "Lead Source",
                    "Description", "Assigned User Name", "Date Created", "Do Not Call"]
SUITECRM_ROWS = [
    ["5f1c9a2e-0c7b-4e0e-9d7a-1a2b3c4d5e6f", "Mr.", "Robert", "Fischer", "Purchasing Manager", "Purchasing",
     "Fischer Logistics", "(312) 555-0147", "(773) 555-0188", "", "r.fischer@example.com", "Chicago",
     "Trade Show", "Asked for a quote, call back Tuesday", "sally", "11/08/2023 09:05", "0"],
    ["7a2d8b3f-1d8c-4f1f-8e8b-2b3c4d5e6f70", "Ms.", "Linda", "Nguyen", "CEO", "", "Nguyen & Daughters",
     "(415) 555-0123", "", "(415) 555-0199", "linda@example.com", "San Francisco", "Web Site", "", "max",
     "12/01/2023 16:40", "1"],
]


def _suitecrm_csv() -> bytes:
    def line(cells: list[str]) -> str:
        return ",".join('"' + c.replace('"', '""') + '"' for c in cells)
    return ("\ufeff" + "\r\n".join(line(r) for r in [SUITECRM_HEADERS, *SUITECRM_ROWS]) + "\r\n").encode("utf-8")


def test_suitecrm_contacts_export(admin):
    content = _suitecrm_csv()
    preview = _post(admin, "/imports/preview", content, "Contacts.csv").json
    assert preview["header_row"] == 1 and preview["missing_required"] == []
    assert preview["suggested_mapping"] == {"First Name": "name", "Last Name": "name", "Title": "job_title",
                                            "Account Name": "company", "Office Phone": "phone", "Mobile": "phone",
                                            "Email Address": "email", "Lead Source": "source_detail",
                                            "Description": "notes", "Date Created": "captured_at"}
    job = _import(admin, content, "Contacts.csv", day_first="false", phone_region="US", timezone="America/Chicago")
    assert (job["created"], job["failed"]) == (2, 0), _errors(admin, job)
    assert job["notes"] == []  # captured_at is a date-time field: nothing dropped
    leads = _leads(admin)
    robert = leads["Robert Fischer"]
    assert robert["phone"] == "+17735550188" and "Office Phone: (312) 555-0147" in robert["notes"]  # mobile wins
    assert robert["company"] == "Fischer Logistics" and robert["job_title"] == "Purchasing Manager"
    assert robert["status"] == "new" and robert["source_detail"] == "Trade Show"  # the pack's default status
    assert robert["captured_at"].startswith("2023-11-08T15:05:00")  # 09:05 in Chicago (CST)
    assert robert["notes"].startswith("Asked for a quote, call back Tuesday\n")
    assert "Salutation: Mr." in robert["notes"] and "Primary Address City: Chicago" in robert["notes"]
    linda = leads["Linda Nguyen"]
    assert linda["phone"] == "+14155550123" and "Home: (415) 555-0199" in linda["notes"]
    assert linda["email"] == "linda@example.com" and "Do Not Call: 1" in linda["notes"]


ODOO_LABELS = ["Opportunity", "Contact Name", "Company Name", "Email", "Phone", "Mobile", "Job Position", "Stage",
               "Salesperson", "Sales Team", "Created on", "Next Activity Deadline", "Tags", "City", "Notes"]
ODOO_ROWS = [
    ["Office chairs for the new site", "Hannah Becker", "Becker GmbH", "h.becker@example.com", None,
     "+49 151 23456789", "Office Manager", "New", "Mitchell Admin", "Sales", datetime(2023, 11, 8, 8, 15, 3),
     datetime(2023, 12, 15), "Furniture", "Berlin", "Wants 40 chairs"],
    ["Quote for 20 desks", "王芳", "杭州云栖科技有限公司", "wangfang@example.com", "0571-88886666",
     "13900139001", "采购", "Proposition", "Mitchell Admin", "Sales", datetime(2023, 11, 9, 14, 30),
     datetime(2023, 12, 20), None, "杭州", None],
    ["Lost deal", "Tom Baker", "Baker Ltd", "tom@example.com", "+44 20 7946 0011", None, None, "Won",
     None, "Website", datetime(2023, 11, 10, 10, 0), None, None, "London", None],
]


def _odoo_xlsx() -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "Sheet1"
    for row in [ODOO_LABELS, *ODOO_ROWS]:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_odoo_crm_lead_xlsx_export(admin):
    content = _odoo_xlsx()
    preview = _post(admin, "/imports/preview", content, "crm.lead.xlsx").json
    mapping = preview["suggested_mapping"]
    assert mapping == {"Contact Name": "name", "Company Name": "company", "Email": "email", "Phone": "phone",
                       "Mobile": "phone", "Job Position": "job_title", "Stage": "status",
                       "Created on": "captured_at", "Next Activity Deadline": "next_follow_up", "City": "city",
                       "Notes": "notes"}
    assert "Opportunity" in {c["header"] for c in preview["unmapped_columns"]}  # the deal's title, kept apart
    # New / Proposition / Won map through the pack; a city that is no option is listed with its count
    assert preview["unmapped_values"] == [{"header": "City", "field": "city", "values": [{"value": "Berlin", "count": 1}]}]

    job = _import(admin, content, "crm.lead.xlsx", value_map='{"city": {"Berlin": "other"}}')
    assert (job["created"], job["failed"]) == (3, 0), _errors(admin, job)
    assert job["notes"] == []  # Odoo's deadline is a date: no time to drop
    leads = _leads(admin)
    hannah = leads["Hannah Becker"]
    assert hannah["phone"] == "+4915123456789" and hannah["status"] == "new" and hannah["company"] == "Becker GmbH"
    assert hannah["next_follow_up"] == "2023-12-15" and hannah["job_title"] == "Office Manager"
    assert hannah["city"] == "other" and leads["王芳"]["city"] == "hangzhou" and leads["Tom Baker"]["city"] == "london"
    assert hannah["notes"].startswith("Wants 40 chairs\n") and "Opportunity: Office chairs for the new site" in hannah["notes"]
    assert "Salesperson: Mitchell Admin" in hannah["notes"] and "Tags: Furniture" in hannah["notes"]
    wang = leads["王芳"]
    assert wang["status"] == "qualified" and wang["phone"] == "+8613900139001" and wang["next_follow_up"] == "2023-12-20"
    assert "Phone: 0571-88886666" in wang["notes"] and wang["captured_at"].startswith("2023-11-09T14:30:00")  # Odoo exports in UTC
    assert leads["Tom Baker"]["status"] == "converted" and leads["Tom Baker"]["phone"] == "+442079460011"


ODOO_TECHNICAL = (
    "id,name,contact_name,partner_name,email_from,phone,mobile,function,stage_id,user_id,create_date,"
    "date_deadline,description\n"
    "__export__.crm_lead_41_9f3c2a1b,Office chairs,Hannah Becker,Becker GmbH,h.becker@example.com,,"
    "+49 151 23456789,Office Manager,Qualified,Mitchell Admin,2023-11-08 08:15:03,2023-12-15 09:30:00,"
    "Wants 40 chairs\n"
    "__export__.crm_lead_42_0a4d3b2c,Desks,李雷,,lilei@example.com,010-62345678,13800138050,,New,,"
    "2023-11-09 14:30:00,,\n")


def test_odoo_import_compatible_csv_keeps_the_deal_title_apart(admin):
    content = ODOO_TECHNICAL.encode()
    preview = _post(admin, "/imports/preview", content, "crm.lead.csv").json
    assert preview["suggested_mapping"]["contact_name"] == "name" and "name" not in preview["suggested_mapping"]
    assert {"header": "name", "samples": ["Office chairs", "Desks"]}.items() <= next(
        c for c in preview["unmapped_columns"] if c["header"] == "name").items()
    assert preview["suggested_mapping"]["stage_id"] == "status"
    assert preview["suggested_mapping"]["email_from"] == "email"
    assert preview["suggested_mapping"]["partner_name"] == "company"

    # the user accepts the suggestions and adds the expected closing date as the next follow-up
    chosen = {**preview["suggested_mapping"], "date_deadline": "next_follow_up"}
    job = _import(admin, content, "crm.lead.csv", mapping=json.dumps(chosen))
    assert (job["created"], job["failed"]) == (2, 0), _errors(admin, job)
    # the date field took the day of a date-time: the import says so (one row had a time of day)
    assert [(n["field"], n["header"], n["code"], n["rows"]) for n in job["notes"]] == [
        ("next_follow_up", "date_deadline", "time_dropped", 1)]
    assert admin.get(f"/imports/{job['id']}").json["notes"] == job["notes"]
    leads = _leads(admin)
    assert set(leads) == {"Hannah Becker", "李雷"}
    assert leads["Hannah Becker"]["status"] == "qualified" and "name: Office chairs" in leads["Hannah Becker"]["notes"]
    assert leads["Hannah Becker"]["next_follow_up"] == "2023-12-15"
    assert leads["李雷"]["phone"] == "+8613800138050" and leads["李雷"]["status"] == "new"


def test_preview_notes_dates_with_a_time_of_day(admin):
    rows = [["姓名", "下次联系时间"], ["甲", "2023-11-20 14:00"], ["乙", "2023-11-21"], ["丙", "2023/11/22 00:00"]]
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    preview = _post(admin, "/imports/preview", out.getvalue(), "x.xlsx").json
    assert [(n["field"], n["header"], n["rows"]) for n in preview["notes"]] == [("next_follow_up", "下次联系时间", 1)]
    job = _import(admin, out.getvalue(), "x.xlsx")
    assert job["created"] == 3 and [n["rows"] for n in job["notes"]] == [1]
    assert _leads(admin)["甲"]["next_follow_up"] == "2023-11-20"


HUBSPOT_ALL = [  # HubSpot "all properties" contacts export: the usual columns among ~190 others
    "Record ID", "First Name", "Last Name", "Email", "Phone Number", "Mobile Phone Number", "Company Name",
    "Job Title", "Lead Status", "Lifecycle Stage", "Contact owner", "Create Date", "Last Activity Date", "City",
    "State/Region", "Country/Region", "Postal Code", "Street Address", "Website URL", "Industry",
    "Annual Revenue", "Number of Employees", "Original Source", "Original Source Drill-Down 1",
    "Original Source Drill-Down 2", "Became a Lead Date", "Became a Subscriber Date", "Marketing contact status",
    "Email Domain", "Fax Number", "Number of Sales Activities", "Number of times contacted", "Last Contacted",
    "Next Activity Date", "Recent Sales Email Replied Date", "Time Zone", "Preferred language",
    "Associated Company ID", "Associated Company", "IP Country", "IP City", "Message",
    *(f"Custom property {i}" for i in range(1, 149)),
]


def test_hubspot_all_properties_export(admin):
    values = {"Record ID": "101", "First Name": "Grace", "Last Name": "Hopper", "Email": "grace@example.com",
              "Phone Number": "+1 617 555 0100", "Mobile Phone Number": "+1 617 555 0111",
              "Company Name": "Compilers Inc", "Job Title": "Engineer", "Lead Status": "Attempted to Contact",
              "Create Date": "2023-11-08 09:05", "City": "Boston", "Original Source": "Organic Search",
              "Next Activity Date": "2023-11-20 10:00", "Custom property 7": "blue"}
    content = "\n".join(",".join(row) for row in [HUBSPOT_ALL, [values.get(h, "") for h in HUBSPOT_ALL]]).encode()
    assert len(HUBSPOT_ALL) == 190
    preview = _post(admin, "/imports/preview", content, "all-contacts.csv").json
    mapping = preview["suggested_mapping"]
    assert {h: mapping.get(h) for h in ("First Name", "Last Name", "Mobile Phone Number", "Phone Number",
                                        "Lead Status", "Company Name", "Job Title", "Create Date",
                                        "Original Source", "Next Activity Date")} == {
        "First Name": "name", "Last Name": "name", "Mobile Phone Number": "phone", "Phone Number": "phone",
        "Lead Status": "status", "Company Name": "company", "Job Title": "job_title", "Create Date": "captured_at",
        "Original Source": "source_detail", "Next Activity Date": "next_follow_up"}
    assert preview["unmapped_values"] == [{"header": "City", "field": "city", "values": [{"value": "Boston", "count": 1}]}]
    assert [(n["field"], n["rows"]) for n in preview["notes"]] == [("next_follow_up", 1)]

    job = _import(admin, content, "all-contacts.csv", value_map='{"city": {"Boston": "other"}}')
    assert (job["created"], job["failed"]) == (1, 0), _errors(admin, job)
    assert [(n["field"], n["header"], n["rows"]) for n in job["notes"]] == [("next_follow_up", "Next Activity Date", 1)]
    grace = _leads(admin)["Grace Hopper"]
    assert grace["phone"] == "+16175550111" and grace["status"] == "contacted" and grace["city"] == "other"
    assert grace["next_follow_up"] == "2023-11-20" and grace["source_detail"] == "Organic Search"
    assert "Phone Number: +1 617 555 0100" in grace["notes"] and "Custom property 7: blue" in grace["notes"]
    assert "Custom property 8" not in grace["notes"]  # empty cells add nothing
