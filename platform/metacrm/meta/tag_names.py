"""Tag names in the users' language: one resolver from what a user typed to a tag's key.

A tag definition keeps an identifier `name` as its KEY (tag links, files and history are keyed by
it). Users may name a tag by its key or by its label in any language (复购客户, KOL, gold-member,
30%_off): `tag_keys` finds the candidates, `resolve_tag` turns them into one key or a 422 naming
the problem. Labels compare trimmed, NFKC-normalised and case-folded. The rules layer, the tag
engine, forms and imports all call this module, so a label means the same tag everywhere.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from ..errors import Problem, ValidationError

MAX_TAG_TEXT = 64
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,47}$")


def normal(text: str) -> str:
    """The form two tag texts are compared in: NFKC, trimmed, case-folded."""
    return unicodedata.normalize("NFKC", text).strip().casefold()


def is_key(text: str) -> bool:
    return bool(_IDENTIFIER.match(text))


def tag_keys(defs: Any, text: Any) -> tuple[str, ...]:
    """Keys of the tags `text` names: the key itself if it is one, else every tag whose label in any
    language equals the text. Empty when none; more than one is ambiguous."""
    if not isinstance(text, str) or not text.strip():
        return ()
    if defs.get("tag", text) is not None:
        return (text,)
    stripped = text.strip()
    if defs.get("tag", stripped) is not None:
        return (stripped,)
    wanted = normal(text)
    return tuple(sorted(name for name, doc in defs.items("tag") if _labelled(doc, wanted)))


def _labelled(doc: Mapping[str, Any], wanted: str) -> bool:
    labels = doc.get("label")
    return isinstance(labels, Mapping) and any(isinstance(v, str) and normal(v) == wanted for v in labels.values())


def ambiguous(text: str, keys: tuple[str, ...]) -> str:
    return f"'{text[:MAX_TAG_TEXT]}' is the label of several tags ({', '.join(keys)}): name one by its key"


def resolve_tag(defs: Any, text: Any, at: str = "tags") -> str:
    """The one tag key `text` names, or a 422 (unknown_tag / ambiguous_tag) at `at`."""
    keys = tag_keys(defs, text)
    if len(keys) == 1:
        return keys[0]
    shown = str(text)[:MAX_TAG_TEXT]
    if not keys:
        raise ValidationError(f"no tag named '{shown}'", [Problem(at, "unknown_tag", f"no tag named '{shown}'")])
    raise ValidationError("a tag label is ambiguous", [Problem(at, "ambiguous_tag", ambiguous(shown, keys))])


def derive_key(text: str, taken: Any = lambda _k: False) -> str:
    """A key for a tag created from free text: an ASCII slug when the text has Latin letters or
    digits (gold-member -> gold_member, 30%_off -> tag_30_off), else `tag_` + a short stable hash
    (复购客户 -> tag_1a2b3c4d); a slug already `taken` gets the hash appended."""
    norm = unicodedata.normalize("NFKC", text).strip()
    digest = hashlib.sha256(norm.encode("utf-8")).hexdigest()[:8]
    ascii_text = unicodedata.normalize("NFKD", norm).encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "_", ascii_text).strip("_")
    if not slug:
        return f"tag_{digest}"
    if not slug[0].isalpha():
        slug = "tag_" + slug
    slug = slug[:38].rstrip("_")
    return f"{slug}_{digest}" if taken(slug) else slug


def tag_from_text(defs: Any, doc: Mapping[str, Any], text: str, language: str) -> tuple[str, dict[str, Any]]:
    """A tag definition named by free text: (derived key, the doc with that key as name and the text
    as its label in `language`). Refuses a text too long or already some tag's key or label."""
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_TAG_TEXT:
        raise ValidationError("a tag name is 1 to 64 characters",
                              [Problem("/name", "invalid_value", f"1 to {MAX_TAG_TEXT} characters")])
    text = unicodedata.normalize("NFKC", text).strip()
    clash = tag_keys(defs, text)
    if clash:
        raise ValidationError(f"a tag named '{text}' exists",
                              [Problem("/name", "duplicate_tag_label", f"'{text}' already names tag {', '.join(clash)}")])
    key = derive_key(text, lambda k: defs.get("tag", k) is not None)
    labels = dict(doc.get("label") or {}) if isinstance(doc.get("label"), Mapping) else {}
    labels[language] = text
    return key, {**doc, "name": key, "label": labels}

