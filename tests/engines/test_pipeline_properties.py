"""Properties of pipeline figures over random deals and moves (hypothesis, bounded).

- the forecast equals a brute-force sum: open deals add amount x probability, won deals their
  amount, lost deals nothing;
- funnel counts never rise from one stage to the next;
- a refused move leaves the record and its stage history unchanged.
Each example runs in a transaction that is rolled back, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metacrm.engines import pipeline_figures as figures
from metacrm.engines import pipelines
from metacrm.errors import ValidationError
from metacrm.store.services import Services

STAGES = ["prospecting", "qualification", "proposal", "negotiation", "won", "lost"]
deal = st.fixed_dictionaries({
    "stage": st.sampled_from(STAGES),
    "amount": st.decimals(min_value=1, max_value=10**6, places=2, allow_nan=False, allow_infinity=False),
    "month": st.integers(min_value=1, max_value=3),
    "probability": st.one_of(st.none(), st.integers(min_value=0, max_value=100)),
})
move = st.tuples(st.integers(min_value=0, max_value=30), st.sampled_from(STAGES), st.booleans())


class Rollback(Exception):
    pass


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(deals=st.lists(deal, min_size=1, max_size=25), moves=st.lists(move, max_size=12))
def test_forecast_funnel_and_refused_moves(standard_pack: Services, deals: list[dict], moves: list) -> None:
    svc = standard_pack
    with pytest.raises(Rollback), svc.engine.begin() as conn:
        rows = []
        for d in deals:
            row = {"name": "d", "stage": d["stage"], "amount": str(d["amount"]),
                   "expected_close": f"2027-0{d['month']}-15", "lost_reason": "price"}
            if d["probability"] is not None:
                row.update(probability=d["probability"], probability_override=True)
            rows.append(row)
        ids = svc.records.bulk_create("opportunity", rows, conn=conn).ids
        for index, stage, with_reason in moves:
            rid = ids[index % len(ids)]
            before = svc.records.get("opportunity", rid, conn=conn)
            history = pipelines.history(conn, "opportunity", rid)
            data = {"stage": stage} if not with_reason else {"stage": stage, "lost_reason": "timing"}
            if stage == "lost" and not with_reason:
                data["lost_reason"] = None
            try:
                svc.records.update("opportunity", rid, data, conn=conn)
            except ValidationError:
                assert svc.records.get("opportunity", rid, conn=conn) == before
                assert pipelines.history(conn, "opportunity", rid) == history
        snap = svc.registry.current(conn)
        p = pipelines.pipeline(snap, "new_business")
        table = snap.tables["opportunity"]
        live = [table.c.deleted_at.is_(None)]
        want: dict[str, dict[str, Decimal]] = defaultdict(lambda: {"won": Decimal(0), "weighted": Decimal(0)})
        for rid in ids:
            r = svc.records.get("opportunity", rid, conn=conn)
            kind = p.by_key[r["stage"]].kind
            month = want[r["expected_close"][:7]]
            if kind == "won":
                month["won"] += Decimal(r["amount"])
            elif kind == "open":
                month["weighted"] += Decimal(r["amount"]) * r["probability"] / 100
        got = {m["month"]: m for m in figures.forecast(conn, table, p, live)}
        assert set(got) == set(want)
        for month, w in want.items():
            assert Decimal(got[month]["won"]) == w["won"].quantize(Decimal("0.01"))
            assert abs(Decimal(got[month]["weighted_open"]) - w["weighted"]) <= Decimal("0.01") * len(ids)
        counts = [s["count"] for s in figures.funnel(conn, table, p, live)]
        assert all(a >= b for a, b in itertools.pairwise(counts))
        assert counts[0] <= len(ids)
        raise Rollback
