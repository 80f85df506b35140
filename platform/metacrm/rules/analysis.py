"""What a parsed rule reads: fields of its object, tags, related objects and the clock.

Engines use this to decide which writes can change a rule's answer (recompute a tag when a field
it reads changes, or when a related record changes, however deep it is nested) and in which order
dependent tags run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .model import AggRef, All, AnyOf, Compare, Exists, FieldRef, HasTag, Node, Not, Relation
from .timeutil import is_relative

Hop = tuple[str, str]
"""(object, relation field): records of `object` point at their parent through that field."""


@dataclass
class RelatedRead:
    """Records of `object` linked by `via`; `fields` and `tags` are what the rule reads of theirs.

    `up` is empty for a relation of the rule's own object. For a relation nested in another
    relation's `where`, `up` lists the hops from the records `via` points at up to the rule's
    object, nearest first: in an account rule "has a lead that has a call activity", the
    activity read has via "lead" and up (("lead", "account"),).
    """

    object: str
    via: str
    fields: set[str] = field(default_factory=set)
    tags: set[str] = field(default_factory=set)
    up: tuple[Hop, ...] = ()


@dataclass
class Reads:
    fields: set[str] = field(default_factory=set)
    tags: set[str] = field(default_factory=set)
    related: list[RelatedRead] = field(default_factory=list)
    """Direct relations only; relations nested inside a related `where` are in `nested`."""
    nested: list[RelatedRead] = field(default_factory=list)
    clock: bool = False
    """True when the answer changes with time alone (within_last, this_month, ...)."""

    @property
    def every_tag(self) -> set[str]:
        """Tag names tested anywhere: on the record itself or on related records."""
        return self.tags.union(*(r.tags for r in (*self.related, *self.nested)))


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
        (out.tags if into is None else into.tags).add(node.tag)
    elif isinstance(node, Exists):
        _relation(node.relation, out, into, None)
    elif isinstance(node, Compare):
        out.clock = out.clock or is_relative(node.op)
        if isinstance(node.operand, FieldRef):
            (out.fields if into is None else into.fields).add(node.operand.field.name)
        else:
            _relation(node.operand.relation, out, into, node.operand)


def _relation(rel: Relation, out: Reads, into: RelatedRead | None, agg: AggRef | None) -> None:
    up = () if into is None else ((into.object, into.via), *into.up)
    read = RelatedRead(rel.object, rel.via, {rel.via, "deleted_at"}, up=up)
    if agg is not None and agg.agg != "count":
        read.fields.add(agg.field.name)
    (out.related if into is None else out.nested).append(read)
    if rel.where is not None:
        _walk(rel.where, out, read)
