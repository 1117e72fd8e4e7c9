"""The preview's records of each card file: its Anki cards rendered as Anki renders them, cached like compiled units.

A card file's cards become one or more `Chunk`s (at most `CHUNK_CARDS` cards each, in file order). A chunk is
two data scripts the page loads on demand, each named by the hash of its bytes, so an unchanged chunk is never
rewritten and a page never mixes two versions:

- `cards/<hash>.js` calls `tierdeck.cards(hash, records)`: per card its key, ordinal, label, both sides (with
  formulas as MathML and sounds as players, `tierdeck.preview.clientside`), author tags, source, `file:line`,
  evidence level and note type stylesheet;
- `text/<hash>.js` calls `tierdeck.texts(hash, texts)`: per card the lower-case text search matches.

The chunk keeps what the site's index needs of each card (`Entry`). Chunks are cached in `.tierdeck-cache/`
under a key of everything they are made from (the file's bytes, its manifest, its notes' content hashes, the
note types, tierdeck itself), and kept in memory by a watching preview, so after an edit only the edited file
is rendered again. A cold preview renders its files in worker processes, as `tierdeck.units` compiles them.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from tierdeck import files, workers
from tierdeck.cache import Cache, decode, encode, file_digest, storable
from tierdeck.cache import key as cache_key
from tierdeck.errors import YamlPath, relative
from tierdeck.format import yamlio
from tierdeck.notes.expand import AUTO_TAG_PREFIXES, NoteSpec
from tierdeck.notes.render import plain_text, sanitise
from tierdeck.portable.templates import render_cards
from tierdeck.preview.clientside import for_browser

if TYPE_CHECKING:
    from tierdeck.project.report import DeckResult, Report

CHUNK_CARDS = 500  # cards per data script: about 0.5 MB, parsed in a few milliseconds
# Below this many cards to render, starting worker processes costs more than it saves.
PARALLEL_MIN_CARDS = 4000


@dataclass(frozen=True)
class PreviewCard:
    """One Anki card as the preview shows it (its sides as Anki renders them, before `clientside`)."""

    deck_id: str
    tier: str
    card_type: str
    note_key: str  # the card id, or `card/row/column` for a table cell
    ordinal: int  # 1-based, as Anki numbers the card within its note
    label: str  # which card of the note: the template name, with the deletion number for clozes
    question: str  # HTML, without the note type's CSS
    answer: str
    css: str
    tags: tuple[str, ...]
    source: str  # HTML of the Source field, empty when the card has none
    location: str  # `file:line` relative to the project root
    evidence: str | None
    card_index: int  # the card's position in its file's `cards` list (its lint warnings are found by it)
    text: str  # what a search matches in it, lower case: its note's text (id included) and evidence level


@storable
class Entry(NamedTuple):
    """What the site's index keeps of one card: enough to sort, count, filter and find its warnings."""

    tier: str
    card_type: str
    evidence: str  # '' for none
    tags: tuple[str, ...]  # the author's, without the automatic tier::, type:: and evidence:: tags
    card_index: int


@storable
@dataclass(frozen=True)
class Chunk:
    """Up to CHUNK_CARDS cards of one card file: the names of its two data scripts and its index entries."""

    file: Path
    cards_script: str  # relative to the preview folder: cards/<hash>.js
    text_script: str  # text/<hash>.js
    entries: tuple[Entry, ...]

    @property
    def scripts(self) -> tuple[str, str]:
        """Both data scripts' relative names."""
        return self.cards_script, self.text_script


@lru_cache(maxsize=64)
def stylesheet_id(css: str) -> str:
    """The short name a note type's CSS goes by in the page (changes with the CSS)."""
    return hashlib.sha256(css.encode()).hexdigest()[:12]


def files_of(result: DeckResult) -> Iterator[tuple[Path, list[NoteSpec]]]:
    """Each card file of a deck with its notes, in the deck's file order."""
    by_file: dict[Path, list[NoteSpec]] = {file: [] for file in result.deck.files}
    for note in result.notes:
        by_file.setdefault(note.file, []).append(note)
    for file, notes in by_file.items():
        if notes:
            yield file, notes


