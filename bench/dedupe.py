"""Dedupe scan over n leads (default 1,000,000): time, pairs found, precision and recall, per kind of variation.

The generator (leadgen.py) makes 5% of the leads second entries of an existing person. Each
duplicate is one kind of variation (`KINDS`), so precision and recall are printed per kind:
- typed: the name typed differently (spaces, a homophone character, a trailing space), new mobile
  and email, same company (leadgen's own variant);
- pinyin: the name written in pinyin (王小明 -> Wang Xiaoming), new mobile and email, same company;
- swapped: pinyin with the given name first (Xiaoming Wang);
- company: the same name, the company written with or without 有限公司 / (有限公司) / Co., Ltd.;
- plus86: the original's mobile written +86 138 0000 0001 (and the name typed differently): the
  unique mobile refuses it at entry, so the pool never holds it; `plus86_at_entry` is the share of
  such mobiles stored as the original's (the same E.164), and the record itself gets a new mobile;
- email_typo: the same email with one typo, new mobile, the same name and company (what links
  them is the name at the company: a typo'd email matches nothing exactly).
The scan uses the shipped definition (metadata/dedupe/lead.json): exact mobile,
email and WeChat, and a similar name (rapidfuzz, >= 0.65) at the same company, blocked by
(company, first character of the name). Precision and recall count record pairs of one person.
Leads are seeded with set-based inserts (setup, not measured). The last line is one JSON object;
its `ratio` is the worse back end's recall.

usage: python bench/dedupe.py [--n 1000000] [--easy] [--pg-url URL]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from leadgen import GIVEN, SURNAMES, drop_schema, leads, pg_schema, variant
from metacrm.config import Settings
from metacrm.engines.dedupe.scan import scan_pool
from metacrm.engines.wiring import build_services
from metacrm.meta.kinds import DefinitionSet
from metacrm.meta.packs import load_pack
from metacrm.store.bulk import insert_many
from metacrm.store.definitions import incoming_from_files

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("typed", "pinyin", "swapped", "company", "plus86", "email_typo")
PINYIN = dict(zip(SURNAMES + GIVEN, (
    "wang li zhang liu chen yang huang zhao wu zhou xu sun ma zhu hu guo he gao lin luo zheng liang xie song tang "
    "xu han feng deng cao peng zeng xiao tian dong yuan pan yu jiang cai yu du ye cheng su wei lv ding ren shen "
    "wei fang na min jing li qiang lei yang yan yong jun jie juan tao ming chao xiu ying xia ping gang gui hua yu "
    "lan ping hong peng fei bin bo yu hao kai jian jun fan shuai xu ning xin yue lin chen xi rui").split(), strict=True))


def _pinyin(name: str, swapped: bool) -> str:
    """王小明 -> Wang Xiaoming (swapped: Xiaoming Wang)."""
    family, given = PINYIN[name[0]].capitalize(), "".join(PINYIN[c] for c in name[1:]).capitalize()
    return f"{given} {family}" if swapped else f"{family} {given}"


def _company(name: str, rng: random.Random) -> str:
    base = name.removesuffix("有限公司")
    return rng.choice([base, f"{base}(有限公司)", f"{base} Co., Ltd.", f"{base}股份有限公司"])


SLIPS = [("mail", "mial"), (".com", ".con"), (".example", "example"), ("mail", "mali"), (".com", ".cm")]


def _typo(email: str, rng: random.Random, used: set[str]) -> str:
    """A slip in the domain (mial, .con, a missing dot), never another lead's address."""
    user, domain = email.split("@")
    for slip in rng.sample(SLIPS, len(SLIPS)):
        typo = f"{user}@{domain.replace(*slip)}"
        if typo not in used:
            used.add(typo)
            return typo
    return f"{user}_@{domain}"


def harder(rows: list[dict[str, Any]], dups: dict[int, int], seed: int = 3) -> dict[int, str]:
    """Give each duplicate one kind of variation (in place); return {duplicate index: kind}."""
    rng = random.Random(seed)
    kinds: dict[int, str] = {}
    used: set[str] = set()
    for d, o in sorted(dups.items()):
        kind = KINDS[d % len(KINDS)]
        src, row = rows[o], rows[d]
        clean = src["name"].strip()
        if kind == "pinyin" or kind == "swapped":
            row["name"] = _pinyin(clean, kind == "swapped")
        elif kind == "company":
            row.update(name=src["name"], company=_company(src["company"], rng))
        elif kind == "plus86":
            p = src["phone"]
            row.update(plus86=f"+86 {p[:3]} {p[3:7]} {p[7:]}", name=variant(clean, rng))
        elif kind == "email_typo":
            row.update(name=src["name"], email=_typo(src["email"], rng, used))
        kinds[d] = kind
    return kinds


