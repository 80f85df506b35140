"""Whatever a client sends, the answer is a 4xx problem+json, never a 500."""

import base64
import json

import pytest


def problem(r, status):
    assert r.status_code == status, (r.status_code, r.data[:300])
    assert r.mimetype == "application/problem+json"
    assert {"type", "title", "status", "code", "errors"} <= set(r.json)
    return r.json


def raw(api, method, path, data, content_type="application/json", headers=None):
    h = {"Authorization": f"Bearer {api.token}", **(headers or {})}
    return api.client.open("/api/v1" + path, method=method, data=data, content_type=content_type, headers=h)


@pytest.mark.parametrize("body", [
    b"{", b"", b"nul", b'{"name": NaN}', b'{"name": "x", "score": Infinity}', b'{"score": -Infinity}',
    b"\xff\xfe{}", b'{"name": "\\ud800"}' + b"x" * 0, b"[" * 100000 + b"]" * 100000,
])
def test_malformed_json_is_400(admin, body):
    r = raw(admin, "POST", "/records/lead", body)
    assert r.status_code in (400, 422), r.data[:200]
    assert r.mimetype == "application/problem+json"


@pytest.mark.parametrize("body", [b"[]", b'"x"', b"1", b"null", b"true"])
def test_body_of_wrong_json_type_is_400(admin, body):
    problem(raw(admin, "POST", "/records/lead", body), 400)
    problem(raw(admin, "PATCH", "/records/lead/1", body, headers={"If-Match": '"1"'}), 400)


def test_not_json_is_415(admin):
    problem(raw(admin, "POST", "/records/lead", b"name=x", "application/x-www-form-urlencoded"), 415)
    problem(raw(admin, "POST", "/records/lead", b'{"name": "x"}', "text/plain"), 415)


def test_huge_body_is_413(admin):
    big = json.dumps({"name": "x", "notes": "a" * (11 * 1024 * 1024)}).encode()
    problem(raw(admin, "POST", "/records/lead", big), 413)


@pytest.mark.parametrize("data", [
    {"name": 5}, {"name": ["x"]}, {"name": "x", "score": "high"}, {"name": "x", "score": 1.5},
    {"name": "x", "score": 10**30}, {"name": "x", "budget": "1e400"}, {"name": "x", "budget": 1e300},
    {"name": "x", "owner_id": 10**20}, {"name": "x", "channel": 10**20}, {"name": "x", "channel": -1},
    {"name": "x", "interests": "food"}, {"name": "x", "interests": [1]}, {"name": "x", "captured_at": "yesterday"},
    {"name": "x", "next_follow_up": "2024-02-30"}, {"name": "x", "consent_marketing": "yes"},
    {"name": "x\u0000y"}, {"name": "x", "unknown": 1}, {"name": None},
])
def test_wrong_types_are_4xx(admin, data):
    r = admin.post("/records/lead", data)
    assert r.status_code in (400, 422), (data, r.status_code)
    problem(r, r.status_code)


def test_unknown_objects_and_ids(admin):
    problem(admin.get("/records/nope"), 404)
    problem(admin.post("/records/nope", {"a": 1}), 404)
    problem(admin.get("/records/lead/999999"), 404)
    problem(admin.get(f"/records/lead/{2**63}"), 404)
    problem(admin.get(f"/records/lead/{10**30}"), 404)
    problem(admin.get("/records/lead/0"), 404)
    problem(admin.get("/records/lead/-1"), 404)
    problem(admin.get("/records/lead/abc"), 404)
    problem(admin.get("/objects/" + "x" * 300), 404)
    problem(admin.get("/definitions/nope"), 404)
    problem(admin.get("/definitions/object/nope"), 404)
    problem(admin.get("/segments/nope/count"), 404)


