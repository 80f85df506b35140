"""Property tests of publish-time validation (hypothesis, bounded to about a minute).

Random graphs of merge / if / wait / end nodes with random links: every graph with a node the
start cannot reach, or with a node from which no path ends (an exitless loop), is refused; every
graph accepted ends in a bounded simulation with random branch choices.
"""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metacrm.flows.model import Workflow, graph_problems

KINDS = ("merge", "if", "wait", "end")


@st.composite
def graphs(draw: st.DrawFn) -> dict:
    n = draw(st.integers(min_value=1, max_value=8))
    ids = [f"n{i}" for i in range(n)]
    target = st.one_of(st.none(), st.sampled_from(ids))
    steps = []
    for node in ids:
        kind = draw(st.sampled_from(KINDS))
        step: dict = {"id": node, "type": kind}
        if kind == "if":
            step.update(rule={"field": "score", "op": "gt", "value": 1}, then=draw(st.sampled_from(ids)),
                        **{"else": draw(st.sampled_from(ids))})
        elif kind != "end":
            if kind == "wait":
                step["duration"] = {"amount": 1, "unit": "day"}
            nxt = draw(target)
            if nxt is not None:
                step["next"] = nxt
        steps.append(step)
    return {"name": "prop", "object": "lead", "trigger": {"type": "manual"}, "steps": steps}


def _exits(doc: dict) -> dict[str, list[str | None]]:
    """Where each node may go (None = the run ends), written apart from the engine's model."""
    steps = doc["steps"]
    out: dict[str, list[str | None]] = {}
    for i, s in enumerate(steps):
        following = steps[i + 1]["id"] if i + 1 < len(steps) else None
        if s["type"] == "end":
            out[s["id"]] = [None]
        elif s["type"] == "if":
            out[s["id"]] = [s["then"], s["else"]]
        else:
            out[s["id"]] = [s.get("next", following)]
    return out


def _reachable(doc: dict) -> set[str]:
    exits = _exits(doc)
    seen, todo = {doc["steps"][0]["id"]}, [doc["steps"][0]["id"]]
    while todo:
        for t in exits[todo.pop()]:
            if t is not None and t not in seen:
                seen.add(t)
                todo.append(t)
    return seen


def _can_end(doc: dict) -> set[str]:
    exits = _exits(doc)
    ok: set[str] = set()
    changed = True
    while changed:
        changed = False
        for node, targets in exits.items():
            if node not in ok and any(t is None or t in ok for t in targets):
                ok.add(node)
                changed = True
    return ok


def _simulate(doc: dict, rng: random.Random, bound: int) -> int | None:
    exits = _exits(doc)
    node: str | None = doc["steps"][0]["id"]
    for taken in range(bound):
        if node is None:
            return taken
        node = rng.choice(exits[node])
    return None


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs(), st.integers(min_value=0, max_value=2**32))
def test_refused_graphs_and_bounded_accepted_ones(doc, seed):
    problems = list(graph_problems(Workflow("prop", 1, doc)))
    codes = {p.code for p in problems}
    ids = {s["id"] for s in doc["steps"]}
    if _reachable(doc) != ids:
        assert "unreachable_node" in codes
    if _can_end(doc) != ids:
        assert "exitless_loop" in codes
    if not problems:
        steps = _simulate(doc, random.Random(seed), bound=100_000)
        assert steps is not None  # the run ended
        # and never looped without a wait: every cycle of an accepted graph passes a wait node
        waits = {s["id"] for s in doc["steps"] if s["type"] == "wait"}
        exits = _exits(doc)
        for start in ids - waits:
            seen, todo = set(), [t for t in exits[start] if t is not None and t not in waits]
            while todo:
                node = todo.pop()
                assert node != start, f"loop through {start} without a wait was accepted"
                if node not in seen:
                    seen.add(node)
                    todo += [t for t in exits[node] if t is not None and t not in waits]


def test_accepts_a_loop_through_a_wait_with_an_exit():
    doc = {"name": "ok", "object": "lead", "trigger": {"type": "manual"}, "steps": [
        {"id": "a", "type": "if", "rule": {"field": "score", "op": "gt", "value": 1}, "then": "w", "else": "z"},
        {"id": "w", "type": "wait", "duration": {"amount": 1, "unit": "day"}, "next": "a"},
        {"id": "z", "type": "end"}]}
    assert list(graph_problems(Workflow("ok", 1, doc))) == []
    doc["steps"][0]["else"] = "w"  # now the loop has no way out
    assert {p.code for p in graph_problems(Workflow("ok", 1, doc))} >= {"exitless_loop", "unreachable_node"}
