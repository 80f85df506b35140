"""The OpenAPI document: generated from the live metadata, valid OpenAPI 3.1, and true.

The schemathesis run sends generated requests (valid and invalid) to every operation in the
document and checks that none answers with a server error or a response that breaks its declared
schema, status codes or content type. It is bounded (examples per operation and a time budget)
so it can run in `make test`.
"""

import contextlib
import os
import time

from hypothesis import HealthCheck, Phase, given, settings
from openapi_spec_validator import validate

EXAMPLES_PER_OPERATION = int(os.environ.get("METACRM_SCHEMATHESIS_EXAMPLES", "3"))  # raise it for a deeper run
TIME_BUDGET_S = float(os.environ.get("METACRM_SCHEMATHESIS_SECONDS", "90"))


def test_document_is_valid_and_has_every_object(admin, standard_pack):
    doc = admin.get("/openapi.json").json
    validate(doc)
    assert doc["openapi"] == "3.1.0"
    schemas = doc["components"]["schemas"]
    for name in standard_pack.registry.current().objects:
        assert {name, f"{name}.create", f"{name}.update"} <= set(schemas)
        assert f"/records/{name}" in doc["paths"] and f"/records/{name}/{{id}}" in doc["paths"]
    assert schemas["lead"]["properties"]["city"]["type"] == ["string", "null"]
    assert "shanghai" in schemas["lead.create"]["properties"]["city"]["enum"]
    assert schemas["lead.create"]["required"] == ["name"]


def test_document_follows_metadata_changes(admin, standard_pack, apply_docs):
    apply_docs(standard_pack, ("object", {"$id": "gadget", "title": "Gadget", "type": "object",
                                          "properties": {"label": {"x-field": "text"}}}))
    doc = admin.get("/openapi.json").json
    validate(doc)
    assert "gadget" in doc["components"]["schemas"] and "/records/gadget" in doc["paths"]


def test_docs_page_renders_as_text(anonymous):
    r = anonymous.get("/docs")
    assert r.status_code == 200 and r.mimetype == "text/html"
    assert b"openapi.json" in r.data and b"innerHTML" not in r.data


def test_schemathesis_finds_no_server_errors(app, admin, standard_pack, db_url):
    import schemathesis
    from schemathesis.checks import (
        content_type_conformance,
        not_a_server_error,
        response_schema_conformance,
        status_code_conformance,
    )

    auth = {"Authorization": f"Bearer {admin.token}"}
    for i in range(3):  # something to find, read, change and delete
        admin.post("/records/lead", {"name": f"seed {i}", "city": "shanghai"})
        admin.post("/records/activity", {"subject": f"seed {i}", "type": "call"})
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, headers=auth)
    checks = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]
    started = time.monotonic()
    examples = 0
    statuses: dict[int, int] = {}
    failures = []
    # revoking tokens would revoke the one this run uses (tests/api/test_auth_api.py covers it)
    operations = [r.ok() for r in schema.get_all_operations() if r.ok().label != "DELETE /auth/tokens/{token_id}"]
    assert len(operations) > 50
    def fuzz(operation):
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=True,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def run(case):
            nonlocal examples
            examples += 1
            response = case.call(headers=auth)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            try:
                case.validate_response(response, checks=checks)
            except Exception as exc:  # collect every operation's failure, then report them together
                failures.append(f"{operation.label}: {type(exc).__name__}: {str(exc)[:600]}")
                raise

        with contextlib.suppress(Exception):  # the failure is in `failures`
            run()

    for operation in operations:
        if time.monotonic() - started > TIME_BUDGET_S:
            break
        fuzz(operation)
    assert not failures, "\n\n".join(failures[:10])
    assert examples >= len(operations)
    print(f"schemathesis: {len(operations)} operations, {examples} requests, {time.monotonic() - started:.0f}s, "
          f"statuses {sorted(statuses.items())}")
