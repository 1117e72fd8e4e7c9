"""What changed between two versions of a deck, as a changelog an instructor pastes into release notes.

Each side is a git revision of the project, the working tree (`.`), or a built `.apkg`. Notes are
matched by their card id (the CardId field every tierdeck note carries), never by their text.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from tierdeck.errors import UsageError
from tierdeck.render import plain_text

_CLOZE = re.compile(r"\{\{c\d+::(.*?)(?:::[^}]*)?\}\}", re.DOTALL)
SUMMARY_CHARS = 80


@dataclass(frozen=True)
class NoteView:
    """What a student sees of one note, independent of where it was read from."""

    key: str
    tier: str
    type: str
    fields: dict[str, str]  # visible text by field name; a table note's asked cell as "Cell"

    @property
    def summary(self) -> str:
        """The note's first non-empty field, shortened: how it is named in a changelog."""
        return _short(next((v for v in self.fields.values() if v), ""))


@dataclass
class DeckSide:
    """One deck as one side of a diff sees it."""

    id: str
    name: str
    version: str | None
    tiers: dict[str, str]  # tier id -> title, in order
    notes: dict[str, NoteView] = field(default_factory=dict)


def _short(text: str) -> str:
    return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 1].rstrip() + "…"


def _view(key: str, tier: str, note_type: str, fields: dict[str, str]) -> NoteView:
    visible = {}
    for name, value in fields.items():
        if name in ("CardId", "Reverse"):
            continue
        if note_type == "table" and name == "Table":
            # every cell note shows the whole table; only its own hidden cell is its content
            match = _CLOZE.search(value)
            visible["Cell"] = plain_text(match.group(1)) if match else ""
            continue
        visible[name] = plain_text(_CLOZE.sub(r"\1", value))
    return NoteView(key, tier, note_type, visible)


# --- reading a side ---------------------------------------------------------------------------------------


def read_side(spec: str, root: Path) -> list[DeckSide]:
    """The decks of one side: an .apkg file, `.` (the working tree) or a git revision of `root`."""
    path = Path(spec)
    if spec.endswith(".apkg"):
        if not path.is_file():
            raise UsageError(f"'{spec}' does not exist; name a built .apkg file or a git revision")
        return [_read_apkg(path)]
    if spec == ".":
        return _read_project(root)
    with tempfile.TemporaryDirectory(prefix="tierdeck-diff-") as tmp:
        _export_revision(spec, root, Path(tmp))
        return _read_project(Path(tmp), cache=False)  # a cache in a folder about to be deleted is waste


def _read_project(root: Path, cache: bool = True) -> list[DeckSide]:
    from tierdeck.build import load  # the core reads projects; imported here to keep this module light

    sides = []
    for result in load(root, cache=cache).decks:
        manifest = result.deck.manifest
        side = DeckSide(manifest.id, manifest.name, manifest.version, {t.id: t.title for t in manifest.tiers})
        for note in result.notes:
            fields = dict(zip(note.notetype.fields, note.fields))
            side.notes[note.key] = _view(note.key, note.tier, note.notetype.key, fields)
        sides.append(side)
    return sides


def _export_revision(revision: str, root: Path, into: Path) -> None:
    """The project as it was at `revision`, written into `into`."""

    def git(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, check=False)

    top = git("rev-parse", "--show-toplevel")
    if top.returncode != 0:
        raise UsageError(f"'{revision}' is not an .apkg file, and {root} is not in a git repository")
    if git("rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}").returncode != 0:
        raise UsageError(f"'{revision}' is neither an .apkg file nor a git revision (a tag, branch or commit)")
    prefix = root.resolve().relative_to(Path(top.stdout.decode().strip()).resolve()).as_posix()
    tree = f"{revision}:{prefix}" if prefix != "." else revision
    archive = git("archive", "--format=tar", tree)
    if archive.returncode != 0:
        raise UsageError(f"git could not export '{tree}': {archive.stderr.decode().strip()}")
    tar_path = into / ".export.tar"
    tar_path.write_bytes(archive.stdout)
    with tarfile.open(tar_path) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(into, filter="data")
        else:  # pragma: no cover - Python without tar filters; git archive holds plain files only
            tar.extractall(into)
    tar_path.unlink()
    if not (into / "decks").is_dir():
        raise UsageError(f"the project at '{revision}' has no decks/ folder")


def _read_apkg(path: Path) -> DeckSide:
    with zipfile.ZipFile(path) as zf, tempfile.TemporaryDirectory(prefix="tierdeck-diff-") as tmp:
        db = Path(tmp) / "collection.anki2"
        db.write_bytes(zf.read("collection.anki2"))
        conn = sqlite3.connect(db)
        try:
            models = json.loads(conn.execute("SELECT models FROM col").fetchone()[0])
            decks = json.loads(conn.execute("SELECT decks FROM col").fetchone()[0])
            rows = conn.execute(
                "SELECT n.mid, n.flds, n.tags, min(c.did) FROM notes n JOIN cards c ON c.nid = n.id "
                "GROUP BY n.id ORDER BY n.id"
            ).fetchall()
        finally:
            conn.close()
    named = {int(k): d["name"] for k, d in decks.items() if d["name"] != "Default"}
    top = min(named.values(), key=len) if named else path.stem
    description = next((d.get("desc", "") for d in decks.values() if d["name"] == top), "")
    version = re.search(r"<p>Version ([^<]+)</p>", description)
    side = DeckSide(path.stem.split(".")[0], top, version.group(1) if version else None, {})
    for mid, flds, tags, did in rows:
        field_names = [f["name"] for f in sorted(models[str(mid)]["flds"], key=lambda f: f["ord"])]
        fields = dict(zip(field_names, flds.split("\x1f")))
        tag_list = tags.split()
        tier = next((t[6:] for t in tag_list if t.startswith("tier::")), "")
        note_type = next((t[6:] for t in tag_list if t.startswith("type::")), "")
        key = fields.get("CardId", "")
        side.notes[key] = _view(key, tier, note_type, fields)
        side.tiers.setdefault(tier, named.get(did, tier).split("::", 1)[-1])
    return side


