"""Deterministic lead generator for the data factory benchmarks, with known duplicates.

Shared by bench/imports.py and bench/dedupe.py. A duplicate is a second entry for the same person
typed differently: spaces in the name, a homophone character, a full-width copy, a changed
company spelling-case; the generator remembers which original each duplicate copies.
"""

from __future__ import annotations

import random
import sys
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "platform"))

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈")
GIVEN = list("伟芳娜敏静丽强磊洋艳勇军杰娟涛明超秀英霞平刚桂华玉兰萍红鹏飞斌波宇浩凯健俊帆帅旭宁欣悦琳晨曦睿")
HOMOPHONE = {"明": "鸣", "伟": "玮", "丽": "俐", "静": "婧", "杰": "捷", "华": "桦", "军": "君", "芳": "方",
             "敏": "珉", "涛": "韬", "波": "博", "宇": "雨", "晨": "辰", "欣": "昕", "斌": "彬", "红": "虹"}
CITIES = ["shanghai", "beijing", "shenzhen", "guangzhou", "hangzhou", "chengdu", "nanjing", "wuhan", "suzhou",
          "xian", "chongqing", "tianjin"]
CITY_ZH = ["上海", "北京", "深圳", "广州", "杭州", "成都", "南京", "武汉", "苏州", "西安", "重庆", "天津"]
INDUSTRY = ["科技", "信息", "贸易", "文化", "电商", "物流", "医疗", "教育", "咨询", "餐饮"]
INTERESTS = ["skincare", "fashion", "sports", "travel", "food", "electronics", "home", "finance"]
STATUSES = ["new", "contacted", "qualified"]


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


def company_name(k: int) -> str:
    return f"{CITY_ZH[k % len(CITY_ZH)]}{INDUSTRY[(k // 12) % len(INDUSTRY)]}{k:05d}有限公司"


def variant(name: str, rng: random.Random) -> str:
    """The same person's name as someone else typed it."""
    choice = rng.random()
    chars = list(name)
    swappable = [i for i, c in enumerate(chars) if i > 0 and c in HOMOPHONE]
    if choice < 0.4 and swappable:
        i = rng.choice(swappable)
        chars[i] = HOMOPHONE[chars[i]]
        return "".join(chars)
    if choice < 0.7:
        return " ".join(chars)  # 王 小 明
    return name + " "  # trailing space


def leads(n: int, dup_rate: float, seed: int = 7) -> tuple[list[dict[str, Any]], dict[int, int]]:
    """n lead inputs (about dup_rate of them duplicates) and {duplicate index: original index}."""
    rng = random.Random(seed)
    companies = max(100, n // 15)
    rows: list[dict[str, Any]] = []
    dups: dict[int, int] = {}
    originals = int(n * (1 - dup_rate))
    for i in range(originals):
        rows.append({
            "name": person_name(rng), "company": company_name(rng.randrange(companies)),
            "phone": f"13{i % 10}{i:08d}", "email": f"p{i}@mail{i % 50}.example.com",
            "city": rng.choice(CITIES), "status": rng.choice(STATUSES), "score": rng.randint(0, 100),
            "interests": rng.sample(INTERESTS, rng.randint(0, 2)),
        })
    while len(rows) < n:
        j = rng.randrange(originals)
        source = rows[j]
        copy = dict(source)
        copy.update(name=variant(source["name"], rng), phone=f"18{len(rows) % 10}{len(rows):08d}",
                    email=f"d{len(rows)}@other.example.com", status="new")
        dups[len(rows)] = j
        rows.append(copy)
    return rows, dups


def pg_schema(admin_url: str) -> tuple[str, str] | None:
    """A URL whose search_path is a fresh schema, or None when PostgreSQL does not answer."""
    try:
        engine = create_engine(admin_url, connect_args={"connect_timeout": 3})
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine.dispose()
        return f"{admin_url}?options=-csearch_path%3D{schema}", schema
    except Exception:
        return None


def drop_schema(admin_url: str, schema: str) -> None:
    engine = create_engine(admin_url)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


def on_each_backend(pg_url: str, run: Callable[[str, str], dict[str, Any]]) -> list[dict[str, Any]]:
    """`run(url, backend)` on a fresh SQLite file and, when PostgreSQL answers, on a fresh schema
    there (dropped after): every bench measures both back ends the same way."""
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        results.append(run(f"sqlite:///{tmp}/bench.db", "sqlite"))
    pg = pg_schema(pg_url)
    if pg:
        try:
            results.append(run(pg[0], "postgresql"))
        finally:
            drop_schema(pg_url, pg[1])
    else:
        print("postgresql: not reachable, skipped", flush=True)
    return results


# --- set-based loading: SQL that makes N rows from a series g = 1..N in one statement -----------

def sql_hash(column: int, modulus: int) -> str:
    """A well-mixed pseudo-random 0..modulus-1 from the series number g, different per column."""
    a = [2654435761, 40503, 2246822519, 3266489917, 668265263, 374761393, 1103515245, 12345][column]
    return f"((g * {a % 2147483647} + {column * 7919}) % 2147483647) % {modulus}"


def sql_case(expr: str, values: list[str]) -> str:
    return "CASE " + expr + " " + " ".join(f"WHEN {i} THEN '{v}'" for i, v in enumerate(values)) + " END"


def sql_series(dialect: str, n: int) -> str:
    if dialect == "postgresql":
        return f"(SELECT g FROM generate_series(1::bigint, {n}) AS g) AS s"
    return (f"(WITH RECURSIVE r(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM r WHERE g < {n}) "
            f"SELECT g FROM r) AS s")
