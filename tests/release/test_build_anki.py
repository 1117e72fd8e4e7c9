"""Built decks as the real Anki engine imports them: deck tree, notes, tags, rendering, identity."""

from __future__ import annotations

import re
from collections import Counter

from anki_engine import ImportCounts, deck_names, import_package, notes_by_card_id, open_collection, visible_text


def test_build__sample_imports_with_tier_subdecks_and_every_card_renders(sample, tmp_path):
    result = sample.run("build")
    assert result.exit_code == 0, result.output
    assert result.stdout == "sample: 13 cards (basics 6, advanced 7) -> dist/sample.apkg\n"

    col = open_collection(tmp_path / "student")
    counts = import_package(col, sample.root / "dist" / "sample.apkg")
    assert counts.new == 9 and counts.updated == counts.duplicate == counts.conflicting == 0
    assert deck_names(col) == ["Sample Deck", "Sample Deck::1 Basics", "Sample Deck::2 Advanced"]

    cards_per_deck = Counter(col.decks.name(col.get_card(cid).did) for cid in col.find_cards(""))
    assert cards_per_deck == {"Sample Deck::1 Basics": 6, "Sample Deck::2 Advanced": 7}

    for cid in col.find_cards(""):
        card = col.get_card(cid)
        question, answer = visible_text(card.question()), visible_text(card.answer())
        assert question, f"empty question on {card.note()['CardId']}"
        assert answer and answer != question, f"answer equals question on {card.note()['CardId']}"
    col.close()


def test_build__notes_carry_deck_file_card_tier_and_type_tags(sample, tmp_path):
    sample.run("build")
    col = open_collection(tmp_path / "student")
    import_package(col, sample.root / "dist" / "sample.apkg")
    notes = notes_by_card_id(col)
    assert sorted(notes["bone-remodeling"].tags) == ["cells", "sample", "tier::basics", "type::term"]
    assert sorted(notes["h2o"].tags) == ["sample", "tier::basics", "type::basic"]
    assert sorted(notes["pr-signalling"].tags) == ["sample", "tier::advanced", "type::mechanism"]
    col.close()


def test_build__each_card_type_shows_what_a_student_expects(sample, tmp_path):
    sample.run("build")
    col = open_collection(tmp_path / "student")
    import_package(col, sample.root / "dist" / "sample.apkg")

    def cards_of(card_id):
        (nid,) = col.find_notes(f'"CardId:{card_id}"')
        return sorted((col.get_card(c) for c in col.card_ids_of_note(nid)), key=lambda c: c.ord)

    term, reverse = cards_of("bone-remodeling")
    assert visible_text(term.question()) == "Define Bone remodeling"
    assert "mature bone is resorbed" in visible_text(term.answer())
    assert "<em>resorbed</em>" in term.answer()
    assert visible_text(reverse.question()).startswith("Which term? The continuous")
    assert visible_text(reverse.answer()).endswith("Bone remodeling Source: Sample / Basics")

    (basic,) = cards_of("osteoclast-role")
    assert visible_text(basic.question()) == "What do osteoclasts do?"
    assert visible_text(basic.answer()) == (
        "What do osteoclasts do? They resorb bone. Osteo- means bone; -clast means breaker. Source: Sample / Basics"
    )

    first, second = cards_of("remodeling-cells")
    # (visible_text puts a space where a tag was: "[...] ;")
    assert visible_text(first.question()) == "Osteoblasts [...] ; osteoclasts resorb old bone ."
    assert visible_text(second.question()) == "Osteoblasts build new bone matrix ; osteoclasts [...] ."

    steps = cards_of("pr-signalling")
    assert len(steps) == 3
    assert visible_text(steps[1].question()) == (
        "Mechanism Progesterone receptor signalling Progesterone binds PR-A or PR-B [...] The receptor dimerizes"
    )

    (water,) = cards_of("h2o")
    assert "H<sub>2</sub>O" in water.answer()
    col.close()


def test_build__table_cell_card_blanks_the_cell_and_names_row_and_column(sample, tmp_path):
    sample.run("build")
    col = open_collection(tmp_path / "student")
    import_package(col, sample.root / "dist" / "sample.apkg")
    (nid,) = col.find_notes('"CardId:bone-cells/osteoclast/origin"')
    (card,) = [col.get_card(c) for c in col.card_ids_of_note(nid)]
    question = visible_text(card.question())
    assert question.startswith("Bone cells Osteoclast · Origin? Cell Role Origin")
    assert "[...]" in question and "Monocyte/macrophage line" not in question
    assert "Monocyte/macrophage line" in visible_text(card.answer())
    html = card.question()
    assert html.count('<td class="td-hit">') == 2  # the table, and the whole table behind a tap on a phone
    assert '<td class="td-hit-rowhead">Osteoclast</td>' in html and '<th class="td-hit-colhead">Origin</th>' in html
    # a phone shows the asked row as "column: value" lines, the asked one hidden
    assert re.search(r'<div class="td-rowitem"><dt>Role</dt><dd>Resorbs bone</dd></div>', html)
    assert re.search(r'<div class="td-rowitem td-hit-item"><dt>Origin</dt><dd><span class="td-cz"[^>]*>'
                     r'<span class="cloze" [^>]*>\[\.\.\.\]</span>', html)
    col.close()


