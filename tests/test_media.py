"""Images on cards: packed as Anki media under bare unique names; bad paths refused at file:line."""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from pathlib import Path

from anki_engine import import_package, notes_by_card_id, open_collection


def png(colour: tuple[int, int, int]) -> bytes:
    """A valid 1x1 PNG of one colour."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"\x00" + bytes(colour)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


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
