"""Data-factory normalizers: pure functions, checked without a database."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from metacrm.engines.normalize import (
    clean_person_name,
    clean_text,
    normalize_cell,
    to_halfwidth,
)
from metacrm.meta.fields import CoercionError
from metacrm.meta.objects import ObjectDef

TZ = ZoneInfo("Asia/Shanghai")
OBJ = ObjectDef.from_doc({"$id": "x", "type": "object", "properties": {
    "name": {"x-field": "text"},
    "phone": {"x-field": "phone"},
    "city": {"x-field": "select", "enum": ["shanghai", "beijing"],
             "x-option-labels": {"shanghai": {"en": "Shanghai", "zh": "上海"}, "beijing": {"zh": "北京"}}},
    "tags": {"x-field": "multiselect", "items": {"type": "string", "enum": ["a", "b"]},
             "x-option-labels": {"a": {"zh": "甲"}, "b": {"zh": "乙"}}},
    "n": {"x-field": "integer"}, "d": {"x-field": "decimal"}, "ok": {"x-field": "boolean"},
    "day": {"x-field": "date"}, "at": {"x-field": "datetime"}, "notes": {"x-field": "textarea"},
}})


def cell(field: str, value):
    return normalize_cell(OBJ.fields[field], value, TZ)


def test_halfwidth_and_trimming():
    assert to_halfwidth("ＡＢＣ１２３＠ｘ．ｃｏｍ　") == "ABC123@x.com "
    assert clean_text("  a\u200b  b \t\n c　") == "a b c"
    assert clean_text(" line 1 \n\n  line   2 ", multiline=True) == "line 1\n\nline 2"


@pytest.mark.parametrize(("raw", "clean"), [
    ("王 伟", "王伟"), (" 欧阳  娜娜 ", "欧阳娜娜"), ("阿卜杜 • 热合曼", "阿卜杜·热合曼"),
    ("阿卜杜.热合曼", "阿卜杜·热合曼"), ("John  Smith", "John Smith"), ("Ｔｏｍ　Ｌｅｅ", "Tom Lee"),
    ("J. R. R. Tolkien", "J. R. R. Tolkien"),
])
def test_person_names(raw, clean):
    assert clean_person_name(raw) == clean


def test_cells_by_type():
    assert cell("name", " 王 伟 ") == "王 伟"  # people's names are kept as typed, only trimmed
    assert cell("phone", 13800138000.0) == "13800138000"
    assert cell("phone", "tel:＋８６ 138") == "+86 138"
    assert cell("city", "上海") == "shanghai" and cell("city", "SHANGHAI") == "shanghai"
    assert cell("tags", "甲、乙，甲") == ["a", "b"]
    assert cell("n", 3.0) == 3 and cell("n", "1,200") == 1200
    assert cell("d", "￥1,234.50") == "1234.50" and cell("d", 19.99) == "19.99" and cell("d", 5.0) == "5"
    assert cell("ok", "是") is True and cell("ok", "No") is False and cell("ok", 1) is True
    assert cell("day", "2026年1月5日") == "2026-01-05" and cell("day", datetime(2026, 1, 5, 8)) == "2026-01-05"
    assert cell("at", datetime(2026, 1, 5, 8)) == "2026-01-05T08:00:00+08:00"
    assert cell("at", "2026-01-05 08:00") == "2026-01-05T08:00:00+08:00"
    assert cell("at", date(2026, 1, 5)) == "2026-01-05T00:00:00+08:00"
    assert cell("notes", "a \n b") == "a \n b"
    assert cell("name", "   ") is None and cell("n", None) is None


@pytest.mark.parametrize(("field", "value", "code"), [
    ("city", "火星", "enum"), ("n", 3.5, "type"), ("n", "abc", "type"), ("d", "1e5", "invalid_decimal"),
    ("ok", "maybe", "type"), ("day", "2026/13/45", "invalid_date"), ("tags", "甲, 丙", "enum"),
])
def test_bad_cells_raise_coercion_errors(field, value, code):
    with pytest.raises(CoercionError) as err:
        cell(field, value)
    assert err.value.code == code


def test_phone_and_email_reuse_the_field_registry(standard_pack):
    """The importer leaves E.164 and email checks to meta/fields.py: one implementation."""
    lead = standard_pack.records.create("lead", {"name": "a", "phone": cell("phone", "138 0013 8000"),
                                                  "email": "A@EXAMPLE.COM"})
    assert lead["phone"] == "+8613800138000" and lead["email"].endswith("@example.com")