def preview_cards(result: DeckResult, notes: list[NoteSpec], root: Path) -> list[PreviewCard]:
    """Every Anki card of `notes` (one card file's, of deck `result`), in file order."""
    manifest = result.deck.manifest
    tier_titles = {t.id: t.title for t in manifest.tiers}
    locator = yamlio.Locator()
    shown = {file: relative(file, root) for file in dict.fromkeys(n.file for n in notes)}
    scanned = {file: block_lines(file, [n.path for n in notes if n.file == file]) for file in shown}
    cards = []
    for note in notes:
        lines = scanned[note.file]
        line = lines[note.path] if lines is not None else locator.line(note.file, note.path)
        specials = {
            "Tags": " ".join(note.tags),
            "Deck": f"{manifest.name}::{tier_titles[note.tier]}",
            "Subdeck": tier_titles[note.tier],
        }
        rendered = render_cards(note.notetype, note.fields, specials)
        if note.notetype.scripts:
            rendered = [replace(card, question=scriptless(card.question), answer=scriptless(card.answer)) for card in rendered]
        elif not note.notetype.builtin:  # an imported deck's: its fields (format: anki) are not sanitised for students
            rendered = [replace(card, question=sanitise(card.question), answer=sanitise(card.answer)) for card in rendered]
        # the source claim stays a tag here: the page filters by it like any tag
        author_tags = tuple(
            t for t in note.tags if not t.startswith(AUTO_TAG_PREFIXES) or t.startswith("source-claim::")
        )
        location = f"{shown[note.file]}:{line}"
        # the note's fields once, not each card's two sides: the same words, a third of the work (the page
        # matches tags and file names from its index, shared by many cards)
        fields = " ".join(note.fields)
        words = plain_text(fields) if '<' in fields or '&' in fields else fields
        text = f"{words} {note.evidence or ''} {note.source_claim or ''}".lower()
        for card in rendered:
            label = card.name if len(rendered) > 1 or not note.notetype.cloze else note.notetype.templates[0].name
            cards.append(
                PreviewCard(
                    deck_id=manifest.id,
                    tier=note.tier,
                    card_type=note.card_type,
                    note_key=note.key,
                    ordinal=card.ordinal,
                    label=label,
                    question=card.question,
                    answer=card.answer,
                    css=note.notetype.css,
                    tags=author_tags,
                    source=note.field("Source"),
                    location=location,
                    evidence=note.evidence,
                    card_index=int(note.path[1]),
                    text=text,
                )
            )
    return cards


SCRIPTS_NOT_RUN = (
    '<div class="pv-scripts-note">This note type runs scripts (<code>scripts: allowed</code>); the preview shows its '
    "cards without them.</div>"
)


def scriptless(side: str) -> str:
    """A card side of a note type that runs scripts (`scripts: allowed`), as the preview shows it: with nothing
    that runs code or loads a page (the preview is served from the author's machine), and a note saying so."""
    import nh3

    attributes = {"*": {"class", "id", "title", "lang", "dir"}, "img": {"src", "alt", "width", "height"}, "a": {"href"}}
    return SCRIPTS_NOT_RUN + nh3.clean(side, attributes=attributes, url_schemes={"http", "https", "mailto"})


_CARDS_KEY = re.compile(r"cards:[ \t]*(?:#.*)?")
_ROWS_KEY = re.compile(r" *rows:[ \t]*(?:#.*)?")
_ITEM = re.compile(r"( *)- +\S")


def block_lines(file: Path, paths: list[YamlPath]) -> dict[YamlPath, int] | None:
    """The line of each path (`cards[i]` or a table row `cards[i].rows[j]`) in a card file written in block
    style, found by scanning its lines; None when the file is written otherwise or a count does not match.

    A tenth of the time of composing the file with PyYAML (`yamlio.Locator`, which answers for the other
    files). Sound because block YAML indents whatever continues inside an item (block and plain scalars,
    flow collections, nested keys) deeper than the item's `- `: at the item's own indentation, only items start.
    """
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    lines = text.split("\n")
    start = next((i for i, line in enumerate(lines) if _CARDS_KEY.fullmatch(line)), None)
    if start is None:
        return None
    cards = _items(lines, start + 1, len(lines), 0)
    wanted_cards = {path[1] for path in paths}
    if cards is None or wanted_cards != set(range(len(cards))):
        return None
    found: dict[YamlPath, int] = {}
    ends = [*cards[1:], len(lines)]
    for path in paths:
        i = int(path[1])
        if len(path) == 2:
            found[path] = cards[i] + 1
            continue
        if len(path) != 4 or path[2] != "rows":
            return None
        item = _ITEM.match(lines[cards[i]])
        if item is None:
            return None
        keys_at = item.end() - 1  # the column of the card's keys
        rows_at = next(
            (n for n in range(cards[i], ends[i]) if _ROWS_KEY.fullmatch(lines[n]) and _indent(lines[n]) == keys_at),
            None,
        )
        rows = None if rows_at is None else _items(lines, rows_at + 1, ends[i], keys_at)
        row = int(path[3])
        if rows is None or row >= len(rows):
            return None
        found[path] = rows[row] + 1
    return found


