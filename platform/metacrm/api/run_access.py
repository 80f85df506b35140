"""What a reader may see of a workflow run: never a secret, and no value of a field they cannot see.

A run carries values of its record in many places: its context (the trigger's changes), each
step's output (the fields an update wrote, a message rendered from a template) and each
condition's evaluation. For a reader with hidden fields on the run's object, every key naming a
hidden field is dropped wherever it appears, a condition on a hidden field keeps only its result,
and a step whose definition reads a hidden field (a template `{budget}`, an update of `budget`, a
branch on it) shows neither its definition nor its output or evaluation: its text may carry the value. Secrets in step
definitions (a webhook's secret and Authorization header) are masked for everyone (meta.secrets).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..auth.principal import Principal
from ..meta.secrets import masked

WITHHELD = {"withheld": "reads a field hidden from you"}


def _scrub(value: Any, hidden: frozenset[str]) -> Any:
    if isinstance(value, Mapping):
        named = value.get("field")
        if isinstance(named, str) and named.split(".")[0] in hidden:
            return {k: v for k, v in value.items() if k in ("field", "op", "result", "passed", "matched")}
        return {k: _scrub(v, hidden) for k, v in value.items() if k not in hidden}
    if isinstance(value, list):
        return [_scrub(v, hidden) for v in value]
    return value


def _reads_hidden(doc: Any, hidden: frozenset[str]) -> bool:
    """Whether a step definition names a hidden field anywhere (a key, a value, a template)."""
    pattern = re.compile(r"\{\s*(" + "|".join(re.escape(h) for h in sorted(hidden)) + r")\s*[}.|:]")
    stack = [doc]
    while stack:
        node = stack.pop()
        if isinstance(node, Mapping):
            if any(k in hidden for k in node):
                return True
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str) and (node.split(".")[0] in hidden or pattern.search(node)):
            return True
    return False


def run_for_reader(run: dict[str, Any], who: Principal) -> dict[str, Any]:
    """The run as `who` may see it."""
    run = masked(run)
    object_name = run.get("object")
    hidden = who.permission(object_name).hidden if isinstance(object_name, str) else frozenset()
    if not hidden:
        return run
    out = _scrub({k: v for k, v in run.items() if k != "steps"}, hidden)
    if isinstance(run.get("steps"), list):
        steps = []
        for step in run["steps"]:
            if not isinstance(step, Mapping):
                continue
            shown = dict(step)
            if _reads_hidden(step.get("input"), hidden):
                for key in ("output", "evaluation", "error"):
                    if shown.get(key) is not None:
                        shown[key] = WITHHELD
                given = step.get("input")
                shown["input"] = {"type": given.get("type"), **WITHHELD} if isinstance(given, Mapping) else WITHHELD
            steps.append(_scrub(shown, hidden))
        out["steps"] = steps
    return out
