"""Header rows, name parts and phone regions: the pure parts of reading real exports."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metacrm.engines.imports.readers import choose_header
from metacrm.engines.imports.rows import join_name
from metacrm.engines.normalize import phone_parts
from metacrm.meta.fields import CoercionError

HEADER = ["姓名", "手机", "公司名称"]


def _score(text: str) -> float:
    return 1.0 if text in HEADER else 0.0


@settings(max_examples=60, deadline=None)
@given(titles=st.lists(st.sampled_from([["2023年展会客户汇总"], ["导出人：张三", None, "导出时间：2023-11-08"],
                                        ["Leads with Status"], ["联系方式", "联系方式", "基本信息"]]), max_size=6))
def test_the_header_is_found_below_any_title_rows(titles):
    rows = [(i + 1, list(r)) for i, r in enumerate(titles)]
    rows.append((len(rows) + 1, HEADER))
    rows.append((len(rows) + 1, ["王伟", "13800138000", "Acme"]))
    assert choose_header(rows, _score) == (len(titles) + 1, HEADER)


def test_without_labels_the_first_row_as_wide_as_the_table_wins():
    rows = [(1, ["Report", None, None]), (3, ["a", "b", "c"]), (4, ["1", "2", "3"])]
    assert choose_header(rows, None)[0] == 3
    assert choose_header([], None) == (1, [])


@pytest.mark.parametrize(("parts", "name"), [
    ([("given", "John"), ("family", "Smith")], "John Smith"),
    ([("family", "Smith"), ("given", "John")], "John Smith"),
    ([("family", "欧阳"), ("given", "娜娜")], "欧阳娜娜"),
    ([("given", "娜娜"), ("family", "欧阳")], "欧阳娜娜"),
    ([(None, "王"), (None, "伟")], "王 伟"),
])
def test_name_parts_join_in_the_scripts_order(parts, name):
    assert join_name(parts) == name


@pytest.mark.parametrize(("text", "region", "number", "ext"), [
    ("(212) 555-0199", "US", "+12125550199", None),
    ("(212) 555-0199 x204", "US", "+12125550199", "204"),
    ("+1 (212) 555-0199", "CN", "+12125550199", None),
    ("138 0013 8000", "CN", "+8613800138000", None),
    ("010-62345678转123", "CN", "+861062345678", "123"),
])
def test_phones_in_the_imports_region(text, region, number, ext):
    assert phone_parts(text, region) == (number, ext)


@pytest.mark.parametrize("text", ["(212) 555-0199", "212-555-0199", "(646) 555-0123 ext. 7", "1 (212) 555-0199"])
def test_north_american_numbers_under_cn_are_refused_with_the_reason(text):
    with pytest.raises(CoercionError) as err:
        phone_parts(text, "CN")
    assert err.value.code == "invalid_phone" and "+1" in err.value.message


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30), st.sampled_from(["CN", "US", "GB"]))
def test_phone_parts_answer_a_number_or_a_coercion_error(text, region):
    try:
        number, _ = phone_parts(text, region)
    except CoercionError:
        return
    assert number.startswith("+") and number[1:].isdigit()