def per_kind(found: Any, person: list[int], kinds: dict[int, str], dups: dict[int, int]) -> dict[str, Any]:
    """Recall: duplicates of the kind paired with their original; precision: pairs that involve a
    duplicate of the kind and are true. Indexes are 0-based, record ids 1-based."""
    pairs = {(a - 1, b - 1) for a, b in found}
    out: dict[str, Any] = {}
    for kind in KINDS:
        members = [d for d, k in kinds.items() if k == kind]
        if not members:
            continue
        wanted = set(members)
        hit = sum(1 for d in members if (min(d, dups[d]), max(d, dups[d])) in pairs)
        involving = [(a, b) for a, b in pairs if a in wanted or b in wanted]
        true = sum(1 for a, b in involving if person[a] == person[b])
        out[kind] = {"duplicates": len(members), "recall": round(hit / len(members), 4),
                     "precision": round(true / len(involving), 4) if involving else 1.0}
    return out


def seed(svc: Any, rows: list[dict[str, Any]]) -> float:
    start = time.perf_counter()
    snap = svc.registry.current()
    obj, table = snap.object("lead"), snap.tables["lead"]
    ctx = svc.records.ctx
    now = datetime.now(UTC)
    for s in range(0, len(rows), 20_000):
        batch = []
        for i, row in enumerate(rows[s:s + 20_000], start=s + 1):
            stored, problems = obj.prepare(row, False, ctx)
            assert not problems, problems
            full = {n: stored.get(n) for n in obj.fields}
            full.update(id=i, created_at=now, updated_at=now, created_by=None, owner_id=None, version=1,
                        deleted_at=None)
            batch.append(full)
        with svc.engine.begin() as conn:
            insert_many(conn, table, batch)
    return time.perf_counter() - start


def run(url: str, n: int, label: str, instance: Path, hard: bool = True) -> dict[str, Any]:
    rows, dups = leads(n, 0.05)
    kinds = harder(rows, dups) if hard else {}
    plus86 = [(row.pop("plus86"), rows[dups[d]]["phone"]) for d, row in enumerate(rows) if "plus86" in row]
    person = list(range(n))
    for d, o in dups.items():
        person[d] = o
    sizes = Counter(person)
    true_pairs = sum(k * (k - 1) // 2 for k in sizes.values())
    svc = build_services(Settings(database_url=url, secret_key="bench", instance_dir=instance))
    svc.init()
    svc.metadata.apply(incoming_from_files(load_pack([ROOT / "metadata"], DefinitionSet())))
    obj, ctx = svc.registry.current().object("lead"), svc.records.ctx
    same = sum(1 for written, phone in plus86
               if obj.prepare({"name": "x", "phone": written}, False, ctx)[0].get("phone")
               == obj.prepare({"name": "x", "phone": phone}, False, ctx)[0].get("phone"))
    seed_s = seed(svc, rows)
    result = scan_pool(svc, "lead")
    svc.close()
    found = result.found
    hits = sum(1 for a, b in found if person[a - 1] == person[b - 1])
    precision = hits / len(found) if found else 1.0
    recall = hits / true_pairs if true_pairs else 1.0
    out = {"backend": label, "n": n, "duplicates": len(dups), "true_pairs": true_pairs, "pairs": len(found),
           "groups": len(result.groups), "comparisons": result.comparisons, "seed_s": round(seed_s, 1),
           "scan_s": round(result.seconds, 2), "records_per_s": round(n / result.seconds),
           "precision": round(precision, 4), "recall": round(recall, 4),
           "by_kind": per_kind(found, person, kinds, dups),
           "plus86_at_entry": round(same / len(plus86), 4) if plus86 else None}
    print(f"{label:10} {n} leads: scan {result.seconds:.1f}s ({out['records_per_s']} leads/s, "
          f"{result.comparisons} comparisons), {len(found)} pairs in {len(result.groups)} groups, "
          f"precision {precision:.3f} recall {recall:.3f} (seed {seed_s:.0f}s)", flush=True)
    for kind, figures in out["by_kind"].items():
        print(f"{'':10} {kind:11} {figures['duplicates']:>7} duplicates  precision {figures['precision']:.3f}  "
              f"recall {figures['recall']:.3f}", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--easy", action="store_true", help="leadgen's duplicates only (the earlier figure)")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        results.append(run(f"sqlite:///{tmp}/bench.db", args.n, "sqlite", Path(tmp) / "i1", not args.easy))
        pg = pg_schema(args.pg_url)
        if pg:
            try:
                results.append(run(pg[0], args.n, "postgresql", Path(tmp) / "i2", not args.easy))
            finally:
                drop_schema(args.pg_url, pg[1])
        else:
            print("postgresql: not reachable, skipped", flush=True)
    print(json.dumps({"bench": "dedupe", "results": results, "ratio": min(r["recall"] for r in results)}))


if __name__ == "__main__":
    main()