def _items(lines: list[str], begin: int, end: int, key_indent: int) -> list[int] | None:
    """The 0-based lines where the items of the block sequence starting at `begin` start (None if there is none)."""
    items: list[int] = []
    indent = None
    for n in range(begin, end):
        line = lines[n]
        stripped = line.lstrip(" ")
        if not stripped or stripped.startswith("#"):
            continue
        depth = len(line) - len(stripped)
        if indent is None:
            match = _ITEM.match(line)
            if match is None or depth < key_indent:
                return None
            indent = depth
        if depth < indent or (depth == indent and not stripped.startswith("- ")):
            break
        if depth == indent:
            if _ITEM.match(line) is None:
                return None  # `-` alone: the item starts on a later line
            items.append(n)
    return items or None


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def chunks(report: Report, out_dir: Path, memo: dict[str, list[Chunk]] | None = None) -> list[list[Chunk]]:
    """Per deck of `report`, the chunks of its card files in file order; the data scripts written to `out_dir`.

    A file's chunks come from `memo` (kept by a watching preview; pruned to this run's files) or the cache when
    their inputs are unchanged and their scripts are in `out_dir`; the others are rendered and written.
    """
    memo = {} if memo is None else memo
    cache = Cache(report.root)
    jobs: list[tuple[int, Path, str]] = []
    groups: dict[tuple[int, Path], list[NoteSpec]] = {}
    found: dict[str, list[Chunk]] = {}
    keys: list[list[str]] = []
    for position, result in enumerate(report.decks):
        deck_keys = []
        for file, notes in files_of(result):
            key = _key(result, file, notes, report.root)
            deck_keys.append(key)
            have = memo.get(key) or (cache.get("preview", key) if cache.enabled else None)
            if have is not None and all((out_dir / s).is_file() for c in have for s in c.scripts):
                found[key] = have
            else:
                jobs.append((position, file, key))
                groups[position, file] = notes
        keys.append(deck_keys)
    renderer = _Renderer(report, groups, out_dir, cache)
    for key, made in zip((key for _, _, key in jobs), _render_all(renderer, jobs), strict=True):
        found[key] = made
    memo.clear()
    memo.update(found)
    return [[chunk for key in deck_keys for chunk in found[key]] for deck_keys in keys]


def _key(result: DeckResult, file: Path, notes: list[NoteSpec], root: Path) -> str:
    """Everything a file's chunks are made from: the file and its manifest (lines, deck name, tier titles), each
    note as compiled (its content hash covers note type, fields and tags; its packed media names are in the
    fields), the note types' templates and CSS, and where the project is (for `file:line`)."""
    try:
        digests = [file_digest(result.deck.manifest_path), file_digest(file)]
    except OSError:
        digests = ["unreadable"]  # the notes still key it; only its lines could be stale
    notes_part = "\n".join(
        f"{n.key}\x1f{n.content_hash}\x1f{n.tier}\x1f{n.card_type}\x1f{n.path}\x1f{n.evidence}" for n in notes
    )
    return cache_key(
        "preview",
        str(root),
        str(file),
        result.deck.manifest.id,
        *digests,
        result.deck.notetypes.digest,
        notes_part,
    )


class _Renderer:
    """Renders one card file into its chunks, writes their scripts and caches them."""

    def __init__(self, report: Report, groups: dict[tuple[int, Path], list[NoteSpec]], out_dir: Path, cache: Cache):
        self.report, self.groups, self.out_dir, self.cache = report, groups, out_dir, cache

    def __call__(self, job: tuple[int, Path, str]) -> list[Chunk]:
        position, file, key = job
        cards = preview_cards(self.report.decks[position], self.groups[position, file], self.report.root)
        made = [self._write(file, cards[i : i + CHUNK_CARDS]) for i in range(0, len(cards), CHUNK_CARDS)]
        self.cache.put("preview", key, made)
        return made

    def encoded(self, job: tuple[int, Path, str]) -> bytes:
        """In a worker process: the job's chunks, encoded for the way back."""
        return encode(self(job))

    def _write(self, file: Path, cards: list[PreviewCard]) -> Chunk:
        records = [
            [
                c.note_key,
                c.ordinal,
                c.label,
                for_browser(c.question),
                for_browser(c.answer),
                c.tags,
                c.source,
                c.location,
                c.evidence or "",
                stylesheet_id(c.css),
            ]
            for c in cards
        ]
        texts = {text: i for i, text in enumerate(dict.fromkeys(c.text for c in cards))}  # a note's cards share it
        cards_script = _script(self.out_dir, "cards", "tierdeck.cards", records)
        shared = cards[0].location.rsplit(":", 1)[0].lower()  # the file, for every card of the chunk
        text_script = _script(
            self.out_dir, "text", "tierdeck.texts", [list(texts), [texts[c.text] for c in cards], shared]
        )
        entries = tuple(Entry(c.tier, c.card_type, c.evidence or "", c.tags, c.card_index) for c in cards)
        return Chunk(file, cards_script, text_script, entries)


def _script(out_dir: Path, folder: str, function: str, payload: list) -> str:
    """Write `function(hash, payload);` as `folder/<hash>.js` (unless there) and return that relative name."""
    data = script_data(payload)
    digest = hashlib.sha256(data.encode()).hexdigest()[:20]
    name = f"{folder}/{digest}.js"
    path = out_dir / name
    if not path.is_file():
        files.write(path, f'{function}("{digest}",{data});\n')
    return name


def script_data(payload: object) -> str:
    """`payload` as a JavaScript expression (JSON is one); data scripts are files of their own, never inlined."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def _render_all(renderer: _Renderer, jobs: list[tuple[int, Path, str]]) -> list[list[Chunk]]:
    """Each job's chunks: in worker processes (forked, sharing the report) when there is enough to render."""
    cards = sum(n.card_count for notes in renderer.groups.values() for n in notes)
    count = workers.count(len(renderer.groups), large=cards >= PARALLEL_MIN_CARDS)
    if count < 2:
        return [renderer(job) for job in jobs]
    return [decode(data) for data in workers.map_encoded(renderer.encoded, jobs, count)]
