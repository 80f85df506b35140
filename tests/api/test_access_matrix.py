"""The access matrix: role x scope x verb, field rules, and no leaks through counts, related
rules, timelines, tags or the OpenAPI document."""

import json
import time
from urllib.parse import quote

import pytest

VERBS = ("read", "create", "update", "delete")
OWNERS = ("me", "mate", "stranger")
VISIBLE = {"own": {"me"}, "team": {"me", "mate"}, "all": {"me", "mate", "stranger"}}


def q(rule):
    return quote(json.dumps(rule))


@pytest.fixture
def world(admin, make_user, standard_pack, apply_docs):
    """Leads owned by `me`, by a team mate and by a stranger; an activity of a stranger on my lead."""
    apply_docs(standard_pack,
               ("tag", {"name": "t_manual", "label": {"en": "Manual"}, "objects": ["lead"]}),
               ("segment", {"name": "s_all_leads", "label": {"en": "All"}, "object": "lead",
                            "rule": {"field": "name", "op": "is_not_empty"}}))
    mate = make_user("mate", teams=["east"])
    stranger = make_user("stranger", teams=["west"])
    owners = {"mate": mate.user_id, "stranger": stranger.user_id}

    def user_with(scope, verbs=VERBS, **kw):
        name = f"u_{scope}_{len(world_users)}"
        api = make_user(name, teams=["east"], grants=[("lead", verbs, scope), ("activity", ["read"], scope)], **kw)
        world_users.append(api)
        return api

    world_users = []
    return {"admin": admin, "owners": owners, "user_with": user_with}


def seed(world, me):
    """One lead per owner, each with a manual tag and an update; returns {owner: lead id}."""
    admin = world["admin"]
    owner_ids = {**world["owners"], "me": me.user_id}
    leads = {}
    for owner in OWNERS:
        r = admin.post("/records/lead", {"name": f"lead of {owner}", "owner_id": owner_ids[owner], "score": 50})
        leads[owner] = r.json["id"]
        assert admin.patch(f"/records/lead/{leads[owner]}", {"score": 60}, version=1).status_code == 200
        assert admin.post(f"/records/lead/{leads[owner]}/tags", {"tags": ["t_manual"]}).status_code == 200
    # a stranger's activity on my own lead: related rules must not count it for own/team scopes
    r = admin.post("/records/activity", {"subject": "call", "type": "call", "lead": leads["me"],
                                         "owner_id": owner_ids["stranger"]})
    assert r.status_code == 201
    return leads


@pytest.mark.parametrize("scope", ["own", "team", "all"])
def test_scope_limits_every_read(world, scope):
    me = world["user_with"](scope)
    leads = seed(world, me)
    seen = {o for o in OWNERS if VISIBLE[scope] >= {o}}
    hidden_ids = {leads[o] for o in OWNERS if o not in seen}
    listed = me.get("/records/lead?count=true&limit=1000").json
    assert {r["id"] for r in listed["items"]} == {leads[o] for o in seen}
    assert listed["count"] == len(seen)
    # filters cannot widen the scope
    rule = {"any": [{"field": "id", "op": "in", "value": list(leads.values())}, {"field": "score", "op": "gt", "value": 0}]}
    assert {r["id"] for r in me.get(f"/records/lead?filter={q(rule)}").json["items"]} == {leads[o] for o in seen}
    # a segment counts and lists only what the caller may see
    assert me.get("/segments/s_all_leads/count").json["count"] == len(seen)
    assert {r["id"] for r in me.get("/segments/s_all_leads/records").json["items"]} == {leads[o] for o in seen}
    # tag conditions too
    tag_rule = {"op": "has_tag", "value": "t_manual"}
    assert len(me.get(f"/records/lead?filter={q(tag_rule)}").json["items"]) == len(seen)
    for owner, rid in leads.items():
        expect = 200 if owner in seen else 404
        assert me.get(f"/records/lead/{rid}").status_code == expect
        assert me.get(f"/records/lead/{rid}/timeline").status_code == expect
        assert me.get(f"/records/lead/{rid}/tags").status_code == expect
        assert me.post(f"/records/lead/{rid}/tags", {"tags": ["t_manual"]}).status_code == expect
        assert me.patch(f"/records/lead/{rid}", {"score": 1}, version=2).status_code == expect
    for rid in hidden_ids:
        assert me.send("DELETE", f"/records/lead/{rid}", headers={"If-Match": '"2"'}).status_code == 404
        assert me.post(f"/records/lead/{rid}/restore").status_code == 404
        assert me.post("/records/lead/bulk-update", {"ids": [rid], "set": {"score": 2}}).status_code == 404
        assert me.send("DELETE", f"/records/lead/{rid}/tags/t_manual").status_code == 404
    # audit is for admins only
    assert me.get("/audit").status_code == 403


