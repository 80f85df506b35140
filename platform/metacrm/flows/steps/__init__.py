"""The step type registry: a step type is one module with its own JSON schema and a `run` function.

A step module calls `register_step(StepType(...))` at import. The workflow meta-schema only
checks the common shape of a step (`id`, `type`, `next`, `retry`); the check of a workflow
validates each step against its type's `schema` and `check`, so adding a step type needs no
change anywhere else. Engine-backed steps (tags, assignment) register from engines/.

`effect` says how the runner executes the step:
- "none" / "db": inside one transaction with the step's claim and completion; a crash rolls the
  effect back with the claim, so database effects happen exactly once.
- "external": the claim commits first, the effect runs outside a transaction (HTTP, SMTP), then
  the completion commits; a crash repeats the effect with the same idempotency key (`ctx.key`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

from ...errors import MetaCRMError, Problem

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from ...store.definitions import Snapshot
    from ...store.services import Services
    from ..model import Workflow

Doc = dict[str, Any]
DEFAULT: Any = object()  # "follow the step's `next` (or the following step)"


@dataclass
class StepContext:
    """What a step sees when it runs: the run, its record, a connection and the idempotency key."""

    services: Services
    conn: Connection | None  # None for external steps (they run outside any transaction)
    run: Mapping[str, Any]
    workflow: Workflow
    snapshot: Snapshot
    record: dict[str, Any] | None
    key: str
    attempt: int
    now: datetime
    tz: tzinfo
    step_id: str = ""

    @property
    def run_id(self) -> int:
        return int(self.run["id"])

    @property
    def object_name(self) -> str:
        return str(self.run["object"])

    @property
    def record_id(self) -> int | None:
        return self.run["record_id"]

    def need_record(self) -> dict[str, Any]:
        if self.record is None:
            raise StepFailed("this step needs the run's record, and the run has none", retry=False,
                             code="no_record")
        return self.record


@dataclass
class StepResult:
    output: dict[str, Any] | None = None
    next: Any = DEFAULT  # a step id, None to end the run, or DEFAULT
    due_at: datetime | None = None  # when the next step may run (waits)
    follows: bool = False  # the due time follows a record field (re-checked at wake, moved on change)


class StepFailed(MetaCRMError):
    """A step could not do its job; `retry` says whether trying again may help."""

    code = "step_failed"

    def __init__(self, message: str, *, retry: bool = True, code: str | None = None,
                 problems: list[Problem] | None = None) -> None:
        super().__init__(message, problems or (), code=code)
        self.retry = retry


@dataclass(frozen=True)
class CheckContext:
    """What a step's semantic check may look at: the workflow's object and the definitions."""

    object_name: str
    snapshot: Snapshot
    pointer: str  # JSON pointer of the step, e.g. "/steps/2"


Check = Callable[[Doc, CheckContext], Iterator[Problem]]


def _default_edges(doc: Doc) -> list[tuple[str, str | None]]:
    return [("next", doc.get("next"))]


@dataclass(frozen=True)
class StepType:
    name: str
    schema: Doc
    """JSON Schema of the step's own keys (besides id/type/next/retry/label)."""
    run: Callable[[StepContext, Doc], StepResult]
    effect: str = "db"
    max_attempts: int = 3
    backoff_seconds: float = 2.0
    check: Check | None = None
    edges: Callable[[Doc], list[tuple[str, str | None]]] = field(default=_default_edges)
    """(key, target id) pairs this step may go to; None target = the following step / end."""
    is_wait: bool = False
    falls_through: bool = True
    """Whether a missing `next` goes on to the following step in the list (branches and end: no)."""
    kind: str = "action"
    """The builder's node kind: action, if, switch, wait, split, foreach, merge or end."""
    label: Mapping[str, str] | None = None
    """{"en": ..., "zh": ...} for the builder's palette (default: the name)."""
    loops: bool = False
    """Whether a cycle through this step is bounded by the step itself (foreach has a maximum)."""


STEP_TYPES: dict[str, StepType] = {}


def register_step(step_type: StepType) -> StepType:
    STEP_TYPES[step_type.name] = step_type
    return step_type


def step_type(name: str) -> StepType:
    try:
        return STEP_TYPES[name]
    except KeyError:
        raise StepFailed(f"unknown step type {name!r}", retry=False, code="unknown_step_type") from None


def _load_builtin_steps() -> None:
    from . import (  # noqa: F401  (each module registers its step type)
        branch,
        control,
        create_activity,
        end,
        notify,
        send_message,
        start_workflow,
        update_record,
        wait,
        webhook,
    )


_load_builtin_steps()
