"""The API root and the health check answer on both back ends."""

from metacrm.api.app import create_app


def test_health_and_root(services, settings):
    client = create_app(settings, services).test_client()
    health = client.get("/health")
    assert health.status_code == 200
    assert health.get_json()["status"] == "ok"
    assert health.get_json()["database"] == services.engine.dialect.name
    root = client.get("/").get_json() if client.get("/").is_json else None
    if root is not None:  # once the web app is built, / serves it instead
        assert root["name"] == "MetaCRM"


def test_health_reports_an_unreachable_database_as_503(tmp_path):
    from metacrm.config import Settings

    settings = Settings(database_url=f"sqlite:///{tmp_path}/missing/dir/that/cannot/exist/\x01.db",
                        secret_key="x", instance_dir=tmp_path)
    from sqlalchemy import create_engine

    from metacrm.engines.wiring import build_services

    svc = build_services(settings, engine=create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none"))
    response = create_app(settings, svc).test_client().get("/health")
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "service_unavailable"
