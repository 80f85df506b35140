"""Matching records against dedupe rules: blocking keys, pair scores, groups. Pure, no I/O.

A rule compares records only within a block: records sharing the rule's exact fields and the
first `block_prefix` characters of its fuzzy fields. Blocks are small, so a scan is near linear
in the number of records; a block larger than `max_block` is compared in a sorted window instead
of all pairs, so no input can make it quadratic. Fuzzy fields use rapidfuzz scorers (0..1).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz, process

from ..normalize import clean_person_name
from .definition import DedupeDef, MatchRule

WINDOW = 25
_SCORERS = {"ratio": fuzz.ratio, "token_sort_ratio": fuzz.token_sort_ratio, "partial_ratio": fuzz.partial_ratio}

_NEEDS_CLEANING = re.compile("[\\s\uff01-\uff5e\u3000\u200b-\u200d\u2060\ufeff.\u00b7\u2022\u2027\u30fb\u2219]")
Values = tuple[tuple[Any, ...], tuple[str, ...]]
"""(exact keys, fuzzy strings) of one record for one rule."""


LEGAL_FORMS = ("股份有限公司", "有限责任公司", "有限公司", "(有限公司)", "（有限公司）", " co., ltd.", " co.,ltd.",
               " co. ltd.", " co., ltd", " co.,ltd", " co ltd", " ltd.", " ltd", " inc.", " inc", " llc")
"""Legal-form endings of organisation names, lower case: 上海某某科技有限公司, 上海某某科技 and
上海某某科技 Co., Ltd. are one company. A person's name never ends so, so text keys drop them."""
FORMS_LONGEST = sorted(LEGAL_FORMS, key=len, reverse=True)
_ENDINGS = tuple({form[-1] for form in LEGAL_FORMS})  # a cheap test before the full one
STORED_FORMS = ("有限公司", "股份有限公司", "有限责任公司", "(有限公司)", "（有限公司）", " Co., Ltd.", " Co.,Ltd.",
                " Co., Ltd", " Co.,Ltd", " CO., LTD.", " Ltd.", " Ltd", " Inc.", " Inc", " LLC")
"""The spellings a stored name may carry (lookups of an incoming name ask for each, on the index)."""


def without_legal_form(text: str) -> str:
    """The name without its legal-form ending (case kept); the text itself when it has none."""
    trimmed = text.rstrip()
    low = trimmed.lower()
    if len(low) == len(trimmed):
        for form in FORMS_LONGEST:
            if low.endswith(form) and len(low) > len(form):
                return trimmed[: len(trimmed) - len(form)].rstrip(" ,.")
    return text


def same_organisation(value: Any) -> set[Any]:
    """Every stored spelling of `value` that `compare_key` treats as equal to it, for an IN list."""
    if not isinstance(value, str):
        return {value}
    base = without_legal_form(value)
    return {value, base, *(base + form for form in STORED_FORMS)}


def compare_key(value: Any) -> Any:
    """What equality means for matching: text cleaned and case-folded, without a legal-form
    ending (LEGAL_FORMS); other values as they are."""
    if value is None:
        return None
    if isinstance(value, str):
        if _NEEDS_CLEANING.search(value) is None:  # the common case: skip the cleaners
            key = value.casefold()
        else:
            key = clean_person_name(value).casefold()
        if key.endswith(_ENDINGS):
            key = without_legal_form(key)
        return key or None
    if isinstance(value, list):
        return tuple(sorted(map(str, value))) or None
    return value


def rule_values(rule: MatchRule, record: Mapping[str, Any]) -> Values | None:
    """The record's values for the rule, or None when a field is empty (empty never matches)."""
    exact = []
    for fm in rule.exact:
        key = compare_key(record.get(fm.field))
        if key is None:
            return None
        exact.append(key)
    fuzzy = []
    for fm in rule.fuzzy:
        key = compare_key(record.get(fm.field))
        if key is None:
            return None
        fuzzy.append(str(key))
    return tuple(exact), tuple(fuzzy)


def block_key(rule: MatchRule, values: Values) -> tuple[Any, ...]:
    exact, fuzzy = values
    if rule.block_prefix:
        return (*exact, *(s[: rule.block_prefix] for s in fuzzy))
    return exact


def fuzzy_score(rule: MatchRule, a: Sequence[str], b: Sequence[str]) -> float | None:
    """Mean similarity over the rule's fields (exact ones count 1), or None if one is below threshold."""
    total = float(len(rule.exact))
    for fm, x, y in zip(rule.fuzzy, a, b, strict=True):
        s = _SCORERS[fm.scorer](x, y, score_cutoff=fm.threshold * 100) / 100
        if s < fm.threshold or s == 0:
            return None
        total += s
    return round(total / len(rule.fields), 4)


