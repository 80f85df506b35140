"""Tags in the users' language (issue 15): tags named 复购客户, KOL, gold-member, 30%_off are created
by their text (a derived key, the text as label), added and removed by label, and matched by rules
by label or key, the same in SQL and in memory; `%` and `_` are never LIKE patterns; an ambiguous
label is refused naming both keys; identifier-named tags keep working."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from metacrm.engines import tags
from metacrm.errors import ValidationError
from metacrm.meta.tag_names import derive_key, resolve_tag, tag_from_text
from metacrm.rules import matches, to_sql, validate_rule

LEAD = {"$id": "lead", "type": "object", "required": ["name"], "properties": {
    "name": {"x-field": "text", "maxLength": 50}}}
TEXTS = {"repeat": "复购客户", "kol": "KOL", "gold": "gold-member", "off": "30%_off", "xoff": "30Xoff"}


@pytest.fixture
def svc(services, apply_docs):
    apply_docs(services, ("object", LEAD),
               ("tag", {"name": "vip", "label": {"en": "VIP"}, "objects": ["lead"]}))
    for text in TEXTS.values():  # each created from its text, as the API does
        _key, doc = tag_from_text(services.registry.current().definitions, {"objects": ["lead"]}, text, "zh")
        apply_docs(services, ("tag", doc))
    return services


def keys(svc):
    defs = svc.registry.current().definitions
    return {k: resolve_tag(defs, t) for k, t in TEXTS.items()}


def change(svc, fn, ids, names):
    with svc.records.transaction() as conn:
        return fn(conn, svc.registry.current(conn), "lead", ids, names)


def test_keys_are_derived_from_the_text():
    assert derive_key("KOL") == "kol"
    assert derive_key("gold-member") == "gold_member"
    assert derive_key("30%_off") == "tag_30_off"
    assert derive_key("30Xoff") == "tag_30xoff"
    chinese = derive_key("复购客户")
    assert chinese.startswith("tag_") and chinese == derive_key(" 复购客户 ") and len(chinese) == 12
    assert derive_key("gold-member", lambda k: k == "gold_member").startswith("gold_member_")


def test_created_by_text_with_label_in_the_users_language(svc):
    k = keys(svc)
    defs = svc.registry.current().definitions
    assert k["kol"] == "kol" and k["gold"] == "gold_member" and k["off"] == "tag_30_off"
    assert defs.get("tag", k["repeat"])["label"] == {"zh": "复购客户"}
    # the label matches trimmed, case-folded and NFKC (full-width letters)
    assert resolve_tag(defs, "  kol ") == "kol" and resolve_tag(defs, "ＫＯＬ") == "kol"
    with pytest.raises(ValidationError) as err:  # a second tag with the same text is refused
        tag_from_text(defs, {"objects": ["lead"]}, "Gold-Member", "en")
    assert err.value.problems[0].code == "duplicate_tag_label"
    with pytest.raises(ValidationError):
        tag_from_text(defs, {"objects": ["lead"]}, "x" * 65, "en")


def test_added_and_removed_by_label_or_key(svc):
    k = keys(svc)
    rid = svc.records.create("lead", {"name": "A"})["id"]
    change(svc, tags.add_tags, [rid], ["复购客户", "KOL", "gold_member", "30%_off", "vip"])
    with svc.engine.connect() as conn:
        assert tags.record_tags(conn, "lead", rid) == sorted([k["repeat"], "kol", "gold_member", "tag_30_off", "vip"])
    assert change(svc, tags.remove_tags, [rid], ["gold-member", "VIP"]) == {rid: ["gold_member", "vip"]}
    with svc.engine.connect() as conn:
        assert tags.record_tags(conn, "lead", rid) == sorted([k["repeat"], "kol", "tag_30_off"])
    with pytest.raises(ValidationError) as err:
        change(svc, tags.add_tags, [rid], ["30%"])
    assert err.value.problems[0].code == "unknown_tag"


def test_rules_match_by_label_and_key_in_sql_and_memory(svc):
    k = keys(svc)
    ids = {}
    for name, key in k.items():
        ids[name] = svc.records.create("lead", {"name": name})["id"]
        change(svc, tags.add_tags, [ids[name]], [key])
    plain = svc.records.create("lead", {"name": "plain"})["id"]
    snap = svc.registry.current()
    table = snap.tables["lead"]
    for name, text in TEXTS.items():
        for value in (text, k[name], text.upper()):
            rule = {"op": "has_tag", "value": value}
            assert validate_rule(rule, "lead", snap) == []
            with svc.engine.connect() as conn:
                in_sql = set(conn.execute(select(table.c.id).where(to_sql(rule, "lead", snap))).scalars())
                in_memory = {rid for rid in [*ids.values(), plain]
                             if matches(rule, {"id": rid}, "lead", snap, conn)}
            assert in_sql == in_memory == {ids[name]}, (name, value)
    # `%` and `_` are literal: 30%_off never matches the record tagged 30Xoff
    with svc.engine.connect() as conn:
        off = set(conn.execute(select(table.c.id).where(
            to_sql({"op": "has_tag", "value": "30%_off"}, "lead", snap))).scalars())
    assert ids["xoff"] not in off


def test_ambiguous_label_is_refused_naming_both_keys(svc, apply_docs):
    apply_docs(svc, ("tag", {"name": "gold_a", "label": {"en": "Gold"}, "objects": ["lead"]}),
               ("tag", {"name": "gold_b", "label": {"zh": "gold"}, "objects": ["lead"]}))
    rid = svc.records.create("lead", {"name": "A"})["id"]
    with pytest.raises(ValidationError) as err:
        change(svc, tags.add_tags, [rid], ["Gold"])
    assert err.value.status == 422
    problem = err.value.problems[0]
    assert problem.code == "ambiguous_tag" and "gold_a" in problem.message and "gold_b" in problem.message
    problems = validate_rule({"op": "has_tag", "value": "gold"}, "lead", svc.registry.current())
    assert [p.code for p in problems] == ["ambiguous_tag"] and "gold_a, gold_b" in problems[0].message
    change(svc, tags.add_tags, [rid], ["gold_a"])  # the key always names one tag


def test_identifier_tags_unchanged(svc):
    rid = svc.records.create("lead", {"name": "A"})["id"]
    change(svc, tags.add_tags, [rid], ["vip"])
    snap = svc.registry.current()
    with svc.engine.connect() as conn:
        assert tags.record_tags(conn, "lead", rid) == ["vip"]
        assert matches({"op": "has_tag", "value": "vip"}, {"id": rid}, "lead", snap, conn)
        assert not matches({"op": "not_has_tag", "value": "vip"}, {"id": rid}, "lead", snap, conn)


def test_a_rule_naming_a_tag_by_label_keeps_it_in_use(svc, apply_docs):
    from metacrm.engines.definition_delete import references

    apply_docs(svc, ("tag", {"name": "vip_kol", "label": {"en": "VIP KOL"}, "objects": ["lead"],
                             "rule": {"all": [{"op": "has_tag", "value": "kol"}, {"op": "has_tag", "value": "VIP"}]}}))
    defs = svc.registry.current().definitions
    assert [u["path"] for u in references(defs, "tag", "vip")] == ["/rule/all/1/value"]
    assert [u["path"] for u in references(defs, "tag", "kol")] == ["/rule/all/0/value"]
    assert references(defs, "tag", "gold_member") == []
