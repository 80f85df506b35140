"""Random sequences of definition changes on a populated object (hypothesis, SQLite and PostgreSQL):
after every apply no stored value changed unless the plan said so with force, the live columns match
the declaration, and applying the same definition again plans nothing. A step may also rename the
`note` field (`x-renamed-from`, back and forth between `note` and `memo`): its values follow it."""

import copy
import itertools
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from metacrm.errors import DestructiveChange
from metacrm.meta.objects import ObjectDef
from metacrm.store.columns import live_table, shape_of
from metacrm.store.tables import build_tables

BASE = {"$id": "item", "type": "object", "required": ["label"],
        "properties": {"label": {"x-field": "text", "maxLength": 30},
                       "note": {"x-field": "text", "maxLength": 20},
                       "qty": {"x-field": "integer"},
                       "price": {"x-field": "decimal", "x-precision": 10, "x-scale": 2}}}
ROWS = [{"label": "a" * 25, "note": "12", "qty": 5, "price": "123.45"},
        {"label": "b", "note": "hello world", "qty": 12345, "price": "0.10"},
        {"label": "c", "note": None, "qty": None, "price": None},
        {"label": "d" * 10, "note": "7", "qty": -3, "price": "99999.99"}]

DECLS = {
    "label": st.sampled_from([{"x-field": "text", "maxLength": n} for n in (5, 10, 25, 30, 80)]),
    "note": st.sampled_from([{"x-field": "text", "maxLength": 2}, {"x-field": "text", "maxLength": 40},
                             {"x-field": "integer"}, {"x-field": "textarea"}, None]),
    "qty": st.sampled_from([{"x-field": "integer"}, {"x-field": "decimal", "x-precision": 6, "x-scale": 2},
                            {"x-field": "decimal", "x-precision": 12, "x-scale": 2},
                            {"x-field": "text", "maxLength": 3}, None]),
    "price": st.sampled_from([{"x-field": "decimal", "x-precision": p, "x-scale": s}
                              for p, s in ((10, 2), (8, 1), (20, 4), (6, 2))] + [{"x-field": "text"}]),
}
RUNS = itertools.count(1)
STEP = st.tuples(st.fixed_dictionaries(DECLS), st.booleans(), st.booleans())
OTHER_NAME = {"note": "memo", "memo": "note"}


def snapshot(svc, name: str, note: str = "note") -> dict[int, dict[str, str | None]]:
    """Every stored value, as text, by record id: what must never change silently (`note` is read
    from the column it has now)."""
    with svc.engine.connect() as conn:
        rows = conn.execute(text(f"SELECT id, label, {note} AS note, qty, price FROM obj_{name}")).mappings().all()
    out = {}
    for r in rows:
        out[r["id"]] = {k: None if r[k] is None else _norm(r[k]) for k in ("label", "note", "qty", "price")}
    return out


def _norm(value) -> str:
    try:
        return str(Decimal(str(value).strip()).normalize())
    except Exception:
        return str(value)


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(steps=st.lists(STEP, min_size=1, max_size=4))
def test_random_changes_never_lose_data(services, apply_docs, steps):
    name = f"item{next(RUNS)}"  # a fresh object (and table) for every example
    base = copy.deepcopy(BASE) | {"$id": name}
    apply_docs(services, ("object", base))
    services.records.bulk_create(name, ROWS)
    note, note_declared = "note", True  # the column `note` lives in now; whether the last definition has it
    for decls, force, rename in steps:
        doc = copy.deepcopy(base)
        doc["properties"] = {k: v for k, v in decls.items() if v is not None and k != "note"}
        target = note
        if decls["note"] is not None:
            target = OTHER_NAME[note] if rename and note_declared else note
            doc["properties"][target] = dict(decls["note"]) | ({"x-renamed-from": note} if target != note else {})
        before = snapshot(services, name, note)
        try:
            apply_docs(services, ("object", doc), force=force)
        except DestructiveChange:
            assert snapshot(services, name, note) == before  # a refused apply changes nothing
            continue
        note, note_declared = target, decls["note"] is not None
        assert snapshot(services, name, note) == before  # every stored value survived, and followed a rename
        obj = ObjectDef.from_doc(doc)
        table = build_tables([obj])[name]
        with services.engine.connect() as conn:
            live = live_table(conn, table.name)
        for field in obj.fields:
            assert live.columns[field].shape == shape_of(table.c[field].type), field
        assert not apply_docs(services, ("object", doc)).changed
