"""What changed between two versions of a deck, as a changelog an instructor pastes into release notes.

Each side is a git revision of the project, the working tree (`.`), or a built `.apkg`. Notes are matched
by their GUID, their identity in students' Anki (named by their card id where the note type has one),
never by their text; decks by their namespace, so a renamed deck is reported as a rename. A change of
tags, and of a card's evidence level, is a change students see in Anki's browser and filters.
"""

from __future__ import annotations

import difflib
import json
import re
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tierdeck import files
from tierdeck.errors import UsageError
from tierdeck.notes.expand import AUTO_TAG_PREFIXES
from tierdeck.notes.render import plain_text
from tierdeck.portable.apkg import read_package
from tierdeck.portable.cloze import CLOZE_RE
from tierdeck.portable.safety import Limits

SUMMARY_CHARS = 80
NOTHING = "none"  # the OLD side of a first release's changelog: no deck yet
CONTEXT_WORDS = 4  # words of unchanged text shown on each side of a change


@dataclass(frozen=True)
class NoteView:
    """What a student sees of one note, independent of where it was read from."""

    key: str  # how the changelog names it: the CardId field, else the GUID
    guid: str
    tier: str
    type: str
    fields: dict[str, str]  # visible text by field name; a table note's asked cell as "Cell"
    tags: tuple[str, ...] = ()  # the author's tags (not tier::, type::, evidence:: or source-claim::)
    evidence: str | None = None  # the evidence level, from the evidence:: tag
    source_claim: str | None = None  # how the source's claim stands, from the source-claim:: tag

    @property
    def summary(self) -> str:
        """The note's first non-empty field (a table cell's own text), shortened: how it is named in a changelog."""
        if self.fields.get("Cell"):
            return _short(self.fields["Cell"])
        return _short(next((v for v in self.fields.values() if v), ""))

    @property
    def label(self) -> str:
        """How a changelog names it for students: its card id, and for a table cell the cell in words."""
        if self.type == "table" and all(self.fields.get(n) for n in ("Title", "Row", "Column")):
            where = " · ".join(_short(self.fields[n]) for n in ("Title", "Row", "Column"))
            return f"`{self.key.split('/')[0]}` ({self.type}) {where}"
        return f"`{self.key}` ({self.type})"


@dataclass
class DeckSide:
    """One deck as one side of a diff sees it."""

    id: str
    name: str
    version: str | None
    tiers: dict[str, str]  # tier id -> title, in order
    notes: dict[str, NoteView] = field(default_factory=dict)  # by GUID
    namespace: str | None = None  # the deck's identity across renames (project sides)


def _short(text: str) -> str:
    return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 1].rstrip() + "…"


def changed_window(before: str, after: str) -> tuple[str, str]:
    """The part of two texts that differs, word by word, with a few unchanged words around it (… marks a cut).

    Two long texts that differ near their end no longer both show as the same opening.
    """
    if len(before) <= SUMMARY_CHARS and len(after) <= SUMMARY_CHARS:
        return before, after
    old, new = _WORDS.findall(before), _WORDS.findall(after)
    blocks = difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes()
    changes = [b for b in blocks if b[0] != "equal"]
    if not changes:
        return _short(before), _short(after)
    first, last = changes[0], changes[-1]

    def window(words: list[str], start: int, end: int) -> str:
        lo, hi = max(0, start - CONTEXT_WORDS), min(len(words), end + CONTEXT_WORDS)
        text = "".join(words[lo:hi]).strip()
        return ("…" if lo > 0 else "") + text + ("…" if hi < len(words) else "")

    return window(old, first[1], last[2]), window(new, first[3], last[4])


_WORDS = re.compile(r"\\\(.*?\\\)\s*|\\\[.*?\\\]\s*|\S+\s*")  # a formula is one word: never cut in half
_FORMULA = re.compile(r"\\\(.*?(?:\\\)|$)|\\\[.*?(?:\\\]|$)")


def _md(text: str) -> str:
    """Text for Markdown release notes: formulas in code spans and other backslashes escaped, so `\\(` and `_`
    survive GitHub's rendering."""
    if "\\" not in text:
        return text
    pieces = re.split(f"({_FORMULA.pattern})", text)
    return "".join(
        f"`{piece.replace('`', '')}`" if i % 2 else piece.replace("\\", "\\\\") for i, piece in enumerate(pieces) if piece
    )


_HINT = re.compile(r'<details class="td-hint">.*?</details>', re.S)  # the question's collapsed hint
_INLINE = re.compile(r"</?(?:b|i|em|strong|sub|sup|code|span|mark|u|s)\b[^>]*>")  # no space where they sit


def _visible(html: str) -> str:
    """A field as one line of text, as a changelog names it: inline markup kept tight, the hint left out."""
    return plain_text(_INLINE.sub("", _HINT.sub("", html)))


