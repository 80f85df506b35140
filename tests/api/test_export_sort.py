"""Exports follow the list's sort (background job and direct download); a sort by a field hidden from
the caller, or an unknown one, is refused with the field named."""

from __future__ import annotations

import csv
import io
import time


def _rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))[1:]


def _wait(api, export_id, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = api.get(f"/export-jobs/{export_id}").json
        if body["status"] in ("done", "failed"):
            return body
        time.sleep(0.05)
    raise AssertionError(body)


def test_export_sorted_as_asked_in_the_job_and_the_direct_download(admin, make_user):
    rep = make_user("sorter", grants=[("lead", ["read", "create"], "own")], hidden={"lead": ["budget"]})
    for name, score in (("b lead", 10), ("c lead", 30), ("a lead", 20)):
        assert rep.post("/records/lead", {"name": name, "score": score}).status_code == 201
    r = rep.post("/exports/lead", {"format": "csv", "columns": ["name", "score"], "sort": "-score"})
    assert r.status_code == 202, r.json
    done = _wait(rep, r.json["id"])
    assert done["status"] == "done", done
    file = rep.get(f"/export-jobs/{done['id']}/file")
    assert [row[0] for row in _rows(file.data)] == ["c lead", "a lead", "b lead"]
    file.close()
    direct = rep.get("/exports/lead", query_string={"format": "csv", "fields": "name,score", "sort": "name"})
    assert direct.status_code == 200
    assert [row[0] for row in _rows(direct.data)] == ["a lead", "b lead", "c lead"]
    direct.close()
    unsorted = rep.get("/exports/lead", query_string={"format": "csv", "fields": "name"})
    assert [row[0] for row in _rows(unsorted.data)] == ["b lead", "c lead", "a lead"]  # by id, as before
    unsorted.close()


def test_a_hidden_or_unknown_sort_is_refused(make_user):
    rep = make_user("sorter2", grants=[("lead", ["read"], "own")], hidden={"lead": ["budget"]})
    for sort in ("budget", "-nope", 5):
        r = rep.post("/exports/lead", {"format": "csv", "sort": sort})
        assert r.status_code == 422 and r.json["errors"][0]["field"] == "sort", (sort, r.json)
    assert rep.get("/exports/lead", query_string={"sort": "-budget"}).status_code == 400
