"""The rule AST: typed, validated, time-free nodes that both back ends walk.

`parse.py` turns a JSON rule into these nodes (collecting every problem with its JSON pointer);
`sql.py` and `evaluate.py` are the two visitors. Relative date values ("within the last 30 days")
stay relative here: they are resolved against `now` and the time zone when a visitor runs, by the
one function in `timeutil.py`, so both back ends compare against the same constants.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# What kind of value a field holds, as far as rules care.
TEXT_TYPES = frozenset({"text", "textarea", "email", "phone", "url", "select", "region"})


@dataclass(frozen=True)
class FieldInfo:
    """One field a rule may read: its name, rule kind and what the visitors need to know."""

    name: str
    type_name: str  # the x-field type (system fields map to one)
    kind: str  # text | integer | decimal | boolean | date | datetime | multi | relation | json
    operators: tuple[str, ...]
    options: tuple[Any, ...] = ()
    scale: int = 2
    nullable: bool = True
    normalize: Callable[[Any], Any] | None = field(default=None, compare=False, hash=False)
    compute: Any = field(default=None, compare=False, hash=False)
    """A volatile formula (store-free): `.sql(table, now, tz)` and `.value(record, now, tz)`."""

    @property
    def textual(self) -> bool:
        return self.kind == "text"


@dataclass(frozen=True)
class Relation:
    """Records of `object` whose relation field `via` points at the record being tested."""

    object: str
    via: str
    where: Node | None = None


@dataclass(frozen=True)
class FieldRef:
    field: FieldInfo


@dataclass(frozen=True)
class AggRef:
    """An aggregate over related records: count, or sum/max/min of one of their fields."""

    relation: Relation
    agg: str  # count | sum | max | min
    field: FieldInfo  # for count: a synthetic integer field

    @property
    def nullable(self) -> bool:
        return self.agg in ("max", "min")


Operand = FieldRef | AggRef


@dataclass(frozen=True)
class All:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


@dataclass(frozen=True)
class Compare:
    """`operand op value`, value already parsed to the field's Python type (or a relative spec)."""

    operand: Operand
    op: str
    value: Any = None


@dataclass(frozen=True)
class Exists:
    relation: Relation


@dataclass(frozen=True)
class HasTag:
    tag: str


Node = All | AnyOf | Not | Compare | Exists | HasTag


@dataclass(frozen=True)
class Relative:
    """A relative time span: `amount` units (day, week, month)."""

    amount: int
    unit: str


@dataclass(frozen=True)
class DayValue:
    """A calendar date used against a datetime field: the whole local day it names."""

    day: Any  # datetime.date
