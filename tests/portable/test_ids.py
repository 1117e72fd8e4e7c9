"""The portable ids equal genanki's, so no student's note changes identity now that tierdeck derives its own."""

from __future__ import annotations

import json
from pathlib import Path

import genanki
from hypothesis import given
from hypothesis import strategies as st

from tierdeck.portable.ids import base91, deck_id, guid_for, notetype_id, stable_id

REPO = Path(__file__).resolve().parents[2]


def test_ids__every_guid_of_the_shipped_lock_is_derived_as_before():
    lock = json.loads((REPO / "decks/progesterone-bone.lock").read_text(encoding="utf-8"))
    namespace = lock["namespace"]
    assert len(lock["notes"]) > 50
    for key, entry in lock["notes"].items():
        assert guid_for(namespace, key) == entry["guid"] == genanki.guid_for("tierdeck", namespace, key), key


def test_ids__a_generated_deck_gets_genankis_guids(sample):
    """Every note of the sample (cards, table cells, clozes) has the GUID genanki would derive."""
    assert sample.run("build").exit_code == 0
    lock = json.loads((sample.root / "decks/sample.lock").read_text(encoding="utf-8"))
    for key, entry in lock["notes"].items():
        assert entry["guid"] == genanki.guid_for("tierdeck", lock["namespace"], key)


@given(st.text(max_size=40), st.text(max_size=60))
def test_ids__guid_for_equals_genanki_on_any_text(namespace, key):
    assert guid_for(namespace, key) == genanki.guid_for("tierdeck", namespace, key)


@given(st.integers(min_value=0, max_value=2**64))
def test_ids__base91_is_ankis_alphabet(number):
    text = base91(number)
    assert all(
        c in genanki.guid_for.__globals__["BASE91_TABLE"] for c in text
    )
    value = 0
    for c in text:
        value = value * 91 + genanki.guid_for.__globals__["BASE91_TABLE"].index(c)
    assert value == number
    assert not text.startswith(genanki.guid_for.__globals__["BASE91_TABLE"][0])  # no leading zero digit, as genanki


def test_ids__note_type_ids_in_the_shipped_lock_are_derived_as_before():
    """These ids are in every student's collection: a tierdeck note type's id must never change."""
    lock = json.loads((REPO / "decks/progesterone-bone.lock").read_text(encoding="utf-8"))
    for key, entry in lock["notetypes"].items():
        assert notetype_id(key, entry["version"]) == entry["model_id"], key
    assert deck_id("progesterone-bone", "fundamentals") == stable_id("tierdeck/deck/progesterone-bone/fundamentals")
    assert all(2**30 <= stable_id(str(n)) < 2**31 for n in range(200))
