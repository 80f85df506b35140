"""Shared fixtures: every storage test runs on SQLite and, when it answers, on PostgreSQL.

Each PostgreSQL test gets a fresh schema in the `test` database, dropped afterwards. With
METACRM_REQUIRE_SERVICES=1 a missing PostgreSQL fails the run instead of skipping.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from sqlalchemy import create_engine, make_url, text

from metacrm.config import Settings
from metacrm.engines.wiring import build_services
from metacrm.meta.kinds import DefinitionSet
from metacrm.meta.packs import load_pack
from metacrm.store.definitions import incoming_from_files
from metacrm.store.services import Services

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("METACRM_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_SERVICES = os.environ.get("METACRM_REQUIRE_SERVICES") == "1"

_pg_state: dict[str, bool] = {}


def pg_available() -> bool:
    if "up" not in _pg_state:
        try:
            engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
            with engine.connect() as conn:
                conn.execute(text("select 1"))
            engine.dispose()
            _pg_state["up"] = True
        except Exception:
            _pg_state["up"] = False
    return _pg_state["up"]


def need_postgres() -> None:
    if not pg_available():
        if REQUIRE_SERVICES:
            pytest.fail(f"PostgreSQL is required (METACRM_REQUIRE_SERVICES=1) but {PG_ADMIN_URL} does not answer")
        pytest.skip("PostgreSQL does not answer")


RUN_DB_PREFIX = "metacrm_t_"


def _drop_stale_run_databases(admin: Any) -> None:
    """Databases of earlier runs whose process is gone (a killed run cannot drop its own)."""
    with admin.connect() as conn:
        names = conn.execute(text("SELECT datname FROM pg_database WHERE datname LIKE :p"),
                             {"p": RUN_DB_PREFIX + "%"}).scalars().all()
    for name in names:
        pid = name[len(RUN_DB_PREFIX):].split("_")[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def pg_run_url() -> Iterator[str]:
    """A database of this test process's own, dropped at its end. Each xdist worker gets one, so
    CREATE INDEX CONCURRENTLY (which waits for every older transaction in its database) never
    waits for another worker's tests, and nothing a run leaves behind outlives it."""
    need_postgres()
    name = f"{RUN_DB_PREFIX}{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    _drop_stale_run_databases(admin)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE template0 ENCODING \'UTF8\''))
    try:
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def pg_schema_url(pg_run_url: str) -> Iterator[str]:
    """A database URL whose search_path is a fresh schema (in this run's database), dropped after the test."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_run_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{pg_run_url}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    return request.getfixturevalue("pg_schema_url")


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=db_url, secret_key="test-secret", instance_dir=tmp_path)


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    svc = build_services(settings)
    svc.init()
    yield svc
    svc.close()


def _apply_docs(svc: Services, *docs: tuple[str, dict], force: bool = False) -> object:
    """Apply (kind, document) pairs, as a pack or the API would."""
    from metacrm.meta.kinds import kind

    incoming = [(k, kind(k).id_of(d), d) for k, d in docs]
    return svc.metadata.apply(incoming, force=force)


@pytest.fixture
def apply_docs():
    """`apply_docs(services, ("object", doc), ..., force=False)`: apply definitions in a test.

    A fixture rather than an import: several conftest modules exist, and `import conftest`
    would find whichever was loaded first.
    """
    return _apply_docs


@pytest.fixture
def run(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """`run(*args, code=0)`: the `metacrm` command in the repo root on this test's database; asserts
    the exit code and returns click's result (`.output`)."""
    from click.testing import CliRunner

    from metacrm.cli import main

    monkeypatch.setenv("METACRM_DATABASE_URL", db_url)
    monkeypatch.setenv("METACRM_INSTANCE_DIR", str(tmp_path / "instance"))
    monkeypatch.chdir(ROOT)
    runner = CliRunner()

    def invoke(*args: object, code: int = 0) -> Result:
        result = runner.invoke(main, [str(a) for a in args], catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result

    return invoke


@pytest.fixture
def standard_pack(services: Services) -> Services:
    files = load_pack([ROOT / "metadata"], DefinitionSet())
    services.metadata.apply(incoming_from_files(files))
    return services
