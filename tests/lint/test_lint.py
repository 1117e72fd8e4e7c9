"""Lint: valid cards that will study badly, reported as warnings at file:line, errors with --strict."""

from __future__ import annotations

from pathlib import Path

FORTY_ONE = " ".join(["word"] * 40) + " end?"

CARDS = f"""
    tier: one
    source: Lecture 1
    cards:
      - type: basic
        id: q1
        front: What do osteoclasts do?
        back: They resorb bone.
      - type: basic
        id: q2
        front: what do  *osteoclasts* do?
        back: Resorb bone.
      - type: basic
        id: long
        front: {FORTY_ONE}
        back: x
      - type: cloze
        id: c1
        text: "Bone {{{{c1::is remodelled throughout life by osteoclasts and osteoblasts}}}}."
      - type: mechanism
        id: m1
        title: One step
        steps: [Only step]
      - type: table
        id: t1
        title: Cells
        columns: [Cell, Role]
        rows:
          - [Osteoblast, "-"]
          - {{id: clast, cells: [Osteoclast, "…"]}}
"""

NO_SOURCE = """
    tier: one
    cards:
      - type: cloze
        id: c2
        text: "{{c1::Bone}} is remodelled all the time by osteoclasts and osteoblasts."
      - type: cloze
        id: c3
        text: "{{c1::Bone::what?}} is remodelled all the time by {{c2::osteoclasts}} and osteoblasts."
"""

WARNINGS = [
    (
        "cards/a.yaml:10: warning: cards[1].front: same front as card 'q1' at cards/a.yaml:6; merge the two cards or "
        "reword one"
    ),
    (
        "cards/a.yaml:14: warning: cards[2].front: the front has 41 words (more than 40); a long prompt is hard to "
        "answer at a glance: shorten it, split the card, or move context to 'extra'"
    ),
    (
        "cards/a.yaml:18: warning: cards[3].text: deletion c1 hides 91% of the text, leaving too little to recall it "
        "from; hide less (one key word or phrase) or split it into several deletions"
    ),
    (
        "cards/a.yaml:22: warning: cards[4].steps: a mechanism has 2 to 10 steps, this one has 1; add the steps before "
        "and after it, or make it a basic card"
    ),
    (
        "cards/a.yaml:28: warning: cards[5].rows[0][1]: the table cell is empty ('-'); a card asking it teaches "
        "nothing: write what belongs there, or show it without asking it: 'shown_only: [role]' on the row, or "
        "'ask: false' on the column"
    ),
    (
        "cards/a.yaml:29: warning: cards[5].rows[1].cells[1]: the table cell is empty ('…'); a card asking it "
        "teaches nothing: write what belongs there, or show it without asking it: 'shown_only: [role]' on the row, "
        "or 'ask: false' on the column"
    ),
    (
        "cards/b.yaml:3: warning: cards[0]: card 'c2' has no source; add 'source: ...' to the card, or once at the top "
        "of the file for all its cards"
    ),
    (
        "cards/b.yaml:6: warning: cards[1]: card 'c3' has no source; add 'source: ...' to the card, or once at the top "
        "of the file for all its cards"
    ),
    (
        "cards/b.yaml:8: warning: cards[1].text: same cloze text as card 'c2' at cards/b.yaml:5; merge the two cards "
        "or reword one"
    ),
]


def test_check__lint_warnings_name_file_line_and_fix(mini):
    mini.write("cards/a.yaml", CARDS)
    mini.write("cards/b.yaml", NO_SOURCE)
    result = mini.run("check")
    assert result.exit_code == 0
    assert result.stderr.splitlines() == WARNINGS
    assert result.stdout.splitlines()[-1] == "ok: 1 deck checked, 9 warnings"


def test_check__strict_turns_warnings_into_errors(mini):
    mini.write("cards/a.yaml", CARDS)
    mini.write("cards/b.yaml", NO_SOURCE)
    result = mini.run("check", "--strict")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [w.replace(" warning: ", " ", 1) for w in WARNINGS] + [
        "9 errors; nothing was written"
    ]


def test_check__strict_passes_a_clean_deck(mini):
    mini.write("cards/a.yaml", CARDS.split("      - type: basic\n        id: q2")[0])
    result = mini.run("check", "--strict")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""


