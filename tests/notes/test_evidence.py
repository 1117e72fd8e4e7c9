"""Evidence on the card itself: a labelled level and why, on the answer side of every card type, and a tag."""

from __future__ import annotations

import json

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
    [
        ("{level: contested}", "cards[0].evidence"),
        ("{level: refuted, note: ''}", "cards[0].evidence.note"),
        ("{level: established, source_claim: refuted}", "cards[0].evidence: source_claim 'refuted' needs a note"),
    ],
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


CORRECTION = """
    tier: one
    source: Test
    cards:
      - type: basic
        id: ai-bone
        front: What do aromatase inhibitors do to bone?
        back: They lower estradiol and so cause bone loss.
        evidence:
          level: established
          source_claim: refuted
          note: "The article claims they support bone (Eastell et al., J Clin Oncol 2008)."
      - type: basic
        id: claim
        front: What does the article claim about salivary testing?
        back: That it reflects tissue levels.
        evidence: {level: not-mainstream, source_claim: not-mainstream, note: Guidelines advise against it.}
"""


def test_evidence__a_correction_is_established_and_names_the_sources_claim_on_the_answer_side_and_as_a_tag(
    mini, tmp_path
):
    """Suspending the source's unsupported claims (tag:evidence::not-mainstream) keeps the corrections."""
    mini.write("cards/a.yaml", CORRECTION)
    result = mini.run("build")
    assert result.exit_code == 0, result.output
    col = open_collection(tmp_path / "student")
    import_package(col, mini.root / "dist" / "mini.apkg")
    notes = {col.get_note(nid)["CardId"]: col.get_note(nid) for nid in col.find_notes("")}
    (card,) = notes["ai-bone"].cards()
    assert (
        "cause bone loss. Established The source's claim is refuted. The article claims they support bone (Eastell "
        "et al., J Clin Oncol 2008). Source: Test"
    ) in visible_text(card.answer())
    assert "refuted" not in visible_text(card.question())
    assert {"evidence::established", "source-claim::refuted"} <= set(notes["ai-bone"].tags)
    assert {"evidence::not-mainstream", "source-claim::not-mainstream"} <= set(notes["claim"].tags)
    col.sched.suspend_cards(col.find_cards("tag:evidence::not-mainstream"))
    unsuspended = {col.get_card(c).note()["CardId"] for c in col.find_cards("-is:suspended")}
    assert unsuspended == {"ai-bone"}
    assert {col.get_card(c).note()["CardId"] for c in col.find_cards("tag:source-claim::*")} == {"ai-bone", "claim"}
    col.close()


def test_evidence__stats_count_cards_per_source_claim(mini):
    mini.write("cards/a.yaml", CORRECTION)
    result = mini.run("stats")
    assert result.exit_code == 0, result.output
    section = result.stdout.split("cards per source claim (the source's claim the card reports or corrects):\n", 1)[1]
    assert section.split("\n\n", 1)[0].splitlines() == ["  not-mainstream     1", "  refuted            1"]
    assert "source-claim::" not in result.stdout  # not listed again as an author's tag
    (deck,) = json.loads(mini.run("stats", "--format", "json").stdout)["decks"]
    assert deck["source_claims"] == {"not-mainstream": 1, "refuted": 1}
    assert deck["evidence_by_tier"] == {"one": {"established": 1, "not-mainstream": 1}}


def test_evidence__an_unknown_source_claim_says_which_exist(mini):
    mini.write("cards/a.yaml", CORRECTION.replace("source_claim: refuted", "source_claim: wrong"))
    result = mini.run("check")
    assert result.stderr == (
        "cards/a.yaml:10: cards[0].evidence.source_claim: 'wrong' is not a valid source_claim; use one of: "
        "unsupported, contested, not-mainstream, refuted\n"
        "1 error; nothing was written\n"
    )


def test_evidence__check_warns_where_level_and_wording_disagree(mini):
    mini.write(
        "cards/a.yaml",
        """
        tier: one
        source: Test
        cards:
          - type: table
            id: t
            title: Protocol
            columns: [Drug, Bone]
            rows:
              - id: ai
                cells: [Anastrozole, "Causes bone loss (the article wrongly claims it supports bone)"]
                evidence: {level: refuted, note: The article's claim is refuted.}
          - type: basic
            id: glossary
            front: How does the article's glossary define bone density?
            back: Mineral per volume.
            evidence: {level: established}
          - type: basic
            id: fine
            front: What does the article's glossary call bone density?
            back: Mineral per volume; clinically, bone density means DXA BMD.
            evidence: {level: established, source_claim: unsupported, note: A glossary's wording.}
        """,
    )
    result = mini.run("check")
    assert result.exit_code == 0
    assert result.stderr.splitlines()[:2] == [
        "cards/a.yaml:10: warning: cards[0].rows[0].cells[1]: the card corrects a claim ('wrongly'), yet its evidence "
        "level 'refuted' says what it teaches is refuted: the level is about what the card teaches; give the "
        "correction's level (e.g. established) and 'source_claim: refuted'",
        "cards/a.yaml:16: warning: cards[1].evidence: the card presents its source's claim ('the article's') but its "
        "evidence level is 'established'; if the recalled answer is the claim, give the claim's level (source-claim, "
        "contested, ...); if the card corrects or reports it, say how it stands with 'source_claim: ...'",
    ]
    assert "cards[2]" not in result.stderr


