"""The floor: the least work any YAML-to-.apkg builder must do for a tierdeck project.

It reads the same card files with PyYAML's C loader and writes the same notes with genanki (same note
and card counts per card type, fields of about the same size taken straight from the YAML), with no
validation, markdown rendering, sanitising, lint or lock file. `bench_build.py` compares tierdeck with it.

    python benchmarks/floor.py PROJECT --out floor.apkg              # parse the YAML + genanki
    python benchmarks/floor.py PROJECT --dump cards.json             # parse only; save what was parsed
    python benchmarks/floor.py --from-json cards.json --out x.apkg   # genanki only: cards already parsed

Prints one JSON object on stdout: the seconds of each phase (`import` of genanki/yaml, `parse` or
`load_json`, `notes`: building genanki notes and decks, `write`: genanki's `Package.write_to_file`),
and the numbers of files and notes.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

STARTED = time.perf_counter()
import genanki  # noqa: E402  (timed: the import is part of what this floor measures)

IMPORTED = time.perf_counter()

# One model per card type with tierdeck's field counts; templates give the same number of cards per note.
_BACK = "{{FrontSide}}<hr id=answer>"
MODELS = {
    "basic": genanki.Model(
        1_607_392_301,
        "floor Basic",
        fields=[{"name": n} for n in ("Front", "Back", "Extra", "Source", "CardId")],
        templates=[{"name": "Card 1", "qfmt": "{{Front}}", "afmt": _BACK + "{{Back}}"}],
    ),
    "term": genanki.Model(
        1_607_392_302,
        "floor Term",
        fields=[{"name": n} for n in ("Term", "Definition", "Reverse", "Extra", "Source", "CardId")],
        templates=[
            {"name": "Card 1", "qfmt": "{{Term}}", "afmt": _BACK + "{{Definition}}"},
            {"name": "Card 2", "qfmt": "{{#Reverse}}{{Definition}}{{/Reverse}}", "afmt": _BACK + "{{Term}}"},
        ],
    ),
}
for _key, _id, _fields in (
    ("cloze", 1_607_392_303, ("Text", "Extra", "Source", "CardId")),
    ("mechanism", 1_607_392_304, ("Title", "Steps", "Extra", "Source", "CardId")),
    ("table", 1_607_392_305, ("Title", "Table", "Row", "Column", "Extra", "Source", "CardId")),
):
    _text = _fields[1] if _key != "cloze" else _fields[0]
    MODELS[_key] = genanki.Model(
        _id,
        f"floor {_key}",
        fields=[{"name": n} for n in _fields],
        templates=[{"name": "Cloze", "qfmt": f"{{{{cloze:{_text}}}}}", "afmt": f"{{{{cloze:{_text}}}}}"}],
        model_type=genanki.Model.CLOZE,
    )


def parse_project(root: Path) -> dict:
    """Every manifest and the card files it names (folders: their *.yaml, sorted), parsed with CSafeLoader."""
    import yaml

    decks = []
    for manifest_path in sorted((root / "decks").glob("*.yaml")):
        manifest = yaml.load(manifest_path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
        files = []
        for entry in manifest["cards"]:
            target = root / entry
            paths = (
                sorted(p for p in target.rglob("*") if p.suffix in (".yaml", ".yml")) if target.is_dir() else [target]
            )
            for path in paths:
                files.append(
                    [str(path.relative_to(root)), yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)]
                )
        decks.append({"manifest": manifest, "files": files})
    return {"decks": decks}


def _table_html(title: str, headers: list[str], rows: list[list[str]], hit_row: int, hit_col: int) -> str:
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td>{{{{c1::{cell}}}}}</td>" if (i, j) == (hit_row, hit_col) else f"<td>{cell}</td>"
            for j, cell in enumerate(row)
        )
        + "</tr>"
        for i, row in enumerate(rows)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def build_decks(project: dict) -> tuple[list[genanki.Deck], int]:
    """genanki decks (a top deck and one subdeck per tier) holding one note per tierdeck note."""
    decks: list[genanki.Deck] = []
    count = 0
    for number, entry in enumerate(project["decks"]):
        manifest = entry["manifest"]
        deck_id = manifest["id"]
        base = 2_059_400_000 + 100 * number
        decks.append(genanki.Deck(base, manifest["name"]))
        tiers = {}
        for i, tier in enumerate(manifest["tiers"], start=1):
            tiers[tier["id"]] = genanki.Deck(base + i, f"{manifest['name']}::{tier['title']}")
        decks += tiers.values()
        deck_tags = manifest.get("tags") or []
        for _, data in entry["files"]:
            file_tags = data.get("tags") or []
            for card in data["cards"]:
                kind = card["type"]
                tier = card.get("tier") or data.get("tier")
                tags = [*deck_tags, *file_tags, *(card.get("tags") or []), f"tier::{tier}", f"type::{kind}"]
                extra = card.get("extra") or ""
                source = card.get("source") or data.get("source") or ""
                cid = card["id"]
                if kind == "basic":
                    notes = [(cid, [card["front"], card["back"], extra, source, cid])]
                elif kind == "term":
                    reverse = "y" if card.get("reverse") else ""
                    notes = [(cid, [card["term"], card["definition"], reverse, extra, source, cid])]
                elif kind == "cloze":
                    notes = [(cid, [card["text"], extra, source, cid])]
                elif kind == "mechanism":
                    steps = "".join(f"<li>{{{{c{i}::{s}}}}}</li>" for i, s in enumerate(card["steps"], start=1))
                    notes = [(cid, [card["title"], f"<ol>{steps}</ol>", extra, source, cid])]
                elif kind == "table":
                    headers = [c if isinstance(c, str) else c["title"] for c in card["columns"]]
                    rows = [r if isinstance(r, list) else r["cells"] for r in card["rows"]]
                    notes = []
                    for i, row in enumerate(rows):
                        for j in range(1, len(headers)):
                            key = f"{cid}/{i}/{j}"
                            table = _table_html(card["title"], headers, rows, i, j)
                            notes.append((key, [card["title"], table, row[0], headers[j], extra, source, key]))
                else:
                    raise ValueError(f"unknown card type {kind!r}")
                for key, fields in notes:
                    guid = genanki.guid_for("tierdeck", deck_id, key)
                    tiers[tier].add_note(genanki.Note(model=MODELS[kind], fields=fields, tags=tags, guid=guid))
                    count += 1
    return decks, count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("project", nargs="?", type=Path, help="project root (the folder holding decks/)")
    parser.add_argument("--out", type=Path, default=Path("floor.apkg"), help="the .apkg to write")
    parser.add_argument("--dump", type=Path, help="parse only, and save the parsed cards as JSON here")
    parser.add_argument("--from-json", type=Path, help="skip the parse: read cards saved by --dump")
    args = parser.parse_args(argv)
    if (args.project is None) == (args.from_json is None):
        parser.error("give either PROJECT or --from-json")
    phases = {"import": IMPORTED - STARTED}
    t = time.perf_counter()
    if args.from_json:
        project = json.loads(args.from_json.read_text(encoding="utf-8"))
        phases["load_json"] = time.perf_counter() - t
    else:
        project = parse_project(args.project)
        phases["parse"] = time.perf_counter() - t
    files = sum(len(d["files"]) for d in project["decks"])
    if args.dump:
        args.dump.write_text(json.dumps(project, ensure_ascii=False), encoding="utf-8")
        print(json.dumps({"phases": phases, "files": files}))
        return 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # genanki's "invalid HTML" warnings about cloze markup
        t = time.perf_counter()
        decks, notes = build_decks(project)
        phases["notes"] = time.perf_counter() - t
        t = time.perf_counter()
        genanki.Package(decks).write_to_file(str(args.out))
        phases["write"] = time.perf_counter() - t
    print(json.dumps({"phases": phases, "files": files, "notes": notes}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