@pytest.mark.parametrize("scope", ["own", "team", "all"])
def test_related_rules_count_only_visible_related_records(world, scope):
    me = world["user_with"](scope)
    leads = seed(world, me)
    rule = {"related": {"object": "activity", "via": "lead"}, "agg": "exists"}
    got = {r["id"] for r in me.get(f"/records/lead?filter={q(rule)}").json["items"]}
    # the only activity belongs to the stranger: only an all-scope user may see it (and so match)
    assert got == ({leads["me"]} if scope == "all" else set())
    count_rule = {"related": {"object": "activity", "via": "lead"}, "agg": "count", "op": "gte", "value": 1}
    assert len(me.get(f"/records/lead?filter={q(count_rule)}").json["items"]) == (1 if scope == "all" else 0)
    admin_got = {r["id"] for r in world["admin"].get(f"/records/lead?filter={q(rule)}").json["items"]}
    assert admin_got == {leads["me"]}


@pytest.mark.parametrize("denied", VERBS)
def test_each_verb_is_allowed_or_denied_as_granted(world, denied):
    me = world["user_with"]("all", [v for v in VERBS if v != denied])
    leads = seed(world, me)
    rid = leads["me"]
    status = {
        "read": [me.get("/records/lead").status_code, me.get(f"/records/lead/{rid}").status_code,
                 me.get("/segments/s_all_leads/count").status_code, me.get("/objects/lead").status_code],
        "create": [me.post("/records/lead", {"name": "new"}).status_code,
                   me.post("/records/lead/bulk", {"records": [{"name": "new"}]}).status_code,
                   me.post("/forms/lead_default/submit", {"name": "new"}).status_code],
        "update": [me.patch(f"/records/lead/{rid}", {"score": 1}, version=2).status_code,
                   me.post("/records/lead/bulk-update", {"ids": [rid], "set": {"score": 3}}).status_code],
        "delete": [me.delete(f"/records/lead/{leads['mate']}", version=2).status_code],
    }
    for verb, codes in status.items():
        if verb == denied:
            assert all(c == 403 for c in codes), (verb, codes)
        elif denied != "read":
            assert all(c < 300 for c in codes), (verb, codes)
        else:  # without read, writes are refused too: nobody writes what they cannot see
            assert all(c == 403 for c in codes) or verb == "create", (verb, codes)
    objects = {o["name"] for o in me.get("/objects").json}
    assert ("lead" in objects) == (denied != "read")


def test_no_grant_means_no_access(world, make_user):
    nobody = make_user("nobody")
    leads = seed(world, world["user_with"]("all"))
    assert nobody.get("/objects").json == []
    assert nobody.get("/records/lead").status_code == 403
    assert nobody.get(f"/records/lead/{leads['me']}").status_code == 403
    assert nobody.get("/segments").json["items"] == []
    assert nobody.get("/segments/s_all_leads/count").status_code == 403
    assert nobody.post("/records/lead", {"name": "x"}).status_code == 403
    assert all(not p["read"] for p in nobody.get("/me").json["permissions"].values())
    assert not any(path.startswith("/records/") for path in nobody.get("/openapi.json").json["paths"])


