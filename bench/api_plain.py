"""The baseline for bench/api.py: a plain Flask app doing the equivalent raw SQLAlchemy work.

list: one SELECT over obj_lead (not deleted, city IN (...), newest first, 50 rows) as JSON;
create: one INSERT of an already-valid lead, returning its id. No auth, no validation, no events.
Served by gunicorn: `gunicorn --chdir bench 'api_plain:create()'` with METACRM_DATABASE_URL set.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from flask import Flask, jsonify, request
from sqlalchemy import MetaData, Table, create_engine, select


def create() -> Flask:
    engine = create_engine(os.environ["METACRM_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://"))
    table = Table("obj_lead", MetaData(), autoload_with=engine)
    app = Flask("plain")

    @app.get("/plain/leads")
    def leads() -> Any:
        cities = request.args.get("cities", "shanghai,beijing").split(",")
        query = (select(table).where(table.c.deleted_at.is_(None), table.c.city.in_(cities))
                 .order_by(table.c.id.desc()).limit(50))
        with engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(query)]
        for row in rows:
            for key, value in row.items():
                if hasattr(value, "isoformat"):
                    row[key] = value.isoformat()
                elif value is not None and not isinstance(value, (int, float, str, bool, list, dict)):
                    row[key] = str(value)
        return jsonify({"items": rows})

    @app.post("/plain/leads")
    def create_lead() -> Any:
        data = request.get_json()
        now = datetime.now(UTC)
        with engine.begin() as conn:
            new_id = conn.execute(table.insert().values(
                name=data["name"], city=data.get("city"), score=data.get("score"), status="new",
                consent_marketing=False, created_at=now, updated_at=now, version=1)
                .returning(table.c.id)).scalar_one()
        return jsonify({"id": new_id}), 201

    return app
