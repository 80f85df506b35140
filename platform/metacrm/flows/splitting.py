"""Sticky A/B assignment: one hashing function for workflow splits and campaign A/B tests.

A record always lands in the same arm for the same salt: SHA-256 of "<salt>:<record id>" read as
a number in [0, 1) picks the arm by cumulative weight. Changing the salt reshuffles everyone;
changing weights moves only the records whose point falls in the moved share.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def unit_point(record_id: int | str, salt: str) -> float:
    """A stable point in [0, 1) for this record and salt."""
    digest = hashlib.sha256(f"{salt}:{record_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def pick_arm(record_id: int | str, salt: str, weights: Sequence[float]) -> int:
    """The index of the arm this record falls in (weights need not sum to 1; all must be >= 0)."""
    total = float(sum(weights))
    if total <= 0 or not weights:
        raise ValueError("a split needs at least one arm with a positive weight")
    point = unit_point(record_id, salt) * total
    running = 0.0
    for index, weight in enumerate(weights):
        running += float(weight)
        if point < running:
            return index
    return max(i for i, w in enumerate(weights) if w > 0)
