"""Concurrent identical tag adds: each is a no-op or an add, never a 409 naming a database constraint."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from conftest import Api


def test_concurrent_identical_tag_adds(app, admin, standard_pack, apply_docs):
    apply_docs(standard_pack, ("tag", {"name": "t_race", "label": {"en": "Race"}, "objects": ["lead"]}))
    lead_id = admin.post("/records/lead", {"name": "Raced"}).json["id"]

    def add(_: int) -> tuple[int, str]:
        api = Api(app.test_client(), admin.token)
        r = api.post(f"/records/lead/{lead_id}/tags", {"tags": ["t_race"]})
        return r.status_code, r.get_data(as_text=True)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(add, range(40)))
    assert {status for status, _ in answers} == {200}, [a for a in answers if a[0] != 200][:3]
    assert all("pkey" not in text and "sys_tag_link" not in text for _, text in answers)
    assert admin.get(f"/records/lead/{lead_id}/tags").json["tags"] == ["t_race"]
    added = [e for e in admin.get(f"/records/lead/{lead_id}/timeline").json["items"] if e["kind"] == "tag_added"]
    assert len(added) == 1  # one add, 39 no-ops
