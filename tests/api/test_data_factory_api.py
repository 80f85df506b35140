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
