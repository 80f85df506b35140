"""What a parsed rule reads: fields of its object, tags, related objects and the clock.

Engines use this to decide which writes can change a rule's answer (recompute a tag when a field
it reads changes, or when a related record changes) and in which order dependent tags run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .model import AggRef, All, AnyOf, Compare, Exists, FieldRef, HasTag, Node, Not, Relation
from .timeutil import is_relative


@dataclass
class RelatedRead:
    """Records of `object` linked by `via`; `fields` are the fields of theirs the rule reads."""

    object: str
    via: str
    fields: set[str] = field(default_factory=set)


@dataclass
class Reads:
    fields: set[str] = field(default_factory=set)
    tags: set[str] = field(default_factory=set)
    related: list[RelatedRead] = field(default_factory=list)
    """Direct relations only; relations nested inside a related `where` are in `nested`."""
    nested: list[RelatedRead] = field(default_factory=list)
    clock: bool = False
    """True when the answer changes with time alone (within_last, this_month, ...)."""


def reads(node: Node) -> Reads:
    out = Reads()
    _walk(node, out, None)
    return out


def _walk(node: Node, out: Reads, into: RelatedRead | None) -> None:
    if isinstance(node, All | AnyOf):
        for n in node.items:
            _walk(n, out, into)
    elif isinstance(node, Not):
        _walk(node.item, out, into)
    elif isinstance(node, HasTag):
        if into is None:
            out.tags.add(node.tag)
    elif isinstance(node, Exists):
        _relation(node.relation, out, into, None)
    elif isinstance(node, Compare):
        out.clock = out.clock or is_relative(node.op)
        if isinstance(node.operand, FieldRef):
            (out.fields if into is None else into.fields).add(node.operand.field.name)
        else:
            _relation(node.operand.relation, out, into, node.operand)


def _relation(rel: Relation, out: Reads, into: RelatedRead | None, agg: AggRef | None) -> None:
    read = RelatedRead(rel.object, rel.via, {rel.via, "deleted_at"})
    if agg is not None and agg.agg != "count":
        read.fields.add(agg.field.name)
    (out.related if into is None else out.nested).append(read)
    if into is not None:
        into.fields.add("id")
    if rel.where is not None:
        _walk(rel.where, out, read)
