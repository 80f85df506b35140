"""Regions from phone numbers (issue 21): the before-write step and the backfill of older records."""

from __future__ import annotations

from sqlalchemy import select, update

from metacrm.engines import phone_regions
from metacrm.store.events import timeline


def test_backfill_derives_regions_of_older_records(standard_pack):
    svc = standard_pack
    typed = svc.records.create("customer", {"name": "typed", "phone": "+8613800138000", "region": "440300"})
    old = svc.records.create("customer", {"name": "old", "phone": "+8613902321234"})
    abroad = svc.records.create("customer", {"name": "abroad", "phone": "+12025550123"})
    assert (old["region"], old["region_from_phone"]) == ("440100", True)
    assert (typed["region"], typed["region_from_phone"]) == ("440300", False)
    t = svc.registry.current().tables["customer"]
    with svc.engine.begin() as conn:  # as if saved before the step existed
        conn.execute(update(t).where(t.c.id == old["id"]).values(region=None, region_from_phone=None))
    with svc.engine.begin() as conn:
        conn.execute(update(t).where(t.c.id == abroad["id"]).values(region_from_phone=None))
    assert phone_regions.backfill(svc)["customer"] == 1
    with svc.engine.connect() as conn:
        rows = {r.id: (r.region, r.region_from_phone) for r in conn.execute(select(t.c.id, t.c.region,
                                                                                   t.c.region_from_phone))}
        assert rows[old["id"]] == ("440100", True)
        assert rows[typed["id"]] == ("440300", False) and rows[abroad["id"]][0] is None
        assert timeline(conn, "customer", old["id"])[0]["kind"] == "update"
        assert rows[abroad["id"]][1] is False  # looked at once
    assert phone_regions.backfill(svc)["customer"] == 0


def test_backfill_runs_on_the_maintenance_pass():
    from metacrm.flows.schedules import _maintenance

    assert "regions.backfill" in _maintenance
