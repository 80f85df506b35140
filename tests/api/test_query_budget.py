"""How many SQL statements one API request costs: authentication and metadata must not multiply them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

# GET /records/lead, warm: token, user, roles+grants, teams (the principal, loaded once a request into
# flask.g), one metadata revision check, the page, its tags; SQLite also counts the two BEGINs.
LIST_BUDGET = {"sqlite": 9, "postgresql": 7}


def _statements(engine: Any, call: Any) -> list[str]:
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        response = call()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200, response.json
    return seen


def test_record_list_query_budget(admin, make_user, standard_pack):
    for i in range(3):
        admin.post("/records/lead", {"name": f"lead {i}", "city": "shanghai"})
    seller = make_user("seller", grants=[("lead", ["read", "create"], "own")], teams=["east"])
    seller.post("/records/lead", {"name": "mine"})
    for api in (admin, seller):  # an admin, and a user whose grants and team scope the query
        api.get("/records/lead")  # warm: the registry is loaded once per process
        seen = _statements(standard_pack.engine, lambda api=api: api.get("/records/lead?limit=50"))
        assert len(seen) <= LIST_BUDGET[standard_pack.engine.dialect.name], seen
        assert sum("sys_meta_state" in s for s in seen) == 1  # one revision check a request