@pytest.mark.parametrize("scope", ["own", "team"])
def test_owner_must_stay_in_scope(world, scope):
    me = world["user_with"](scope)
    mate, stranger = world["owners"]["mate"], world["owners"]["stranger"]
    assert me.post("/records/lead", {"name": "x", "owner_id": stranger}).status_code == 403
    r = me.post("/records/lead", {"name": "x", "owner_id": mate})
    assert r.status_code == (201 if scope == "team" else 403)
    rid = me.post("/records/lead", {"name": "mine"}).json["id"]
    assert me.patch(f"/records/lead/{rid}", {"owner_id": stranger}, version=1).status_code == 403
    assert me.post("/records/lead/bulk", {"records": [{"name": "a"}, {"name": "b", "owner_id": stranger}]}
                   ).json["errors"][0]["field"] == "/1/owner_id"


def test_hidden_and_readonly_fields(world, app):
    me = world["user_with"]("all", hidden={"lead": ["budget", "phone"]}, readonly={"lead": ["score"]})
    admin = world["admin"]
    rid = admin.post("/records/lead", {"name": "x", "budget": "100.00", "phone": "13800138000", "score": 5,
                                       "owner_id": me.user_id}).json["id"]
    admin.patch(f"/records/lead/{rid}", {"budget": "200.00", "score": 6}, version=1)
    record = me.get(f"/records/lead/{rid}").json
    assert "budget" not in record and "phone" not in record and record["score"] == 6
    assert all("budget" not in r for r in me.get("/records/lead").json["items"])
    assert me.get("/records/lead?fields=name,budget").status_code == 400
    assert me.get("/records/lead?sort=budget").status_code == 400
    rule = {"field": "budget", "op": "gt", "value": 1}
    r = me.get(f"/records/lead?filter={q(rule)}")
    assert r.status_code == 422 and r.json["errors"][0]["code"] == "forbidden_field"
    for data in ({"budget": "1.00"}, {"score": 1}, {"phone": "13800138001"}):
        r = me.patch(f"/records/lead/{rid}", data, version=2)
        assert r.status_code == 403 and r.json["errors"][0]["code"] == "readonly"
    assert me.post("/records/lead", {"name": "y", "budget": "1.00"}).status_code == 403
    assert me.patch(f"/records/lead/{rid}", {"name": "renamed"}, version=2).status_code == 200
    # the timeline shows that something changed, never the hidden values
    events = me.get(f"/records/lead/{rid}/timeline").json["items"]
    assert not any("budget" in json.dumps(e["changes"]) or "13800138000" in json.dumps(e["changes"]) for e in events)
    # /objects and the OpenAPI document leave hidden fields out; read-only ones out of inputs
    lead = me.get("/objects/lead").json
    assert "budget" not in lead["schema"]["properties"]
    assert {f["name"]: f["readonly"] for f in lead["fields"]}["score"] is True
    assert "budget" not in {f["name"] for f in lead["fields"]}
    doc = me.get("/openapi.json").json
    assert "budget" not in doc["components"]["schemas"]["lead"]["properties"]
    assert "score" in doc["components"]["schemas"]["lead"]["properties"]
    assert "score" not in doc["components"]["schemas"]["lead.create"]["properties"]
    me_perm = me.get("/me").json["permissions"]["lead"]
    assert me_perm["hidden_fields"] == ["budget", "phone"] and me_perm["readonly_fields"] == ["score"]


def test_roles_merge_generously(world, standard_pack, make_user):
    from metacrm.auth import accounts

    me = world["user_with"]("own", ["read"], hidden={"lead": ["budget", "notes"]})
    with standard_pack.engine.begin() as conn:
        rid = accounts.ensure_role(conn, "extra")
        accounts.grant(conn, rid, "lead", ["read", "update"], "team", hidden=["budget"])
        accounts.assign_role(conn, me.user_id, rid)
    perm = me.get("/me").json["permissions"]["lead"]
    assert perm["read"] and perm["update"] and not perm["delete"]
    assert perm["scope"] == "team" and perm["hidden_fields"] == ["budget"]


