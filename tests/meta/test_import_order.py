"""Every module of the lower layers imports on its own, first, in a fresh interpreter.

A cycle between meta modules (objects -> formulas -> usage -> kinds -> objects) once broke
`import metacrm.meta.objects` and `bench/search.py` while the test suite, which imports them in
another order, passed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

PLATFORM = Path(__file__).resolve().parents[2] / "platform"
LAYERS = ("meta", "rules", "store")
MODULES = sorted(f"metacrm.{layer}.{p.stem}" for layer in LAYERS
                 for p in (PLATFORM / "metacrm" / layer).glob("*.py") if p.stem != "__init__")


@pytest.mark.parametrize("layer", LAYERS)
def test_each_module_imports_first_on_its_own(layer):
    names = [m for m in MODULES if m.startswith(f"metacrm.{layer}.")]
    assert names
    script = ("import importlib, subprocess, sys\n"
              "bad = []\n"
              "for name in sys.argv[1:]:\n"
              "    r = subprocess.run([sys.executable, '-c', f'import {name}'], capture_output=True, text=True)\n"
              "    if r.returncode:\n"
              "        bad.append(name + ': ' + r.stderr.strip().splitlines()[-1])\n"
              "print('\\n'.join(bad))\n")
    out = subprocess.run([sys.executable, "-c", script, *names], capture_output=True, text=True, timeout=300,
                         cwd=PLATFORM)
    assert out.returncode == 0 and out.stdout.strip() == "", out.stdout + out.stderr
