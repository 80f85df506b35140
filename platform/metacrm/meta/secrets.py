"""Secrets in definitions: the one place that knows which paths of a definition hold a secret.

A secret (a webhook's signing `secret`, an `Authorization` or API-key header, a password, token or
private key of any step or channel) is write-only: every read shows it as `MASK`, and a definition
saved back with `MASK` where a secret was keeps the stored value. Which paths are secret is
decided by the key's name, the same for every kind, so a new step type or kind that names its
credential `secret`, `password`, `token`, `api_key`, ... is covered without being listed here.
Pure functions: no storage, no I/O.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from ..errors import Problem
from .kinds import pointer

MASK = "***"
"""What every read shows in place of a stored secret."""

SECRET_KEYS = frozenset({
    "secret", "secrets", "password", "passwd", "token", "access_token", "refresh_token", "auth_token",
    "api_key", "apikey", "api_secret", "client_secret", "private_key", "signing_key", "signing_secret",
    "credentials", "credential", "app_secret", "smtp_password",
})
"""Keys whose value is a secret wherever they appear in a definition."""

NAME_MAP_KEYS = frozenset({
    "properties", "fields", "refs", "values", "set", "body", "option_tags", "x-option-renames", "x-option-labels",
    "transitions", "weights", "label", "x-label", "translations", "labels",
})
"""Maps whose keys are names of fields, options, stages, users or languages (field schemas, a step's
`set`, a webhook's `body`, a merge policy per field), never secret markers: a field called `token`
or `password` is data, and encrypting its schema or its value would break the definition."""

HEADER_KEYS = frozenset({"headers"})
SECRET_HEADER_WORDS = ("authorization", "cookie", "token", "secret", "key", "password", "signature", "auth",
                       "credential", "session")
"""A header inside `headers` is secret when its name contains one of these (case-insensitive)."""

Path = tuple[Any, ...]


def _is_secret_header(name: str) -> bool:
    low = name.lower()
    return any(word in low for word in SECRET_HEADER_WORDS)


def secret_paths(doc: Any) -> Iterator[Path]:
    """Paths (keys and list indexes) of every secret value present in `doc` (empty values skipped)."""

    def walk(node: Any, path: Path) -> Iterator[Path]:
        if isinstance(node, dict):
            for key, value in node.items():
                here = (*path, key)
                if isinstance(key, str) and key in NAME_MAP_KEYS and isinstance(value, dict):
                    for name, item in value.items():  # a field named `token` is not a secret
                        yield from walk(item, (*here, name))
                elif isinstance(key, str) and key.lower() in SECRET_KEYS:
                    if value not in (None, "", {}, []):
                        yield here
                elif isinstance(key, str) and key.lower() in HEADER_KEYS and isinstance(value, dict):
                    for header, hv in value.items():
                        if isinstance(header, str) and _is_secret_header(header) and hv not in (None, ""):
                            yield (*here, header)
                        elif isinstance(hv, (dict, list)):
                            yield from walk(hv, (*here, header))
                else:
                    yield from walk(value, here)
        elif isinstance(node, list):
            for i, item in enumerate(node):
                yield from walk(item, (*path, i))

    yield from walk(doc, ())


def secret_pointers(doc: Any) -> list[str]:
    return [pointer(p) for p in secret_paths(doc)]


def _get(doc: Any, path: Path) -> Any:
    node = doc
    for step in path:
        if (isinstance(node, dict) and step in node) or (isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node)):
            node = node[step]
        else:
            raise KeyError(step)
    return node


def _set(doc: Any, path: Path, value: Any) -> None:
    _get(doc, path[:-1])[path[-1]] = value


def _identity(doc: Any, path: Path) -> Path:
    """The path with list indexes replaced by the item's `id` (or `key`/`name`) when it has one,
    so that a secret follows its step when steps are reordered, inserted or removed."""
    out: list[Any] = []
    node = doc
    for step in path:
        if isinstance(node, list) and isinstance(step, int):
            item = node[step]
            ident = next((("@" + k, item[k]) for k in ("id", "key", "name")
                          if isinstance(item, dict) and isinstance(item.get(k), (str, int))), None)
            out.append(ident if ident is not None else step)
        else:
            out.append(step)
        node = node[step]
    return tuple(out)


def _resolve(doc: Any, identity: Path) -> Any:
    node = doc
    for step in identity:
        if isinstance(step, tuple) and isinstance(node, list):
            key, value = step[0][1:], step[1]
            node = next((i for i in node if isinstance(i, dict) and i.get(key) == value), None)
            if node is None:
                raise KeyError(step)
        elif (isinstance(node, dict) and step in node) or (isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node)):
            node = node[step]
        else:
            raise KeyError(step)
    return node


def value_at(doc: Any, path: Path) -> Any:
    """The value at `path` (KeyError when there is none)."""
    return _get(doc, path)


def put(doc: Any, path: Path, value: Any) -> None:
    """Set the value at `path` (its parent must exist)."""
    _set(doc, path, value)


def counterpart(doc: Any, path: Path, other: Any) -> Any:
    """The value in `other` at the place of `path` in `doc` (steps matched by id); None when absent."""
    if other is None:
        return None
    try:
        return _resolve(other, _identity(doc, path))
    except KeyError:
        return None


def masked(doc: Any, against: Any = None) -> Any:
    """A copy of `doc` with every secret shown as MASK. With `against` (the other side of a
    comparison), a secret that differs from the value at the same place there reads
    'MASK (changed)', so a diff of two masked documents still says that a secret changed."""
    paths = list(secret_paths(doc))
    if not paths:
        return doc
    out = copy.deepcopy(doc)
    for path in paths:
        text = MASK
        if against is not None:
            try:
                other = _resolve(against, _identity(doc, path))
            except KeyError:
                other = None
            if other != _get(doc, path):
                text = MASK + " (changed)"
        _set(out, path, text)
    return out


def restore(doc: Any, stored: Any) -> tuple[Any, list[Problem]]:
    """`doc` with every MASK put back to the stored secret at the same place (steps matched by id).
    A MASK with nothing stored behind it is a problem: the caller must send the secret itself."""
    paths = [p for p in secret_paths(doc) if _get(doc, p) == MASK]
    if not paths:
        return doc, []
    out = copy.deepcopy(doc)
    problems = []
    for path in paths:
        try:
            value = _resolve(stored, _identity(doc, path)) if stored is not None else None
        except KeyError:
            value = None
        if value is None or value == MASK:
            problems.append(Problem(pointer(path), "secret_required",
                                    f"'{MASK}' stands for a stored secret, but none is stored here: send the secret"))
        else:
            _set(out, path, value)
    return out, problems
