"""Issue 18's measurement: per class of real deck, what a new student gets after `tierdeck import` + `build`.

    .venv/bin/python benchmarks/import_fidelity.py [--kinds source-extra,markup,...] [--keep DIR]

For each class of tests/real_decks.py (made by the real Anki engine, as the tests make them) it runs
`tierdeck import` and `tierdeck build` in-process, imports the built package into a fresh Anki
collection, and prints one row: the notes the teacher's package holds, the notes imported, how many of
them have every field identical to the original, the media files of the package and how many reached the
student with the same name and bytes, whether every note type's fields, templates and CSS are identical,
and the seconds `tierdeck import` and `tierdeck build` took. Needs the test dependencies (`anki`).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from click.testing import CliRunner  # noqa: E402

from anki_engine import import_package, open_collection  # noqa: E402
from real_decks import KINDS, build_deck, package_media  # noqa: E402
from tierdeck.cli import cli  # noqa: E402


def run(cwd: Path, *args: str) -> float:
    """Seconds `tierdeck ARGS` took in `cwd`; it must succeed."""
    old = os.getcwd()
    os.chdir(cwd)
    try:
        started = time.perf_counter()
        result = CliRunner().invoke(cli, list(args), env={"SOURCE_DATE_EPOCH": "1900000000"}, catch_exceptions=False)
        seconds = time.perf_counter() - started
    finally:
        os.chdir(old)
    if result.exit_code != 0:
        raise SystemExit(f"tierdeck {' '.join(args)} failed:\n{result.output}")
    return seconds


def measure(kind: str, folder: Path) -> dict:
    deck = build_deck(folder / "teacher-files", kind)
    import_seconds = run(folder, "import", str(deck.apkg), "-o", "project")
    build_seconds = run(folder / "project", "build")
    (package,) = (folder / "project" / "dist").glob("*.apkg")
    col = open_collection(folder / "student")
    try:
        import_package(col, package)
        notes = {col.get_note(nid).guid: col.get_note(nid) for nid in col.find_notes("")}
        same_fields = sum(1 for guid, fields in deck.fields.items() if guid in notes and list(notes[guid].fields) == fields)
        held = package_media(deck.apkg)
        media = Path(col.media.dir())
        same_media = sum(1 for name, data in held.items() if (media / name).is_file() and (media / name).read_bytes() == data)
        same_notetypes = all(
            (
                [f["name"] for f in note.note_type()["flds"]],
                [(t["name"], t["qfmt"], t["afmt"]) for t in note.note_type()["tmpls"]],
                note.note_type()["css"],
            )
            == deck.notetypes[note.mid]
            for note in notes.values()
        )
    finally:
        col.close()
    return {
        "kind": kind,
        "package": len(deck.fields) + len(deck.left_out),
        "imported": len(notes),
        "fields": same_fields,
        "media": f"{same_media}/{len(held)}",
        "notetypes": "yes" if same_notetypes else "NO",
        "import_s": import_seconds,
        "build_s": build_seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", default=",".join(KINDS), help="comma-separated classes (default: all)")
    parser.add_argument("--keep", type=Path, help="keep the decks and projects in this folder")
    args = parser.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="import-fidelity-"))
    header = f"{'class':<18} {'notes':>7} {'imported':>8} {'fields identical':>16} {'media identical':>15} "
    header += f"{'note types':>10} {'import s':>8} {'build s':>7}"
    print(header)
    for kind in args.kinds.split(","):
        row = measure(kind, base / kind)
        print(
            f"{row['kind']:<18} {row['package']:>7} {row['imported']:>8} {row['fields']:>16} {row['media']:>15} "
            f"{row['notetypes']:>10} {row['import_s']:>8.2f} {row['build_s']:>7.2f}"
        )
    print("notes: in the teacher's package; imported: notes a new student has (a note left out is named by the import)")


if __name__ == "__main__":
    main()
