"""Planning definition changes: a pure comparison of live definitions with incoming ones."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .kinds import DefinitionSet, Doc, pointer
from .packs import checksum
from .secrets import masked


@dataclass(frozen=True)
class DefinitionChange:
    """What applying one incoming definition does to the live one."""

    kind: str
    name: str
    action: str  # "create" | "update" | "unchanged"
    old: Doc | None
    new: Doc
    diff: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.action != "unchanged"


def json_diff(old: Any, new: Any, path: tuple[Any, ...] = ()) -> Iterator[str]:
    """Lines '+ /ptr', '- /ptr', '~ /ptr: old -> new' describing how `new` differs from `old`."""
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for key in old:
            if key not in new:
                yield f"- {pointer((*path, key))}"
        for key in new:
            if key not in old:
                yield f"+ {pointer((*path, key))}"
            else:
                yield from json_diff(old[key], new[key], (*path, key))
        if list(k for k in old if k in new) != list(k for k in new if k in old):
            yield f"~ {pointer(path) or '/'}: order changed"
    elif old != new or type(old) is not type(new):
        yield f"~ {pointer(path) or '/'}: {_short(old)} -> {_short(new)}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def plan_definitions(live: DefinitionSet, incoming: list[tuple[str, str, Doc]]) -> list[DefinitionChange]:
    changes = []
    for kind, name, doc in incoming:
        old = live.get(kind, name)
        if old is None:
            changes.append(DefinitionChange(kind, name, "create", None, doc))
        elif checksum(old) == checksum(doc):
            changes.append(DefinitionChange(kind, name, "unchanged", old, doc))
        else:
            # secrets never appear in a diff: both sides masked, a changed one says so
            diff = list(json_diff(masked(old), masked(doc, old)))
            changes.append(DefinitionChange(kind, name, "update", old, doc, diff))
    return changes
