"""`tierdeck diff`: the changelog between two versions, from git revisions or built packages."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest


def _git(root, *args):
    subprocess.run(
        ["git", "-c", "user.email=t@example.org", "-c", "user.name=t", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def history(sample):
    """The sample project in git: tag v1, then a commit that edits, adds, removes and moves cards."""
    _git(sample.root, "init", "-q")
    _git(sample.root, "add", "-A")
    _git(sample.root, "commit", "-qm", "v1")
    _git(sample.root, "tag", "v1")
    sample.edit("cards/sample/basics.yaml", "They resorb bone.", "They break down (resorb) bone.")
    sample.edit("cards/sample/advanced.yaml", "Resorbs bone", "Resorbs mineralised bone")
    sample.edit("cards/sample/advanced.yaml", "    tier: basics\n", "")
    sample.edit(
        "cards/sample/basics.yaml",
        "  - type: basic\n    id: osteoclast-role\n",
        "  - type: basic\n    id: pr-location\n    front: Where are PR-A and PR-B found?\n    back: In osteoblasts and osteoclasts.\n"
        "  - type: basic\n    id: osteoclast-role\n",
    )
    sample.edit("decks/sample.yaml", "version: 1.0.0", "version: 1.1.0")
    text = (sample.root / "cards/sample/basics.yaml").read_text()
    start = text.index("  - type: cloze")
    (sample.root / "cards/sample/basics.yaml").write_text(text[:start])
    _git(sample.root, "commit", "-qam", "v2")
    return sample


def test_diff__between_git_revisions_is_a_markdown_changelog_per_tier(history):
    result = history.run("diff", "v1", "HEAD")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "# Changes from v1 to HEAD\n"
        "\n"
        "## Sample Deck (`sample`) 1.0.0 → 1.1.0\n"
        "\n"
        "1 added, 2 changed, 1 removed, 1 moved tier.\n"
        "\n"
        "A table counts once per cell: each cell is a card of its own.\n"
        "\n"
        "Removed cards stay in a student's collection (with their reviews): delete or suspend them in Anki if you no "
        "longer want to study them.\n"
        "\n"
        "### 1 Basics\n"
        "\n"
        "- Added `pr-location` (basic): Where are PR-A and PR-B found?\n"
        "- Changed `osteoclast-role` (basic): Back: “They resorb bone.” → “They break down (resorb) bone.”\n"
        "- Removed `remodeling-cells` (cloze): Osteoblasts build new bone matrix; osteoclasts resorb old bone.\n"
        "\n"
        "### 2 Advanced\n"
        "\n"
        "- Changed `bone-cells` (table) Bone cells · Osteoclast · Role: Cell: “Resorbs bone” → “Resorbs mineralised "
        "bone”\n"
        "- Moved `h2o` from 1 Basics to 2 Advanced (students who have it keep its cards in the old subdeck; "
        "its tier tag updates)\n"
    )


def test_diff__working_tree_is_the_default_new_side(history):
    history.edit("cards/sample/basics.yaml", "Bone remodeling", "Bone remodelling")
    result = history.run("diff", "HEAD")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == "# Changes from HEAD to the working tree"
    assert "- Changed `bone-remodeling` (term): Term: “Bone remodeling” → “Bone remodelling”" in result.stdout


def test_diff__between_packages_as_json(history, tmp_path):
    _git(history.root, "checkout", "-q", "v1")
    assert history.run("build").exit_code == 0
    shutil.copy(history.root / "dist" / "sample.apkg", tmp_path / "sample.apkg")
    _git(history.root, "checkout", "-q", "-")
    assert history.run("build").exit_code == 0
    result = history.run("diff", str(tmp_path / "sample.apkg"), "dist/sample.apkg", "--format", "json")
    assert result.exit_code == 0, result.output
    (deck,) = json.loads(result.stdout)["decks"]
    assert (deck["id"], deck["old_version"], deck["new_version"]) == ("sample", "1.0.0", "1.1.0")
    assert [n["key"] for n in deck["added"]] == ["pr-location"]
    assert [n["key"] for n in deck["removed"]] == ["remodeling-cells"]
    assert {n["key"]: n["fields"] for n in deck["changed"]} == {
        "bone-cells/osteoclast/role": {"Cell": {"before": "Resorbs bone", "after": "Resorbs mineralised bone"}},
        "osteoclast-role": {"Back": {"before": "They resorb bone.", "after": "They break down (resorb) bone."}},
    }
    (moved,) = deck["moved"]
    assert moved == {
        "key": "h2o",
        "guid": moved["guid"],
        "type": "basic",
        "tier": "advanced",
        "evidence": None,
        "source_claim": None,
        "summary": "Formula of water?",
        "from": "basics",
        "to": "advanced",
    }
    assert len(moved["guid"]) >= 10


def test_diff__unknown_revision_is_a_usage_error(history):
    result = history.run("diff", "v9")
    assert result.exit_code == 2
    assert result.stderr == "Error: 'v9' is neither an .apkg file nor a git revision (a tag, branch or commit)\n"


def test_diff__stores_no_cache_for_a_revision_it_exports(history, monkeypatch):
    from tierdeck import cache

    stored = []
    real = cache.Cache.put_bytes
    monkeypatch.setattr(cache.Cache, "put_bytes", lambda self, *a: stored.append(self.dir) or real(self, *a))
    assert history.run("diff", "v1", ".").exit_code == 0
    assert stored and set(stored) == {history.root / cache.CACHE_DIR}  # the working tree's cache only


def test_diff__a_tag_or_evidence_change_is_a_change(history):
    history.edit("cards/sample/basics.yaml", "    id: osteoclast-role\n", "    id: osteoclast-role\n    tags: [review]\n")
    history.edit(
        "cards/sample/basics.yaml",
        "    id: bone-remodeling\n",
        "    id: bone-remodeling\n    evidence: {level: contested, note: Debated.}\n",
    )
    result = history.run("diff", "HEAD")
    assert result.exit_code == 0, result.output
    assert "- Changed `osteoclast-role` (basic): Tags: “cells sample” → “cells review sample”" in result.stdout
    assert (
        "- Changed `bone-remodeling` (term): Extra: “” → “Contested Debated.”; Evidence: “(none)” → “contested”"
        in result.stdout
    )


def test_diff__a_source_claim_is_listed_beside_the_level(history):
    history.edit(
        "cards/sample/basics.yaml",
        "    id: bone-remodeling\n",
        "    id: bone-remodeling\n    evidence: {level: contested, note: Debated.}\n",
    )
    _git(history.root, "commit", "-qam", "contested")
    history.edit(
        "cards/sample/basics.yaml",
        "evidence: {level: contested, note: Debated.}",
        "evidence: {level: established, source_claim: refuted, note: The article says otherwise.}",
    )
    result = history.run("diff", "HEAD")
    assert result.exit_code == 0, result.output
    assert (
        "- Changed `bone-remodeling` (term): Extra: “Contested Debated.” → “Established The source's claim is "
        "refuted. The article says otherwise.”; Evidence: “contested” → “established”; Source claim: “(none)” → "
        "“refuted”" in result.stdout
    )


def test_diff__a_renamed_deck_is_a_rename_not_a_new_deck(history):
    assert history.run("build").exit_code == 0
    _git(history.root, "add", "-A")
    _git(history.root, "commit", "-qm", "locked")
    history.edit("decks/sample.yaml", "id: sample", "id: sample-deck\nprevious_ids: [sample]")
    assert history.run("build").exit_code == 0
    result = history.run("diff", "HEAD")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "# Changes from HEAD to the working tree\n"
        "\n"
        "## Sample Deck (`sample-deck`) 1.1.0\n"
        "\n"
        "Renamed from `sample`: every card keeps its identity, so students get no duplicates.\n"
        "\n"
        "No card changed.\n"
    )


# --- packages from elsewhere: read as `tierdeck import` reads them, with its limits ---------------------------


@pytest.fixture(scope="module")
def foreign(tmp_path_factory):
    from import_builders import build_sample

    return build_sample(tmp_path_factory.mktemp("foreign"))


def _notes(stdout: str) -> list[tuple[str, str]]:
    (deck,) = json.loads(stdout)["decks"]
    return sorted((n["type"], n["summary"]) for n in deck["added"])


def test_diff__an_anki_exported_package_shows_its_notes_in_either_format_never_the_update_placeholder(
    foreign, tmp_path
):
    from import_builders import members, write_zip

    empty = write_zip(tmp_path / "empty.apkg", {"collection.anki2": members(foreign.legacy)["collection.anki2"]})
    expected = sorted((n.notetype, n.fields[0].split(" <img")[0][:79]) for n in foreign.notes)
    for package in (foreign.legacy, foreign.current):
        result = _run_diff(tmp_path, str(empty), str(package))
        assert result.exit_code == 0, result.output
        summaries = _notes(result.stdout)
        assert len(summaries) == len(foreign.notes)
        assert [s[0] for s in summaries] == [e[0] for e in expected]
        assert not any("update" in s[1].lower() for s in summaries)  # Anki's "please update Anki" note


def _run_diff(cwd, *args):
    from click.testing import CliRunner

    from tierdeck.cli import cli

    old = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(cli, ["diff", *args, "--format", "json"])
    finally:
        os.chdir(old)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            "CREATE VIEW evil AS WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT n FROM r",
            "the collection inside the package holds a view named 'evil', which Anki never creates",
        ),
        (
            "CREATE TRIGGER t AFTER INSERT ON notes BEGIN DELETE FROM cards; END",
            "the collection inside the package holds a trigger named 't', which Anki never creates",
        ),
    ],
    ids=["endless view", "trigger"],
)
def test_diff__a_crafted_package_is_refused_like_an_import_instead_of_hanging(foreign, tmp_path, edit, message):
    from import_builders import edit_collection, members, sql, write_zip

    content = members(foreign.legacy)
    name = "collection.anki21" if "collection.anki21" in content else "collection.anki2"  # not the placeholder
    content[name] = edit_collection(content[name], tmp_path / "work", sql(edit))
    crafted = write_zip(tmp_path / "crafted.apkg", content)
    result = _run_diff(tmp_path, str(crafted), str(foreign.legacy))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"crafted.apkg: {message}"), result.stderr
    assert "Traceback" not in result.output


def test_diff__a_zip_bomb_stops_at_the_import_limit(foreign, tmp_path, monkeypatch):
    from import_builders import write_zip
    from tierdeck.portable import safety

    small = safety.Limits(max_collection_bytes=8 * 1024 * 1024)
    monkeypatch.setattr("tierdeck.tools.diff.Limits", lambda: small)
    bomb = write_zip(tmp_path / "bomb.apkg", {"collection.anki2": bytes(64 * 1024 * 1024)})  # 64 KB zipped
    assert bomb.stat().st_size < 200_000
    result = _run_diff(tmp_path, str(bomb), str(foreign.legacy))
    assert result.exit_code == 1
    assert result.stderr.startswith("bomb.apkg: "), result.stderr
    assert "8 MB" in result.stderr and "Traceback" not in result.output


def test_diff__a_long_field_shows_the_words_that_changed_and_formulas_survive_markdown(mini):
    mini.write("cards/a.yaml", r"""
        tier: one
        source: Lecture 1
        cards:
          - type: basic
            id: fena
            front: What is the fractional excretion of sodium?
            back: '\( FE_{Na} = \frac{U_{Na}}{P_{Na}} \times 100\% \). Below 1% suggests a prerenal cause in a patient with acute kidney injury.'
    """)
    _git(mini.root, "init", "-q")
    _git(mini.root, "add", "-A")
    _git(mini.root, "commit", "-qm", "v1")
    mini.edit("cards/a.yaml", "acute kidney injury.", "acute kidney injury; above 2% suggests ATN.")
    result = mini.run("diff", "HEAD")
    assert result.exit_code == 0, result.output
    assert (
        "- Changed `fena` (basic): Back: “…patient with acute kidney injury.” → “…patient with acute kidney injury; "
        "above 2% suggests ATN.”\n"
    ) in result.stdout
    _git(mini.root, "commit", "-qam", "v2")
    mini.edit("cards/a.yaml", "Below 1%", "Under 1%")
    changed = mini.run("diff", "HEAD").stdout
    # the formula in a code span: GitHub shows its backslashes and underscores as written
    assert (
        r"Back: “`\( FE_{Na} = \frac{U_{Na}}{P_{Na}} \times 100\% \)`. Below 1% suggests a prerenal…” → "
        r"“`\( FE_{Na} = \frac{U_{Na}}{P_{Na}} \times 100\% \)`. Under 1% suggests a prerenal…”"
    ) in changed


def _first_release(mini) -> None:
    """One basic card, committed as v1 in a new git repository."""
    mini.write("cards/a.yaml", """
        tier: one
        source: Lecture 1
        cards:
          - type: basic
            id: q1
            front: What do osteoclasts do?
            back: They resorb bone.
    """)
    _git(mini.root, "init", "-q")
    _git(mini.root, "add", "-A")
    _git(mini.root, "commit", "-qm", "v1")


def test_diff__a_deck_replaced_by_another_is_no_rename_and_summaries_keep_their_words(mini):
    _first_release(mini)
    (mini.root / "decks" / "mini.yaml").unlink()
    shutil.rmtree(mini.root / "cards")
    mini.write("decks/renal.yaml", """
        id: renal
        name: Renal
        tiers:
          - {id: core, title: 1 Core}
        cards: [cards/renal]
    """)
    mini.write("cards/renal/a.yaml", """
        tier: core
        source: Lecture 1
        cards:
          - type: basic
            id: segment
            front: Which segment is marked **A**?
            hint: Think of toxic alcohols.
            back: The proximal tubule.
    """)
    result = mini.run("diff", "HEAD")
    assert result.exit_code == 0, result.output
    assert "Renamed from" not in result.stdout
    assert "- Added `segment` (basic): Which segment is marked A?\n" in result.stdout
    assert "- Removed `q1` (basic): What do osteoclasts do?\n" in result.stdout


def test_diff__none_lists_every_card_for_the_first_release_notes(mini):
    _first_release(mini)
    _git(mini.root, "tag", "v1.0.0")
    result = mini.run("diff", "none", "v1.0.0")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "# Changes from nothing (the first release) to v1.0.0\n"
        "\n"
        "## Mini (`mini`)\n"
        "\n"
        "1 added.\n"
        "\n"
        "### 1 One\n"
        "\n"
        "- Added `q1` (basic): What do osteoclasts do?\n"
    )
