"""`metacrm benefits list|codes|sweep|tiers` on the standard pack."""

from __future__ import annotations

from typing import Any


def test_benefits_cli(run: Any) -> None:
    run("metadata", "apply", "metadata")
    out = run("benefits", "list").output
    assert "free_shipping: on, used 0 reserved 0 of no cap" in out and "welcome_coupon: on" in out
    codes = run("benefits", "codes", "welcome_coupon", "--count", "3").output.split()
    assert len(codes) == 3 and all(len(c) == 14 and c[4] == "-" for c in codes)
    assert "not a coupon" in run("benefits", "codes", "free_shipping", code=2).output
    assert "0 reservation(s) expired, 0 point(s) lapsed" in run("benefits", "sweep").output
    assert "0 up, 0 down, 0 warned" in run("benefits", "tiers").output
