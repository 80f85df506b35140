"""Global search never matches a field hidden from the caller, on both databases (on PostgreSQL the
candidates still come through the one trigram index; the hidden-field match is dropped after)."""

from __future__ import annotations

from metacrm.engines.search import visible_match


def _hits(who, q):
    r = who.get("/search", query_string={"q": q})
    assert r.status_code == 200, r.json
    return {(g["object"], i["id"]) for g in r.json["groups"] for i in g["items"]}


def test_a_hidden_phone_or_email_finds_nothing_but_the_name_still_does(admin, make_user):
    me = make_user("me", grants=[("lead", ["read"], "all")], hidden={"lead": ["phone", "email"]})
    lead = admin.post("/records/lead", {"name": "Zhou Min", "phone": "+86 139 8765 4321",
                                        "email": "zhou.min@example.com"}).json["id"]
    assert ("lead", lead) in _hits(admin, "4321")
    assert ("lead", lead) in _hits(admin, "zhou.min@")
    assert ("lead", lead) not in _hits(me, "4321")
    assert ("lead", lead) not in _hits(me, "13987654321")
    assert ("lead", lead) not in _hits(me, "zhou.min@")
    assert ("lead", lead) in _hits(me, "zhou m")
    assert ("lead", lead) in _hits(me, "zh")  # a word start under 3 characters


def test_visible_match_is_the_index_expression_on_the_visible_values():
    assert visible_match(["Zhou Min", "+8613987654321"], "4321", "4321")
    assert visible_match(["Zhou Min"], "min", "")
    assert visible_match(["Zhou Min"], "mi", "")
    assert not visible_match(["Zhou Min"], "in", "")  # under 3 characters: word starts only
    assert not visible_match(["Zhou Min"], "4321", "4321")
    assert visible_match(["+862161234567"], "021-6123 4567", "02161234567")  # the trunk 0 dropped
