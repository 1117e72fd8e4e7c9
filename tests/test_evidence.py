"""Evidence on the card itself: a labelled level and why, on the answer side of every card type, and a tag."""

from __future__ import annotations

import pytest

from anki_engine import import_package, open_collection, visible_text

CARDS = """
    tier: one
    source: Test
    evidence:
      level: source-claim
      note: Only this article says so.
    cards:
      - type: basic
        id: basic
        front: Does progesterone build bone?
        back: The article claims it does.
        evidence: {level: contested, note: "No fracture data (Seifert-Klauss & Prior 2010)."}
      - type: term
        id: term
        term: Estrogen dominance
        definition: The article's name for estrogen high relative to progesterone.
        reverse: true
        evidence: {level: not-mainstream, note: Not a recognised clinical entity.}
      - type: cloze
        id: cloze
        text: "Aromatase inhibitors {{c1::lower}} estradiol."
        evidence: {level: established}
      - type: mechanism
        id: mech
        title: "Claimed: deficiency to fracture"
        steps: [Progesterone falls, Bone is lost, Fractures follow]
      - type: table
        id: table
        title: Protocol
        columns: [Drug, Purpose, Bone]
        rows:
          - id: anastrozole
            cells: [Anastrozole, Blocks aromatization, Causes bone loss]
            evidence: {level: established}
            cell_evidence:
              bone: {level: refuted, note: "The article's claim that it supports bone is wrong."}
"""

EXPECTED = {  # note key -> (label shown under the answer, the note's text, tag)
    "basic": ("Contested", "No fracture data (Seifert-Klauss & Prior 2010).", "evidence::contested"),
    "term": ("Not mainstream", "Not a recognised clinical entity.", "evidence::not-mainstream"),
    "cloze": ("Established", "", "evidence::established"),
    "mech": ("Source's claim", "Only this article says so.", "evidence::source-claim"),
    "table/anastrozole/purpose": ("Established", "", "evidence::established"),
    "table/anastrozole/bone": ("Refuted", "The article's claim that it supports bone is wrong.", "evidence::refuted"),
}


def test_evidence__every_card_type_shows_its_level_and_note_on_the_answer_side_and_as_a_tag(mini, tmp_path):
    mini.write("cards/a.yaml", CARDS)
    result = mini.run("build")
    assert result.exit_code == 0, result.output
    col = open_collection(tmp_path / "student")
    import_package(col, mini.root / "dist" / "mini.apkg")
    seen = set()
    for cid in col.find_cards(""):
        card = col.get_card(cid)
        note = card.note()
        label, text, tag = EXPECTED[note["CardId"]]
        answer, question = visible_text(card.answer()), visible_text(card.question())
        assert f"{label} {text}".strip() in answer, (note["CardId"], answer)
        assert label not in question, "the evidence line is for the answer side only"
        assert tag in note.tags
        assert 'class="td-evidence td-ev-' in card.answer()
        seen.add(note["CardId"])
    assert seen == set(EXPECTED)
    col.close()


@pytest.mark.parametrize(
    ("evidence", "where"),
    [("{level: contested}", "cards[0].evidence"), ("{level: refuted, note: ''}", "cards[0].evidence.note")],
)
def test_evidence__every_level_but_established_needs_its_note(mini, evidence, where):
    mini.write(
        "cards/a.yaml",
        f"""
        tier: one
        source: Test
        cards:
          - {{type: basic, id: q, front: Q?, back: A., evidence: {evidence}}}
        """,
    )
    result = mini.run("check")
    assert result.exit_code == 1
    assert where in result.stderr.splitlines()[0]


def test_evidence__an_unknown_level_says_which_exist(mini):
    mini.write(
        "cards/a.yaml",
        """
        tier: one
        source: Test
        cards:
          - {type: basic, id: q, front: Q?, back: A., evidence: {level: disputed, note: x}}
        """,
    )
    result = mini.run("check")
    assert result.stderr == (
        "cards/a.yaml:4: cards[0].evidence.level: 'disputed' is not a valid level; use one of: established, "
        "source-claim, contested, not-mainstream, refuted\n"
        "1 error; nothing was written\n"
    )


def test_evidence__a_deck_that_requires_it_fails_strict_on_a_card_without_a_level(mini):
    mini.edit("decks/mini.yaml", "cards: [cards]", "cards: [cards]\nrequire_evidence: true")
    mini.write(
        "cards/a.yaml",
        """
        tier: one
        source: Test
        cards:
          - {type: basic, id: marked, front: Q?, back: A., evidence: {level: established}}
          - {type: basic, id: bare, front: Other?, back: B.}
        """,
    )
    assert mini.run("check").exit_code == 0  # without --strict: allowed
    result = mini.run("check", "--strict")
    assert result.exit_code == 1
    assert result.stderr == (
        "cards/a.yaml:5: cards[1]: card 'bare' has no evidence level, which this deck requires "
        "(decks/mini.yaml: require_evidence); add 'evidence: {level: established}' or another level with a note, "
        "or a default at the top of the file\n"
        "1 error; nothing was written\n"
    )


def test_evidence__cell_evidence_names_a_column_of_the_table(mini):
    mini.write("cards/a.yaml", CARDS.replace("bone: {level: refuted", "bones: {level: refuted"))
    result = mini.run("check")
    assert result.exit_code == 1
    assert "cards[4].rows[0].cell_evidence.bones: 'bones' is not a key of an asked column; did you mean 'bone'?" in (
        result.stderr
    )


def test_evidence__stats_count_cards_per_level(mini):
    mini.write("cards/a.yaml", CARDS)
    result = mini.run("stats")
    assert result.exit_code == 0, result.output
    section = result.stdout.split("cards per evidence level:\n", 1)[1].split("\n\n", 1)[0]
    assert section.splitlines() == [
        "  established        2",
        "  source-claim       3",
        "  contested          1",
        "  not-mainstream     2",
        "  refuted            1",
    ]
