"""Problem messages in the caller's language from one catalogue that covers every code raised."""

from __future__ import annotations

import re
from pathlib import Path

from metacrm.messages import MESSAGES

SOURCE = Path(__file__).resolve().parents[2] / "platform" / "metacrm"
PATTERNS = [re.compile(r'Problem\([^,()]+, ?"([a-z_]+)"'), re.compile(r'code ?= ?"([a-z_]+)"'),
            re.compile(r'CoercionError\("([a-z_]+)"'), re.compile(r'fail\([^,]+, "([a-z_]+)"'),
            re.compile(r'"code": "([a-z_]+)"')]
JSON_SCHEMA_KEYWORDS = ("type", "enum", "pattern", "format", "minLength", "maxLength", "minimum", "maximum",
                        "minItems", "maxItems", "required", "additionalProperties", "const", "oneOf", "anyOf")


def test_every_code_has_english_and_chinese():
    codes = set(JSON_SCHEMA_KEYWORDS)
    for path in SOURCE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for pattern in PATTERNS:
            codes.update(pattern.findall(text))
    missing = sorted(c for c in codes if c not in MESSAGES)
    assert not missing, missing
    assert all(en and zh and en != zh for en, zh in MESSAGES.values())
    assert all(re.search(r"[\u4e00-\u9fff]", zh) for _, zh in MESSAGES.values())


def test_problems_speak_the_callers_language(admin, make_user, anonymous):
    r = anonymous.get("/me", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    assert r.status_code == 401 and r.json["title"] == "请先登录" and r.json["errors"][0]["message"] == "请先登录"
    assert r.json["detail"] and r.json["errors"][0]["detail"]
    assert anonymous.get("/me", headers={"Accept-Language": "en"}).json["title"] == "log in or send an API token"
    zh = make_user("zh_rep", grants=[("lead", ["read", "create"], "own")])
    assert zh.send("PATCH", "/me", {"language": "zh"}).status_code == 200
    r = zh.post("/records/lead", {"name": "x", "email": "not-an-email"})
    assert r.status_code == 422
    problem = next(e for e in r.json["errors"] if e["field"] == "email")
    assert problem["message"] == "邮箱地址无效" and problem["code"] == "invalid_email"
    assert r.json["title"] == "部分数值无效"
    # the user's setting wins over the browser's
    r = zh.post("/records/lead", {"name": "x", "email": "bad"}, headers={"Accept-Language": "en"})
    assert r.json["title"] == "部分数值无效"
    english = admin.post("/records/lead", {"name": "x", "email": "bad"})
    assert "detail" not in english.json and english.json["errors"][0]["message"] != "邮箱地址无效"