def _view(guid: str, tier: str, note_type: str, fields: dict[str, str], tags: list[str]) -> NoteView:
    visible = {}
    for name, value in fields.items():
        if name in ("CardId", "Reverse"):
            continue
        if note_type == "table" and name == "Table":
            # every cell note shows the whole table; only its own hidden cell is its content
            match = CLOZE_RE.search(value)
            visible["Cell"] = plain_text(match.group(2)) if match else ""
            continue
        visible[name] = _visible(CLOZE_RE.sub(lambda m: m.group(2).split("::", 1)[0], value))
    evidence = next((t.removeprefix("evidence::") for t in tags if t.startswith("evidence::")), None)
    claim = next((t.removeprefix("source-claim::") for t in tags if t.startswith("source-claim::")), None)
    author_tags = tuple(sorted(t for t in tags if not t.startswith(AUTO_TAG_PREFIXES)))
    key = fields.get("CardId") or guid
    return NoteView(key, guid, tier, note_type, visible, author_tags, evidence, claim)


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
    if spec == NOTHING:  # before the first release: every card is new
        return []
    files.sweep(Path(tempfile.gettempdir()))  # exports of killed diffs
    with tempfile.TemporaryDirectory(prefix=f"{files.TEMP_PREFIX}diff-") as tmp:
        _export_revision(spec, root, Path(tmp))
        return _read_project(Path(tmp), cache=False)  # a cache in a folder about to be deleted is waste


def _read_project(root: Path, cache: bool = True) -> list[DeckSide]:
    from tierdeck.project.load import load  # the core reads projects; imported here to keep this module light

    sides = []
    for result in load(root, cache=cache, lint=False).decks:
        manifest = result.deck.manifest
        tiers = {t.id: t.title for t in manifest.tiers}
        side = DeckSide(manifest.id, manifest.name, manifest.version, tiers, namespace=result.identity.namespace)
        for note in result.notes:
            fields = dict(zip(note.notetype.fields, note.fields))
            side.notes[note.guid] = _view(note.guid, note.tier, note.card_type, fields, list(note.tags))
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
    """The deck in a package, read as `tierdeck import` reads one: with its limits on sizes, its refusal of
    views and triggers, the legacy and the current format, never Anki's "please update" placeholder note."""
    deck = read_package(path, Limits(), media=False)
    used = {note.deck for note in deck.notes}
    named = [name for name in deck.decks if name in used or "::" not in name]
    top = min((name.split("::", 1)[0] for name in used), key=len, default=None) or (
        min(named, key=len) if named else path.stem
    )
    version = re.search(r"<p>Version ([^<]+)</p>", deck.descriptions.get(top, ""))
    side = DeckSide(path.stem.split(".")[0], top, version.group(1) if version else None, {})
    for note in deck.notes:
        notetype = deck.notetypes[note.notetype]
        fields = dict(zip(notetype.fields, note.fields))
        tag_list = list(note.tags)
        subdeck = note.deck.split("::", 1)[1] if "::" in note.deck else ""
        tier = next((t[6:] for t in tag_list if t.startswith("tier::")), subdeck)
        note_type = next((t[6:] for t in tag_list if t.startswith("type::")), notetype.name)
        guid = note.guid or ""
        side.notes[guid] = _view(guid, tier, note_type, fields, tag_list)
        side.tiers.setdefault(tier, subdeck or tier)
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
    renamed_from: str | None = None  # the deck's id on the old side, when it changed
    added: list[NoteView] = field(default_factory=list)
    removed: list[NoteView] = field(default_factory=list)
    changed: list[tuple[NoteView, NoteView]] = field(default_factory=list)
    moved: list[tuple[NoteView, NoteView]] = field(default_factory=list)
    renamed: list[tuple[NoteView, NoteView]] = field(default_factory=list)  # one per card whose id changed


def _same_deck(a: DeckSide, b: DeckSide) -> bool:
    """Whether one deck on each side is one deck: the same namespace (an .apkg side has none: assumed)."""
    return a.namespace is None or b.namespace is None or a.namespace == b.namespace


def compare(old: list[DeckSide], new: list[DeckSide]) -> list[DeckChanges]:
    """Per deck (matched by namespace where known, else by id; a single deck on each side is matched whatever
    its id), what changed."""
    if len(old) == 1 and len(new) == 1 and _same_deck(old[0], new[0]):
        pairs = [(old[0], new[0])]
    else:

        def identity(deck: DeckSide) -> str:
            return deck.namespace or deck.id

        old_by, new_by = {identity(d): d for d in old}, {identity(d): d for d in new}
        pairs = [(old_by.get(i), new_by.get(i)) for i in sorted(set(old_by) | set(new_by))]  # type: ignore[misc]
    out = []
    for before, after in pairs:
        ref = after or before
        assert ref is not None  # every pair has at least one side
        empty = DeckSide(ref.id, ref.name, None, {})
        before, after = before or empty, after or empty
        renamed = before.id if before.notes and after.notes and before.id != after.id else None
        changes = DeckChanges(
            ref.id,
            ref.name,
            before.version,
            after.version,
            {**after.tiers, **before.tiers, **after.tiers},  # the new side's order and titles, then removed tiers
            renamed,
        )
        for guid in sorted(set(before.notes) | set(after.notes), key=lambda g: (after.notes.get(g) or before.notes[g]).key):
            a, b = before.notes.get(guid), after.notes.get(guid)
            if a is None:
                assert b is not None
                changes.added.append(b)
            elif b is None:
                changes.removed.append(a)
            else:
                if (a.fields, a.tags, a.evidence, a.source_claim) != (b.fields, b.tags, b.evidence, b.source_claim):
                    changes.changed.append((a, b))
                if a.tier != b.tier:
                    changes.moved.append((a, b))
                if a.key != b.key and a.key != a.guid and b.key != b.guid:
                    changes.renamed.append((a, b))
        once: dict[tuple[str, str], tuple[NoteView, NoteView]] = {}  # a table's cells: name the card once
        for a, b in changes.renamed:
            once.setdefault((a.key.split("/")[0], b.key.split("/")[0]), (a, b))
        changes.renamed = list(once.values())
        out.append(changes)
    return out