def test_build__edited_text_updates_the_note_in_place(sample, tmp_path):
    sample.run("build", env={"SOURCE_DATE_EPOCH": "1700000000"})
    col = open_collection(tmp_path / "student")
    import_package(col, sample.root / "dist" / "sample.apkg")
    before = notes_by_card_id(col)

    sample.edit("cards/sample/basics.yaml", "They resorb bone.", "They break down (resorb) bone.")
    sample.edit("cards/sample/advanced.yaml", "Resorbs bone", "Resorbs mineralised bone")
    sample.run("build", env={"SOURCE_DATE_EPOCH": "1700086400"})
    counts = import_package(col, sample.root / "dist" / "sample.apkg")

    after = notes_by_card_id(col)
    # The edited basic note and the four table-cell notes (each shows the whole table) are updated;
    # Anki logs the four untouched notes as "duplicate": already up to date, left as they are.
    assert counts == ImportCounts(new=0, updated=5, duplicate=4, conflicting=0)
    assert set(after) == set(before)
    assert {k: n.guid for k, n in after.items()} == {k: n.guid for k, n in before.items()}
    assert after["osteoclast-role"]["Back"] == "They break down (resorb) bone."
    assert "Resorbs mineralised bone" in after["bone-cells/osteoclast/role"]["Table"]
    assert col.note_count() == 9
    col.close()


def _first_new_cards(col, deck: str, gather: int, count: int = 3) -> list[str]:
    """The tiers of the first new cards the v3 scheduler gives for `deck` with new-card gather order `gather`."""
    for did in col.decks.all_names_and_ids():
        conf = col.decks.config_dict_for_deck_id(did.id)
        conf["newGatherPriority"] = gather  # 0: deck, 1: ascending position
        conf["new"]["perDay"] = 9999
        col.decks.save(conf)
    (top,) = [d.id for d in col.decks.all_names_and_ids() if d.name == deck]
    col.decks.select(top)
    queued = col.sched.get_queued_cards(fetch_limit=count).cards
    return [next(t for t in col.get_card(c.card.id).note().tags if t.startswith("tier::")) for c in queued]


def test_build__new_cards_arrive_tier_by_tier_under_both_gather_orders(sample, tmp_path):
    # the basics file sorts after the advanced one: file order alone would put tier 2 first
    (sample.root / "cards" / "sample" / "basics.yaml").rename(sample.root / "cards" / "sample" / "z-basics.yaml")
    assert sample.run("build").exit_code == 0
    col = open_collection(tmp_path / "student")
    import_package(col, sample.root / "dist" / "sample.apkg")
    assert col.v3_scheduler()
    for gather in (0, 1):
        assert _first_new_cards(col, "Sample Deck", gather) == ["tier::basics"] * 3, gather
    # a release adding a card to the first tier: it still comes before the second tier's cards
    sample.write(
        "cards/sample/zz-more.yaml",
        """
        tier: basics
        source: Test
        cards:
          - {type: basic, id: later, front: Added in v2?, back: Yes.}
        """,
    )
    assert sample.run("build").exit_code == 0
    import_package(col, sample.root / "dist" / "sample.apkg")
    positions = {
        col.get_card(cid).note()["CardId"]: (col.get_card(cid).due, col.get_card(cid).note().tags)
        for cid in col.find_cards("is:new")
    }
    later = positions["later"][0]
    assert all(later < due for due, tags in positions.values() if "tier::advanced" in tags)
    col.close()


def test_build__several_tiers_give_one_package_each(sample):
    result = sample.run("build", "--tier", "basics", "--tier", "advanced", "-o", "out")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "sample: 13 cards (basics 6, advanced 7) -> out/sample.basics.apkg, out/sample.advanced.apkg\n"
    )
    assert not (sample.root / "decks" / "sample.lock").exists()  # tier builds leave lock files alone
    result = sample.run("build", "--tier", "basics", "--tier", "nope")
    assert result.exit_code == 2
    assert result.stderr == "Error: deck 'sample' has no tier 'nope'; its tiers are basics, advanced\n"


def test_build__non_latin_row_and_column_titles_get_their_own_keys(mini, tmp_path):
    mini.write(
        "cards/a.yaml",
        """
        tier: one
        source: Test
        cards:
          - type: table
            id: greek
            title: Γράμματα
            columns: [Όνομα, Ήχος, Osteoblast]
            rows:
              - [Άλφα, a, x]
              - [Βήτα, b, y]
        """,
    )
    result = mini.run("build")
    assert result.exit_code == 0, result.output
    col = open_collection(tmp_path / "student")
    import_package(col, mini.root / "dist" / "mini.apkg")
    keys = sorted(col.get_note(nid)["CardId"] for nid in col.find_notes(""))
    assert keys == ["greek/άλφα/osteoblast", "greek/άλφα/ήχος", "greek/βήτα/osteoblast", "greek/βήτα/ήχος"]
    col.close()
