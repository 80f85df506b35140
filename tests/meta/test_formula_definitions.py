"""Formula and roll-up definitions: checked when defined (types, cycles with their path, limits,
volatile formulas never stored), and a formula added to a populated table fills its rows."""

import pytest

from metacrm.errors import DefinitionError, ValidationError
from metacrm.meta.formulas import Clock, object_formulas, parse


def obj(props, name="deal"):
    base = {"name": {"x-field": "text"}, "amount": {"x-field": "decimal"}, "qty": {"x-field": "integer"},
            "closed": {"x-field": "date"}, "note": {"x-field": "text"},
            "account": {"x-field": "relation", "x-target": "account"}}
    return {"$id": name, "type": "object", "properties": {**base, **props}}


ACCOUNT = {"$id": "account", "type": "object", "properties": {"name": {"x-field": "text"}}}


def problems(services, apply_docs, *docs):
    with pytest.raises(DefinitionError) as exc:
        apply_docs(services, ("object", ACCOUNT), *(("object", d) for d in docs))
    return {(p.field, p.code): p.message for p in exc.value.problems}


def f(expr, result="decimal", **kw):
    return {"x-field": "formula", "x-formula": expr, "x-result": result, **kw}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_cycle_is_refused_with_its_path(services, apply_docs):
    found = problems(services, apply_docs, obj({
        "a": f({"add": [{"field": "b"}, 1]}), "b": f({"mul": [{"field": "c"}, 2]}), "c": f({"field": "a"})}))
    [(where, message)] = [(k[0], m) for k, m in found.items() if k[1] == "cycle"]
    assert where == "object/deal#/properties/a/x-formula"
    assert "a → b → c → a" in message


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_bad_formulas_name_their_json_pointer(services, apply_docs):
    found = problems(services, apply_docs, obj({
        "unknown": f({"add": [{"field": "nope"}, 1]}),
        "mismatch": f({"concat": [{"field": "name"}, "x"]}, "integer"),
        "text_sum": f({"add": [{"field": "note"}, 1]}),
        "bad_fn": f({"pow": [1, 2]}),
        "vol": f({"days_between": [{"field": "closed"}, {"today": {}}]}, "integer", **{"x-stored": True}),
    }))
    assert ("object/deal#/properties/unknown/x-formula/add/0/field", "unknown_field") in found
    assert ("object/deal#/properties/mismatch/x-result", "type_mismatch") in found
    assert ("object/deal#/properties/text_sum/x-formula/add/0", "type_mismatch") in found
    assert ("object/deal#/properties/bad_fn/x-formula/pow", "unknown_function") in found
    assert ("object/deal#/properties/vol/x-stored", "volatile_stored") in found


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_depth_and_input_limits(services, apply_docs):
    chain = {f"c{i}": f({"add": [{"field": f"c{i - 1}"}, 1]} if i else {"field": "qty"}, "integer") for i in range(7)}
    wide = f({"add": [{"field": n} for n in ("qty", "amount")] + [{"field": f"c{i}"} for i in range(7)]
             + [{"field": "account"}, {"field": "owner_id"}]})
    found = problems(services, apply_docs, obj({**chain, "wide": wide}))
    assert any(code == "too_deep" for _, code in found)
    assert ("object/deal#/properties/wide/x-formula", "too_many_inputs") in found


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_rollup_definitions_are_checked(services, apply_docs):
    account = {"$id": "account", "type": "object", "properties": {
        "name": {"x-field": "text"},
        "text_sum": {"x-field": "rollup", "x-rollup": {"object": "deal", "via": "account", "agg": "sum", "field": "note"}},
        "bad_via": {"x-field": "rollup", "x-rollup": {"object": "deal", "via": "name", "agg": "count"}},
        "bad_filter": {"x-field": "rollup", "x-rollup": {"object": "deal", "via": "account", "agg": "count",
                                                         "filter": {"field": "nope", "op": "eq", "value": 1}}},
        "no_obj": {"x-field": "rollup", "x-rollup": {"object": "ghost", "via": "account", "agg": "count"}},
        "over_volatile": {"x-field": "rollup", "x-rollup": {"object": "deal", "via": "account", "agg": "count",
                                                            "filter": {"field": "age", "op": "gt", "value": 3}}},
    }}
    with pytest.raises(DefinitionError) as exc:
        apply_docs(services, ("object", account), ("object", obj({
            "age": f({"days_between": [{"field": "closed"}, {"today": {}}]}, "integer")})))
    found = {(p.field, p.code) for p in exc.value.problems}
    assert ("object/account#/properties/text_sum/x-rollup/field", "type_mismatch") in found
    assert ("object/account#/properties/bad_via/x-rollup/via", "unknown_relation") in found
    assert any(w.startswith("object/account#/properties/bad_filter/x-rollup/filter") for w, _ in found)
    assert ("object/account#/properties/no_obj/x-rollup/object", "unknown_object") in found
    assert ("object/account#/properties/over_volatile/x-rollup/filter/field", "not_row_local") in found


