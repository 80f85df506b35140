"""Long exports as background jobs: progress, scope and hidden fields of the owner, owner-only file."""

from __future__ import annotations

import csv
import io
import time

from metacrm.engines import exports


def wait(api, export_id, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = api.get(f"/export-jobs/{export_id}").json
        if body["status"] in ("done", "failed"):
            return body
        time.sleep(0.05)
    raise AssertionError(body)


def test_background_export_in_scope_with_progress(admin, make_user, monkeypatch):
    monkeypatch.setattr(exports, "STREAM_ROWS", 10)  # several progress steps
    rep = make_user("rep", grants=[("lead", ["read", "create"], "own")], hidden={"lead": ["budget"]})
    other = make_user("other", grants=[("lead", ["read"], "all")])
    rows = [{"name": f"lead {i}", "city": "shanghai" if i % 2 else "beijing"} for i in range(45)]
    assert rep.post("/records/lead/bulk", {"records": rows}).status_code == 201
    admin.post("/records/lead", {"name": "not rep's", "city": "shanghai"})
    r = rep.post("/exports/lead", {"format": "csv", "rule": {"field": "city", "op": "eq", "value": "shanghai"},
                                   "columns": ["name", "city"]})
    assert r.status_code == 202, r.json
    assert r.json["status"] in ("pending", "running", "done") and set(r.json) >= {"id", "rows_done", "rows_total",
                                                                                   "error"}
    done = wait(rep, r.json["id"])
    assert done["status"] == "done" and done["rows_done"] == done["rows_total"] == 22
    file = rep.get(f"/export-jobs/{done['id']}/file")
    assert file.status_code == 200 and file.mimetype.startswith("text/csv")
    table = list(csv.reader(io.StringIO(file.data.decode("utf-8-sig"))))
    file.close()
    assert len(table) == 23 and all(row[0].startswith("lead ") for row in table[1:])
    assert other.get(f"/export-jobs/{done['id']}").status_code == 404  # owner only
    assert other.get(f"/export-jobs/{done['id']}/file").status_code == 404
    whole = wait(rep, rep.post("/exports/lead", {"format": "xlsx"}).json["id"])
    assert whole["rows_total"] == 45  # own scope: not the admin's lead


def test_bad_export_requests(make_user):
    rep = make_user("rep2", grants=[("lead", ["read"], "own")], hidden={"lead": ["budget"]})
    assert rep.post("/exports/lead", {"format": "pdf"}).status_code == 422
    assert rep.post("/exports/lead", {"columns": ["budget"]}).status_code == 422
    assert rep.post("/exports/lead", {"rule": {"field": "budget", "op": "gt", "value": 1}}).status_code == 422
    assert rep.post("/exports/lead", {"rule": {"field": "nope", "op": "eq", "value": 1}}).status_code == 422
    assert rep.post("/exports/lead", {"extra": 1}).status_code == 422
    assert rep.post("/exports/channel", {}).status_code == 403
    assert rep.get("/export-jobs/999999").status_code == 404
