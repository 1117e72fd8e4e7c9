"""Images and sounds on cards: packed as Anki media under bare unique names; bad paths refused at file:line."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from anki_engine import import_package, notes_by_card_id, open_collection
from conftest import png


def _card(back: str) -> str:
    return f"""
        tier: one
        source: Histology
        cards:
          - type: basic
            id: osteoclast
            front: Which cell is this?
            back: "{back}"
        """


def test_media__image_is_packed_under_a_bare_unique_name_and_reaches_anki(mini, tmp_path):
    (mini.root / "cards" / "images").mkdir()
    (mini.root / "cards" / "images" / "Osteoclast Cell.png").write_bytes(png((200, 30, 30)))
    mini.write("cards/a.yaml", _card("![An osteoclast](images/Osteoclast%20Cell.png) An osteoclast."))
    assert mini.run("build").exit_code == 0

    with zipfile.ZipFile(mini.root / "dist" / "mini.apkg") as zf:
        media = __import__("json").loads(zf.read("media"))
        (name,) = media.values()
        assert re.fullmatch(r"osteoclast-cell-[0-9a-f]{12}\.png", name)
        assert zf.read("0") == png((200, 30, 30))

    col = open_collection(tmp_path / "student")
    import_package(col, mini.root / "dist" / "mini.apkg")
    note = notes_by_card_id(col)["osteoclast"]
    assert note["Back"] == f'<img src="{name}" alt="An osteoclast"> An osteoclast.'
    assert (Path(col.media.dir()) / name).read_bytes() == png((200, 30, 30))
    (card,) = note.cards()
    assert f'src="{name}"' in card.answer()
    col.close()


def test_media__a_changed_image_gets_a_new_name_and_updates_the_note(mini):
    (mini.root / "cards" / "x.png").write_bytes(png((1, 2, 3)))
    mini.write("cards/a.yaml", _card("![x](x.png)"))
    mini.run("build", env={"SOURCE_DATE_EPOCH": "1700000000"})
    lock_before = (mini.root / "decks" / "mini.lock").read_text()
    (mini.root / "cards" / "x.png").write_bytes(png((9, 9, 9)))
    result = mini.run("build", env={"SOURCE_DATE_EPOCH": "1700000100"})
    assert result.stdout.endswith("(1 changed since the lock file)\n")
    assert (mini.root / "decks" / "mini.lock").read_text() != lock_before


def test_media__missing_image_is_an_error_at_its_line(mini):
    mini.write("cards/a.yaml", _card("![x](images/missing.png)"))
    result = mini.run("check")
    assert result.exit_code == 1
    assert result.stderr == (
        "cards/a.yaml:7: cards[0].back: image 'images/missing.png' not found (looked for "
        "cards/images/missing.png); check the file name and path\n"
        "1 error; nothing was written\n"
    )


def test_media__paths_outside_the_card_folders_are_refused(mini, tmp_path):
    outside = tmp_path / "secret.png"
    outside.write_bytes(png((0, 0, 0)))
    (mini.root / "cards" / "link.png").symlink_to(outside)
    (mini.root / "decks" / "inside-decks.png").write_bytes(png((0, 0, 0)))
    mini.write(
        "cards/a.yaml",
        """
        tier: one
        source: Histology
        cards:
          - {type: basic, id: up, front: a, back: "![x](../decks/inside-decks.png)"}
          - {type: basic, id: absolute, front: b, back: "![x](/etc/hosts.png)"}
          - {type: basic, id: link, front: c, back: "![x](link.png)"}
        """,
    )
    result = mini.run("build")
    assert result.exit_code == 1
    outside_msg = (
        "lies outside the deck's card folders; keep images next to the cards (e.g. in an images/ folder "
        "beside the card file)"
    )
    assert result.stderr == (
        f"cards/a.yaml:4: cards[0].back: image '../decks/inside-decks.png' {outside_msg}\n"
        "cards/a.yaml:5: cards[1].back: image '/etc/hosts.png' is an absolute path; give a path relative to "
        "the card file\n"
        f"cards/a.yaml:6: cards[2].back: image 'link.png' {outside_msg}\n"
        "3 errors; nothing was written\n"
    )
    assert not (mini.root / "dist").exists()


def test_media__sound_is_packed_and_anki_plays_it(mini, tmp_path):
    (mini.root / "cards" / "audio").mkdir()
    sound = b"ID3\x03\x00\x00\x00\x00\x00\x00" + bytes(64)  # the bytes only have to arrive unchanged
    (mini.root / "cards" / "audio" / "korotkoff.mp3").write_bytes(sound)
    mini.write("cards/a.yaml", _card("Korotkoff sounds [sound:audio/korotkoff.mp3]"))
    result = mini.run("check", "--strict")
    assert result.exit_code == 0, result.output
    assert mini.run("build").exit_code == 0
    col = open_collection(tmp_path / "student")
    import_package(col, mini.root / "dist" / "mini.apkg")
    note = notes_by_card_id(col)["osteoclast"]
    (name,) = re.findall(r"\[sound:([^\]]+)\]", note["Back"])
    assert re.fullmatch(r"korotkoff-[0-9a-f]{12}\.mp3", name)
    assert (Path(col.media.dir()) / name).read_bytes() == sound
    (card,) = note.cards()
    assert [tag.filename for tag in card.answer_av_tags()] == [name]  # Anki's player gets the packed file
    col.close()


def test_media__a_missing_or_unsupported_sound_is_located(mini):
    (mini.root / "cards" / "audio").mkdir()
    (mini.root / "cards" / "audio" / "notes.txt").write_text("not audio")
    mini.write("cards/a.yaml", _card("[sound:audio/missing.mp3] [sound:audio/notes.txt] [sound:audio\\\\\\\\x.mp3]"))
    result = mini.run("check")
    assert result.exit_code == 1
    assert result.stderr == (
        "cards/a.yaml:7: cards[0].back: sound 'audio/missing.mp3' not found (looked for cards/audio/missing.mp3); "
        "check the file name and path\n"
        "cards/a.yaml:7: cards[0].back: sound 'audio/notes.txt' is not a supported sound file; use one of .mp3, "
        ".ogg, .oga, .opus, .wav, .m4a, .flac, .mp4, .webm\n"
        "cards/a.yaml:7: cards[0].back: sound 'audio\\x.mp3' uses '\\', which is not a folder separator here; "
        "use / in paths, e.g. 'audio/x.mp3' (it works on Windows too)\n"
        "3 errors; nothing was written\n"
    )


def test_math__formulas_reach_the_package_exactly_as_written_in_every_card_type(mini, tmp_path):
    formula, display = r"\(\frac{a}{b} = a*b*c_1\)", r"\[x^2 < y\]"
    mini.write(
        "cards/a.yaml",
        f"""
        tier: one
        source: Physiology
        cards:
          - type: basic
            id: basic
            front: 'What is {formula}?'
            back: '{display}'
          - type: cloze
            id: cloze
            text: 'Henderson-Hasselbalch: {{{{c1::{formula}}}}} and *more*'
          - type: mechanism
            id: mech
            title: Steps
            steps: ['{formula}', 'then {display}']
          - type: table
            id: table
            title: Table
            columns: [Name, Formula]
            rows: [[Fick, '{formula}']]
        """,
    )
    result = mini.run("build")
    assert result.exit_code == 0, result.output
    col = open_collection(tmp_path / "student")
    import_package(col, mini.root / "dist" / "mini.apkg")
    notes = notes_by_card_id(col)
    written = r"\(\frac{a}{b} = a*b*c_1\)"
    assert notes["basic"]["Front"] == f"What is {written}?"
    assert notes["basic"]["Back"] == r"\[x^2 &lt; y\]"
    assert notes["cloze"]["Text"] == f"Henderson-Hasselbalch: {{{{c1::{written}}}}} and <em>more</em>"
    # inside tierdeck's own cloze wrapping the braces are entities, which MathJax reads as braces
    for card in notes["mech"].cards() + notes["table/fick/formula"].cards():
        assert r"\(\frac&#123;a&#125;&#123;b&#125; = a*b*c_1\)" in card.answer()
    col.close()


def test_math__a_formula_closing_a_cloze_early_is_an_error(mini):
    mini.write(
        "cards/a.yaml",
        r"""
        tier: one
        source: Physiology
        cards:
          - {type: cloze, id: c, text: '{{c1::\(\frac{1}{x^{2}}\)}}'}
        """,
    )
    result = mini.run("check")
    assert result.exit_code == 1
    assert "the formula in deletion c1 holds '}}', which ends the deletion early in Anki" in result.stderr


def test_media__a_manifest_media_folder_ships_every_file_under_its_own_name(mini, tmp_path):
    shared = mini.root / "cards" / "shared"
    shared.mkdir()
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>'
    (shared / "mask.svg").write_bytes(svg)
    (shared / "_font.woff2").write_bytes(b"wOF2 font")  # shown by no card: a note type's CSS loads it by name
    (shared / ".hidden").write_bytes(b"never shipped")
    mini.edit("decks/mini.yaml", "cards: [cards]", "cards: [cards]\nmedia: [cards/shared]")
    mini.write("cards/a.yaml", _card('<img src=\\"shared/mask.svg\\"> An osteoclast.'))
    mini.edit("cards/a.yaml", "- type: basic", "- type: basic\n    format: html")
    assert mini.run("build").exit_code == 0, mini.run("build").output
    with zipfile.ZipFile(mini.root / "dist" / "mini.apkg") as zf:
        names = __import__("json").loads(zf.read("media"))
        assert sorted(names.values()) == ["_font.woff2", "mask.svg"]
    col = open_collection(tmp_path / "student")
    import_package(col, mini.root / "dist" / "mini.apkg")
    assert notes_by_card_id(col)["osteoclast"]["Back"] == '<img src="mask.svg"> An osteoclast.'
    assert (Path(col.media.dir()) / "mask.svg").read_bytes() == svg
    assert (Path(col.media.dir()) / "_font.woff2").read_bytes() == b"wOF2 font"
    col.close()

    (shared / "_logo.png").write_bytes(png())  # a file added to the folder: the next build is not "nothing changed"
    assert mini.run("build").exit_code == 0
    with zipfile.ZipFile(mini.root / "dist" / "mini.apkg") as zf:
        assert "_logo.png" in __import__("json").loads(zf.read("media")).values()


def test_media__a_manifest_media_entry_must_be_a_folder_inside_the_project(mini):
    mini.write("cards/a.yaml", _card("An osteoclast."))
    mini.edit("decks/mini.yaml", "cards: [cards]", "cards: [cards]\nmedia: [../elsewhere]")
    result = mini.run("check")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        "decks/mini.yaml:6: media[0]: '../elsewhere' is not a folder inside the project; give a folder of media "
        "relative to the project root (e.g. cards/<deck>/media), or remove the entry"
    )
