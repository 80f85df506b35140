"""The data factory over HTTP: imports, error rows, templates, exports with permissions, dedupe review."""

from __future__ import annotations

import io

from openpyxl import Workbook, load_workbook


def _xlsx(rows) -> io.BytesIO:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    return out


def _upload(api, rows, **form):
    data = {"object": "lead", "file": (_xlsx(rows), "leads.xlsx"), **form}
    return api.client.post("/api/v1/imports?wait=true", data=data, headers=api._headers(None),
                           content_type="multipart/form-data")


ROWS = [["姓名", "手机号", "公司", "备注"], ["王小明", "13800000001", "Acme", "@cmd()"],
        ["王晓明", "13800000002", "Acme", None], ["", "123", None, None]]


def test_import_errors_and_status(admin):
    resp = _upload(admin, ROWS)
    assert resp.status_code == 200, resp.json
    job = resp.json
    assert (job["created"], job["failed"], job["flagged"], job["status"]) == (2, 1, 1, "done")
    assert admin.get(f"/imports/{job['id']}").json["percent"] == 100.0
    errors = admin.get(f"/imports/{job['id']}/errors?language=zh")
    assert errors.status_code == 200 and errors.mimetype.endswith("sheet")
    rows = list(load_workbook(io.BytesIO(errors.data)).active.iter_rows(values_only=True))
    assert rows[0][-1] == "错误" and rows[1][1] == "123"
    preview = admin.client.post("/api/v1/imports/preview", data={"object": "lead", "file": (_xlsx(ROWS), "a.xlsx")},
                                headers=admin._headers(None), content_type="multipart/form-data")
    assert preview.json["suggested_mapping"]["手机号"] == "phone" and preview.json["total_rows"] == 3


def test_hostile_upload_is_a_422(admin):
    data = {"object": "lead", "file": (io.BytesIO(b"not a zip"), "x.xlsx")}
    resp = admin.client.post("/api/v1/imports", data=data, headers=admin._headers(None),
                             content_type="multipart/form-data")
    assert resp.status_code == 422 and resp.json["errors"][0]["code"] == "not_xlsx"


def test_template_and_mapping_permissions(admin, make_user):
    clerk = make_user("clerk", grants=[("lead", ["read", "create"], "own")], readonly={"lead": ["notes"]})
    resp = clerk.send("PUT", "/import-templates/booth", {"object": "lead", "mapping": {"Who": "name", "N": "notes"}})
    assert resp.status_code == 403
    resp = clerk.send("PUT", "/import-templates/booth", {"object": "lead", "mapping": {"Who": "name"},
                                                         "constants": {"source_detail": "booth 7"}})
    assert resp.status_code == 200
    assert _upload(clerk, [["Who"], ["Ann"]], template="booth").json["created"] == 1
    assert _upload(clerk, ROWS).status_code == 403  # 备注 maps to notes, which the clerk may not write
    assert admin.get("/import-templates?object=lead").json["items"][0]["name"] == "booth"


def test_export_hides_fields_and_rows_outside_scope(admin, make_user, standard_pack):
    viewer = make_user("viewer", grants=[("lead", ["read"], "all")], hidden={"lead": ["phone"]})
    _upload(admin, ROWS)
    resp = viewer.get("/exports/lead?format=csv&language=zh")
    assert resp.status_code == 200
    text = resp.data.decode("utf-8-sig")
    assert "手机号" not in text and "13800000001" not in text and "'@cmd()" in text
    assert viewer.get('/exports/lead?filter={"field":"phone","op":"is_empty"}').status_code == 422
    resp = admin.get('/exports/lead?filter={"field":"name","op":"eq","value":"王小明"}')
    rows = list(load_workbook(io.BytesIO(resp.data)).active.iter_rows(values_only=True))
    assert len(rows) == 2 and "Mobile" in rows[0]


