"""Both back ends agree: random records and random rules, SQL answer == in-memory answer.

One generated pair of objects covers every field type (with a self-relation and a child object
for related-record rules) and manual tags. Each example writes a fresh random data set, then
checks several random rules at a random `now`-relative data spread and time zone, on SQLite and
on PostgreSQL.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select

from metacrm.engines.tag_store import tag_links
from metacrm.rules import matches, to_sql, validate_rule

EXAMPLES = int(os.environ.get("METACRM_AGREEMENT_EXAMPLES", "35"))
NOW = datetime(2026, 11, 26, 15, 30, tzinfo=UTC)
TODAY = date(2026, 11, 26)
ZONES = ["UTC", "Asia/Shanghai", "America/New_York"]
TEXTS = ["", "a", "A", "ab", "Ab", "b%", "a_b", "É", "é", "x y", "aB%"]
NEEDLES = ["a", "A", "b", "%", "_", "É", "é", "ab", "B%"]

ITEM = {
    "$id": "pt_item", "type": "object",
    "properties": {
        "t": {"x-field": "text", "maxLength": 20},
        "s": {"x-field": "select", "enum": ["a", "b", "c"]},
        "n": {"x-field": "integer"},
        "d": {"x-field": "decimal", "x-precision": 12, "x-scale": 2},
        "b": {"x-field": "boolean"},
        "dt": {"x-field": "date"},
        "ts": {"x-field": "datetime"},
        "m": {"x-field": "multiselect", "items": {"type": "string", "enum": ["x", "y", "z"]}},
        "j": {"x-field": "json", "type": "object"},
        "parent": {"x-field": "relation", "x-target": "pt_item"},
    },
}
CHILD = {
    "$id": "pt_child", "type": "object",
    "properties": {
        "item": {"x-field": "relation", "x-target": "pt_item"},
        "k": {"x-field": "integer"},
        "amount": {"x-field": "decimal", "x-precision": 12, "x-scale": 2},
        "w": {"x-field": "datetime"},
        "c": {"x-field": "select", "enum": ["p", "q"]},
    },
}
TAGS = [("tag", {"name": n, "label": {"en": n}, "objects": ["pt_item"]}) for n in ("t1", "t2")]

# --- values ------------------------------------------------------------------------------------

maybe = lambda s: st.one_of(st.none(), s)  # noqa: E731
decimals = st.integers(-20, 20).map(lambda i: Decimal(i) / 4)
days = st.integers(-40, 40).map(lambda d: TODAY + timedelta(days=d))
instants = st.integers(-40 * 24 * 4, 40 * 24 * 4).map(lambda q: NOW + timedelta(minutes=15 * q + 7))
choices = lambda xs: st.sampled_from(xs)  # noqa: E731

item_values = st.fixed_dictionaries({
    "t": maybe(choices(TEXTS)), "s": maybe(choices(["a", "b", "c"])), "n": maybe(st.integers(-3, 3)),
    "d": maybe(decimals), "b": maybe(st.booleans()), "dt": maybe(days), "ts": maybe(instants),
    "m": maybe(st.lists(choices(["x", "y", "z"]), unique=True, max_size=3)),
    "j": maybe(st.sampled_from([{}, {"a": 1}])),
    "deleted": st.booleans().map(lambda b: b and False),
})
child_values = st.fixed_dictionaries({
    "k": maybe(st.integers(-3, 3)), "amount": maybe(decimals), "w": maybe(instants),
    "c": maybe(choices(["p", "q"])), "deleted": st.integers(0, 4).map(lambda i: i == 0),
})

# --- rules -------------------------------------------------------------------------------------

iso_day = days.map(lambda d: d.isoformat())
iso_instant = instants.map(lambda t: t.isoformat().replace("+00:00", "Z"))
spans = st.fixed_dictionaries({"amount": st.integers(0, 45), "unit": choices(["day", "week", "month"])})


def _order(v):
    if isinstance(v, str) and v[:4].isdigit() and "-" in v[1:]:
        return datetime.fromisoformat(v if "T" in v else v + "T00:00:00+00:00")
    return Decimal(str(v)) if isinstance(v, (str, float)) else v


def some(values, max_size, unique=False):
    """A rule's list of values; one in ten is empty (an empty multi-select: a constant condition)."""
    return st.tuples(st.lists(values, min_size=1, max_size=max_size, unique=unique), st.integers(0, 9)).map(
        lambda t: [] if t[1] == 0 else t[0])