def test_adding_a_formula_to_a_populated_table_fills_it(services, apply_docs):
    apply_docs(services, ("object", ACCOUNT), ("object", obj({})))
    ids = [services.records.create("deal", {"name": f"d{i}", "amount": f"{i}.25", "qty": i})["id"] for i in range(5)]
    apply_docs(services, ("object", ACCOUNT), ("object", obj({
        "total": f({"mul": [{"field": "amount"}, {"field": "qty"}]}),
        "label": f({"concat": [{"field": "name"}, "#", {"field": "qty"}]}, "text")})))
    got = [services.records.get("deal", i) for i in ids]
    assert [g["total"] for g in got] == ["0.00", "1.25", "4.50", "9.75", "17.00"]
    assert got[3]["label"] == "d3#3"
    # read-only through the record service (the API and imports use it)
    with pytest.raises(ValidationError) as exc:
        services.records.update("deal", ids[1], {"total": "5"})
    assert exc.value.problems[0].code == "read_only_field"
    # a change of an input recomputes in the same write
    assert services.records.update("deal", ids[1], {"qty": 4})["total"] == "5.00"


def test_division_by_zero_is_null_everywhere(services, apply_docs):
    apply_docs(services, ("object", ACCOUNT), ("object", obj({"ratio": f({"div": [{"field": "amount"}, {"field": "qty"}]})})))
    r = services.records.create("deal", {"name": "x", "amount": "3", "qty": 0})
    assert r["ratio"] is None
    node, errs = parse({"div": [1, 0]}, {})
    assert not errs
    from datetime import UTC, datetime
    assert object_formulas({}).ordered == ()
    from metacrm.meta.formulas import evaluate
    assert evaluate(node, {}, Clock(datetime.now(UTC))) is None


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_field_a_rollup_reads_cannot_be_removed(services, apply_docs):
    from metacrm.errors import DestructiveChange

    account = {"$id": "account", "type": "object", "properties": {
        "name": {"x-field": "text"},
        "won": {"x-field": "rollup", "x-rollup": {"object": "deal", "via": "account", "agg": "sum", "field": "amount",
                                                  "filter": {"not": {"field": "note", "op": "is_empty"}}}}}}
    apply_docs(services, ("object", account), ("object", obj({})))
    without = obj({})
    del without["properties"]["amount"], without["properties"]["note"]
    with pytest.raises(DestructiveChange) as exc:
        apply_docs(services, ("object", without))
    found = {(p.field, p.code) for p in exc.value.problems}
    assert ("object/account#/properties/won/x-rollup/field", "field_in_use") in found
    assert ("object/account#/properties/won/x-rollup/filter/not/field", "field_in_use") in found


def test_a_formula_widens_from_integer_to_decimal(services, apply_docs):
    apply_docs(services, ("object", ACCOUNT), ("object", obj({"double": f({"mul": [{"field": "qty"}, 2]}, "integer")})))
    rid = services.records.create("deal", {"name": "x", "qty": 3})["id"]
    assert services.records.get("deal", rid)["double"] == 6
    apply_docs(services, ("object", ACCOUNT), ("object", obj({"double": f({"mul": [{"field": "qty"}, 2.5]})})))
    assert services.records.get("deal", rid)["double"] == "7.50"
    with pytest.raises(Exception) as exc:  # back to integer narrows: refused without force
        apply_docs(services, ("object", ACCOUNT), ("object", obj({"double": f({"field": "qty"}, "integer")})))
    assert "narrowing_change" in str(getattr(exc.value, "problems", exc.value))