def test_dedupe_review_merge_and_undo(admin, make_user):
    _upload(admin, ROWS)
    assert admin.post("/dedupe/lead/scan?wait=true").json["pairs"] == 1
    queue = admin.get("/dedupe/lead/candidates").json
    assert queue["counts"]["pending"] == 1
    pair = queue["items"][0]
    assert pair["fields"] == ["company", "name"] and pair["left"]["name"] == "王小明"
    reader = make_user("reader", grants=[("lead", ["read"], "all")])
    assert reader.post(f"/dedupe/candidates/{pair['id']}/merge").status_code == 403
    merged = admin.post(f"/dedupe/candidates/{pair['id']}/merge", {"survivor_id": pair["right_id"]})
    assert merged.status_code == 200 and merged.json["merged_ids"] == [pair["left_id"]]
    assert admin.get(f"/records/lead/{pair['left_id']}").status_code == 404
    undone = admin.post(f"/dedupe/merges/{merged.json['id']}/undo")
    assert undone.status_code == 200 and undone.json["undone_at"]
    assert admin.get(f"/records/lead/{pair['left_id']}").status_code == 200
    assert admin.post(f"/dedupe/candidates/{pair['id']}/dismiss").json["status"] == "dismissed"


def _documented(doc, method, template, response):
    """Check a real response against what the OpenAPI document says this operation returns."""
    from jsonschema import Draft202012Validator, FormatChecker

    assert response.status_code < 500, response.json
    declared = doc["paths"][template][method]["responses"]
    entry = declared.get(str(response.status_code)) or declared["default"]
    content = entry.get("content", {})
    if response.status_code == 204:
        assert not content and not response.data
        return
    mimetype = response.mimetype
    assert mimetype in content, f"{method} {template}: {mimetype} not in {sorted(content)}"
    if not mimetype.endswith("json"):
        return
    schema = {**content[mimetype]["schema"], "components": doc["components"]}  # where its $refs point
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(response.json)]
    assert not errors, f"{method} {template} {response.status_code}: {errors[:5]}"


def test_documented_schemas_match_real_answers(admin):
    """Every data factory endpoint answers what /openapi.json says it answers (successes and problems)."""
    doc = admin.get("/openapi.json").json
    seen = []

    def check(method, template, response):
        _documented(doc, method, template, response)
        seen.append((method, template, response.status_code))
        return response

    job = check("post", "/imports", _upload(admin, ROWS)).json
    queued = admin.client.post("/api/v1/imports", data={"object": "lead", "file": (_xlsx(ROWS[:2]), "b.xlsx"),
                                                       "mapping": '{"姓名": "name"}'},
                               headers=admin._headers(None), content_type="multipart/form-data")
    check("post", "/imports", queued)
    assert queued.status_code == 202 and queued.json["mapping"] == {"姓名": "name"}
    check("post", "/imports/preview", admin.client.post(
        "/api/v1/imports/preview", data={"object": "lead", "file": (_xlsx(ROWS), "a.xlsx")},
        headers=admin._headers(None), content_type="multipart/form-data"))
    check("post", "/imports/preview", admin.client.post(
        "/api/v1/imports/preview", data={"object": "lead", "file": (io.BytesIO(b"x"), "a.pdf")},
        headers=admin._headers(None), content_type="multipart/form-data"))
    check("get", "/imports", admin.get("/imports"))
    check("get", "/imports/{job_id}", admin.get(f"/imports/{job['id']}"))
    check("get", "/imports/{job_id}", admin.get("/imports/99999"))
    check("post", "/imports/{job_id}/resume", admin.post(f"/imports/{job['id']}/resume?wait=true"))
    check("get", "/imports/{job_id}/errors", admin.get(f"/imports/{job['id']}/errors"))
    check("get", "/imports/{job_id}/errors", admin.get(f"/imports/{job['id']}/errors?format=csv"))
    check("get", "/imports/{job_id}/outcomes", admin.get(f"/imports/{job['id']}/outcomes"))
    check("put", "/import-templates/{name}", admin.send("PUT", "/import-templates/booth", {
        "object": "lead", "mapping": {"Who": "name", "Skip": None}, "constants": {"source_detail": "x"}, "label": "B"}))
    check("put", "/import-templates/{name}", admin.send("PUT", "/import-templates/bad", {
        "object": "lead", "mapping": {"Who": "no_such_field"}}))
    check("get", "/import-templates", admin.get("/import-templates"))
    check("delete", "/import-templates/{name}", admin.delete("/import-templates/booth"))
    check("get", "/exports/{object}", admin.get("/exports/lead"))
    check("get", "/exports/{object}", admin.get("/exports/lead?format=csv"))
    check("get", "/exports/{object}", admin.get("/exports/lead?format=pdf"))
    check("post", "/dedupe/{object}/scan", admin.post("/dedupe/lead/scan?wait=true"))
    queue = check("get", "/dedupe/{object}/candidates", admin.get("/dedupe/lead/candidates")).json
    pair = queue["items"][0]
    merged = check("post", "/dedupe/candidates/{candidate_id}/merge",
                   admin.post(f"/dedupe/candidates/{pair['id']}/merge")).json
    check("post", "/dedupe/candidates/{candidate_id}/merge", admin.post(f"/dedupe/candidates/{pair['id']}/merge"))
    check("get", "/dedupe/{object}/merges", admin.get(f"/dedupe/lead/merges?record={merged['survivor_id']}"))
    check("post", "/dedupe/merges/{merge_id}/undo", admin.post(f"/dedupe/merges/{merged['id']}/undo", {"force": False}))
    check("post", "/dedupe/candidates/{candidate_id}/dismiss", admin.post(f"/dedupe/candidates/{pair['id']}/dismiss"))
    again = check("post", "/dedupe/{object}/merge", admin.post("/dedupe/lead/merge", {
        "survivor_id": pair["left_id"], "ids": [pair["right_id"]]})).json
    assert again["merged_ids"] == [pair["right_id"]]
    check("post", "/dedupe/{object}/merge", admin.post("/dedupe/lead/merge", {"survivor_id": True, "ids": [1]}))
    check("post", "/dedupe/{object}/scan", admin.post("/dedupe/lead/scan"))
    statuses = {s for _, _, s in seen}
    assert {200, 202, 204, 404, 409, 422} <= statuses, statuses


