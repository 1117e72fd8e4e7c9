"""Decks shaped like the real ones instructors import (issue 18), made by the real Anki engine.

Each class reproduces what a public deck holds that an import once lost: a note type whose own fields
are called Source, Extra and Hint; image occlusion with SVG masks; files a note type loads by name
(`_style.css`, `_app.js`, a font no field shows); the instructor's own markup (<mark>, <center>, table
borders, <video>, a link with inline style); 32 templates with scripts; subdecks three levels deep; a
shared GUID and a note that makes no card (each must cost that one note only); and a deck of thousands
of notes and media files. `build_deck(folder, kind)` fills a teacher's collection, exports it as a
package and records, straight from the engine, what every note, note type and media file held.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from anki.collection import Collection, ExportAnkiPackageOptions

from anki_engine import open_collection
from conftest import png

KINDS = (
    "source-extra",
    "occlusion",
    "native-occlusion",
    "underscore-files",
    "markup",
    "scripts",
    "subdecks",
    "duplicate-guid",
    "no-card",
    "thousands",
)
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect x="%d" width="10" height="10"/></svg>'
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(range(200))
WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"


@dataclass
class RealDeck:
    """A teacher's collection, its package, and what went in (notes by GUID, note types by id, media by name)."""

    apkg: Path
    text: Path  # the same notes as a 'Notes in Plain Text' export
    collection: Path
    fields: dict[str, list[str]]
    decks: dict[str, str]  # GUID -> deck of its first card
    tags: dict[str, list[str]]
    notetypes: dict[int, tuple[list[str], list[tuple[str, str, str]], str]]  # fields, (name, front, back), css
    media: dict[str, bytes]
    left_out: set[str] = field(default_factory=set)  # GUIDs the import must leave out (and name)


def _notetype(col: Collection, name: str, fields: list[str], templates: list[tuple[str, str, str]], css: str) -> None:
    models = col.models
    model = models.new(name)
    for name_ in fields:
        models.add_field(model, models.new_field(name_))
    for template_name, front, back in templates:
        template = models.new_template(template_name)
        template["qfmt"], template["afmt"] = front, back
        models.add_template(model, template)
    model["css"] = css
    models.add(model)


def _add(col: Collection, notetype: str, deck: str, fields: list[str], tags: tuple[str, ...] = ()) -> int:
    note = col.new_note(col.models.by_name(notetype))
    for index, text in enumerate(fields):
        note.fields[index] = text
    note.tags = list(tags)
    col.add_note(note, col.decks.id(deck))
    return note.id


