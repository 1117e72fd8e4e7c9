"""The shipped deck, Progesterone and Bone Health, as a student gets it from the real Anki engine."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import tarfile
from collections import Counter
from pathlib import Path

import pytest
import yaml

from anki_engine import (
    ImportCounts,
    history,
    import_package,
    notes_by_card_id,
    open_collection,
    study_everything,
    visible_text,
)
from conftest import Project
from progesterone_expectations import (
    GLOSSARY_TERM_IDS,
    MECHANISMS,
    TABLE_CELLS,
    TABLE_COLUMN_KEYS,
    TABLE_NOT_ASKED,
    TABLE_ROW_KEYS,
)
from tierdeck.format.schema import slugify

REPO = Path(__file__).resolve().parents[2]
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


def test_deck__all_22_table_cells_are_shown_and_the_articles_claims_are_shown_only(student):
    notes = _notes(student)
    assert len(TABLE_CELLS) == 22
    for table, row, column in TABLE_CELLS:
        row_key = TABLE_ROW_KEYS.get((table, row), slugify(row))
        column_key = TABLE_COLUMN_KEYS.get((table, column), slugify(column))
        key = f"{table}/{row_key}/{column_key}"
        if (table, row, column) in TABLE_NOT_ASKED:
            assert key not in notes
            continue
        note = notes[key]
        assert visible_text(note["Row"]) == row and visible_text(note["Column"]) == column
        (card,) = note.cards()
        assert "[...]" in visible_text(card.question())
    # every card of a table shows the whole table, the cells it does not ask included
    protocol = visible_text(notes["table-protocol-components/estradiol-if-indicated/administration"]["Table"])
    assert "Claimed: calming; bone formation" in protocol and "Weekly subcutaneous injection" in protocol
    systemic = visible_text(notes["table-systemic-factors/inflammation-cytokines/mechanism-of-influence-on-bone"]["Table"])
    assert "Dysglycemia can indirectly compromise bone" in systemic and "Less calming buffer against stress" in systemic
    cells = Counter(key.split("/")[0] for key in notes if key.count("/") == 2)
    assert cells == {"table-protocol-components": 8, "table-systemic-factors": 4}


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
        ("mech-bone-remodeling-balance", ["osteoclasts", "osteoblasts", "equilibrium", "peak bone mass", "lost"]),
        (
            "mech-pr-signalling",
            ["binds", "conformational", "dimerizes", "nucleus", "response elements", "cultured osteoblasts"],
        ),
        ("mech-pr-a-vs-pr-b", ["PR-B", "PR-A"]),
        ("mech-estrogen-deficiency-bone-loss", ["Estrogen falls", "osteoclasts", "resorption", "fracture"]),
        ("mech-stress-cortisol", ["Glucocorticoids", "osteoblast", "formation falls", "osteoclast"]),
        ("mech-inflammatory-cytokines", ["inflammation", "IL-6, TNF-alpha", "osteoclast", "resorption"]),
        ("mech-diabetes-fracture-risk", ["BMD is normal", "glycation", "falls", "Fracture risk"]),
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


# The release students studied before this revision (issue 21): the commit of Progesterone and Bone Health 1.1.0.
V1_1_0 = "abdbfc2"


def _build_release(revision: str | None, root: Path) -> Path:
    """The deck's package at a git revision (None: the working tree), built from a copy of its sources."""
    if revision is None:
        shutil.copytree(REPO / "decks", root / "decks")
        shutil.copytree(REPO / "cards", root / "cards")
    else:
        found = subprocess.run(["git", "cat-file", "-e", f"{revision}^{{commit}}"], cwd=REPO, capture_output=True)
        if found.returncode != 0:
            message = f"the deck's {revision} is not in this clone's history (fetch it: git fetch --unshallow)"
            if os.environ.get("CI") == "true":
                pytest.fail(message, pytrace=False)
            pytest.skip(message)
        root.mkdir()
        archive = subprocess.run(["git", "archive", revision, "decks", "cards"], cwd=REPO, capture_output=True, check=True)
        tarfile.open(fileobj=io.BytesIO(archive.stdout)).extractall(root, filter="data")
    result = Project(root).run("build", "decks/progesterone-bone.yaml", env={"SOURCE_DATE_EPOCH": "1767225600"})
    assert result.exit_code == 0, result.output
    return root / "dist" / "progesterone-bone.apkg"


# The search the deck description gives students: every card of an earlier version that 1.2.0 removed.
RETIRED_SEARCH = (
    'deck:"Progesterone and Bone Health" (-tag:evidence::established OR '
    '"cardid:table-systemic-factors/*/relevance-to-progesterone-deficiency" OR '
    '"cardid:table-systemic-factors/metabolic-*" OR cardid:lab-interpretation-context)'
)


def test_release__a_student_who_studied_1_1_0_imports_1_2_0_and_keeps_every_review(tmp_path):
    old = _build_release(V1_1_0, tmp_path / "v1.1.0")
    new = _build_release(None, tmp_path / "v1.2.0")
    col = open_collection(tmp_path / "student")
    assert import_package(col, old).new == 93
    assert study_everything(col) == 144
    before = history(col)
    old_notes = notes_by_card_id(col)
    notetypes_before = sorted(m["name"] for m in col.models.all())

    counts = import_package(col, new)
    # the note types were updated in place: no second "tierdeck Table+" beside the student's copy
    assert sorted(m["name"] for m in col.models.all()) == notetypes_before
    # 74 notes in 1.2.0: 17 new, 30 corrected in place, 27 unchanged; 0 conflicting (no note changed type)
    assert counts == ImportCounts(new=17, updated=30, duplicate=27, conflicting=0)
    after = history(col)
    for key, studied in before.items():
        assert after[key] == studied, f"review history of {key} changed"

    notes = notes_by_card_id(col)
    assert set(old_notes) <= set(notes)  # Anki never deletes a student's notes
    anastrozole = notes["table-protocol-components/anastrozole-pellet-therapy/impact-on-bone-health"]
    assert {"evidence::established", "source-claim::refuted"} <= set(anastrozole.tags)
    assert "evidence::refuted" not in anastrozole.tags

    # The description's search suspends exactly the removed cards and leaves every card of 1.2.0
    # (corrections included) to study.
    col.sched.suspend_cards(col.find_cards(RETIRED_SEARCH))
    fresh = open_collection(tmp_path / "new-student")
    import_package(fresh, new)
    current = set(notes_by_card_id(fresh))
    fresh.close()
    assert len(current) == 74
    suspended = {col.get_card(c).note()["CardId"] for c in col.find_cards("is:suspended")}
    assert suspended == set(old_notes) - current  # exactly the notes 1.2.0 no longer has
    assert len(suspended) == 36
    description = yaml.safe_load((REPO / "decks" / "progesterone-bone.yaml").read_text())["description"]
    assert f"`{RETIRED_SEARCH}`" in " ".join(description.split())
    col.close()