TABLE = """
    tier: one
    source: Test
    cards:
      - type: table
        id: factors
        title: Systemic factors
        columns: [Factor, Mechanism, {id: link, title: Claimed link}, {title: Note, ask: false}]
        rows:
          - id: hpa
            cells: [Cortisol, Inhibits osteoblasts, Less calming buffer, Glucocorticoid excess]
          - id: hpt
            cells: [Thyroid, Regulates turnover, None given (it says only that balance matters), Hyperthyroidism]
            shown_only: [link]
"""


def test_table__a_cell_or_column_can_be_shown_without_being_asked(mini, tmp_path):
    mini.write("cards/a.yaml", TABLE)
    check = mini.run("check", "--strict")
    assert check.exit_code == 0, check.output
    assert mini.run("build").exit_code == 0
    col = open_collection(tmp_path / "student")
    import_package(col, mini.root / "dist" / "mini.apkg")
    notes = {col.get_note(nid)["CardId"]: col.get_note(nid) for nid in col.find_notes("")}
    assert set(notes) == {"factors/hpa/mechanism", "factors/hpa/link", "factors/hpt/mechanism"}
    (card,) = notes["factors/hpt/mechanism"].cards()
    question = visible_text(card.question())
    assert "None given (it says only that balance matters)" in question  # shown to every card of the table
    assert "Hyperthyroidism" in question and "Glucocorticoid excess" in question
    col.close()


def test_table__lint_warns_on_a_placeholder_answer_and_says_how_to_keep_it_unasked(mini):
    asked = TABLE.replace("            shown_only: [link]\n", "")
    mini.write("cards/a.yaml", asked)
    result = mini.run("check")
    assert result.exit_code == 0
    assert result.stderr.splitlines()[0] == (
        "cards/a.yaml:12: warning: cards[0].rows[1].cells[2]: the table cell's answer is a placeholder ('None given "
        "(it says only that balance matters)'); a card asking it teaches nothing: write what belongs there, or show "
        "it without asking it: 'shown_only: [link]' on the row, or 'ask: false' on the column"
    )
    for placeholder in ("n/a", "None", "-", "Not stated"):
        mini.write("cards/a.yaml", asked.replace("None given (it says only that balance matters)", placeholder))
        assert "cards[0].rows[1].cells[2]: the table cell" in mini.run("check").stderr, placeholder


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("shown_only: [link]", "shown_only: [links]"),
            "cards/a.yaml:13: cards[0].rows[1].shown_only[0]: 'links' is not the key of a column after the first; "
            "did you mean 'link'?",
        ),
        (
            ("shown_only: [link]", "shown_only: [link]\n            cell_evidence: {link: {level: established}}"),
            "cards/a.yaml:14: cards[0].rows[1].cell_evidence.link: cell 'link' is shown but not asked, so no card "
            "carries this evidence; remove it here",
        ),
        (
            ("columns: [Factor,", "columns: [{title: Factor, ask: false},"),
            "cards/a.yaml:7: cards[0].columns[0].ask: the first column names each row and is never asked; remove "
            "'ask: false'",
        ),
    ],
)
def test_table__shown_only_mistakes_are_errors_at_their_line(mini, change, message):
    mini.write("cards/a.yaml", TABLE.replace(*change))
    result = mini.run("check")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == message


def test_table__a_placeholder_answer_kept_on_purpose_is_waived_with_a_reason(mini):
    asked = TABLE.replace("            shown_only: [link]\n", "")
    mini.write("cards/a.yaml", asked)
    assert mini.run("check", "--strict").exit_code == 1
    waived = asked.replace(
        "        title: Systemic factors\n",
        "        title: Systemic factors\n        lint: {ignore: [empty-cell], why: The article's silence is the point.}\n",
    )
    mini.write("cards/a.yaml", waived)
    result = mini.run("check", "--strict")
    assert result.exit_code == 0, result.output
    assert "cards/a.yaml:13: empty-cell, because: The article's silence is the point.\n" in mini.run("stats").stdout
