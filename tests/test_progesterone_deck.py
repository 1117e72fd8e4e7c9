"""The shipped deck, Progesterone and Bone Health, as a student gets it from the real Anki engine."""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

import pytest

from anki_engine import import_package, open_collection, visible_text
from conftest import Project
from progesterone_expectations import GLOSSARY_TERM_IDS, MECHANISMS, TABLE_CELLS, TABLE_COLUMN_KEYS, TABLE_ROW_KEYS
from tierdeck.format.schema import slugify

REPO = Path(__file__).resolve().parent.parent
TIERS = {"fundamentals": "1 Fundamentals", "intermediate": "2 Intermediate", "academic": "3 Academic"}


@pytest.fixture(scope="module")
def student(tmp_path_factory):
    """The deck built from a copy of the repository's sources and imported into a fresh collection."""
    root = tmp_path_factory.mktemp("repo")
    shutil.copytree(REPO / "decks", root / "decks")
    shutil.copytree(REPO / "cards", root / "cards")
    project = Project(root)
    check = project.run("check", "decks/progesterone-bone.yaml")
    assert check.exit_code == 0 and check.stderr == "", check.output
    assert project.run("build", "decks/progesterone-bone.yaml").exit_code == 0
    col = open_collection(root / "student")
    import_package(col, root / "dist" / "progesterone-bone.apkg")
    yield col
    col.close()


def _notes(col):
    return {col.get_note(nid)["CardId"]: col.get_note(nid) for nid in col.find_notes("")}


def test_deck__every_card_renders_in_its_tier_with_enough_cards(student):
    per_tier = Counter()
    for cid in student.find_cards(""):
        card = student.get_card(cid)
        question, answer = visible_text(card.question()), visible_text(card.answer())
        assert question and answer != question, card.note()["CardId"]
        deck = student.decks.name(card.did)
        tier = next(t for t in card.note().tags if t.startswith("tier::")).removeprefix("tier::")
        assert deck == f"Progesterone and Bone Health::{TIERS[tier]}"
        per_tier[tier] += 1
    assert all(per_tier[t] >= 20 for t in TIERS), per_tier
    assert sum(per_tier.values()) >= 100


def test_deck__every_note_has_a_source_and_one_topic_tag(student):
    for key, note in _notes(student).items():
        assert note["Source"], f"{key} has no source"
        topics = [t for t in note.tags if t.startswith("topic::")]
        assert len(topics) == 1, f"{key} has topics {topics}"
        assert {"progesterone", "bone-health"} <= set(note.tags)


def test_deck__all_21_glossary_terms_with_definitions(student):
    notes = _notes(student)
    assert len(GLOSSARY_TERM_IDS) == 21
    for card_id, term in GLOSSARY_TERM_IDS.items():
        note = notes[card_id]
        assert note.note_type()["name"] == "tierdeck Term"
        assert note["Term"] == term
        assert len(note["Definition"].split()) >= 5
    terms = {n["Term"].lower() for n in notes.values() if n.note_type()["name"] == "tierdeck Term"}
    for fragment in (
        "when progesterone levels decline",
        "when progesterone levels",
        "targeted hormonal optimization protocols",
    ):
        assert fragment not in terms


def test_deck__all_22_table_cells_are_cards(student):
    notes = _notes(student)
    assert len(TABLE_CELLS) == 22
    for table, row, column in TABLE_CELLS:
        row_key = TABLE_ROW_KEYS.get((table, row), slugify(row))
        column_key = TABLE_COLUMN_KEYS.get((table, column), slugify(column))
        note = notes[f"{table}/{row_key}/{column_key}"]
        assert visible_text(note["Row"]) == row and visible_text(note["Column"]) == column
        (card,) = note.cards()
        assert "[...]" in visible_text(card.question())
    cells = Counter(key.split("/")[0] for key in notes if key.count("/") == 2)
    assert cells == {"table-protocol-components": 12, "table-systemic-factors": 10}


def test_deck__every_mechanism_with_its_steps_in_order(student):
    notes = _notes(student)
    for card_id, steps in MECHANISMS.items():
        note = notes[card_id]
        found = re.findall(r"\{\{c(\d+)::(.*?)\}\}", note["Steps"])
        assert [int(n) for n, _ in found] == list(range(1, len(steps) + 1))
        assert [visible_text(text) for _, text in found] == steps
        assert 3 <= len(steps) <= 7
        assert len(note.cards()) == len(steps)


@pytest.mark.parametrize(
    ("card_id", "words_in_order"),
    [
        ("mech-bone-remodeling-balance", ["osteoclasts", "osteoblasts", "equilibrium"]),
        (
            "mech-pr-signalling",
            ["binds", "conformational", "dimerizes", "nucleus", "response elements", "alkaline phosphatase"],
        ),
        ("mech-pr-a-vs-pr-b", ["PR-B", "PR-A"]),
        ("mech-deficiency-bone-loss", ["decline", "osteoblasts", "resorption", "fracture"]),
        ("mech-stress-cortisol", ["stress", "Cortisol", "osteoblast", "osteoclast"]),
        ("mech-inflammatory-cytokines", ["inflammation", "IL-6, TNF-alpha", "osteoclast", "resorption"]),
        ("mech-insulin-resistance", ["Insulin resistance", "growth factors", "Bone loss"]),
        ("mech-estrogen-dominance", ["Estrogen is high", "Progesterone is too low", "Bone loss"]),
    ],
)
def test_deck__the_mechanisms_the_article_describes(card_id, words_in_order):
    text = " ".join(MECHANISMS[card_id]).lower()
    positions = [text.find(word.lower()) for word in words_in_order]
    assert -1 not in positions and positions == sorted(positions), (card_id, positions)


def test_deck__shipped_lock_file_is_current(tmp_path):
    """CI's `build --locked` passes on the repository as committed: nobody forgot to commit the lock."""
    shutil.copytree(REPO / "decks", tmp_path / "decks")
    shutil.copytree(REPO / "cards", tmp_path / "cards")
    result = Project(tmp_path).run("build", "--locked")
    assert result.exit_code == 0, result.stderr
