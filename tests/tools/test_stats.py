"""`tierdeck stats`: cards per tier x type, cards per tag, lint findings; as text and as JSON."""

from __future__ import annotations

import json


def test_stats__text_table_of_the_sample(sample):
    result = sample.run("stats")
    assert result.exit_code == 0
    assert result.stdout == (
        "sample (Sample Deck): 13 cards from 9 notes\n"
        "\n"
        "tier      basic  term  cloze  mechanism  table  total\n"
        "basics        2     2      2          0      0      6\n"
        "advanced      0     0      0          3      4      7\n"
        "total         2     2      2          3      4     13\n"
        "\n"
        "cards per tag:\n"
        "  sample    13\n"
        "  cells      5\n"
        "\n"
        "lint: 0 warnings\n"
    )


def test_stats__json_has_the_same_numbers_and_the_lint_findings(sample):
    sample.edit("cards/sample/basics.yaml", "source: Sample / Basics\n", "")
    result = sample.run("stats", "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    (deck,) = data["decks"]
    assert deck["id"] == "sample" and deck["cards"] == 13 and deck["notes"] == 9
    assert [(t["id"], t["total"]) for t in deck["tiers"]] == [("basics", 6), ("advanced", 7)]
    assert deck["tiers"][1]["cards"] == {"basic": 0, "term": 0, "cloze": 0, "mechanism": 3, "table": 4}
    assert deck["types"] == {"basic": 2, "term": 2, "cloze": 2, "mechanism": 3, "table": 4}
    assert deck["tags"] == {"sample": 13, "cells": 5}
    assert data["warnings"] == [
        {
            "file": "cards/sample/basics.yaml",
            "line": 4 + 5 * i,
            "path": f"cards[{i}]",
            "message": f"cards[{i}]: card '{card}' has no source; add 'source: ...' to the card, or once at the top "
            "of the file for all its cards",
        }
        for i, card in enumerate(["bone-remodeling", "osteoclast-role"])
    ] + [
        {
            "file": "cards/sample/basics.yaml",
            "line": 14,
            "path": "cards[2]",
            "message": "cards[2]: card 'remodeling-cells' has no source; add 'source: ...' to the card, or once at "
            "the top of the file for all its cards",
        }
    ]


def test_stats__text_lists_lint_findings_with_file_and_line(sample):
    sample.edit("cards/sample/advanced.yaml", "      - The receptor dimerizes\n", "")
    sample.edit("cards/sample/advanced.yaml", "      - The receptor changes conformation\n", "")
    result = sample.run("stats")
    assert result.stdout.endswith(
        "lint: 1 warning\n"
        "cards/sample/advanced.yaml:7: warning: cards[0].steps: a mechanism has 2 to 10 steps, this one has 1; "
        "add the steps before and after it, or make it a basic card\n"
    )


def test_stats__bad_cards_are_errors(mini):
    mini.write("cards/a.yaml", "tier: one\ncards: [nope]\n")
    result = mini.run("stats")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.endswith("1 error; nothing was written\n")