# --- comparing ---------------------------------------------------------------------------------------------


@dataclass
class DeckChanges:
    """Everything that changed in one deck."""

    id: str
    name: str
    old_version: str | None
    new_version: str | None
    tiers: dict[str, str]
    added: list[NoteView] = field(default_factory=list)
    removed: list[NoteView] = field(default_factory=list)
    changed: list[tuple[NoteView, NoteView]] = field(default_factory=list)
    moved: list[tuple[NoteView, NoteView]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Nothing changed."""
        return not (self.added or self.removed or self.changed or self.moved)


def compare(old: list[DeckSide], new: list[DeckSide]) -> list[DeckChanges]:
    """Per deck (matched by id; a single deck on each side is matched whatever its id), what changed."""
    if len(old) == 1 and len(new) == 1:
        pairs = [(old[0], new[0])]
    else:
        old_by_id, new_by_id = {d.id: d for d in old}, {d.id: d for d in new}
        pairs = [(old_by_id.get(i), new_by_id.get(i)) for i in sorted(set(old_by_id) | set(new_by_id))]
    out = []
    for before, after in pairs:
        ref = after or before
        empty = DeckSide(ref.id, ref.name, None, {})
        before, after = before or empty, after or empty
        changes = DeckChanges(ref.id, ref.name, before.version, after.version, {**before.tiers, **after.tiers})
        for key in sorted(set(before.notes) | set(after.notes)):
            a, b = before.notes.get(key), after.notes.get(key)
            if a is None:
                changes.added.append(b)
            elif b is None:
                changes.removed.append(a)
            else:
                if a.fields != b.fields:
                    changes.changed.append((a, b))
                if a.tier != b.tier:
                    changes.moved.append((a, b))
        out.append(changes)
    return out


# --- writing -----------------------------------------------------------------------------------------------


def _field_changes(a: NoteView, b: NoteView) -> list[tuple[str, str, str]]:
    return [
        (name, a.fields.get(name, ""), b.fields.get(name, ""))
        for name in b.fields
        if a.fields.get(name) != b.fields.get(name)
    ]


def to_markdown(decks: list[DeckChanges], old_label: str, new_label: str) -> str:
    """The changelog, per deck and tier: cards added, changed (with before and after), removed, moved tier."""
    lines = [f"# Changes from {old_label} to {new_label}", ""]
    for deck in decks:
        version = ""
        if deck.old_version != deck.new_version:
            version = f" {deck.old_version or '(none)'} → {deck.new_version or '(none)'}"
        elif deck.new_version:
            version = f" {deck.new_version}"
        lines += [f"## {deck.name} (`{deck.id}`){version}", ""]
        if deck.empty:
            lines += ["No card changed.", ""]
            continue
        counts = [
            f"{len(items)} {word}"
            for items, word in (
                (deck.added, "added"),
                (deck.changed, "changed"),
                (deck.removed, "removed"),
                (deck.moved, "moved tier"),
            )
            if items
        ]
        lines += [", ".join(counts) + ".", ""]
        for tier, title in deck.tiers.items():
            added = [n for n in deck.added if n.tier == tier]
            changed = [(a, b) for a, b in deck.changed if b.tier == tier]
            removed = [n for n in deck.removed if n.tier == tier]
            moved = [(a, b) for a, b in deck.moved if b.tier == tier]
            if not (added or changed or removed or moved):
                continue
            lines += [f"### {title}", ""]
            for n in added:
                lines.append(f"- Added `{n.key}` ({n.type}): {n.summary}")
            for a, b in changed:
                parts = [f"{name}: “{_short(x)}” → “{_short(y)}”" for name, x, y in _field_changes(a, b)]
                lines.append(f"- Changed `{b.key}` ({b.type}): " + "; ".join(parts))
            for n in removed:
                lines.append(f"- Removed `{n.key}` ({n.type}): {n.summary}")
            for a, b in moved:
                lines.append(
                    f"- Moved `{b.key}` from {deck.tiers.get(a.tier, a.tier)} to {title} "
                    "(students who have it keep its cards in the old subdeck; its tier tag updates)"
                )
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def to_json(decks: list[DeckChanges], old_label: str, new_label: str) -> str:
    """The same changelog as data."""

    def note(n: NoteView) -> dict:
        return {"key": n.key, "type": n.type, "tier": n.tier, "summary": n.summary}

    payload = {
        "old": old_label,
        "new": new_label,
        "decks": [
            {
                "id": d.id,
                "name": d.name,
                "old_version": d.old_version,
                "new_version": d.new_version,
                "added": [note(n) for n in d.added],
                "changed": [
                    {**note(b), "fields": {name: {"before": x, "after": y} for name, x, y in _field_changes(a, b)}}
                    for a, b in d.changed
                ],
                "removed": [note(n) for n in d.removed],
                "moved": [{**note(b), "from": a.tier, "to": b.tier} for a, b in d.moved],
            }
            for d in decks
        ],
    }
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