def test_build__does_not_lint_and_check_warns_without_stopping(mini):
    """Lint is check's pass: a build neither pays for it nor stops for it; check lists the warnings, exit 0."""
    mini.write("cards/b.yaml", NO_SOURCE)
    result = mini.run("build")
    assert result.exit_code == 0 and result.stderr == ""
    assert (mini.root / "dist" / "mini.apkg").is_file()
    checked = mini.run("check")
    assert checked.exit_code == 0
    assert checked.stderr.splitlines() == WARNINGS[-3:]


def test_lint__limits_are_exclusive(mini):
    steps = "\n".join(f"            - Step {i}" for i in range(1, 11))
    mini.write(
        "cards/a.yaml",
        f"""
        tier: one
        source: Lecture 1
        cards:
          - type: basic
            id: forty
            front: {" ".join(["word"] * 39)} end?
            back: x
          - type: cloze
            id: half
            text: "{{{{c1::abcd}}}} efgh"
          - type: mechanism
            id: ten
            title: Ten steps
            steps:
{steps}
          - type: mechanism
            id: two
            title: Two steps
            steps: [One, Two]
        """,
    )
    result = mini.run("check")
    assert result.stderr == ""
    mini.edit("cards/a.yaml", "    - Step 10\n", "    - Step 10\n    - Step 11\n")
    mini.edit("cards/a.yaml", "{{c1::abcd}} efgh", "{{c1::abcde}} efgh")
    result = mini.run("check")
    assert [line.split(": ", 3)[2] for line in result.stderr.splitlines()] == [
        "cards[1].text",
        "cards[2].steps",
    ]
    assert "a mechanism has 2 to 10 steps, this one has 11; split it into two mechanisms" in result.stderr


def test_lint__reverse_term_definition_is_a_front_and_terms_must_not_repeat(mini):
    long_definition = " ".join(["word"] * 41)
    mini.write(
        "cards/a.yaml",
        f"""
        tier: one
        source: Lecture 1
        cards:
          - type: term
            id: t1
            term: Osteon
            definition: {long_definition}
            reverse: true
          - type: term
            id: t2
            term: osteon
            definition: {long_definition}
          - type: basic
            id: b1
            front: Osteon
            back: The unit of compact bone.
        """,
    )
    result = mini.run("check")
    assert result.stderr.splitlines() == [
        (
            "cards/a.yaml:7: warning: cards[0].definition: the front has 41 words (more than 40); a long prompt is hard "
            "to answer at a glance: shorten it, split the card, or move context to 'extra'"
        ),
        (
            "cards/a.yaml:11: warning: cards[1].term: same term as card 't1' at cards/a.yaml:6; merge the two cards or "
            "reword one"
        ),
    ]


CRAFT = """
    tier: one
    source: Lecture 1
    cards:
      - type: cloze
        id: panel
        text: "The clinic's panel: {{c1::estradiol}}, {{c2::testosterone}}, {{c3::DHEA-S}} and {{c4::thyroid hormones}}."
      - type: cloze
        id: pair
        text: "{{c1::Osteoblasts}} build bone; {{c2::osteoclasts}} resorb it."
      - type: cloze
        id: fine
        text: "Progesterone comes from the {{c1::ovaries}} and, less, from the {{c2::adrenal glands}}."
      - type: basic
        id: circular
        front: What does bone loss do to skeletal strength?
        back: Bone loss lowers skeletal strength.
      - type: term
        id: resorption
        term: Bone resorption
        definition: The process by which osteoclasts break down old bone tissue and release its minerals.
      - type: term
        id: osteoclast-activity
        term: Osteoclast activity
        definition: The process in which osteoclasts break down old bone tissue, releasing minerals.
      - type: basic
        id: code
        front: What does this compute?
        back: |
          ```
          ratio = bicarbonate_concentration / (0.03 * partial_pressure_co2)
          ```
"""


