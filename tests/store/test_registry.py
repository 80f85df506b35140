"""The live registry: cached, and refreshed in every process when the stored revision moves."""

from metacrm.engines.wiring import build_services

DOC = {"$id": "note", "type": "object", "properties": {"text": {"x-field": "text"}}}


def test_another_process_sees_applied_changes(services, settings, apply_docs):
    other = build_services(settings)
    try:
        assert "note" not in other.registry.current().objects
        apply_docs(services, ("object", DOC))
        assert "note" in other.registry.current().objects
        changed = {**DOC, "properties": {**DOC["properties"], "title": {"x-field": "text"}}}
        apply_docs(services, ("object", changed))
        snap = other.registry.current()
        assert "title" in snap.objects["note"].fields
        assert other.registry.current() is snap  # cached while the revision holds
        assert other.records.create("note", {"title": "seen"})["title"] == "seen"
    finally:
        other.close()
