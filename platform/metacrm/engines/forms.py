"""Submitting a form: the answers become a record, and chosen options set their mapped tags.

The form definition maps select/multiselect options to manual tags (meta/forms.option_tags);
the record and its tags are written in one transaction, each tag with its `tag_added` event
(source "form"), and the submission is logged as a `form_submitted` event that starts the
`form_submitted` workflows. Permissions and ownership are the caller's (the API's) business:
it passes `prepare(snapshot, form, answers) -> record data`, which raises to refuse.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..errors import NotFound, PermissionDenied, Problem, ValidationError
from ..flows.triggers import form_submitted
from ..meta.forms import field_entries, option_tags
from ..store.records import ReferenceScope
from ..store.services import Services
from .tags import add_tags, record_tags


def tags_for_answers(form: Mapping[str, Any], answers: Mapping[str, Any]) -> list[str]:
    """The tags the chosen options map to (select: the option; multiselect: each chosen option)."""
    out: list[str] = []
    for field_name, mapping in option_tags(form).items():
        value = answers.get(field_name)
        for option in value if isinstance(value, list) else [value]:
            if isinstance(option, str):
                out += mapping.get(option, [])
    return list(dict.fromkeys(out))


Prepare = Callable[[Any, Mapping[str, Any], Mapping[str, Any]], Mapping[str, Any]]


def submit_form(services: Services, form_name: str, answers: Any, actor_id: int | None = None,
                prepare: Prepare | None = None, reference_scope: ReferenceScope | None = None) -> dict[str, Any]:
    """Create the form's record from `answers`, tag it and start the form's workflows; returns the
    record with "tags"."""
    if not isinstance(answers, Mapping):
        raise ValidationError("form answers are a JSON object", [Problem("", "type", "expected an object")])
    with services.records.transaction() as conn:
        snap = services.registry.current(conn)
        form = snap.definitions.get("form", form_name)
        if form is None:
            raise NotFound(f"no form named '{form_name[:64]}'", [Problem("form", "not_found", form_name[:64])])
        placed = {entry["field"] for _, entry in field_entries(form)}
        unknown = [k for k in answers if k not in placed]
        if unknown:
            raise ValidationError("some answers are not on this form",
                                  [Problem(str(k)[:64], "unknown_field", "is not a field of this form") for k in unknown])
        fixed = [k for k in answers if any(e["field"] == k and e.get("readonly") for _, e in field_entries(form))]
        if fixed:  # read-only on this form: shown, never written through it
            raise PermissionDenied("some answers are read-only on this form",
                                   [Problem(k, "readonly", "you may not change this field") for k in fixed])
        data = prepare(snap, form, answers) if prepare is not None else answers
        record = services.records.create(form["object"], dict(data), actor_id=actor_id, conn=conn,
                                         reference_scope=reference_scope)
        tags = tags_for_answers(form, answers)
        if tags:
            add_tags(conn, snap, form["object"], [record["id"]], tags, actor_id=actor_id, source="form",
                     tz=services.settings.timezone)
        form_submitted(conn, snap, form_name, form["object"], record["id"], actor_id)
        record["tags"] = record_tags(conn, form["object"], record["id"])
        return record
