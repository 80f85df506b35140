"""Explicit nulls (issue 23): generated clients send every nullable field, so a null must never
silently wipe or bypass a default. Fields with a default (status, consent_marketing) and required
fields refuse null on create, update and bulk create; optional fields without a default still
clear with null; owner_id null stays an unowned record (the pool)."""

from __future__ import annotations


def _fields(resp):
    return {e["field"] for e in resp.json["errors"]}


def test_null_on_a_defaulted_field_is_refused_on_create(admin):
    r = admin.post("/records/lead", {"name": "Ana", "status": None, "consent_marketing": None})
    assert r.status_code == 422 and _fields(r) == {"status", "consent_marketing"}
    r = admin.post("/records/lead/bulk", {"records": [{"name": "A"}, {"name": "B", "status": None}]})
    assert r.status_code == 422 and _fields(r) == {"/1/status"}
    assert admin.get("/records/lead").json["items"] == []
    # left out, the default applies
    created = admin.post("/records/lead", {"name": "Ana", "city": None, "phone": None})
    assert created.status_code == 201 and created.json["status"] == "new" and created.json["consent_marketing"] is False


def test_patch_to_null_of_a_defaulted_or_required_field_is_a_422_and_changes_nothing(admin):
    lead = admin.post("/records/lead", {"name": "Ana", "city": "shanghai", "phone": "13800138000",
                                        "score": 40, "status": "contacted"}).json
    path = f"/records/lead/{lead['id']}"
    for body in ({"status": None}, {"name": None}, {"consent_marketing": None},
                 {"status": None, "city": None, "phone": None, "score": None}):
        r = admin.patch(path, body, version=1)
        assert r.status_code == 422 and _fields(r) == {k for k in body if k in ("status", "name", "consent_marketing")}
    kept = admin.get(path).json
    assert (kept["version"], kept["status"], kept["city"], kept["phone"], kept["score"]) == (
        1, "contacted", "shanghai", "+8613800138000", 40)
    # optional fields without a default still clear with null, and owner_id null leaves it unowned
    cleared = admin.patch(path, {"city": None, "score": None, "owner_id": None}, version=1)
    assert cleared.status_code == 200
    assert (cleared.json["city"], cleared.json["score"], cleared.json["owner_id"]) == (None, None, None)
    assert cleared.json["status"] == "contacted"
