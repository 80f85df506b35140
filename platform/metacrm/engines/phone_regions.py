"""The region of a customer or account, filled from its mobile number when nobody entered one.

An object with a `region` field (type region), a `phone` field (type phone) and a boolean
`region_from_phone` gets this before-write step: a record saved without a region takes the
province and city phonenumbers' geocoder names for a Chinese number (GB/T 2260 code, via
meta.regions) and `region_from_phone` = true, so reports and the market map can tell derived
regions from entered ones. A region someone enters wins and clears the mark; a derived region
follows a changed phone. A number outside China or one the geocoder does not place leaves the
region empty. Nothing is refused here.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, select

from ..errors import Problem
from ..flows.jobs import job
from ..flows.schedules import on_maintenance
from ..meta.objects import ObjectDef
from ..meta.regions import find_region
from ..store.definitions import Snapshot
from ..store.services import Services

REGION, PHONE, FLAG = "region", "phone", "region_from_phone"


@lru_cache(maxsize=8192)
def region_of_phone(phone: str) -> str | None:
    """The GB/T 2260 code of the city (or province) a Chinese number is registered in, or None."""
    import phonenumbers
    from phonenumbers import geocoder

    try:
        number = phonenumbers.parse(phone, "CN")
    except phonenumbers.NumberParseException:
        return None
    if phonenumbers.region_code_for_number(number) != "CN":
        return None
    place = geocoder.description_for_number(number, "zh")
    region = find_region(place) if place else None
    return region.code if region is not None else None


def _applies(obj: ObjectDef) -> bool:
    region, phone, flag = (obj.fields.get(n) for n in (REGION, PHONE, FLAG))
    return (region is not None and phone is not None and flag is not None and region.type.name == "region"
            and phone.type.name == "phone" and flag.type.name == "boolean")


def fill_region(conn: Connection, snap: Snapshot, obj: ObjectDef,
                pairs: list[tuple[Mapping[str, Any] | None, dict[str, Any]]], actor_id: int | None
                ) -> dict[int, list[Problem]]:
    """Before-write step (records.before_write): adds `region` and the mark to the saved values."""
    if not _applies(obj):
        return {}
    for current, stored in pairs:
        before = current or {}
        if stored.get(FLAG) is True and stored.get(REGION) not in (None, ""):
            continue  # the backfill below, saying the region it sets is derived
        if stored.get(REGION) not in (None, "") and stored.get(REGION) != before.get(REGION):
            stored[FLAG] = False  # entered by a person
            continue
        derived = bool(before.get(FLAG))
        region = before.get(REGION) if REGION not in stored else stored.get(REGION)
        if region not in (None, "") and not derived:
            continue
        if current is not None and PHONE not in stored and region not in (None, ""):
            continue  # a derived region whose phone did not change
        phone = stored.get(PHONE, before.get(PHONE))
        code = region_of_phone(str(phone)) if phone else None
        if code is not None:
            stored[REGION], stored[FLAG] = code, True
        elif derived:
            stored[REGION], stored[FLAG] = None, False
    return {}


BACKFILL_BATCH = 2000


@job("regions.backfill")
def backfill(services: Services, fired_at: str | None = None, limit: int = BACKFILL_BATCH) -> dict[str, int]:
    """Records saved before their object had this step (region and mark both empty) get their
    derived region: at most `limit` per object and pass, through the record service (events,
    audit), on the daily maintenance pass; a number the geocoder does not place gets the mark false
    so it is not looked at again. Returns how many records of each object got a region."""
    done: dict[str, int] = {}
    with services.records.transaction() as conn:
        snap = services.registry.current(conn)
        for obj in snap.objects.values():
            if not _applies(obj):
                continue
            t = snap.tables[obj.name]
            rows = conn.execute(select(t.c.id, t.c[PHONE]).where(
                t.c.deleted_at.is_(None), t.c[REGION].is_(None), t.c[PHONE].is_not(None),
                t.c[FLAG].is_(None)).order_by(t.c.id).limit(limit)).all()
            count = 0
            for record_id, phone in rows:  # each record is looked at once: the mark is set either way
                code = region_of_phone(str(phone))
                values = {REGION: code, FLAG: True} if code is not None else {FLAG: False}
                services.records.update(obj.name, int(record_id), values, conn=conn)
                count += code is not None
            done[obj.name] = count
    return done


on_maintenance("regions.backfill")
