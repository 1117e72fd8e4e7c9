"""Note types as data: tierdeck's built-in ones unchanged for students, a project's own, and their mistakes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anki_engine import import_package, open_collection
from tierdeck.notes.notetypes import builtin

REPO = Path(__file__).resolve().parents[2]

VOCAB = """
    name: Vocabulary (3 fields)
    id: 1600000000123
    fields: [Word, Meaning, Example]
    templates:
      - name: Recognise
        front: <div class=w>{{Word}}</div>
        back: "{{FrontSide}}<hr id=answer>{{Meaning}}{{#Example}}<br><i>{{Example}}</i>{{/Example}}"
      - name: Recall
        front: "{{Meaning}}"
        back_file: vocab/recall-back.html
    css_file: vocab/style.css
"""
NOTE_CARDS = """
    tier: one
    cards:
      - type: note
        id: osteon
        notetype: vocab
        fields:
          Word: Osteon
          Meaning: The functional unit of *compact* bone.
      - type: basic
        id: plain
        front: Plain question?
        back: Plain answer.
        source: Somewhere
"""


def test_builtin__the_shipped_decks_note_types_are_unchanged_for_students():
    """Moving the note types into data files changed nothing students hold: same ids, same content."""
    lock = json.loads((REPO / "decks" / "progesterone-bone.lock").read_text())
    for key, entry in lock["notetypes"].items():
        notetype = builtin()[key]
        assert (notetype.model_id, notetype.version) == (entry["model_id"], entry["version"]), key


@pytest.fixture
def vocab(mini):
    mini.write("notetypes/vocab.yaml", VOCAB)
    mini.write("notetypes/vocab/style.css", ".card { font-size: 23px; }\n.w { font-weight: bold; }\n")
    mini.write("notetypes/vocab/recall-back.html", "{{FrontSide}}<hr id=answer>{{Word}}\n")
    mini.write("cards/a.yaml", NOTE_CARDS)
    return mini


def test_notetype__a_projects_own_note_type_reaches_anki_as_written(vocab, tmp_path):
    result = vocab.run("build")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    col = open_collection(tmp_path / "student")
    import_package(col, vocab.root / "dist" / "mini.apkg")
    model = col.models.by_name("Vocabulary (3 fields)")
    assert model["id"] == 1600000000123
    assert [f["name"] for f in model["flds"]] == ["Word", "Meaning", "Example"]
    assert [t["name"] for t in model["tmpls"]] == ["Recognise", "Recall"]
    assert model["css"] == ".card { font-size: 23px; }\n.w { font-weight: bold; }\n"
    (nid,) = col.find_notes('"note:Vocabulary (3 fields)"')
    note = col.get_note(nid)
    assert note["Meaning"] == "The functional unit of <em>compact</em> bone."
    assert note["Example"] == ""
    assert sorted(c.ord for c in note.cards()) == [0, 1]
    assert "tier::one" in note.tags and "type::note" in note.tags
    col.close()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("notetype: vocab", "notetype: vocob"),
            "cards/a.yaml:5: cards[0].notetype: unknown note type 'vocob'; did you mean 'vocab'?",
        ),
        (
            ("Meaning: The", "Meanings: The"),
            "cards/a.yaml:8: cards[0].fields.Meanings: note type 'vocab' has no field 'Meanings'; did you mean "
            "'Meaning'?",
        ),
    ],
)
def test_notetype__cards_naming_what_does_not_exist_are_located(vocab, change, message):
    vocab.edit("cards/a.yaml", *change)
    result = vocab.run("check")
    assert result.exit_code == 1
    assert result.stderr == f"{message}\n1 error; nothing was written\n"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("{{#Example}}<br><i>{{Example}}</i>{{/Example}}", "{{#Example}}<br><i>{{Example}}</i>"),
            "notetypes/vocab.yaml:7: templates[0].back: '{{#Example}}' is never closed; add '{{/Example}}'; fix the "
            "template",
        ),
        (
            ('front: "{{Meaning}}"', 'front: "{{Meening}}"'),
            "notetypes/vocab.yaml:9: templates[1].front: the template uses 'Meening', which is not a field of this "
            "note type; use one of Word, Meaning, Example",
        ),
        (
            ("back_file: vocab/recall-back.html", "back_file: vocab\\recall-back.html"),
            "notetypes/vocab.yaml:10: templates[1].back_file: 'vocab\\recall-back.html' uses '\\'; use / in paths, "
            "e.g. vocab/recall-back.html",
        ),
        (
            ("css_file: vocab/style.css", "css_file: vocab/missing.css"),
            "notetypes/vocab.yaml:11: css_file: 'vocab/missing.css' not found; give a file next to this one, e.g. "
            "vocab/style.css",
        ),
        (
            ("fields: [Word, Meaning, Example]", "fields: [Word, Meaning, Word]"),
            "notetypes/vocab.yaml:3: fields[2]: field 'Word' is listed twice; rename one",
        ),
    ],
)
def test_notetype__mistakes_in_a_note_type_file_are_located(vocab, change, message):
    vocab.edit("notetypes/vocab.yaml", *change)
    result = vocab.run("check")
    assert result.exit_code == 1
    assert result.stderr.startswith(message + "\n"), result.stderr


def test_notetype__a_template_typo_and_a_card_field_typo_are_reported_in_one_run(vocab):
    """The note type's mistake does not hide the card's: both stages of errors at once."""
    vocab.edit("notetypes/vocab.yaml", 'front: "{{Meaning}}"', 'front: "{{Meening}}"')
    vocab.edit("cards/a.yaml", "Meaning: The", "Meanings: The")
    result = vocab.run("check")
    assert result.exit_code == 1
    assert result.stderr == (
        "cards/a.yaml:8: cards[0].fields.Meanings: note type 'vocab' has no field 'Meanings'; did you mean "
        "'Meaning'?\n"
        "notetypes/vocab.yaml:9: templates[1].front: the template uses 'Meening', which is not a field of this "
        "note type; use one of Word, Meaning, Example\n"
        "2 errors; nothing was written\n"
    )


ACTIVE = (
    "notetypes/vocab.yaml:5: templates: the templates run code or load pages ({}): that runs on every student's "
    "device and breaks on some clients (AnkiDroid, AnkiMobile); remove it, or keep it knowingly with "
    "'scripts: allowed' (docs/notetypes.md)\n"
)


@pytest.mark.parametrize(
    ("markup", "found"),
    [
        ("<script>hint()</script>", "<script>"),
        ('<img src=x onerror="alert(1)">', "onerror= on <img>"),
        ('<svg><animate onbegin="alert(1)" attributeName=x dur=1s /></svg>', "onbegin= on <animate>"),
        ('<a href="jav&#x09;ascript:alert(1)">hint</a>', "a javascript: URL in <a href>"),
        ('<iframe srcdoc="&lt;img src=x onerror=parent.alert(1)&gt;"></iframe>', "<iframe>, srcdoc= on <iframe>"),
        ('<object data="x.swf"></object>', "<object>"),
        ('<embed src="x.swf">', "<embed>"),
        ('<img src="data:image/svg+xml,&lt;svg onload=alert(1)&gt;">', "a data: URL in <img src>"),
        ("<style>.card { background: url(https://evil.example/t.png) }</style>", "a remote url() or @import in <style>"),
        ('<div style="background-image: url(//evil.example/t)">x</div>', "a remote url() in <div style>"),
    ],
)
def test_notetype__templates_that_run_code_or_load_pages_are_refused_until_allowed(vocab, markup, found):
    vocab.edit("notetypes/vocab.yaml", 'front: "{{Meaning}}"', f"front: '{{{{Meaning}}}}{markup}'")
    result = vocab.run("check")
    assert result.exit_code == 1
    assert result.stderr.startswith(ACTIVE.format(found)), result.stderr
    assert "Traceback" not in result.output
    vocab.edit("notetypes/vocab.yaml", "css_file:", "scripts: allowed\ncss_file:")
    assert vocab.run("check", "--strict").stderr == ""


def test_notetype__remote_css_is_refused_but_media_fonts_are_fine(vocab):
    vocab.write("notetypes/vocab/style.css", "@font-face { font-family: f; src: url(_f.woff2); }\n")
    assert vocab.run("check", "--strict").exit_code == 0
    vocab.write("notetypes/vocab/style.css", "@import url('https://evil.example/x.css');\n")
    result = vocab.run("check")
    assert result.exit_code == 1
    assert result.stderr.startswith(ACTIVE.format("a remote url() or @import in the CSS")), result.stderr


def test_notetype__a_card_type_into_a_note_type_without_its_fields_is_located(vocab):
    vocab.write(
        "notetypes/plain.yaml",
        """
        name: Plain
        fields: [Front, Back]
        templates:
          - {name: Card 1, front: "{{Front}}", back: "{{Back}}"}
        """,
    )
    vocab.edit("cards/a.yaml", "    source: Somewhere", "    notetype: plain\n    extra: More.")
    result = vocab.run("check")
    assert result.exit_code == 1
    assert result.stderr == (
        "cards/a.yaml:14: cards[1].extra: note type 'plain' has no field 'Extra' for this card's extra (or "
        f"evidence); remove it here, or use a note type that has the field ({vocab.root / 'notetypes' / 'plain.yaml'})\n"
        "1 error; nothing was written\n"
    )


def test_format__html_cards_are_kept_as_html_and_still_sanitised(mini, tmp_path):
    mini.write(
        "cards/a.yaml",
        """
        tier: one
        source: Test
        cards:
          - type: basic
            id: q
            format: html
            front: "What is *this*? <b>bold</b>"
            back: <div>Answer</div>
        """,
    )
    assert mini.run("build").exit_code == 0
    col = open_collection(tmp_path / "student")
    import_package(col, mini.root / "dist" / "mini.apkg")
    (note,) = [col.get_note(nid) for nid in col.find_notes("")]
    assert note["Front"] == "What is *this*? <b>bold</b>"
    assert note["Back"] == "<div>Answer</div>"
    col.close()
    mini.edit("cards/a.yaml", "<div>Answer</div>", '"<div onclick=x()>Answer</div>"')
    result = mini.run("check")
    assert result.exit_code == 1
    assert "the event handler 'onclick' on <div> is not allowed" in result.stderr
