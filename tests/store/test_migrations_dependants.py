"""Removing a field that other definitions (or saved views) use is refused, listing each user with its
pointer, unless forced; a user changed in the same pack no longer counts (issue 24)."""

import copy
import json
from datetime import UTC, datetime

import pytest

from metacrm.engines.views import views
from metacrm.errors import DestructiveChange
from metacrm.meta.kinds import DefinitionSet
from metacrm.meta.usage import field_usage


def lead_without(services, *fields):
    doc = copy.deepcopy(services.metadata.export().get("object", "lead"))
    for name in fields:
        del doc["properties"][name]
    doc["required"] = [n for n in doc.get("required", []) if n not in fields]
    doc["x-indexes"] = [ix for ix in doc.get("x-indexes", []) if not set(ix) & set(fields)]
    return doc


def test_removing_a_used_field_lists_every_user(standard_pack, apply_docs):
    services = standard_pack
    with services.engine.begin() as conn:
        now = datetime.now(UTC)
        conn.execute(views.insert().values(object="lead", name="By city", owner_id=1, columns=["name", "city"],
                                           sort="-score", filter={"field": "city", "op": "eq", "value": "shanghai"},
                                           created_at=now, updated_at=now))
    with pytest.raises(DestructiveChange) as info:
        apply_docs(services, ("object", lead_without(services, "city")))
    codes = {p.code for p in info.value.problems}
    assert codes == {"field_in_use", "field_removed"}, codes
    where = {p.field for p in info.value.problems if p.code == "field_in_use"}
    assert {"form/lead_default#/sections/0/fields/3", "segment/hot_leads_tier1#/rule/all/0/field",
            "assignment/lead_routing#/entries/0/territories/0/when/field",
            "conversion/lead#/targets/0/fields/city", "view/By city (id 1)#/columns/1",
            "view/By city (id 1)#/filter/field"} <= where, where
    assert all("uses field 'city' of lead" in p.message for p in info.value.problems if p.code == "field_in_use")
    # the plan tells the same before anything runs, and nothing was applied
    plan = services.metadata.plan([("object", "lead", lead_without(services, "city"))])
    assert {p.field for p in plan.problems if p.code == "field_in_use"} == where
    assert "city" in services.metadata.export().get("object", "lead")["properties"]
    # forced: applied (the column and its data stay, as for any removed field)
    apply_docs(services, ("object", lead_without(services, "city")), force=True)
    assert "city" not in services.metadata.export().get("object", "lead")["properties"]


def test_a_user_changed_in_the_same_pack_is_not_listed(standard_pack, apply_docs):
    services = standard_pack
    live = services.metadata.export()
    forms = {n: copy.deepcopy(live.get("form", n)) for n in ("lead_default", "lead_signup")}
    for form in forms.values():
        for section in form["sections"]:
            section["fields"] = [f for f in section["fields"] if (f if isinstance(f, str) else f["field"]) != "phone"]
    with pytest.raises(DestructiveChange) as info:  # the dedupe rules and the conversion still use phone
        apply_docs(services, ("object", lead_without(services, "phone")), *(("form", f) for f in forms.values()))
    assert {p.field.split("#")[0] for p in info.value.problems if p.code == "field_in_use"} == {"dedupe/lead", "conversion/lead"}
    dedupe = copy.deepcopy(live.get("dedupe", "lead"))
    dedupe["rules"] = [r for r in dedupe["rules"] if r["name"] != "same_phone"]
    conversion = copy.deepcopy(live.get("conversion", "lead"))
    for target in conversion["targets"]:
        target["fields"] = {k: v for k, v in target["fields"].items() if "phone" not in (k, v)}
    pack = [("object", "lead", lead_without(services, "phone")), ("dedupe", "lead", dedupe),
            ("conversion", "lead", conversion),
            *(("form", n, f) for n, f in forms.items())]
    assert [p.code for p in services.metadata.plan(pack).problems] == ["field_removed"]  # hides data: force
    services.metadata.apply(pack, force=True)
    assert "phone" not in services.metadata.export().get("object", "lead")["properties"]


def test_field_paths_through_relations_templates_and_mappings():
    defs = DefinitionSet()
    defs.put("object", "lead", {"$id": "lead", "properties": {"channel": {"x-field": "relation", "x-target": "channel"},
                                                             "name": {"x-field": "text"}}})
    defs.put("object", "channel", {"$id": "channel", "properties": {"kind": {"x-field": "text"}}})
    defs.put("workflow", "w", json.loads('{"object": "lead", "steps": ['
                                         '{"type": "add_tag", "by": {"field": "channel.kind"}},'
                                         '{"type": "notify", "title": "New: {name}"},'
                                         '{"type": "update_record", "set": {"name": "x"}}]}'))
    assert [(u.path, u.field) for u in field_usage(defs, "channel", {"kind"})] == [("/steps/0/by/field", "kind")]
    assert [u.path for u in field_usage(defs, "lead", {"name"})] == ["/steps/1/title", "/steps/2/set/name"]
    assert [u.path for u in field_usage(defs, "lead", {"channel"})] == ["/steps/0/by/field"]


def test_removing_or_renaming_a_used_option_lists_every_user(standard_pack):
    services = standard_pack
    lead = copy.deepcopy(services.metadata.export().get("object", "lead"))
    city = lead["properties"]["city"]
    city["enum"] = ["sh" if o == "shanghai" else o for o in city["enum"]]
    city["x-option-renames"] = {"shanghai": "sh"}
    city.get("x-option-labels", {}).pop("shanghai", None)
    plan = services.metadata.plan([("object", "lead", lead)])
    used = {p.field for p in plan.problems if p.code == "option_in_use"}
    assert {"segment/hot_leads_tier1#/rule/all/0/value/0",
            "assignment/lead_routing#/entries/0/territories/0/when/value/0"} <= used, used
    assert all("option 'shanghai' of lead.city" in p.message for p in plan.problems if p.code == "option_in_use")
    assert not services.metadata.plan([("object", "lead", lead)], force=True).problems
