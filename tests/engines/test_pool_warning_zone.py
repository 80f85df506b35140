"""A lead pool's return warning names the due time in the holder's zone and language."""

from __future__ import annotations

from datetime import UTC, datetime

from metacrm.engines import lead_pool
from metacrm.store.users import ensure_user

POOL = {"name": "sea", "label": {"en": "Sea", "zh": "公海"}, "object": "lead"}


def test_warning_due_time_in_each_holders_zone(standard_pack) -> None:
    svc = standard_pack
    rid = svc.records.create("lead", {"name": "Zhang Wei"})["id"]
    due = datetime(2027, 3, 1, 16, 30, tzinfo=UTC)
    with svc.engine.begin() as conn:
        sh = ensure_user(conn, "sh", language="zh", time_zone="Asia/Shanghai")
        ny = ensure_user(conn, "ny", time_zone="America/New_York")
        plain = ensure_user(conn, "plain")
        snap = svc.registry.current(conn)
        titles = {uid: lead_pool._warning_title(conn, snap, POOL, rid, uid, due, "Europe/Berlin")
                  for uid in (sh, ny, plain)}
    assert titles[sh] == "Zhang Wei 将于 2027-03-02 00:30 退回公海，请及时跟进"
    assert titles[ny] == "Zhang Wei goes back to Sea on 2027-03-01 11:30 unless you follow it up"
    assert titles[plain] == "Zhang Wei goes back to Sea on 2027-03-01 17:30 unless you follow it up"  # the installation's
