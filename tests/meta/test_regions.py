"""The region field type: China's provinces and cities by GB/T 2260 code from the bundled list,
any of their names (with or without suffixes, pinyin, English, after the province), free text for
places outside it."""

from __future__ import annotations

import json
from importlib import resources

import pytest
from sqlalchemy import select

from metacrm.errors import ValidationError
from metacrm.meta.regions import find_region, region_by_code, region_label
from metacrm.rules import matches, to_sql


@pytest.mark.parametrize(("text", "code"), [
    ("喀什", "653100"), ("喀什地区", "653100"), ("泉州", "350500"), ("泉州市", "350500"), ("高雄", "710200"),
    ("深圳", "440300"), ("深圳市", "440300"), ("广东省深圳市", "440300"), ("广东 深圳", "440300"),
    ("Guangdong Shenzhen", "440300"), ("shenzhen", "440300"), ("上海", "310000"), ("上海市", "310000"),
    ("shanghai", "310000"), ("广东", "440000"), ("广东省", "440000"), ("新疆", "650000"),
    ("新疆维吾尔自治区", "650000"), ("广西壮族自治区", "450000"), ("内蒙古", "150000"), ("Inner Mongolia", "150000"),
    ("延边朝鲜族自治州", "222400"), ("延边", "222400"), ("吉林", "220000"), ("吉林市", "220200"),
    ("Shaanxi", "610000"), ("陕西省西安市", "610100"), ("香港", "810000"), ("Hong Kong", "810000"),
    ("440300", "440300")])
def test_names_match_with_and_without_suffixes(text, code):
    assert find_region(text).code == code


@pytest.mark.parametrize("text", ["Tokyo", "New York", "999999", "", "   "])
def test_places_outside_the_list_are_not_guessed(text):
    assert find_region(text) is None


def test_the_bundled_list_is_complete_and_licensed():
    data = resources.files("metacrm.meta").joinpath("data")
    doc = json.loads(data.joinpath("cn_regions.json").read_text(encoding="utf-8"))
    assert len(doc["provinces"]) == 34  # 23 provinces, 5 autonomous regions, 4 municipalities, 2 SARs
    assert len(doc["cities"]) > 330
    assert all(region_by_code(c[4]).is_province for c in doc["cities"])
    assert "MIT" in data.joinpath("cn_regions.LICENSE.md").read_text(encoding="utf-8")
    assert region_label("440300") == "广东省 深圳市" and region_label("440300", "en") == "Guangdong Shenzhen"
    assert region_label("Tokyo") == "Tokyo"


OBJ = {"$id": "place", "type": "object", "properties": {"name": {"x-field": "text"}, "spot": {"x-field": "region"}}}


def test_region_fields_store_codes_or_free_text_and_rules_match_names(services, apply_docs):
    apply_docs(services, ("object", OBJ))
    rec = services.records
    assert rec.create("place", {"spot": "广东省 深圳市"})["spot"] == "440300"
    assert rec.create("place", {"spot": "Kashi"})["spot"] == "653100"
    assert rec.create("place", {"spot": "  Paris   15e "})["spot"] == "Paris 15e"
    for bad in ("123456", " "):
        with pytest.raises(ValidationError) as info:
            rec.create("place", {"spot": bad})
        assert [p.field for p in info.value.problems] == ["spot"]
    snap = services.registry.current()
    table = snap.tables["place"]
    for rule, want in (({"field": "spot", "op": "eq", "value": "深圳"}, 1),
                       ({"field": "spot", "op": "in", "value": ["喀什地区", "Paris 15e"]}, 2),
                       ({"field": "spot", "op": "starts_with", "value": "44"}, 1)):
        with services.engine.connect() as conn:
            sql = conn.execute(select(table.c.id).where(to_sql(rule, "place", snap))).scalars().all()
            mem = [r["id"] for r in rec.list("place", conn=conn) if matches(rule, r, "place", snap, conn)]
        assert sorted(sql) == sorted(mem) and len(sql) == want, rule


def test_a_select_city_widens_to_a_region_keeping_old_values(services, apply_docs):
    old = {"$id": "place", "type": "object", "properties": {"city": {"x-field": "select", "enum": ["shanghai", "x"]}}}
    apply_docs(services, ("object", old))
    first = services.records.create("place", {"city": "x"})
    apply_docs(services, ("object", {**old, "properties": {"city": {"x-field": "region"}}}))
    assert services.records.get("place", first["id"])["city"] == "x"  # readable as it was
    assert services.records.create("place", {"city": "shanghai"})["city"] == "310000"