def pair(s):
    return st.lists(s, min_size=2, max_size=2).map(lambda xs: sorted(xs, key=_order))


def number_ops(values):
    return st.one_of(
        st.tuples(choices(["eq", "ne", "lt", "lte", "gt", "gte"]), values),
        st.tuples(choices(["in", "not_in"]), some(values, 3)),
        st.tuples(st.just("between"), pair(values)),
        st.tuples(choices(["is_empty", "is_not_empty"]), st.none()),
    )


def date_ops(values):
    return st.one_of(
        st.tuples(choices(["eq", "ne", "lt", "lte", "gt", "gte", "before", "after"]), values),
        st.tuples(st.just("between"), pair(values)),
        st.tuples(choices(["within_last", "within_next"]), spans),
        st.tuples(st.just("on_weekday"), st.lists(st.integers(1, 7), min_size=1, max_size=3, unique=True)),
        st.tuples(choices(["this_month", "is_empty", "is_not_empty"]), st.none()),
    )


rule_decimals = st.one_of(decimals.map(str), st.sampled_from(["0.125", "-1.005", "2.49", 1, 0.5]))
OPS = {
    "t": st.one_of(st.tuples(choices(["eq", "ne", "contains", "starts_with"]), choices(NEEDLES)),
                   st.tuples(choices(["in", "not_in"]), some(choices(NEEDLES), 3)),
                   st.tuples(choices(["is_empty", "is_not_empty"]), st.none())),
    "s": st.one_of(st.tuples(choices(["eq", "ne"]), choices(["a", "b", "c"])),
                   st.tuples(choices(["in", "not_in"]), some(choices(["a", "b", "c"]), 2)),
                   st.tuples(choices(["is_empty", "is_not_empty"]), st.none())),
    "n": number_ops(st.integers(-3, 3)),
    "id": number_ops(st.integers(1, 8)),
    "d": number_ops(rule_decimals),
    "b": st.one_of(st.tuples(choices(["eq", "ne"]), st.booleans()),
                   st.tuples(choices(["is_empty", "is_not_empty"]), st.none())),
    "dt": date_ops(iso_day),
    "ts": date_ops(st.one_of(iso_day, iso_instant)),
    "m": st.one_of(st.tuples(choices(["has_any", "has_all"]),
                             some(choices(["x", "y", "z"]), 3, unique=True)),
                   st.tuples(choices(["is_empty", "is_not_empty"]), st.none())),
    "j": st.tuples(choices(["is_empty", "is_not_empty"]), st.none()),
    "parent": st.one_of(st.tuples(choices(["eq", "ne"]), st.integers(1, 8)),
                        st.tuples(choices(["is_empty", "is_not_empty"]), st.none())),
}
CHILD_OPS = {
    "k": number_ops(st.integers(-3, 3)),
    "w": date_ops(st.one_of(iso_day, iso_instant)),
    "c": st.tuples(choices(["eq", "ne"]), choices(["p", "q"])),
}


def comparison(ops):
    return st.sampled_from(sorted(ops)).flatmap(
        lambda f: ops[f].map(lambda ov: {"field": f, "op": ov[0]} | ({} if ov[1] is None else {"value": ov[1]})))


child_rule = st.recursive(comparison(CHILD_OPS), lambda inner: st.one_of(
    st.lists(inner, min_size=1, max_size=2).map(lambda xs: {"all": xs}),
    inner.map(lambda r: {"not": r})), max_leaves=3)
related = st.one_of(
    st.builds(lambda via, w: {"related": {"object": via[0], "via": via[1]}, "agg": "exists"} | w,
              choices([("pt_child", "item"), ("pt_item", "parent")]),
              st.one_of(st.just({}), child_rule.map(lambda r: {"where": r}))).filter(
        lambda r: r["related"]["object"] == "pt_child" or "where" not in r),
    st.builds(lambda op, w: {"related": {"object": "pt_child", "via": "item"}, "agg": "count"} | op | w,
              number_ops(st.integers(0, 3)).filter(lambda ov: ov[0] not in ("is_empty", "is_not_empty")).map(
                  lambda ov: {"op": ov[0], "value": ov[1]}),
              st.one_of(st.just({}), child_rule.map(lambda r: {"where": r}))),
    st.builds(lambda agg, ov: {"related": {"object": "pt_child", "via": "item"}, "agg": agg, "field": "amount",
                               "op": ov[0]} | ({} if ov[1] is None else {"value": ov[1]}),
              choices(["sum", "max", "min"]), number_ops(rule_decimals)).filter(
        lambda r: not (r["agg"] == "sum" and r["op"] in ("is_empty", "is_not_empty"))),
    st.builds(lambda ov: {"related": {"object": "pt_child", "via": "item"}, "agg": "max", "field": "w",
                          "op": ov[0]} | ({} if ov[1] is None else {"value": ov[1]}),
              date_ops(st.one_of(iso_day, iso_instant))),
)
tag_rule = st.builds(lambda op, t: {"op": op, "value": t}, choices(["has_tag", "not_has_tag"]), choices(["t1", "t2"]))
leaf = st.one_of(comparison(OPS), comparison(OPS), related, tag_rule)
rules = st.recursive(leaf, lambda inner: st.one_of(
    st.lists(inner, min_size=1, max_size=3).map(lambda xs: {"all": xs}),
    st.lists(inner, min_size=1, max_size=3).map(lambda xs: {"any": xs}),
    inner.map(lambda r: {"not": r})), max_leaves=6)

