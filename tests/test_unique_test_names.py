"""Test modules have unique file names across tests/ (rootdir-relative imports without packages:
two `test_reports.py` made pytest refuse to collect the second, an error only a whole run shows)."""

from collections import Counter
from pathlib import Path


def test_test_module_names_are_unique():
    names = Counter(p.name for p in Path(__file__).parent.rglob("test_*.py"))
    assert [n for n, c in names.items() if c > 1] == []
