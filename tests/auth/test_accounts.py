"""Passwords, tokens, roles, teams and the principal built from them (no HTTP)."""

import pytest
from sqlalchemy import select

from metacrm.auth import accounts
from metacrm.auth.passwords import hash_password, verify_password
from metacrm.auth.permissions import FULL, NONE, Permission, merge
from metacrm.auth.principal import load_principal
from metacrm.auth.tables import api_tokens
from metacrm.auth.tokens import create_token, list_tokens, revoke_token, user_for_token
from metacrm.errors import NotFound, ValidationError
from metacrm.store.users import ensure_user


def test_password_hashing():
    stored = hash_password("correct horse")
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert verify_password(stored, "correct horse")
    assert not verify_password(stored, "correct horsE")
    assert not verify_password(None, "correct horse")
    assert not verify_password("not a hash", "x")
    with pytest.raises(ValidationError):
        hash_password("short")


def test_authenticate_and_tokens(services):
    with services.engine.begin() as conn:
        uid = ensure_user(conn, "ada")
        assert accounts.authenticate(conn, "ada", "anything") is None  # no password yet
        accounts.set_password(conn, uid, "correct horse")
        assert accounts.authenticate(conn, "ada", "correct horse") == uid
        assert accounts.authenticate(conn, "ada", "wrong horse") is None
        assert accounts.authenticate(conn, "nobody", "correct horse") is None
        assert accounts.authenticate(conn, None, 5) is None
        token_id, token = create_token(conn, uid, "ci")
        stored = conn.execute(select(api_tokens.c.token_hash, api_tokens.c.prefix)).one()
        assert token not in stored.token_hash and token.startswith(stored.prefix)
        assert user_for_token(conn, token) == uid
        assert list_tokens(conn, uid)[0]["last_used_at"] is not None
        assert user_for_token(conn, token + "x") is None
        assert user_for_token(conn, "not-a-token") is None
        with pytest.raises(NotFound):
            revoke_token(conn, token_id, user_id=uid + 1)
        revoke_token(conn, token_id)
        assert user_for_token(conn, token) is None
        with pytest.raises(ValidationError):
            create_token(conn, uid, "")


def test_principal_merges_roles_and_wildcards(services):
    with services.engine.begin() as conn:
        uid, mate, other = (ensure_user(conn, n) for n in ("ada", "bob", "cy"))
        r1, r2 = accounts.ensure_role(conn, "reader"), accounts.ensure_role(conn, "seller")
        accounts.grant(conn, r1, "*", ["read"], "all", hidden=["budget"])
        accounts.grant(conn, r2, "lead", ["read", "update"], "team", hidden=["budget", "phone"], readonly=["score"])
        accounts.assign_role(conn, uid, r1)
        accounts.assign_role(conn, uid, r2)
        team = accounts.ensure_team(conn, "east")
        accounts.add_member(conn, team, uid)
        accounts.add_member(conn, team, mate)
        with pytest.raises(ValidationError):
            accounts.grant(conn, r1, "lead", ["fly"], "galaxy")
        who = load_principal(conn, uid)
    assert who.roles == ("reader", "seller")
    lead = who.permission("lead")
    # the lead grant of "seller" replaces its (absent) wildcard; "reader" adds its wildcard grant
    assert lead.read and lead.update and not lead.delete and lead.scope == "all"
    assert lead.hidden == {"budget"} and lead.readonly == {"phone", "score"}
    assert who.permission("account") == Permission(read=True, scope="all", hidden=frozenset({"budget"}))
    assert who.team_user_ids == {uid, mate}
    assert who.sees_owner("lead", other) and who.may_own("lead", mate)


def test_merge_rules():
    own_rw = Permission(True, True, True, False, "own", frozenset({"a", "b"}), frozenset({"c"}))
    team_r = Permission(True, False, False, False, "team", frozenset({"a"}), frozenset({"c", "d"}))
    merged = merge([own_rw, team_r])
    assert (merged.read, merged.create, merged.update, merged.delete, merged.scope) == (True, True, True, False, "team")
    assert merged.hidden == {"a"} and merged.readonly == {"b", "c"}  # b: visible via team_r, writable by no one
    assert merge([]) == NONE and merge([FULL]) == FULL


def test_unknown_names(services):
    with services.engine.begin() as conn:
        with pytest.raises(NotFound):
            accounts.user_id(conn, "ghost")
        with pytest.raises(NotFound):
            accounts.role_id(conn, "ghost")
        with pytest.raises(ValidationError):
            accounts.ensure_role(conn, "Bad Name")
        assert load_principal(conn, 12345) is None
