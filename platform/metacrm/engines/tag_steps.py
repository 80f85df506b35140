"""The `add_tag` and `remove_tag` workflow steps: manual tags through the tag engine.

Tags are added in the step's transaction, so they are added once however often the step is
retried, and their `tag_added` events can start other workflows (one level deeper: loop guard).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..errors import MetaCRMError, Problem
from ..flows.steps import CheckContext, Doc, StepContext, StepFailed, StepResult, StepType, register_step
from ..meta.tag_names import ambiguous, tag_keys
from .tags import add_tags, remove_tags

TAGS = {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"type": "string", "minLength": 1, "maxLength": 64}}
SCHEMA = {"type": "object", "oneOf": [{"required": ["tags"]}, {"required": ["by"]}],
          "properties": {
              "tags": TAGS,
              "by": {"type": "object", "required": ["field", "tags"], "additionalProperties": False,
                     "description": "Tag by a value: {'field': 'channel.kind', 'tags': {'wechat': 'source_social'}}; "
                                    "the field may be one relation hop away (relation.field).",
                     "properties": {"field": {"type": "string", "pattern": "^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)?$"},
                                    "tags": {"type": "object", "minProperties": 1,
                                             "additionalProperties": {"type": "string"}},
                                    "otherwise": {"type": "string"}}}}}


def lookup(ctx: StepContext, record: dict[str, Any], path: str) -> Any:
    """A field of the record, or of the record a relation field points at ("channel.kind")."""
    if "." not in path:
        return record.get(path)
    relation, name = path.split(".", 1)
    target_id = record.get(relation)
    obj = ctx.snapshot.objects[ctx.object_name]
    if target_id is None or relation not in obj.fields or obj.fields[relation].target is None:
        return None
    try:
        return ctx.services.records.get(str(obj.fields[relation].target), int(target_id), conn=ctx.conn).get(name)
    except MetaCRMError:
        return None


def tags_for(ctx: StepContext, doc: Doc, record: dict[str, Any]) -> list[str]:
    if "tags" in doc:
        return list(doc["tags"])
    value = lookup(ctx, record, doc["by"]["field"])
    chosen = doc["by"]["tags"].get(str(value)) if value is not None else None
    chosen = chosen or doc["by"].get("otherwise")
    return [chosen] if chosen else []


def _run(ctx: StepContext, doc: Doc, adding: bool) -> StepResult:
    assert ctx.conn is not None
    record = ctx.need_record()
    change = add_tags if adding else remove_tags
    names = tags_for(ctx, doc, record)
    if not names:
        return StepResult({"skipped": "no tag for this value"})
    try:
        done = change(ctx.conn, ctx.snapshot, ctx.object_name, [int(record["id"])], names,
                      tz=ctx.services.settings.timezone)
    except MetaCRMError as exc:
        raise StepFailed(f"could not change tags: {exc.message}", retry=False, code=exc.code,
                         problems=exc.problems) from None
    return StepResult({"added" if adding else "removed": done.get(int(record["id"]), [])})


def _named(doc: Doc) -> Iterator[tuple[str, str]]:
    for i, name in enumerate(doc.get("tags", ())):
        yield f"tags/{i}", name
    by = doc.get("by") or {}
    for value, name in by.get("tags", {}).items():
        yield f"by/tags/{value}", name
    if by.get("otherwise"):
        yield "by/otherwise", by["otherwise"]


def _check_by(doc: Doc, ctx: CheckContext) -> Iterator[Problem]:
    path = (doc.get("by") or {}).get("field")
    if not path:
        return
    obj = ctx.snapshot.objects.get(ctx.object_name)
    head, _, tail = path.partition(".")
    field = obj.fields.get(head) if obj else None
    if field is None:
        yield Problem(f"{ctx.pointer}/by/field", "unknown_field", f"'{ctx.object_name}' has no field '{head}'")
        return
    if tail:
        target = ctx.snapshot.objects.get(str(field.target)) if field.type.is_relation else None
        if target is None or tail not in target.fields:
            yield Problem(f"{ctx.pointer}/by/field", "unknown_field", f"'{path}' does not name a field one relation away")


def check(doc: Doc, ctx: CheckContext) -> Iterator[Problem]:
    yield from _check_by(doc, ctx)
    for where, name in _named(doc):
        keys = tag_keys(ctx.snapshot.definitions, name)  # the key, or a label in any language
        tag = ctx.snapshot.definitions.get("tag", keys[0]) if len(keys) == 1 else None
        if len(keys) > 1:
            yield Problem(f"{ctx.pointer}/{where}", "ambiguous_tag", ambiguous(name, keys))
        elif tag is None:
            yield Problem(f"{ctx.pointer}/{where}", "unknown_tag", f"no tag named '{name}'")
        elif "rule" in tag:
            yield Problem(f"{ctx.pointer}/{where}", "automatic_tag",
                          f"'{name}' is an automatic tag (it has a rule); workflows set manual tags only")
        elif ctx.object_name not in tag.get("objects", ()):
            yield Problem(f"{ctx.pointer}/{where}", "other_object", f"'{name}' is not a tag for {ctx.object_name}")


register_step(StepType("add_tag", SCHEMA, lambda ctx, doc: _run(ctx, doc, True), effect="db", check=check))
register_step(StepType("remove_tag", SCHEMA, lambda ctx, doc: _run(ctx, doc, False), effect="db", check=check))