def test_definitions_need_admin(world):
    me = world["user_with"]("all")
    doc = world["admin"].get("/definitions/tag/t_manual").json
    assert me.get("/definitions/tag/t_manual").status_code == 200
    assert me.send("PUT", "/definitions/tag/t_manual", doc).status_code == 403
    assert me.post("/definitions/plan", {"definitions": [{"kind": "tag", "name": "t_manual", "body": doc}]}
                   ).status_code == 403
    doc["color"] = "#ff0000"
    r = world["admin"].send("PUT", "/definitions/tag/t_manual", doc)
    assert r.status_code == 200 and r.json["changed"]
    versions = world["admin"].get("/definitions/tag/t_manual/versions").json["items"]
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[1]["created_by"] == world["admin"].user_id
    assert world["admin"].get("/definitions/tag/t_manual/versions/2").json["body"]["color"] == "#ff0000"


@pytest.mark.parametrize("scope", ["own", "team", "all"])
def test_workspace_reads_stay_in_scope(world, scope):
    """Titles, lookup, home and the trash show only what the list would show."""
    me = world["user_with"](scope)
    leads = seed(world, me)
    seen = {leads[o] for o in OWNERS if VISIBLE[scope] >= {o}}
    titles = me.post("/titles", {"lead": list(leads.values())}).json["lead"]
    assert {int(i) for i in titles} == seen
    assert {i["id"] for i in me.get("/lookup/lead?q=lead%20of").json["items"]} == seen
    assert me.get("/objects/lead").json["permissions"]["delete"] is True
    for rid in leads.values():
        world["admin"].delete(f"/records/lead/{rid}", version=2)
    assert {r["id"] for r in me.get("/records/lead/trash").json["items"]} == seen
    assert me.post("/titles", {"lead": list(leads.values())}).json["lead"] == {}  # deleted: no titles


def test_workspace_needs_read(world, make_user):
    nobody = make_user("nobody")
    leads = seed(world, world["user_with"]("all"))
    assert nobody.post("/titles", {"lead": list(leads.values())}).json == {"lead": {}}
    assert nobody.get("/lookup/lead").status_code == 403
    assert nobody.get("/tags?object=lead").status_code == 403
    assert nobody.get("/records/lead/trash").status_code == 403
    assert nobody.get("/home").json["leads_due"] == [] and nobody.get("/home").json["opportunities_by_stage"] == []
    reader = world["user_with"]("all", ["read"])
    assert reader.get("/records/lead/trash").status_code == 403
    assert reader.get("/objects/lead").json["permissions"] == {"read": True, "create": False, "update": False,
                                                               "delete": False}
    paths = reader.get("/openapi.json").json["paths"]
    assert "/records/lead/trash" not in paths and "/titles" in paths and "/home" in paths


@pytest.mark.parametrize("scope", ["own", "team", "all"])
def test_conversion_and_views_respect_scope_and_verbs(world, scope, make_user):
    me = world["user_with"](scope)
    leads = seed(world, me)
    for owner, rid in leads.items():
        r = me.post(f"/records/lead/{rid}/convert", {})
        # no create grant on customer: refused for visible leads, absent for the others
        assert r.status_code == (403 if VISIBLE[scope] >= {owner} else 404), (owner, r.json)
    nobody = make_user("nobody_views")
    assert nobody.get("/views?object=lead").status_code == 403
    assert nobody.post("/views", {"object": "lead", "name": "x"}).status_code == 403
    assert nobody.post(f"/records/lead/{leads['me']}/convert", {}).status_code == 403
    assert me.post("/views", {"object": "lead", "name": "x", "columns": ["name"]}).status_code == 201
    assert "/views" in me.get("/openapi.json").json["paths"]


@pytest.mark.parametrize("scope", ["own", "team", "all"])
def test_background_export_counts_only_the_scope(world, scope):
    me = world["user_with"](scope)
    seed(world, me)
    job = me.post("/exports/lead", {"format": "csv"})
    assert job.status_code == 202
    for _ in range(600):
        body = me.get(f"/export-jobs/{job.json['id']}").json
        if body["status"] in ("done", "failed"):
            break
        time.sleep(0.05)
    assert body["status"] == "done" and body["rows_total"] == len(VISIBLE[scope])
    assert world["admin"].get(f"/export-jobs/{job.json['id']}").status_code == 404  # the owner's only