def test_openapi_offers_each_caller_what_they_may_do(make_user):
    """Like the record paths: objects one may not import into, read or merge are not offered."""
    from openapi_spec_validator import validate

    reader = make_user("reader", grants=[("lead", ["read"], "all"), ("activity", ["read"], "own")])
    doc = reader.get("/openapi.json").json
    validate(doc)
    paths = doc["paths"]
    assert not any(p.startswith(("/imports", "/import-templates")) for p in paths)
    assert paths["/exports/{object}"]["get"]["parameters"][0]["schema"]["enum"] == ["activity", "lead"]
    assert paths["/dedupe/{object}/candidates"]["get"]["parameters"][0]["schema"]["enum"] == ["lead"]
    assert "/dedupe/{object}/scan" not in paths and "/dedupe/candidates/{candidate_id}/dismiss" not in paths
    clerk = make_user("clerk", grants=[("lead", ["read", "create"], "own"), ("activity", ["read"], "own")])
    upload = clerk.get("/openapi.json").json["paths"]["/imports"]["post"]["requestBody"]["content"]
    form = upload["multipart/form-data"]["schema"]
    assert form["properties"]["object"]["enum"] == ["lead"] and form["required"] == ["file", "object"]
    assert form["properties"]["file"]["format"] == "binary"
    nobody = make_user("nobody")
    assert not any(p.startswith(("/imports", "/exports", "/dedupe")) for p in nobody.get("/openapi.json").json["paths"])


def test_bad_data_factory_input_is_a_4xx(admin, make_user):
    post = admin.client.post
    assert admin.post("/imports", {"object": "lead"}).status_code == 415  # JSON, not multipart
    for field, value in (("mapping", "[1]"), ("mapping", '{"姓名": 5}'), ("constants", '"x"')):
        resp = post("/api/v1/imports", data={"object": "lead", "file": (_xlsx(ROWS), "a.xlsx"), field: value},
                    headers=admin._headers(None), content_type="multipart/form-data")
        assert resp.status_code == 422 and resp.json["errors"][0]["field"] == field, (field, value)
    resp = admin.send("PUT", "/import-templates/t", {"object": "lead", "mapping": ["name"]})
    assert resp.status_code == 422
    assert admin.send("PUT", "/import-templates/t", {"object": "lead", "label": "x" * 201}).status_code == 422
    assert admin.get(f"/imports/{2**64}").status_code == 404
    assert admin.post(f"/dedupe/merges/{2**64}/undo").status_code == 404
    assert admin.get(f"/dedupe/lead/merges?record={2**64}").status_code == 400
    assert admin.post("/dedupe/candidates/1/merge", {"survivor_id": "7"}).status_code == 422
    assert admin.send("PUT", "/import-templates/t", {"object": "lead", "mapping": {"Who": "name"}}).status_code == 200
    contacts = make_user("contacts", grants=[("activity", ["read", "create"], "own")])
    assert contacts.get("/import-templates").json["items"] == []  # the template is for leads
    assert admin.get("/import-templates").json["items"][0]["name"] == "t"
