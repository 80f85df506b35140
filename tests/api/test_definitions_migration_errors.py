"""Plan/apply through the API: refusals are 4xx with short messages citing values, never a 500."""

import json


def test_put_with_a_duplicate_key_is_refused_like_a_pack_file(admin):
    body = '{"$id": "gadget", "type": "object", "properties": {"name": {"x-field": "text"}}, "type": "object"}'
    res = admin.client.put("/api/v1/definitions/object/gadget", data=body, content_type="application/json",
                           headers={"Authorization": f"Bearer {admin.token}"})
    assert res.status_code == 400
    assert res.json["errors"][0]["code"] == "duplicate_key" and "'type'" in res.json["errors"][0]["message"]
    assert admin.get("/definitions/object/gadget").status_code == 404
    plan = '{"definitions": [], "definitions": []}'
    res = admin.client.post("/api/v1/definitions/plan", data=plan, content_type="application/json",
                            headers={"Authorization": f"Bearer {admin.token}"})
    assert res.status_code == 400 and res.json["errors"][0]["code"] == "duplicate_key"


def test_a_change_that_would_lose_data_is_a_409_citing_the_values(admin):
    doc = {"$id": "gadget", "type": "object", "properties": {"code": {"x-field": "text", "maxLength": 40}}}
    assert admin.send("PUT", "/definitions/object/gadget", doc).status_code == 200
    assert admin.post("/records/gadget", {"code": "x" * 30}).status_code == 201
    assert admin.post("/records/gadget", {"code": "abc"}).status_code == 201
    to_int = json.loads(json.dumps(doc))
    to_int["properties"]["code"] = {"x-field": "integer"}
    res = admin.send("PUT", "/definitions/object/gadget?force=true", to_int)
    assert res.status_code == 409, res.json
    messages = " ".join(p["message"] for p in res.json["errors"])
    assert "2 stored value(s) would not convert" in messages and "'abc'" in messages
    assert len(res.get_data()) < 2000
    # a default a unique field cannot give to several records: refused, not a 500
    unique = json.loads(json.dumps(doc))
    unique["properties"]["serial"] = {"x-field": "text", "x-unique": True, "default": "S"}
    res = admin.send("PUT", "/definitions/object/gadget?force=true", unique)
    assert res.status_code == 409 and res.json["errors"][0]["code"] == "unique_default_on_filled_table"


def test_removing_a_field_a_segment_uses_is_a_409_listing_it(admin):
    doc = {"$id": "gizmo", "type": "object", "properties": {"name": {"x-field": "text"}, "size": {"x-field": "integer"}}}
    assert admin.send("PUT", "/definitions/object/gizmo", doc).status_code == 200
    seg = {"name": "big_gizmos", "label": {"en": "Big"}, "object": "gizmo", "rule": {"field": "size", "op": "gt", "value": 9}}
    assert admin.send("PUT", "/definitions/segment/big_gizmos", seg).status_code == 200
    smaller = {**doc, "properties": {"name": {"x-field": "text"}}}
    res = admin.send("PUT", "/definitions/object/gizmo", smaller)
    assert res.status_code == 409, res.json
    used = [e for e in res.json["errors"] if e["code"] == "field_in_use"]
    assert [e["field"] for e in used] == ["segment/big_gizmos#/rule/field"]
    assert admin.send("PUT", "/definitions/object/gizmo?force=true", smaller).status_code == 200