@pytest.mark.parametrize("query", [
    "limit=0", "limit=1001", "limit=abc", "limit=-1", "limit=1e3", "count=maybe", "sort=nope", "sort=-",
    "sort=name,name", "sort=interests", "sort=notes", "fields=nope", "fields=,", "filter=%7B", "filter=[]",
    "filter=null", "filter=%7B%22field%22:%22nope%22,%22op%22:%22eq%22,%22value%22:1%7D",
    "filter=%7B%22field%22:%22score%22,%22op%22:%22eq%22,%22value%22:%22high%22%7D",
    "filter=%7B%22field%22:%22score%22,%22op%22:%22eq%22,%22value%22:NaN%7D",
    "filter=%7B%22field%22:%22score%22,%22op%22:%22gt%22,%22value%22:1e999%7D",
    "filter=%7B%22field%22:%22channel%22,%22op%22:%22eq%22,%22value%22:99999999999999999999999%7D",
    "cursor=!!!", "cursor=abc", "cursor=" + base64.urlsafe_b64encode(b"[1,2]").decode(),
    "cursor=" + base64.urlsafe_b64encode(b'["x"]').decode(),
    "cursor=" + base64.urlsafe_b64encode(b"[1e999]").decode(),
    "cursor=" + base64.urlsafe_b64encode(b"[NaN]").decode(),
    "cursor=" + base64.urlsafe_b64encode(b"[99999999999999999999999]").decode(),
    "cursor=" + base64.urlsafe_b64encode(b"[null]").decode(),
    "sort=score&cursor=" + base64.urlsafe_b64encode(b'["abc", 1]').decode(),
    "sort=captured_at&cursor=" + base64.urlsafe_b64encode(b'["noon", 1]').decode(),
    "sort=-created_at&cursor=" + base64.urlsafe_b64encode(b'["2024-01-01", 1]').decode(),
    "sort=consent_marketing&cursor=" + base64.urlsafe_b64encode(b'[1, 1]').decode(),
])
def test_bad_list_parameters_are_4xx(admin, query):
    admin.post("/records/lead", {"name": "x"})
    r = admin.get("/records/lead?" + query)
    assert 400 <= r.status_code < 500, (query, r.status_code, r.data[:300])
    assert r.mimetype == "application/problem+json"


@pytest.mark.parametrize("header", ["abc", '"x"', '"99999999999999999999"', "*", ""])
def test_bad_if_match_is_4xx(admin, header):
    rid = admin.post("/records/lead", {"name": "x"}).json["id"]
    r = admin.send("PATCH", f"/records/lead/{rid}", {"score": 1}, headers={"If-Match": header})
    assert 400 <= r.status_code < 500 and r.mimetype == "application/problem+json"


def test_bad_bulk_bodies(admin):
    for body in ({}, {"records": []}, {"records": {}}, {"records": "x"}, {"records": [1, 2]},
                 {"records": [{"name": "a"}], "skip_invalid": "yes"}):
        r = admin.post("/records/lead/bulk", body)
        assert r.status_code in (400, 422), (body, r.data)
    for body in ({}, {"ids": "1"}, {"ids": [True]}, {"ids": ["1"]}, {"ids": [1], "set": []},
                 {"ids": [1], "add_tags": "vip"}, {"ids": []}, {"ids": [10**30]}, {"ids": [0]}):
        r = admin.post("/records/lead/bulk-update", body)
        assert 400 <= r.status_code < 500, (body, r.data)


def test_bad_definition_bodies(admin):
    problem(admin.send("PUT", "/definitions/object/x", {"$id": "y"}), 422)
    r = admin.send("PUT", "/definitions/object/x", {"$id": "x", "type": "object", "properties": {"a": {}}})
    assert r.status_code == 422
    for body in ({}, {"definitions": []}, {"definitions": [1]}, {"definitions": [{"kind": "nope", "name": "a",
                                                                                  "body": {}}]}):
        r = admin.post("/definitions/plan", body)
        assert 400 <= r.status_code < 500, (body, r.data)


def test_bad_login_bodies(anonymous):
    for body in ({}, {"username": 1, "password": 2}, {"username": "a" * 10000, "password": "b"},
                 {"username": "admin", "password": "x" * 5000}):
        r = anonymous.post("/auth/login", body)
        assert r.status_code in (400, 401), r.data


@pytest.mark.parametrize("path", ["/users?q=a%00b", "/audit?object=%00", "/definitions/object/a%00/versions",
                                  "/records/lead?sort=na%00me", "/records/le%00ad"])
def test_nul_in_url_is_400(admin, path):
    problem(admin.get(path), 400)


def test_nul_in_json_values_is_400(admin):
    problem(admin.post("/records/lead", {"name": "a", "notes": "x\u0000"}), 400)
    problem(admin.post("/records/customer", {"name": "a", "extra": {"k": "\u0000"}}), 400)
    problem(admin.post("/records/lead", {"name": "a", "owner_id": 1.5}), 422)
    assert admin.post("/records/lead", {"name": "a", "owner_id": float(admin.user_id)}).status_code == 201
