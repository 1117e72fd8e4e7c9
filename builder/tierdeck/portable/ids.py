"""Stable ids: note GUIDs, note type and deck ids, derived from names so every build gives the same ones.

A note's GUID is how Anki recognises it on every later import: it must never change for a card students
hold. The GUID of a tierdeck note derives from the deck's namespace (the id the deck had when it was
created, kept in the lock) and the note's key (the card id, or `card/row/column` for a table cell), hashed
and written in Anki's base91 alphabet exactly as genanki's `guid_for` does (tests/portable/test_ids.py holds
the two equal on every GUID of the shipped lock file), so decks built before this module existed keep theirs.
"""

from __future__ import annotations

import hashlib

# Anki's base91 alphabet for GUIDs (the order genanki and Anki use)
_BASE91 = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    "!#$%&()*+,-./:;<=>?@[]^_`{|}~"
)


def base91(number: int) -> str:
    """`number` (not negative) in Anki's base91, most significant digit first; empty for 0, as genanki."""
    digits = []
    while number > 0:
        number, digit = divmod(number, len(_BASE91))
        digits.append(_BASE91[digit])
    return "".join(reversed(digits))


def guid_for(namespace: str, key: str) -> str:
    """The derived GUID of note `key` in the deck whose namespace is `namespace`."""
    digest = hashlib.sha256(f"tierdeck__{namespace}__{key}".encode()).digest()
    return base91(int.from_bytes(digest[:8], "big"))


def stable_id(key: str) -> int:
    """A positive id in [2**30, 2**31) derived from `key` (the range genanki and Anki's add-ons use)."""
    digest = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")
    return (1 << 30) + digest % (1 << 30)


def deck_id(namespace: str, tier: str | None = None) -> int:
    """The Anki id of a deck (or of one tier's subdeck) with namespace `namespace`."""
    return stable_id(f"tierdeck/deck/{namespace}" + (f"/{tier}" if tier else ""))


def notetype_id(key: str, version: int) -> int:
    """The Anki id of a tierdeck note type `key` at `version` (a new version is a new note type to Anki)."""
    return stable_id(f"tierdeck/notetype/{key}/v{version}")
