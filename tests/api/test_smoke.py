def test_create_read_list(admin):
    r = admin.post("/records/lead", {"name": "Wang", "city": "shanghai", "score": 80})
    assert r.status_code == 201, r.json
    rid = r.json["id"]
    assert r.headers["ETag"] == '"1"'
    r = admin.get(f"/records/lead/{rid}")
    assert r.status_code == 200 and r.json["name"] == "Wang" and r.json["tags"] == []
    r = admin.get("/records/lead?count=true")
    assert r.json["count"] == 1
