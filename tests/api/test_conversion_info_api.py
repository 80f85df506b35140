"""GET /conversions/<object>: what the web app's conversion dialog shows (targets, labels, mapping)."""

from __future__ import annotations


def test_conversion_info_lists_targets_the_caller_may_create(make_user):
    rep = make_user("rep", grants=[(o, ["read", "create", "update"], "own")
                                   for o in ("lead", "customer", "account")])
    info = rep.get("/conversions/lead")
    assert info.status_code == 200, info.json
    conv = info.json["conversion"]
    keys = [t["key"] for t in conv["targets"]]
    assert keys == ["account", "customer"]  # no right to create opportunities: not offered
    customer = next(t for t in conv["targets"] if t["key"] == "customer")
    assert customer["optional"] is False and customer["fields"]["name"] == "name"
    assert customer["label"]["zh"] == "客户"
    assert rep.get("/conversions/customer").json == {"conversion": None}
    assert rep.get("/conversions/nope").status_code == 404
    reader = make_user("reader", grants=[("lead", ["read"], "all")])
    assert reader.get("/conversions/lead").status_code == 403
