"""What a JSON value may hold to be stored: one walk shared by the API parser and the record service.

The HTTP parser refuses these at the door, but the CLI, imports, workflow steps and bulk calls
reach the record service without it, so the record service checks the same facts with the same
function (`unstorable`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

MAX_JSON_DEPTH = 100
"""Nesting limit of any JSON value a client sends (a body, a json field, a filter)."""

UNSTORABLE_TEXT = re.compile("[\x00\ud800-\udfff]")
"""U+0000 (PostgreSQL refuses it in text and JSONB) and lone surrogates (no Unicode text)."""

INT_MIN, INT_MAX = -(2**63), 2**63 - 1


class TooDeep(ValueError):
    """A JSON value nested past MAX_JSON_DEPTH."""


def json_leaves(value: Any, max_depth: int = MAX_JSON_DEPTH) -> Iterator[Any]:
    """Every scalar inside a JSON value, object keys included, without recursion.

    Raises TooDeep past `max_depth` levels of objects and arrays, before going deeper.
    """
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth >= max_depth:
                raise TooDeep(f"nested deeper than {max_depth} levels")
            if isinstance(item, dict):
                for key, child in item.items():
                    yield key
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in item)
        else:
            yield item


def text_problem(text: str) -> str | None:
    """Why a text cannot be stored, or None."""
    found = UNSTORABLE_TEXT.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return "must not contain NUL characters (U+0000)"
    return "must not contain a lone surrogate (\\ud800-\\udfff): not Unicode text"


def unstorable(value: Any, max_depth: int = MAX_JSON_DEPTH) -> tuple[str, str] | None:
    """(code, reason) for the first thing in a JSON value the databases cannot store, or None.

    Text with U+0000 or a lone surrogate, an integer beyond 64 bits, NaN or Infinity, nesting past
    `max_depth`, and (from Python callers) anything that is not a JSON value at all.
    """
    try:
        for leaf in json_leaves(value, max_depth):
            if isinstance(leaf, str):
                problem = text_problem(leaf)
                if problem:
                    return "invalid_character", problem
            elif isinstance(leaf, bool) or leaf is None:
                continue
            elif isinstance(leaf, int):
                if not INT_MIN <= leaf <= INT_MAX:
                    return "out_of_range", "an integer beyond 64 bits cannot be stored (send large numbers as strings)"
            elif isinstance(leaf, float):
                if not math.isfinite(leaf):
                    return "invalid_number", "NaN and Infinity are not JSON numbers"
            else:
                return "invalid_json", f"a {type(leaf).__name__} is not a JSON value"
    except TooDeep as exc:
        return "too_deep", str(exc)
    return None