def _fill(col: Collection, kind: str) -> dict[str, bytes]:
    """The notes, note types and media of one class; returns the media written."""
    media: dict[str, bytes] = {}

    def medium(name: str, data: bytes) -> str:
        assert col.media.write_data(name, data) == name
        media[name] = data
        return name

    if kind == "source-extra":
        _notetype(
            col,
            "Citation",
            ["Front", "Back", "Source", "Extra", "Hint", "CardId"],
            [("Card 1", "{{Front}}{{hint:Hint}}", "{{FrontSide}}<hr id=answer>{{Back}}<br>{{Extra}}<cite>{{Source}}</cite>")],
            ".card { font-family: serif; }",
        )
        for n in range(3):
            _add(
                col,
                "Citation",
                "COVID::Virology",
                [
                    f"Incubation period {n}?",
                    f"{n + 2}-14 days",
                    f"<a href='https://www.who.int/{n}'>WHO</a>, 2020",
                    f"\\(R_0 \\approx {n}.5\\) <img src=\"{medium(f'curve{n}.png', png((n, 2, 3)))}\">",
                    f"think of {n}",
                    f"own-{n}",
                ],
                ("covid",),
            )
    elif kind == "occlusion":
        _notetype(
            col,
            "Image Occlusion Enhanced",
            ["ID (hidden)", "Header", "Image", "Question Mask", "Footer", "Remarks", "Answer Mask", "Original Mask"],
            [
                (
                    "IO Card",
                    '{{#Image}}<div id="io-header">{{Header}}</div><div id="io-wrapper"><div id="io-overlay">'
                    "{{Question Mask}}</div><div>{{Image}}</div></div>{{/Image}}",
                    '{{#Image}}<div id="io-wrapper"><div id="io-overlay">{{Answer Mask}}</div><div>{{Image}}</div>'
                    "</div>{{Remarks}}{{/Image}}",
                )
            ],
            "#io-overlay { position: absolute; top: 0; width: 100%; z-index: 3 }",
        )
        image = medium("heart.png", png((200, 0, 0), 4, 4))
        for n in range(4):
            _add(
                col,
                "Image Occlusion Enhanced",
                "Biology::Anatomy",
                [
                    f"io-{n}",
                    "Heart",
                    f'<img src="{image}">',
                    f'<img src="{medium(f"io-{n}-q.svg", SVG % n)}">',
                    "",
                    "",
                    f'<img src="{medium(f"io-{n}-a.svg", SVG % (n + 10))}">',
                    f'<img src="{medium("io-o.svg", SVG % 99)}">',
                ],
            )
    elif kind == "native-occlusion":  # Anki's own image occlusion (23.10+): a cloze type whose template runs a script
        image = medium("lung.png", png((0, 90, 200), 6, 6))
        for n in range(3):
            shape = f"{{{{c{n + 1}::image-occlusion:rect:left=.{n + 1}:top=.2:width=.3:height=.1:oi=1}}}}"
            _add(col, "Image Occlusion", "Biology::Lungs", [shape, f'<img src="{image}">', "Lobes", f"extra {n}", ""])
    elif kind == "underscore-files":
        _notetype(
            col,
            "Styled",
            ["Front", "Back"],
            [("Card 1", '<script src="_app.js"></script>{{Front}}', "{{FrontSide}}<hr id=answer>{{Back}}")],
            '@import url("_style.css");\n@font-face { font-family: Lato; src: url("_lato.woff2"); }\n',
        )
        medium("_style.css", b".card { color: #123456 }\n")
        medium("_app.js", b"document.body.classList.add('ready');\n")
        medium("_lato.woff2", b"wOF2" + bytes(range(64)))
        for n in range(3):
            _add(col, "Styled", "MCAT::Chemistry", [f"pKa of acid {n}?", f"{n + 3}.7"])
    elif kind == "markup":
        video = medium("clip.mp4", MP4)
        picture = medium("cell.webp", WEBP)
        fronts = [
            "The <mark>mitochondrion</mark> makes?",
            "<center>Which valve?</center>",
            '<table border="1" style="border-collapse: collapse"><tr><td>Na<sup>+</sup></td><td>?</td></tr></table>',
            f'<video src="{video}" controls></video> which rhythm?',
            '<a href="https://example.org" target="_blank" style="font-size: 12px">guideline</a> says?',
            f'<img src="{picture}" width="120"> <span style="color: rgb(255, 0, 0);">red</span>?',
        ]
        for n, front in enumerate(fronts):
            _add(col, "Basic", "Physiology::Misc", [front, f"answer {n} [sound:{video}]" if n == 3 else f"answer {n}"])
    elif kind == "scripts":
        fields = ["Structure", *[f"View {n}" for n in range(1, 32)]]
        templates = [
            (
                f"View {n}",
                f"{{{{#View {n}}}}}{{{{Structure}}}}<div id='v'>{{{{View {n}}}}}</div><script>tilt({n})</script>{{{{/View {n}}}}}",
                f"{{{{FrontSide}}}}<hr id=answer><script>reveal({n})</script>",
            )
            for n in range(1, 32)
        ]
        templates.append(("Name", "{{Structure}}<script>var n = 1;</script>", "{{FrontSide}}<hr id=answer>"))
        _notetype(col, "Anatomy 3D", fields, templates, "#v { transform: rotate(3deg) }")
        for n in range(4):
            values = [f"Bone {n}"] + ["" for _ in range(31)]
            values[1 + n] = f"lateral view {n}"
            values[5 + n] = f"medial view {n}"
            _add(col, "Anatomy 3D", "Anatomy::Skeleton", values)
    elif kind == "subdecks":
        for n, deck in enumerate(
            ["Bio", "Bio::Cell", "Bio::Cell::Organelles", "Bio::Cell::Organelles::Mitochondria", "Bio::Genetics"]
        ):
            _add(col, "Basic", deck, [f"Question {n} in {deck}", f"Answer {n}"], (f"level::{deck.count('::')}",))
            _add(col, "Cloze", deck, [f"{{{{c1::Cloze {n}}}}} sits in {deck}", ""])
    elif kind in ("duplicate-guid", "no-card"):
        for n in range(4):
            _add(col, "Basic", "Pharm::Receptors", [f"Receptor {n}?", f"type {n}"])
    elif kind == "thousands":
        for n in range(300):
            medium(f"img{n:04}.png", png((n % 256, n // 256, 7)))
        for n in range(3000):
            image = f' <img src="img{n // 10:04}.png">' if n % 10 == 0 else ""
            _add(col, "Basic", f"MCAT::Section {n % 7}", [f"Fact {n}: which?{image}", f"Answer <b>{n}</b>"], ("mcat",))
    return media


def build_deck(folder: Path, kind: str) -> RealDeck:
    """The teacher's collection of class `kind` in `folder/teacher`, exported as `folder/<kind>.apkg`."""
    col = open_collection(folder / "teacher")
    media = _fill(col, kind)
    left_out: set[str] = set()
    nids = sorted(col.find_notes(""))
    if kind == "duplicate-guid":
        first = col.get_note(nids[0])
        col.db.execute("UPDATE notes SET guid = ? WHERE id = ?", first.guid, nids[1])
        left_out.add(f"nid:{nids[1]}")
    elif kind == "no-card":  # the front's image went missing: Anki keeps the note, with a card showing nothing
        col.db.execute("UPDATE notes SET flds = ? WHERE id = ?", "\x1ftype 1", nids[1])
        left_out.add(col.get_note(nids[1]).guid)
    for day, nid in enumerate(nids):  # old, distinct times, as a deck edited over years has
        col.db.execute("UPDATE notes SET mod = ? WHERE id = ?", 1_600_000_000 + day * 600, nid)
    col.models._clear_cache()
    fields, decks, tags = {}, {}, {}
    for nid in nids:
        note = col.get_note(nid)
        if f"nid:{nid}" in left_out or note.guid in left_out:
            continue
        fields[note.guid] = list(note.fields)
        decks[note.guid] = col.decks.name(min(note.cards(), key=lambda c: c.ord).did) if note.cards() else ""
        tags[note.guid] = list(note.tags)
    notetypes = {}
    for entry in col.models.all_names_and_ids():
        model = col.models.get(entry.id)
        notetypes[model["id"]] = (
            [f["name"] for f in model["flds"]],
            [(t["name"], t["qfmt"], t["afmt"]) for t in model["tmpls"]],
            model["css"],
        )
    apkg = folder / f"{kind}.apkg"
    options = ExportAnkiPackageOptions(with_scheduling=False, with_media=True, legacy=True)
    col.export_anki_package(out_path=str(apkg), options=options, limit=None)
    text = folder / f"{kind}.txt"
    col.export_note_csv(
        out_path=str(text), limit=None, with_html=True, with_tags=True, with_deck=True, with_notetype=True, with_guid=True
    )
    col.close()
    return RealDeck(apkg, text, folder / "teacher" / "collection.anki2", fields, decks, tags, notetypes, media, left_out)


def package_media(apkg: Path) -> dict[str, bytes]:
    """Every media file a package holds, by its name in Anki."""
    with zipfile.ZipFile(apkg) as zf:
        names = json.loads(zf.read("media"))
        return {name: zf.read(member) for member, name in names.items()}


def notetype_rows(collection: Path) -> dict[int, tuple]:
    """Every note type of a collection file: fields, templates (name, front, back) and CSS, by id."""
    col = Collection(str(collection))
    try:
        out = {}
        for entry in col.models.all_names_and_ids():
            model = col.models.get(entry.id)
            out[model["id"]] = (
                [f["name"] for f in model["flds"]],
                [(t["name"], t["qfmt"], t["afmt"]) for t in model["tmpls"]],
                model["css"],
            )
        return out
    finally:
        col.close()