@dataclass
class Pair:
    """Two records (left < right) that look like one, with the best score and what matched."""

    left: int
    right: int
    score: float
    rules: list[str] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)


class PairSet:
    """Candidate pairs found by any rule, one entry per record pair."""

    def __init__(self) -> None:
        self.pairs: dict[tuple[int, int], Pair] = {}

    def add(self, a: int, b: int, score: float, rule: MatchRule) -> None:
        if a == b:
            return
        left, right = (a, b) if a < b else (b, a)
        pair = self.pairs.get((left, right))
        if pair is None:
            pair = self.pairs[(left, right)] = Pair(left, right, score)
        pair.score = max(pair.score, score)
        if rule.name not in pair.rules:
            pair.rules.append(rule.name)
        pair.fields += [f for f in rule.field_names if f not in pair.fields]

    def __len__(self) -> int:
        return len(self.pairs)

    def __iter__(self) -> Iterator[Pair]:
        return iter(self.pairs.values())


def compare_block(rule: MatchRule, items: Sequence[tuple[int, tuple[str, ...]]], pairs: PairSet) -> int:
    """Add the matching pairs of one block; return how many comparisons were made."""
    n = len(items)
    if n < 2:
        return 0
    if not rule.fuzzy:
        first = min(i for i, _ in items)
        for rid, _ in items:
            pairs.add(first, rid, 1.0, rule)
        return n - 1
    if n > rule.max_block:
        return _compare_window(rule, items, pairs)
    head = rule.fuzzy[0]
    scorer, cutoff = _SCORERS[head.scorer], head.threshold * 100
    firsts = [f[0] for _, f in items]
    made = 0
    for i in range(n - 1):
        rest = firsts[i + 1:]
        made += len(rest)
        for _, _, j in process.extract(firsts[i], rest, scorer=scorer, score_cutoff=cutoff, limit=None,
                                       processor=None):
            score = fuzzy_score(rule, items[i][1], items[i + 1 + j][1])
            if score is not None:
                pairs.add(items[i][0], items[i + 1 + j][0], score, rule)
    return made


def _compare_window(rule: MatchRule, items: Sequence[tuple[int, tuple[str, ...]]], pairs: PairSet) -> int:
    ordered = sorted(items, key=lambda it: it[1])
    made = 0
    for i, (rid, values) in enumerate(ordered):
        for other, other_values in ordered[i + 1: i + 1 + WINDOW]:
            made += 1
            score = fuzzy_score(rule, values, other_values)
            if score is not None:
                pairs.add(rid, other, score, rule)
    return made


def scan(dd: DedupeDef, records: Iterable[tuple[int, Mapping[str, Any]]]) -> tuple[PairSet, dict[str, int]]:
    """All candidate pairs among records held in memory (tests, small pools); see scan.py for the pool."""
    pairs = PairSet()
    stats = {"comparisons": 0, "blocks": 0}
    rows = list(records)
    for rule in dd.rules:
        blocks: dict[tuple[Any, ...], list[tuple[int, tuple[str, ...]]]] = {}
        for rid, record in rows:
            values = rule_values(rule, record)
            if values is not None:
                blocks.setdefault(block_key(rule, values), []).append((rid, values[1]))
        stats["blocks"] += len(blocks)
        for items in blocks.values():
            stats["comparisons"] += compare_block(rule, items, pairs)
    return pairs, stats


def match_incoming(rule: MatchRule, incoming: Sequence[tuple[int, Values]],
                   existing: Sequence[tuple[int, Values]]) -> dict[int, tuple[int, float]]:
    """For each incoming row index, its best match among existing records: {index: (record id, score)}.

    Exact fields must be equal (the block key holds them); fuzzy fields are scored.
    """
    by_block: dict[tuple[Any, ...], list[tuple[int, Values]]] = {}
    for rid, values in existing:
        by_block.setdefault(block_key(rule, values), []).append((rid, values))
    best: dict[int, tuple[int, float]] = {}
    for index, values in incoming:
        for rid, other in by_block.get(block_key(rule, values), ()):
            if other[0] != values[0]:
                continue
            score = fuzzy_score(rule, values[1], other[1]) if rule.fuzzy else 1.0
            if score is not None and (index not in best or score > best[index][1]
                                      or (score == best[index][1] and rid < best[index][0])):
                best[index] = (rid, score)
    return best


def groups(pairs: Iterable[Pair]) -> list[list[int]]:
    """Connected groups of records (union-find over the pairs), each sorted, largest first."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for pair in pairs:
        a, b = find(pair.left), find(pair.right)
        if a != b:
            parent[max(a, b)] = min(a, b)
    out: dict[int, list[int]] = {}
    for x in parent:
        out.setdefault(find(x), []).append(x)
    return sorted((sorted(g) for g in out.values()), key=lambda g: (-len(g), g[0]))
