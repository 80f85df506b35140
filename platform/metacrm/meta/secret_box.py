"""Secrets in definitions, encrypted at rest with a key derived from the installation's secret key.

Every secret value of a definition (the paths `meta.secrets.secret_paths` finds: a webhook's
signing `secret`, an `Authorization` header, a channel's password or token ...) is stored as an
envelope `enc:v1:<key id>:<token>`: AES-256-GCM under a key derived by HKDF-SHA256 from the secret
key, the token being base64url(nonce || ciphertext and tag). The key id, derived from the same
secret key by a second HKDF, tells "encrypted under another secret key" apart from "damaged".

Definitions keep their envelopes everywhere: in the database (live rows, version history,
workflow drafts), in the cached registry, in exports and plans. Only the code that hands a
secret to the outside world (a webhook's signature and headers) opens one, with `reveal`.

Saving reuses the stored envelope when the secret did not change, so an unchanged definition
keeps its checksum, plans no change and its history shows no change. Pure functions apart from
the random nonce: no storage, no I/O.
"""

from __future__ import annotations

import base64
import binascii
import copy
import os
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ..errors import MetaCRMError, Problem
from .kinds import pointer
from .secrets import MASK, Path, counterpart, put, secret_paths, value_at

PREFIX = "enc:v1:"
_NONCE = 12
_SALT = b"metacrm definition secrets"


class SecretUnreadable(MetaCRMError):
    """A stored secret that the current secret key cannot open (the key changed, or the value is damaged)."""

    code = "secret_unreadable"
    status = 422


def _derive(secret_key: str, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=_SALT, info=info).derive(secret_key.encode())


class SecretBox:
    """Seals and opens single secret strings under one secret key."""

    def __init__(self, secret_key: str) -> None:
        self._aead = AESGCM(_derive(secret_key, b"definition secrets v1", 32))
        self.key_id = _derive(secret_key, b"definition secrets key id v1", 4).hex()

    def seal(self, plain: str) -> str:
        nonce = os.urandom(_NONCE)
        sealed = self._aead.encrypt(nonce, plain.encode(), self._aad())
        return f"{PREFIX}{self.key_id}:{base64.urlsafe_b64encode(nonce + sealed).decode().rstrip('=')}"

    def open(self, envelope: str) -> str:
        """The plain secret; SecretUnreadable (naming no path: callers add where it was) when it cannot be."""
        key_id, _, token = envelope[len(PREFIX):].partition(":")
        if key_id != self.key_id:
            raise SecretUnreadable("it was encrypted with another secret key (METACRM_SECRET_KEY changed): "
                                   "send the secret again, or restore the old key")
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            return self._aead.decrypt(raw[:_NONCE], raw[_NONCE:], self._aad()).decode()
        except (InvalidTag, binascii.Error, ValueError, UnicodeDecodeError):
            raise SecretUnreadable("the stored value is damaged: send the secret again") from None

    def _aad(self) -> bytes:
        return f"{PREFIX}{self.key_id}".encode()


@lru_cache(maxsize=8)
def box_for(secret_key: str) -> SecretBox:
    """The box of one secret key (derived once per process)."""
    return SecretBox(secret_key)


def is_sealed(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def _leaves(node: Any, path: Path) -> Iterator[Path]:
    """Paths of the string values at or under `path` (a secret may be an object of credentials)."""
    value = value_at(node, path)
    if isinstance(value, str):
        yield path
    elif isinstance(value, dict):
        for key in value:
            yield from _leaves(node, (*path, key))
    elif isinstance(value, list):
        for i in range(len(value)):
            yield from _leaves(node, (*path, i))


def secret_leaves(doc: Any) -> list[Path]:
    """Every string secret value of `doc` (masks included)."""
    return [leaf for path in secret_paths(doc) for leaf in _leaves(doc, path)]


def seal(doc: Any, stored: Any, box: SecretBox) -> tuple[Any, list[Problem]]:
    """`doc` with every plain secret encrypted, for storing.

    A secret equal to the one stored at the same place (steps matched by id) keeps the stored
    envelope; an envelope must open under `box` (problem `secret_unreadable` naming its path
    otherwise); a MASK is left to `meta.secrets.restore`, which runs first.
    """
    leaves = [p for p in secret_leaves(doc) if value_at(doc, p) != MASK]
    if not leaves:
        return doc, []
    out = copy.deepcopy(doc)
    problems = []
    for path in leaves:
        value = value_at(doc, path)
        if is_sealed(value):
            try:
                box.open(value)
            except SecretUnreadable as exc:
                problems.append(Problem(pointer(path), exc.code, f"the stored secret cannot be read: {exc.message}"))
            continue
        before = counterpart(doc, path, stored)
        if is_sealed(before):
            try:
                if box.open(before) == value:
                    put(out, path, before)
                    continue
            except SecretUnreadable:
                pass  # re-encrypted under the current key below
        put(out, path, box.seal(value))
    return out, problems


def reveal(value: Any, box: SecretBox, where: str) -> Any:
    """The plain value of one secret: envelopes opened, plain text (not yet migrated) as it is.
    `where` names the definition and path in the SecretUnreadable raised when it cannot be opened."""
    if not is_sealed(value):
        return value
    try:
        return box.open(value)
    except SecretUnreadable as exc:
        raise SecretUnreadable(f"{where}: {exc.message}",
                               [Problem(where, exc.code, exc.message)]) from None


def revealed(doc: Any, box: SecretBox, where: str) -> Any:
    """A copy of `doc` with every secret in clear (for `metadata export --with-secrets`)."""
    leaves = [p for p in secret_leaves(doc) if is_sealed(value_at(doc, p))]
    if not leaves:
        return doc
    out = copy.deepcopy(doc)
    for path in leaves:
        put(out, path, reveal(value_at(doc, path), box, f"{where}#{pointer(path)}"))
    return out


def unsealed_count(doc: Any) -> int:
    """How many secrets of `doc` are stored in clear (what `metadata encrypt-secrets` would seal)."""
    return sum(1 for p in secret_leaves(doc) if not is_sealed(value_at(doc, p)) and value_at(doc, p) != MASK)