def test_lint__craft_patterns_are_located_warnings(mini):
    mini.write("cards/a.yaml", CRAFT)
    result = mini.run("check")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "cards/a.yaml:6: warning: cards[0].text: deletions c1, c2, c3, c4 hide the items of one short list, each on "
        "its own card: every card shows the others, so it can be answered by elimination; hide the list in one "
        "deletion, or ask for it in a basic card",
        "cards/a.yaml:9: warning: cards[1].text: deletions c1 and c2 hide a matched pair ('osteoblasts', "
        "'osteoclasts'): each card shows the other half, which gives its answer away; hide both in one deletion, or "
        "ask each in a card of its own without the other",
        "cards/a.yaml:16: warning: cards[3].back: the answer repeats the question's words (bone, loss, skeletal, "
        "strength) and adds one word: a student can say it back without recalling anything; ask for what the answer "
        "adds",
        "cards/a.yaml:24: warning: cards[5].definition: defined almost as term 'resorption' at cards/a.yaml:20 (7 of "
        "9 words shared), so students will confuse the two; say what tells them apart, in the definitions or in an "
        "extra on both cards",
        "cards/a.yaml:25: warning: cards[6]: Back: a code line is 65 characters wide; code does not wrap, so on a "
        "390 px phone it runs off the card: break it into lines of at most 32",
    ]


def test_lint__look_alike_terms_told_apart_in_extras_are_fine(mini):
    mini.write(
        "cards/a.yaml",
        CRAFT.replace("release its minerals.", "release its minerals.\n    extra: The process.")
        .replace("releasing minerals.", "releasing minerals.\n    extra: The cell's work."),
    )
    assert "defined almost as term" not in mini.run("check").stderr


def test_lint__the_readability_targets_are_the_note_types_own_backgrounds():
    """data/readability.json's backgrounds are the ones tierdeck.css paints, light and night."""
    import json

    import tierdeck

    data = Path(tierdeck.__file__).parent / "data"
    targets = json.loads((data / "readability.json").read_text(encoding="utf-8"))
    css = (data / "notetypes" / "tierdeck.css").read_text(encoding="utf-8").lower()
    for colour in targets["backgrounds"].values():
        assert f"--td-bg: {colour};" in css, colour


def test_lint__every_warning_has_a_rule_an_author_can_opt_out_of(mini):
    """Each lint warning of the two sample decks above is named by a rule of LINT_RULES."""
    from tierdeck.format.schema import LINT_RULES
    from tierdeck.lint.rules import rule_of
    from tierdeck.project.load import load

    rules = set()
    for text in (CARDS, CRAFT):
        mini.write("cards/a.yaml", text)
        for warning in load(mini.root).warnings:
            assert rule_of(warning) in LINT_RULES, warning.message
            rules.add(rule_of(warning))
    assert rules >= {"duplicate-prompt", "long-front", "cloze-hides-most", "cloze-list", "cloze-pair",
                     "circular-answer", "similar-definitions", "mechanism-steps", "empty-cell", "code-width"}


def test_lint__a_card_opts_out_of_a_rule_with_a_reason_shown_in_stats_and_the_preview(mini):
    mini.write("cards/a.yaml", CRAFT.replace(
        "id: panel\n",
        "id: panel\n        lint:\n          ignore: [cloze-list]\n          why: The four are independent causes, not a list.\n",
    ))
    result = mini.run("check", "--strict")
    assert "hide the items of one short list" not in result.stderr
    assert "hide a matched pair" in result.stderr  # other cards and rules still warn
    stats = mini.run("stats")
    assert (
        "lint opted out of ('lint: {ignore: ...}'): 1 warning\n"
        "cards/a.yaml:9: cloze-list, because: The four are independent causes, not a list.\n"
    ) in stats.stdout
    assert mini.run("preview").exit_code == 0
    page = "".join(p.read_text() for p in (mini.root / "preview").rglob("*.js"))
    assert "lint 'cloze-list' ignored on purpose: The four are independent causes, not a list." in page


def test_lint__a_whole_file_opts_out_and_an_unknown_rule_is_located(mini):
    mini.write("cards/a.yaml", CARDS.replace(
        "source: Lecture 1\n", "source: Lecture 1\n    lint: {ignore: [long-front, duplicate-prompt], why: Exam wording.}\n"
    ))
    warnings = mini.run("check").stderr
    assert "warning: cards[" in warnings
    assert "words (more than 40)" not in warnings and "same front as" not in warnings
    assert "a mechanism has 2 to 10 steps" in warnings
    mini.write("cards/a.yaml", CARDS.replace("source: Lecture 1\n", "source: Lecture 1\n    lint: {ignore: [long-fornt], why: x}\n"))
    result = mini.run("check")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "cards/a.yaml:3: lint.ignore[0]: 'long-fornt' is not a valid lint rule; did you mean 'long-front'?\n"
    )
