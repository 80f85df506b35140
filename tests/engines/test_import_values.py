"""Values come out as the spreadsheet shows them: long numbers, float artefacts, dates, free text."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metacrm.engines.imports.runner import create_import, error_rows, run_import
from metacrm.engines.normalize import cell_text, normalize_cell
from metacrm.meta.fields import CoercionError
from metacrm.meta.objects import ObjectDef

TZ = ZoneInfo("Asia/Shanghai")
OBJ = ObjectDef.from_doc({"$id": "x", "type": "object", "properties": {
    "code": {"x-field": "text"}, "phone": {"x-field": "phone"}, "amount": {"x-field": "decimal"},
    "n": {"x-field": "integer"}, "day": {"x-field": "date"}, "at": {"x-field": "datetime"},
    "notes": {"x-field": "textarea"},
}})


def cell(field, value, day_first=None):
    return normalize_cell(OBJ.fields[field], value, TZ, None, day_first)


def code_of(field, value, day_first=None):
    with pytest.raises(CoercionError) as err:
        cell(field, value, day_first)
    return err.value.code


def test_long_numbers_never_silently_change():
    assert cell("code", 123456789012345.0) == "123456789012345"
    assert code_of("code", 4.4010119850307e17) == "digits_lost"
    assert code_of("code", "3.7021E+17") == "digits_lost"
    assert code_of("phone", "1.38001E+10") == "digits_lost"
    assert cell("code", "440101198503071234") == "440101198503071234"  # typed as text: exact


def test_float_artefacts_round_to_what_the_sheet_shows():
    assert cell("amount", 0.7000000000000001) == "0.7"
    assert cell("amount", 0.1 + 0.2) == "0.3"
    assert cell("amount", 1e-7) == "0.0000001"
    assert cell("n", 3.0000000000000004) == 3
    assert "e" not in cell("code", 1.5e-10)


@given(st.decimals(min_value=-10**12, max_value=10**12, places=2, allow_nan=False))
@settings(max_examples=200, deadline=None)
def test_a_decimal_typed_in_a_cell_reads_back_as_typed(value):
    """Any number of 15 significant digits survives the float a spreadsheet stores."""
    from decimal import Decimal

    assert Decimal(cell_text(float(value))) == value


@pytest.mark.parametrize("typed", ["2023/11/8 9:05", "2023-11-8 9:05", "2023年11月8日 9:05", "2023.11.08 09:05",
                                   "20231108 9:05", "2023-11-08T09:05:00"])
def test_datetime_forms(typed):
    assert cell("at", typed) == "2023-11-08T09:05:00+08:00"


@pytest.mark.parametrize("typed", ["2023/11/8", "2023-11-8", "20231108", 20231108, "2023年11月8日", 45238,
                                   45238.4, datetime(2023, 11, 8, 9, 5), "2023-11-08", "2023/11/8 9:05"])
def test_date_forms(typed):
    assert cell("day", typed) == "2023-11-08"


def test_serial_datetimes_and_zone():
    assert cell("at", 45238.375) == "2023-11-08T09:00:00+08:00"
    assert normalize_cell(OBJ.fields["at"], "2023-11-08 09:00", ZoneInfo("Europe/Berlin")) \
        == "2023-11-08T09:00:00+01:00"


def test_ambiguous_dates_need_the_imports_date_order():
    assert code_of("day", "04/06/2023") == "ambiguous_date"
    assert cell("day", "04/06/2023", day_first=True) == "2023-06-04"
    assert cell("day", "04/06/2023", day_first=False) == "2023-04-06"
    assert cell("day", "25/06/2023") == "2023-06-25"  # only one reading exists
    assert cell("day", "06/06/2023") == "2023-06-06"
    assert code_of("at", "04/06/2023 10:00") == "ambiguous_date"


@given(st.text(min_size=1, max_size=40).filter(lambda t: t.strip() == t and t.strip()))
@settings(max_examples=200, deadline=None)
def test_free_text_is_never_rewritten(text):
    if text[:1] in "=+-@'" or text.translate({0x200b: None, 0x200c: None, 0x200d: None, 0x2060: None,
                                                0xfeff: None}) != text:
        return
    try:
        out = cell("notes", text)
    except CoercionError:
        return
    assert out == text


def test_full_width_punctuation_stays():
    for text in ("你好，世界。备注：ＡＢＣ", "John  SMITH", "上海市 浦东新区　张江路１号"):
        assert cell("notes", text) == text and cell("code", text) == text


def test_rows_with_lost_digits_are_errors_naming_the_column(standard_pack, xlsx):
    svc = standard_pack
    path = xlsx([["姓名", "手机号", "备注"], ["A", "13800000001", "x"], ["B", 1.38000000019e+17, "y"],
                 ["C", "13800000003", "z"]])
    job = run_import(svc, create_import(svc, path, "digits.xlsx", "lead")["id"])
    assert (job["created"], job["failed"]) == (2, 1)
    with svc.engine.connect() as conn:
        errors = error_rows(conn, job["id"])
    assert errors[0]["row_number"] == 3 and errors[0]["problems"][0]["code"] == "digits_lost"
    assert errors[0]["problems"][0]["field"] == "phone"