# --- writing -----------------------------------------------------------------------------------------------


def _field_changes(a: NoteView, b: NoteView) -> list[tuple[str, str, str]]:
    """(what, before, after) for each field that changed, then the evidence level, the source claim, the tags."""
    found = [
        (name, a.fields.get(name, ""), b.fields.get(name, ""))
        for name in b.fields
        if a.fields.get(name) != b.fields.get(name)
    ]
    if a.evidence != b.evidence:
        found.append(("Evidence", a.evidence or "(none)", b.evidence or "(none)"))
    if a.source_claim != b.source_claim:
        found.append(("Source claim", a.source_claim or "(none)", b.source_claim or "(none)"))
    if a.tags != b.tags:
        found.append(("Tags", " ".join(a.tags) or "(none)", " ".join(b.tags) or "(none)"))
    return found


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
        if deck.renamed_from:
            lines += [
                f"Renamed from `{deck.renamed_from}`: every card keeps its identity, so students get no duplicates.",
                "",
            ]
        if not (deck.added or deck.removed or deck.changed or deck.moved or deck.renamed):
            lines += ["No card changed.", ""]
            continue
        counts = [
            f"{len(items)} {word}"
            for items, word in (
                (deck.added, "added"),
                (deck.changed, "changed"),
                (deck.removed, "removed"),
                (deck.moved, "moved tier"),
                (deck.renamed, "renamed"),
            )
            if items
        ]
        lines += [", ".join(counts) + ".", ""]
        if any(n.type == "table" for n in (*deck.added, *deck.removed, *(b for _, b in deck.changed))):
            lines += ["A table counts once per cell: each cell is a card of its own.", ""]
        if deck.removed:
            lines += [
                "Removed cards stay in a student's collection (with their reviews): delete or suspend them in Anki "
                "if you no longer want to study them.",
                "",
            ]
        for tier, title in deck.tiers.items():
            added = [n for n in deck.added if n.tier == tier]
            changed = [(a, b) for a, b in deck.changed if b.tier == tier]
            removed = [n for n in deck.removed if n.tier == tier]
            moved = [(a, b) for a, b in deck.moved if b.tier == tier]
            renamed = [(a, b) for a, b in deck.renamed if b.tier == tier]
            if not (added or changed or removed or moved or renamed):
                continue
            lines += [f"### {title}", ""]
            for n in added:
                lines.append(f"- Added {n.label}: {_md(n.summary)}")
            for a, b in changed:
                parts = [
                    f"{name}: “{_md(x)}” → “{_md(y)}”"
                    for name, *texts in _field_changes(a, b)
                    for x, y in [changed_window(*texts)]
                ]
                lines.append(f"- Changed {b.label}: " + "; ".join(parts))
            for n in removed:
                lines.append(f"- Removed {n.label}: {_md(n.summary)}")
            for a, b in renamed:
                old_id, new_id = a.key.split("/")[0], b.key.split("/")[0]
                lines.append(f"- Renamed `{old_id}` → `{new_id}` ({b.type}): students keep the card and its reviews")
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
        return {
            "key": n.key,
            "guid": n.guid,
            "type": n.type,
            "tier": n.tier,
            "evidence": n.evidence,
            "source_claim": n.source_claim,
            "summary": n.summary,
        }

    payload = {
        "old": old_label,
        "new": new_label,
        "decks": [
            {
                "id": d.id,
                "name": d.name,
                "old_version": d.old_version,
                "new_version": d.new_version,
                "renamed_from": d.renamed_from,
                "added": [note(n) for n in d.added],
                "changed": [
                    {**note(b), "fields": {name: {"before": x, "after": y} for name, x, y in _field_changes(a, b)}}
                    for a, b in d.changed
                ],
                "removed": [note(n) for n in d.removed],
                "moved": [{**note(b), "from": a.tier, "to": b.tier} for a, b in d.moved],
                "renamed": [{**note(b), "old_key": a.key} for a, b in d.renamed],
            }
            for d in decks
        ],
    }
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
