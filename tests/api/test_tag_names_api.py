"""Tags in the users' language through the API (issue 15): PUT a tag definition named by its text
(复购客户, 30%_off) derives the key and keeps the text as the label in the caller's language; the
record tags endpoints and bulk update take labels; an ambiguous label is a 422 naming both keys."""

from __future__ import annotations

from urllib.parse import quote


def put_tag(admin, text, **extra):
    return admin.send("PUT", "/definitions/tag/" + quote(text, safe=""),
                      {"name": text, "objects": ["customer"], **extra})


def test_tags_created_and_added_by_label(admin, standard_pack):
    assert put_tag(admin, "复购客户").status_code == 200, put_tag(admin, "复购客户").json
    assert put_tag(admin, "30%_off").status_code == 200
    assert put_tag(admin, "复购客户").status_code == 422  # the same text again: a duplicate label
    listed = {d["name"]: d["body"] for d in admin.get("/definitions/tag").json["items"]}
    # the text is the label in the caller's language (the admin's own, English here)
    repeat = next(k for k, d in listed.items() if d["label"] == {"en": "复购客户"})
    assert repeat.startswith("tag_") and listed["tag_30_off"]["label"] == {"en": "30%_off"}

    rid = admin.post("/records/customer", {"name": "ACME"}).json["id"]
    r = admin.post(f"/records/customer/{rid}/tags", {"tags": ["复购客户", "30%_off"]})
    assert r.status_code == 200, r.json
    assert sorted(r.json["tags"]) == sorted([repeat, "tag_30_off"])
    r = admin.delete(f"/records/customer/{rid}/tags/" + quote("30%_off", safe=""))
    assert r.status_code == 200 and r.json["tags"] == [repeat]

    other = admin.post("/records/customer", {"name": "Beta"}).json["id"]
    r = admin.post("/records/customer/bulk-update", {"ids": [other], "add_tags": ["30%_off"]})
    assert r.status_code in (200, 204), r.json
    assert admin.get(f"/records/customer/{other}/tags").json["tags"] == ["tag_30_off"]


def test_ambiguous_label_is_a_422_naming_both_keys(admin):
    for key in ("gold_a", "gold_b"):
        r = admin.send("PUT", f"/definitions/tag/{key}",
                       {"name": key, "label": {"en": "Gold"}, "objects": ["customer"]})
        assert r.status_code == 200, r.json
    rid = admin.post("/records/customer", {"name": "ACME"}).json["id"]
    r = admin.post(f"/records/customer/{rid}/tags", {"tags": ["gold"]})
    assert r.status_code == 422
    assert r.json["errors"][0]["code"] == "ambiguous_tag"
    assert "gold_a" in r.json["errors"][0]["message"] and "gold_b" in r.json["errors"][0]["message"]
