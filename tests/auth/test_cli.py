"""`metacrm user|token|role|team` end to end through click."""

import pytest
from click.testing import CliRunner

from metacrm.cli import main


@pytest.fixture
def cli(settings, monkeypatch):
    monkeypatch.setenv("METACRM_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("METACRM_SECRET_KEY", "test")
    monkeypatch.setenv("METACRM_INSTANCE_DIR", str(settings.instance_dir))
    runner = CliRunner()

    def run(*args, input=None, code=0):
        result = runner.invoke(main, list(args), input=input)
        assert result.exit_code == code, (args, result.output)
        return result.output

    return run


def test_users_tokens_roles(cli, services):
    cli("user", "create", "ada", "--admin", input="a long secret\na long secret\n")
    assert "admin" in cli("user", "list")
    token = cli("token", "create", "ada", "--name", "ci").strip().splitlines()[-1]
    assert token.startswith("mcrm_")
    assert "ci" in cli("token", "list")
    cli("role", "create", "sales")
    cli("role", "grant", "sales", "lead", "--verbs", "read,update", "--scope", "team", "--hidden", "budget")
    cli("role", "assign", "ada", "sales")
    out = cli("role", "list")
    assert "read,update" in out and "hidden=budget" in out and "(1 users)" in out
    cli("team", "add", "east", "ada")
    cli("team", "create", "west")
    cli("role", "create", "idle")
    assert cli("team", "list").splitlines() == ["east (east): 1 members", "west (west): 0 members"]
    assert "idle (0 users)" in cli("role", "list")
    assert "unknown_verb" in cli("role", "grant", "sales", "lead", "--verbs", "fly", code=2)
    assert "no user named" in cli("token", "create", "ghost", "--name", "x", code=2)
    cli("token", "revoke", "1")
    assert "REVOKED" in cli("token", "list", "ada")
