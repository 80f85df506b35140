"""Exports: streamed .xlsx/CSV, labels in the reader's language, hidden fields never written, formulas inert."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from metacrm.engines.exports import export_records
from metacrm.engines.imports.runner import create_import, run_import
from metacrm.engines.sheets import escape_cell


def test_escape_cell():
    assert escape_cell("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    assert escape_cell("+cmd|' /C calc'!A0") == "'+cmd|' /C calc'!A0"
    assert escape_cell("-2+3") == "'-2+3" and escape_cell("@SUM(A1)") == "'@SUM(A1)"
    assert escape_cell("\t=1") == "'\t=1"
    assert escape_cell("+8613800138000") == "+8613800138000" and escape_cell("-12.5") == "-12.5"
    assert escape_cell("plain") == "plain" and escape_cell(5) == 5


def _seed(svc):
    channel = svc.records.create("channel", {"name": "Expo", "code": "expo", "kind": "trade_show"})
    svc.records.create("lead", {"name": "=1+2", "phone": "13800138000", "city": "shanghai",
                                "interests": ["travel", "food"], "channel": channel["id"], "score": 90,
                                "notes": "@secret"})
    svc.records.create("lead", {"name": "李娜", "city": "beijing", "score": 10})


def test_xlsx_in_chinese_with_hidden_fields_and_filter(standard_pack):
    svc = standard_pack
    _seed(svc)
    out = io.BytesIO()
    n = export_records(svc, "lead", out, "xlsx", language="zh", hidden_fields={"notes", "score"},
                       rule={"field": "score", "op": "gt", "value": 50})
    assert n == 1
    rows = list(load_workbook(io.BytesIO(out.getvalue())).active.iter_rows(values_only=True))
    header = list(rows[0])
    assert header[:3] == ["编号", "姓名", "公司"] and "备注" not in header and "评分" not in header
    record = dict(zip(header, rows[1], strict=True))
    assert record["姓名"] == "'=1+2" and record["城市"] == "上海" and record["兴趣偏好"] == "旅行, 美食饮品"
    assert record["来源渠道"] == "Expo" and record["手机号"] == "+8613800138000"


def test_csv_export_round_trips_through_import(standard_pack, tmp_path):
    svc = standard_pack
    _seed(svc)
    path = tmp_path / "leads.csv"
    with path.open("wb") as fh:
        assert export_records(svc, "lead", fh, "csv", fields=["name", "phone", "city", "channel", "notes"]) == 2
    text = path.read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["Name", "Mobile", "City", "Channel", "Notes"]
    assert rows[1] == ["'=1+2", "+8613800138000", "Shanghai", "Expo", "'@secret"]
    # the file imports back: labels map to fields and options, titles to ids (phones are taken: skipped)
    job = create_import(svc, path, "leads.csv", "lead")
    assert job["mapping"] == {"Name": "name", "Mobile": "phone", "City": "city", "Channel": "channel",
                              "Notes": "notes"}
    done = run_import(svc, job["id"])
    assert (done["skipped"], done["created"], done["failed"]) == (1, 1, 0), done