data_sets = st.fixed_dictionaries({
    "items": st.lists(item_values, min_size=1, max_size=8),
    "children": st.lists(st.tuples(st.integers(1, 8), child_values), max_size=10),
    "links": st.lists(st.tuples(st.integers(1, 8), choices(["t1", "t2"])), max_size=6, unique=True),
    "parents": st.lists(st.integers(0, 8), min_size=8, max_size=8),
})


def _system(i: int, deleted: bool) -> dict:
    return {"id": i, "created_at": NOW - timedelta(days=i * 3), "updated_at": NOW, "version": 1,
            "owner_id": None, "created_by": None, "deleted_at": NOW if deleted else None}


def _load(conn, snap, data):
    items, children = snap.tables["pt_item"], snap.tables["pt_child"]
    conn.execute(delete(children))
    conn.execute(update_parents_null(items))
    conn.execute(delete(items))
    conn.execute(delete(tag_links).where(tag_links.c.object == "pt_item"))
    n = len(data["items"])
    rows = []
    for i, v in enumerate(data["items"], start=1):
        row = {k: v[k] for k in ITEM["properties"] if k != "parent"} | _system(i, v["deleted"])
        parent = data["parents"][i - 1]
        row["parent"] = parent if 0 < parent <= n else None
        rows.append(row)
    conn.execute(insert(items), [r | {"parent": None} for r in rows])
    for r in rows:
        if r["parent"] is not None:
            conn.execute(items.update().where(items.c.id == r["id"]).values(parent=r["parent"]))
    kids = [{k: v[k] for k in ("k", "amount", "w", "c")} | {"item": item} | _system(j, v["deleted"])
            for j, (item, v) in enumerate(data["children"], start=1) if item <= n]
    if kids:
        conn.execute(insert(children), kids)
    links = [{"object": "pt_item", "record_id": rid, "tag": tag, "source": "manual", "created_at": NOW}
             for rid, tag in data["links"] if rid <= n]
    if links:
        conn.execute(insert(tag_links), links)


def update_parents_null(items):
    return items.update().values(parent=None)


def test_sql_and_memory_agree(services, apply_docs):
    apply_docs(services, ("object", ITEM), ("object", CHILD), *TAGS)
    snap = services.registry.current()
    table = snap.tables["pt_item"]
    obj = snap.objects["pt_item"]
    checked = {"rules": 0, "matched": 0, "split": 0}

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(data=data_sets, rule_list=st.lists(rules, min_size=1, max_size=4), tz=choices(ZONES),
           shift=st.integers(-3, 3))
    def check(data, rule_list, tz, shift):
        now = NOW + timedelta(hours=7 * shift)
        with services.engine.begin() as conn:
            _load(conn, snap, data)
            records = [services.records.to_dict(obj, r._mapping) for r in conn.execute(select(table))]
            for rule in rule_list:
                assert validate_rule(rule, "pt_item", snap) == [], rule
                in_sql = set(conn.execute(select(table.c.id).where(
                    to_sql(rule, "pt_item", snap, now=now, tz=tz))).scalars())
                in_memory = {r["id"] for r in records if matches(rule, r, "pt_item", snap, conn, now=now, tz=tz)}
                assert in_sql == in_memory, (rule, tz, now)
                checked["rules"] += 1
                checked["matched"] += len(in_sql)
                checked["split"] += 0 < len(in_sql) < len(records)

    check()
    assert checked["rules"] >= EXAMPLES
    assert checked["matched"] > 0
    assert checked["split"] >= checked["rules"] // 10, checked  # the rules do separate records
