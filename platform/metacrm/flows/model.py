"""A workflow definition as a typed model, and the pure graph facts the engine and checks need.

Steps are a list; each has an `id`, a `type` and usually a `next`. A step without `next` goes on
to the following step in the list (the last one ends the run), except branches and `end`, whose
exits are explicit. No I/O here: the runner decides the next step with these functions.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import Problem
from .steps import STEP_TYPES, StepType

Doc = dict[str, Any]


@dataclass(frozen=True)
class Step:
    id: str
    type: str
    doc: Doc
    index: int

    @property
    def pointer(self) -> str:
        return f"/steps/{self.index}"


@dataclass(frozen=True)
class Workflow:
    name: str
    version: int
    doc: Doc

    @property
    def object(self) -> str:
        return str(self.doc["object"])

    @property
    def trigger(self) -> Doc:
        return self.doc["trigger"]

    @property
    def enabled(self) -> bool:
        return bool(self.doc.get("enabled", True))

    @property
    def steps(self) -> list[Step]:
        return [Step(s["id"], s["type"], s, i) for i, s in enumerate(self.doc.get("steps", ()))]

    def step(self, step_id: str) -> Step | None:
        return next((s for s in self.steps if s.id == step_id), None)

    @property
    def start(self) -> str | None:
        first = self.doc.get("start")
        if first:
            return str(first)
        steps = self.doc.get("steps") or []
        return steps[0]["id"] if steps else None

    def following(self, step: Step) -> str | None:
        steps = self.doc.get("steps") or []
        return steps[step.index + 1]["id"] if step.index + 1 < len(steps) else None

    def next_of(self, step: Step, chosen: Any = None, default: bool = True) -> str | None:
        """The id of the step after `step` (`chosen` is a branch's pick when not default)."""
        if not default:
            return chosen
        explicit = step.doc.get("next")
        if explicit:
            return str(explicit)
        kind = STEP_TYPES.get(step.type)
        if kind is not None and not kind.falls_through:
            return None
        return self.following(step)

    @property
    def max_steps(self) -> int:
        return int((self.doc.get("limits") or {}).get("max_steps", 200))


def edges(workflow: Workflow) -> dict[str, list[tuple[str, str | None]]]:
    """Step id -> [(JSON pointer of the reference, target id or None)] for every exit of every step."""
    out: dict[str, list[tuple[str, str | None]]] = {}
    for step in workflow.steps:
        kind: StepType | None = STEP_TYPES.get(step.type)
        exits: list[tuple[str, str | None]] = []
        if kind is not None:
            for key, target in kind.edges(step.doc):
                pointer = f"{step.pointer}/{key}"
                if target is None and key == "next" and kind.falls_through:
                    target = workflow.following(step)
                exits.append((pointer, target))
        out[step.id] = exits
    return out


def graph_problems(workflow: Workflow) -> Iterator[Problem]:
    """Duplicate ids, dangling references, unreachable steps and cycles that contain no wait."""
    ids: dict[str, int] = {}
    for step in workflow.steps:
        if step.id in ids:
            yield Problem(f"{step.pointer}/id", "duplicate_step", f"step id '{step.id}' is used twice")
        ids.setdefault(step.id, step.index)
    start = workflow.doc.get("start")
    if start and start not in ids:
        yield Problem("/start", "dangling_step", f"no step with id '{start}'")
    graph = edges(workflow)
    for exits in graph.values():
        for pointer, target in exits:
            if target is not None and target not in ids:
                yield Problem(pointer, "dangling_step", f"no step with id '{target}'")
    yield from _missing_branches(workflow)
    yield from _unreachable(workflow, graph, ids)
    yield from _cycles_without_wait(workflow, graph, ids)
    yield from _without_exit(workflow, graph, ids)


MUST_BRANCH = {"if": ("then", "else"), "switch": ("default",)}


def _missing_branches(workflow: Workflow) -> Iterator[Problem]:
    """An if needs then and else, a switch its default and every case a target, a split every arm's."""
    for step in workflow.steps:
        for key in MUST_BRANCH.get(step.type, ()):
            if not step.doc.get(key):
                yield Problem(f"{step.pointer}/{key}", "missing_branch",
                              f"{step.type} '{step.id}' has no '{key}' branch (point it at a node, or an end node)")
        for list_key in ("cases", "arms"):
            if step.type in ("switch", "split"):
                for i, item in enumerate(step.doc.get(list_key) or ()):
                    if isinstance(item, Mapping) and not item.get("next"):
                        yield Problem(f"{step.pointer}/{list_key}/{i}/next", "missing_branch",
                                      f"{step.type} '{step.id}' has no target for {list_key[:-1]} {i + 1}")


def _unreachable(workflow: Workflow, graph: Mapping[str, list[tuple[str, str | None]]],
                 ids: Mapping[str, int]) -> Iterator[Problem]:
    start = workflow.start
    if start is None or start not in ids:
        return
    seen, todo = {start}, [start]
    while todo:
        for _, target in graph.get(todo.pop(), ()):
            if target is not None and target in ids and target not in seen:
                seen.add(target)
                todo.append(target)
    for step in workflow.steps:
        if step.id not in seen:
            yield Problem(step.pointer, "unreachable_node",
                          f"nothing leads to '{step.id}' from the start node '{start}'")


def _without_exit(workflow: Workflow, graph: Mapping[str, list[tuple[str, str | None]]],
                  ids: Mapping[str, int]) -> Iterator[Problem]:
    """Nodes from which the run can never end: every path loops forever (an exitless loop)."""
    ends = {sid for sid, exits in graph.items() if not exits or any(t is None for _, t in exits)}
    reverse: dict[str, list[str]] = {}
    for sid, exits in graph.items():
        for _, target in exits:
            if target is not None and target in ids:
                reverse.setdefault(target, []).append(sid)
    can_end, todo = set(ends), list(ends)
    while todo:
        for source in reverse.get(todo.pop(), ()):
            if source not in can_end:
                can_end.add(source)
                todo.append(source)
    for step in workflow.steps:
        if step.id not in can_end and all(t is None or t in ids for _, t in graph.get(step.id, ())):
            yield Problem(step.pointer, "exitless_loop",
                          f"from '{step.id}' every path loops forever: give the loop a way out (a branch to an end)")


def _cycles_without_wait(workflow: Workflow, graph: Mapping[str, list[tuple[str, str | None]]],
                         ids: Mapping[str, int]) -> Iterator[Problem]:
    """A cycle is allowed only through a wait step (a loop that pauses); find those that do not."""
    waits = {s.id for s in workflow.steps
             if (kind := STEP_TYPES.get(s.type)) is not None and (kind.is_wait or kind.loops)}
    adjacency = {sid: [t for _, t in exits if t in ids and t not in waits] for sid, exits in graph.items()
                 if sid not in waits}
    state: dict[str, int] = {}
    reported: set[frozenset[str]] = set()

    def visit(node: str, path: list[str]) -> Iterator[Problem]:
        state[node] = 1
        path.append(node)
        for target in adjacency.get(node, ()):
            if state.get(target) == 1:
                cycle = path[path.index(target):]
                key = frozenset(cycle)
                if key not in reported:
                    reported.add(key)
                    yield Problem(f"/steps/{ids[target]}", "cycle_without_wait",
                                  "steps " + " -> ".join([*cycle, target]) + " form a loop with no wait step (or foreach)")
            elif state.get(target) is None:
                yield from visit(target, path)
        path.pop()
        state[node] = 2

    for sid in adjacency:
        if state.get(sid) is None:
            yield from visit(sid, [])
