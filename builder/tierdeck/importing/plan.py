"""Planning an import: where each imported note lands in the project, and the files that says to write.

A first import and a later one are the same operation; the project in DIR is simply empty the first
time. For every note of the package:

- A note whose GUID a card of the project already carries stays that card: same file, same id. Its text,
  tags and tier are replaced by the package's when the package's note is newer than what the project
  recorded for it (its Anki modification time is later than the lock file's time for the card), so an
  edit made in the project since is never overwritten by an older note. A plain-text export has no
  times: its notes always replace their cards' text.
- Any other note is a new card, appended to the card file of its tier, with an id made from its first
  field and unique in the deck.
- A note whose GUID belongs to a card tierdeck made itself (no `guid:`) is left to the project, and so is
  one whose note type differs from its card's (students' Anki would call it conflicting).
- A note that cannot become a card (a GUID no Anki writes, no card made, a note type current Anki refuses)
  is left out with a warning naming it: its GUID, first words, deck, Anki note id, and what to do in Anki.
- Every media file of the package goes to the deck's `media/` folder (which the manifest ships whole),
  except where the project holds a file of that name with other bytes: the author's file is kept.

A package's top-level deck becomes a deck of the project: the one whose cards already hold most of its
notes, else the one with its name, else a new one. Nothing is ever deleted or renumbered: cards the
package lacks stay, with their ids, files and GUIDs.
"""

from __future__ import annotations

import os
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from tierdeck.errors import Diagnostic, YamlPath, shown
from tierdeck.format import yamlio
from tierdeck.format.layout import NOTETYPES_DIR
from tierdeck.format.schema import GUID_PATTERN, slugify
from tierdeck.importing.mapping import (
    TOP_DECK_TIER,
    card_body,
    carry_field,
    id_base,
    kept_tags,
    split_deck,
    unique,
)
from tierdeck.importing.writer import Flow, FlowMap, dump
from tierdeck.notes.notetypes import NoteTypes, active_content, builtin, css_loads_pages, parse_notetype
from tierdeck.notes.render import plain_text
from tierdeck.portable.model import ImportedDeck, NoteIn, NoteTypeIn
from tierdeck.portable.notetype import NoteType
from tierdeck.portable.safety import media_name_problem
from tierdeck.portable.templates import TemplateError, card_ordinals
from tierdeck.project.report import Report

CARDS_DIR = "cards"
MAX_SLUG = 80  # deck, tier, note type and template keys name files: well below 255 bytes with their suffixes
# About this much field text per card file, then the import goes on in the next (quoting can double it; 5 MB is the limit).
SPLIT_BYTES = 2_000_000
MEDIA_DIR = "media"
# The keys of a card the import writes; any other key on an existing card is the author's and is kept.
IMPORTED_KEYS = ("type", "id", "guid", "notetype", "tier", "format", "tags", "front", "back", "text", "extra", "fields")
CARD_FILE_COMMENT = (
    "Imported from Anki by 'tierdeck import' (docs/migrating.md). Each card keeps its note's guid and note type,\n"
    "which is how students' Anki knows it: edit the text freely, never 'guid' or 'notetype'."
)
MANIFEST_COMMENT = "Imported from Anki by 'tierdeck import' (docs/migrating.md). Never change 'id'."
NOTETYPE_COMMENT = (
    "Imported from Anki by 'tierdeck import'. 'id' is Anki's: students' notes of this type are matched by it,\n"
    "so keep it. Templates and CSS may change freely; fields and template names may not (docs/migrating.md)."
)
_SRC_UNSAFE = re.compile(r"[%\"&<>'\s]")
# An apkg note's Anki modification time, or None for a plain-text export.
Seed = tuple[str | None, int | None, int | None]  # (guid, mtime, Anki note id)


@dataclass
class Located:
    """A warning about the project the import writes: the file (relative to it), where in it, the message."""

    file: str
    path: YamlPath
    message: str


@dataclass
class DeckPlan:
    """One deck of the project the import writes into, and what the import did to it."""

    id: str
    name: str
    manifest: str  # relative to the project
    created: bool
    card_folder: str
    tiers: list[dict] = field(default_factory=list)  # [{id, title}] in manifest order
    seeds: dict[str, Seed] = field(default_factory=dict)  # card id -> note identity, for cards new to the project
    counts: Counter = field(default_factory=Counter)  # new, updated, unchanged, kept
    listed: bool = True  # whether the manifest's `cards:` lists card_folder
    shipped: bool = False  # whether the manifest's `media:` lists card_folder/media (set when the import needs it)

    @property
    def media_folder(self) -> str:
        return f"{self.card_folder}/{MEDIA_DIR}"


@dataclass
class Plan:
    """Everything an import writes, and what it says about it."""

    files: dict[str, str | bytes] = field(default_factory=dict)  # relative path -> content
    card_files: dict[str, dict] = field(default_factory=dict)  # relative path -> the data its YAML holds
    decks: dict[str, DeckPlan] = field(default_factory=dict)
    notetype_mtimes: dict[str, int | None] = field(default_factory=dict)  # note types new to the project
    notetypes_written: list[str] = field(default_factory=list)
    media_written: set[str] = field(default_factory=set)  # relative paths
    warnings: list[Diagnostic | Located] = field(default_factory=list)
    errors: list[Diagnostic] = field(default_factory=list)
    card_headers: dict[str, str] = field(default_factory=dict)  # card file -> the comment it opens with
    new_cards: dict[tuple[str, int], tuple[str, str, str]] = field(default_factory=dict)  # (file, index) -> deck, id, note
    updated_cards: dict[tuple[str, int], tuple[str, dict, str]] = field(default_factory=dict)  # -> deck, old card, note
    changes: Counter = field(default_factory=Counter)  # card file -> cards the import adds or updates in it

    def keep_old(self, rel: str, index: int, why: str, source: Path) -> None:
        """Put an updated card back as the project has it (the package's version would not build), with a warning."""
        deck_id, old, note = self.updated_cards.pop((rel, index))
        self.card_files[rel]["cards"][index] = old
        deck = self.decks[deck_id]
        deck.counts["updated"] -= 1
        deck.counts["kept"] += 1
        self.warnings = [
            w for w in self.warnings if not (isinstance(w, Located) and w.file == rel and w.path[:2] == ("cards", index))
        ]
        self.warnings.append(
            Diagnostic(
                source,
                f"{note} was left as the project has it: the package's version of its card would not build ({why}); "
                "change the note in Anki and export again, or edit the card in tierdeck",
                level="warning",
            )
        )
        self._rewrite(rel)

    def _rewrite(self, rel: str) -> None:
        """The card file's YAML again after a change to its data; not written at all once the import changes nothing in it."""
        self.changes[rel] -= 1
        if self.changes[rel] > 0:
            self.files[rel] = dump(self.card_files[rel], self.card_headers[rel])
        else:
            del self.card_files[rel]
            self.files.pop(rel, None)

    def leave_out(self, rel: str, index: int, why: str, source: Path) -> None:
        """Take a new card out of the plan again (its note would not build), with a warning naming the note."""
        deck_id, card_id, note = self.new_cards.pop((rel, index))
        data = self.card_files[rel]
        del data["cards"][index]
        self.new_cards = {(r, i - (r == rel and i > index)): v for (r, i), v in self.new_cards.items()}
        deck = self.decks[deck_id]
        deck.seeds.pop(card_id, None)
        deck.counts["new"] -= 1
        kept: list[Diagnostic | Located] = []
        for warning in self.warnings:
            if isinstance(warning, Located) and warning.file == rel and warning.path[:1] == ("cards",):
                at = warning.path[1]
                if at == index:
                    continue
                if isinstance(at, int) and at > index:
                    warning = Located(rel, ("cards", at - 1, *warning.path[2:]), warning.message)
            kept.append(warning)
        self.warnings = kept
        self.warnings.append(
            Diagnostic(
                source,
                f"{note} was left out: the card it makes would not build ({why}); change the note in Anki and export "
                "again, or write the card in tierdeck",
                level="warning",
            )
        )
        self.updated_cards = {(r, i - (r == rel and i > index)): v for (r, i), v in self.updated_cards.items()}
        self._rewrite(rel)


@dataclass
class _Existing:
    """A card of the project found by its note's GUID."""

    deck: str
    file: str
    index: int
    card_id: str
    pinned: bool


class Planner:
    """Plans one import of `deck` into the project at `root`, as `report` (its last load) and `notetypes` describe it."""

    def __init__(self, deck: ImportedDeck, root: Path, report: Report | None, notetypes: NoteTypes):
        self.imported = deck
        self.root = root
        self.report = report
        self.notetypes = notetypes
        self.text = deck.format == "text"
        self.plan = Plan()
        self._data: dict[str, dict] = {}  # card files read or created, by relative path
        self._ids: dict[str, set[str]] = defaultdict(set)  # card ids taken, per deck
        self._tier_files: dict[tuple[str, str], str] = {}
        self._lock_mtimes: dict[str, dict[str, int]] = {}  # deck -> card id -> recorded mtime
        self._existing: dict[str, _Existing] = {}
        self._manifests: dict[str, dict] = {}  # deck id -> manifest data
        self._notetypes: dict[int | str, tuple[str, tuple[str, ...], bool] | None] = {}
        self._kept_media: list[str] = []
        self._refused: dict[int | str | None, str] = {}  # note type id -> why it cannot be used
        self._sizes: dict[str, int] = {}  # card files: about how many bytes of YAML they hold
        self._read_project()

    # --- the project as it is ------------------------------------------------------------------------

    def _rel(self, path: Path) -> str:
        return path.resolve().relative_to(self.root.resolve()).as_posix()

    def _read_project(self) -> None:
        if self.report is None:
            return
        for result in self.report.all_decks:
            deck_id = result.deck.manifest.id
            data, _ = yamlio.load(result.deck.manifest_path)
            self._manifests[deck_id] = data
            lock = result.identity.lock
            self._lock_mtimes[deck_id] = {
                key: entry["mtime"] for key, entry in lock.notes.items() if isinstance(entry.get("mtime"), int)
            }
            folder = self._card_folder(result.deck.manifest.cards)
            plan = DeckPlan(
                deck_id,
                result.deck.manifest.name,
                self._rel(result.deck.manifest_path),
                False,
                folder or f"{CARDS_DIR}/{deck_id}",
                [{"id": t.id, "title": t.title} for t in result.deck.manifest.tiers],
                listed=folder is not None,
            )
            plan.shipped = any(
                (self.root / entry).resolve() == (self.root / plan.media_folder).resolve()
                for entry in result.deck.manifest.media
            )
            self.plan.decks[deck_id] = plan
            for note in result.notes:
                self._ids[deck_id].add(note.card_id)
                rel = self._rel(note.file)
                self._existing[note.guid] = _Existing(deck_id, rel, int(note.path[1]), note.card_id, note.pinned)
            for file in result.deck.files:
                rel = self._rel(file)
                data, _ = yamlio.load(file)
                tier = data.get("tier") if isinstance(data, dict) else None
                if isinstance(tier, str) and rel.startswith(plan.card_folder + "/"):
                    self._tier_files[(deck_id, tier)] = rel
                for card in data.get("cards", []) if isinstance(data, dict) else []:
                    if isinstance(card, dict) and isinstance(card.get("id"), str):
                        self._ids[deck_id].add(card["id"])

    def _card_folder(self, entries: list[str]) -> str | None:
        """The first folder a manifest lists for its cards, where the import adds card files and media."""
        for entry in entries:
            path = (self.root / entry).resolve()
            if path.is_dir() and path.is_relative_to(self.root.resolve()):
                return self._rel(path)
        return None

    def card_data(self, rel: str) -> dict:
        """The data of a card file, read once; the import edits it in place."""
        if rel not in self._data:
            data, _ = yamlio.load(self.root / rel)
            self._data[rel] = data
        return self._data[rel]

    # --- decks, tiers and files -----------------------------------------------------------------------

    def _deck_for(self, top: str, notes: list[NoteIn]) -> DeckPlan:
        """The project deck a package's top-level deck goes to: the one holding most of its notes, else by name."""
        holding = Counter(self._existing[n.guid].deck for n in notes if n.guid in self._existing)
        if holding:
            return self.plan.decks[holding.most_common(1)[0][0]]
        named = next((d for d in self.plan.decks.values() if d.name == top), None)
        if named is not None:
            return named
        taken = set(self.plan.decks) | {p.stem for p in (self.root / "decks").glob("*.y*ml")}
        base = _short(slugify(top)) if slugify(top) != "x" else "deck"
        deck_id = unique(base, taken)
        # a folder of cards no manifest lists is someone's work: never add to it (a media/ folder alone is fine)
        while any((self.root / CARDS_DIR / deck_id).rglob("*.y*ml")):
            deck_id = unique(base, taken)
        plan = DeckPlan(deck_id, top, f"decks/{deck_id}.yaml", True, f"{CARDS_DIR}/{deck_id}")
        self.plan.decks[deck_id] = plan
        return plan

    def _tier(self, deck: DeckPlan, title: str) -> str:
        """The id of the tier titled `title` in `deck`, added to the deck if it has none."""
        for tier in deck.tiers:
            if tier["title"] == title:
                return tier["id"]
        tier_id = unique(_short(slugify(title)), {t["id"] for t in deck.tiers})
        was_sorted = [t["title"].casefold() for t in deck.tiers] == sorted(t["title"].casefold() for t in deck.tiers)
        deck.tiers.append({"id": tier_id, "title": title})
        if was_sorted:  # Anki lists subdecks alphabetically: keep the manifest in the order students see
            deck.tiers.sort(key=lambda t: t["title"].casefold())
        self._manifest_changed(deck)
        return tier_id

    def _manifest_changed(self, deck: DeckPlan) -> None:
        if deck.created:
            data = {
                "id": deck.id,
                "name": deck.name,
                "tiers": [FlowMap(t) for t in deck.tiers],
                "cards": Flow([deck.card_folder]),
            }
            if deck.shipped:
                data["media"] = Flow([deck.media_folder])
            self.plan.files[deck.manifest] = dump(data, MANIFEST_COMMENT)
        else:
            # rewritten whole: its opening comment lines are kept, comments further down are not
            lists = ("cards", "tags", "previous_ids", "media")
            data = {k: Flow(v) if k in lists else v for k, v in self._manifests[deck.id].items()}
            data["tiers"] = [FlowMap(t) for t in deck.tiers]
            if deck.shipped and deck.media_folder not in data.get("media", []):
                data["media"] = Flow([*data.get("media", []), deck.media_folder])
            self.plan.files[deck.manifest] = dump(data, self._header(deck.manifest, ""))

    def _header(self, rel: str, new: str) -> str:
        """The comment a rewritten file opens with: the one it had (comments further down are not kept), or `new`."""
        path = self.root / rel
        if not path.is_file():
            return new
        lines = path.read_text(encoding="utf-8").splitlines()
        return "\n".join(line.removeprefix("#").removeprefix(" ") for line in lines[: _leading_comments(lines)])

    def _tier_file(self, deck: DeckPlan, tier: str) -> str:
        """The card file new cards of a tier go to: the tier's existing file in the deck's folder, else a new one."""
        rel = self._tier_files.get((deck.id, tier))
        if rel is not None and rel not in self._sizes:
            self._sizes[rel] = (self.root / rel).stat().st_size if (self.root / rel).is_file() else 0
        if rel is None or self._sizes[rel] > SPLIT_BYTES:  # a big subdeck goes on in <tier>-2.yaml, ...
            rel, number = f"{deck.card_folder}/{tier}.yaml", 2
            while (self.root / rel).exists() or rel in self._data:
                rel, number = f"{deck.card_folder}/{tier}-{number}.yaml", number + 1
            self._data[rel] = {"tier": tier, "cards": []}
            self._tier_files[(deck.id, tier)] = rel
            self._sizes[rel] = 0
            if not deck.listed:  # the manifest names card files only: list the folder new files go to
                data = self._manifests[deck.id]
                self._manifests[deck.id] = {**data, "cards": [*data["cards"], deck.card_folder]}
                deck.listed = True
                self._manifest_changed(deck)
        return rel

    # --- note types -----------------------------------------------------------------------------------

    def _notetype(self, notetype: NoteTypeIn) -> tuple[str, tuple[str, ...], bool] | None:
        """(key, fields, cloze) of the project note type an imported note type is; written if new or newer."""
        cache_key = notetype.id if notetype.id is not None else notetype.name
        if cache_key in self._notetypes:
            return self._notetypes[cache_key]
        own = [nt for nt in self.notetypes.values() if not nt.builtin]
        if notetype.id is None:  # a plain-text export: only the name is known
            found = self._by_name(notetype, own)
        else:
            match = next((nt for nt in own if nt.explicit_id == notetype.id), None)
            found = self._update_notetype(match, notetype) if match else self._new_notetype(notetype, own)
        self._notetypes[cache_key] = found
        return found

    def _by_name(self, notetype: NoteTypeIn, own: list[NoteType]) -> tuple[str, tuple[str, ...], bool] | None:
        named = [nt for nt in own if nt.name == notetype.name and nt.explicit_id is not None]
        source = self.imported.source
        if len(named) != 1:
            why = (
                f"several note type files in {NOTETYPES_DIR}/ are named '{shown(notetype.name)}' "
                f"({', '.join(nt.key + '.yaml' for nt in named)}); keep one"
                if named
                else f"{NOTETYPES_DIR}/ has no note type named '{shown(notetype.name)}' with its Anki id, and a plain-text "
                "export does not carry note types (nor the ids students' notes are matched by); import the deck's "
                ".apkg into this folder first (in Anki: File > Export > Anki Deck Package), or copy its note type file "
                f"into {NOTETYPES_DIR}/"
            )
            self.plan.errors.append(Diagnostic(source, f"the notes of note type '{shown(notetype.name)}' cannot be imported: {why}"))
            return None
        match = named[0]
        if len(notetype.fields) > len(match.fields):
            self.plan.errors.append(
                Diagnostic(
                    source,
                    f"notes of note type '{shown(notetype.name)}' have {len(notetype.fields)} fields, but "
                    f"{NOTETYPES_DIR}/{match.key}.yaml has {len(match.fields)}; export the notes from the collection "
                    "that note type file came from",
                )
            )
            return None
        if notetype.cloze and not match.cloze:
            self.plan.errors.append(
                Diagnostic(
                    source,
                    f"notes of note type '{shown(notetype.name)}' hold cloze deletions, but {NOTETYPES_DIR}/{match.key}.yaml "
                    "is not a cloze note type; export the notes from the collection that note type file came from",
                )
            )
            return None
        return match.key, match.fields, match.cloze

    def _new_notetype(self, notetype: NoteTypeIn, own: list[NoteType]) -> tuple[str, tuple[str, ...], bool] | None:
        base = _short(slugify(notetype.name))
        if base in builtin():  # `notetypes/basic.yaml` would replace tierdeck's own Basic for every card
            base = f"anki-{base}"
        taken = {nt.key for nt in own} | set(builtin()) | {k for k, _, _ in filter(None, self._notetypes.values())}
        taken |= {p.stem for p in (self.root / NOTETYPES_DIR).glob("*")}
        key = unique(base, taken)
        refused = self._refusal(key, notetype)
        if refused:
            self._refused[notetype.id] = refused
            return None
        self._write_notetype(key, notetype)
        self.plan.notetype_mtimes[key] = notetype.mtime
        return key, notetype.fields, notetype.cloze

    def _refusal(self, key: str, notetype: NoteTypeIn) -> str | None:
        """Why a note type cannot be used (what current Anki refuses too: a template naming no field...), or None."""
        data = {
            "name": notetype.name,
            "id": notetype.id,
            "kind": "cloze" if notetype.cloze else "standard",
            "fields": list(notetype.fields),
            "templates": [{"name": t.name, "front": t.front, "back": t.back} for t in notetype.templates],
            "css": notetype.css,
            "scripts": "allowed",
        }
        path = self.root / NOTETYPES_DIR / f"{key}.yaml"
        _, problems = parse_notetype(path, dump(data))
        errors = [p.message for p in problems if p.level == "error"]
        return errors[0] if errors else None

    def _update_notetype(self, match: NoteType, notetype: NoteTypeIn) -> tuple[str, tuple[str, ...], bool] | None:
        """An imported note type the project has: rewritten when the package's is newer and differs."""
        found = (match.key, match.fields, match.cloze)
        if (notetype.fields, [t.name for t in notetype.templates], notetype.cloze) != (
            match.fields,
            [t.name for t in match.templates],
            match.cloze,
        ):
            self.plan.errors.append(
                Diagnostic(
                    match.file or self.root,
                    f"the package's note type '{shown(notetype.name)}' (id {notetype.id}) now has the fields "
                    f"{', '.join(notetype.fields)} and the templates {', '.join(t.name for t in notetype.templates)}, "
                    "which differ from this file's: Anki would not update the notes students have of it (it reports them "
                    "as conflicting). Undo the change of fields or templates in Anki and export again, or make the "
                    "change in this file as a new version (docs/migrating.md)",
                    line=1,
                )
            )
            return None
        recorded = [
            entry.get("mtime")
            for result in (self.report.all_decks if self.report else [])
            for key, entry in result.identity.lock.notetypes.items()
            if key == match.key
        ]
        newest = max((m for m in recorded if isinstance(m, int)), default=None)
        same = (
            match.name == notetype.name
            and match.css == notetype.css
            and [(t.front, t.back) for t in match.templates] == [(t.front, t.back) for t in notetype.templates]
            and match.sort_field == notetype.sort_field
        )
        if not same and (newest is None or (notetype.mtime or 0) > newest):
            self._write_notetype(match.key, notetype)
        return found

    def _write_notetype(self, key: str, notetype: NoteTypeIn) -> None:
        """`notetypes/<key>.yaml`, with each template and the CSS in a file of `notetypes/<key>/` (or inline)."""
        folder = f"{NOTETYPES_DIR}/{key}"
        templates = []
        names: set[str] = set()
        for template in notetype.templates:
            entry: dict = {"name": template.name}
            stem = unique(_short(slugify(template.name)), names)
            for side, text in (("front", template.front), ("back", template.back)):
                if "\r" in text or not text.strip():  # a file read back would lose a \r; Text needs some text
                    entry[side] = text
                else:
                    entry[f"{side}_file"] = f"{key}/{stem}.{side}.html"
                    self.plan.files[f"{folder}/{stem}.{side}.html"] = text
            templates.append(entry)
        data: dict = {
            "name": notetype.name,
            "id": notetype.id,
            "kind": "cloze" if notetype.cloze else "standard",
            "fields": Flow(notetype.fields),
        }
        if 0 < notetype.sort_field < len(notetype.fields):
            data["sort_field"] = notetype.fields[notetype.sort_field]
        data["templates"] = templates
        if (
            any(active_content(t.front) or active_content(t.back) for t in notetype.templates)
            or css_loads_pages(notetype.css)
            or any(active_content(text) for note in self.imported.notes if note.notetype == notetype.id for text in note.fields)
        ):
            data["scripts"] = "allowed"  # the instructor's templates and notes, as students' Anki runs them today
        if "\r" in notetype.css or not notetype.css:
            data["css"] = notetype.css
        else:
            data["css_file"] = f"{key}/style.css"
            self.plan.files[f"{folder}/style.css"] = notetype.css
        self.plan.files[f"{NOTETYPES_DIR}/{key}.yaml"] = dump(data, NOTETYPE_COMMENT)
        self.plan.notetypes_written.append(key)

    # --- media ----------------------------------------------------------------------------------------

    def _linker(self, deck: DeckPlan, card_file: str):
        """The MediaLink for fields of cards in `card_file`: the package's media, in the deck's media/ folder."""
        media_folder = deck.media_folder
        relative = Path(os.path.relpath(self.root / media_folder, (self.root / card_file).parent)).as_posix()

        def link(name: str, kind: str) -> tuple[str | None, str | None]:
            found = next((n for n in (name, unquote(name)) if n in self.imported.media), None)
            # Anki's media are flat file names: a path is never looked up on disk (its answer would tell the
            # package's author whether a file outside the project exists)
            flat = [n for n in (name, unquote(name)) if media_name_problem(n) is None]
            on_disk = next((n for n in flat if (self.root / media_folder / n).is_file()), None)
            if found is None and on_disk is None:
                if self.text:
                    self.plan.errors.append(
                        Diagnostic(
                            self.imported.source,
                            f"notes refer to the {kind} '{shown(name)}', which a plain-text export does not carry and "
                            f"{media_folder}/ does not hold; import the deck's .apkg into this folder first (it brings the "
                            f"media), or copy the file into {media_folder}/",
                        )
                    )
                return None, (
                    f"the {kind} '{shown(name)}' is not in the package; in Anki, Tools > Check Media lists the notes "
                    "missing files: add the file there (or to the card here) and import again"
                )
            actual = found or on_disk
            assert actual is not None
            self._ship(deck)
            path = f"{relative}/{actual}"
            return (_SRC_UNSAFE.sub(lambda m: f"%{ord(m.group()):02X}", path) if kind == "image" else path), None

        return link

    def _ship(self, deck: DeckPlan) -> None:
        """List the deck's media/ folder under the manifest's `media:` (every file in it is shipped as named)."""
        if not deck.shipped:
            deck.shipped = True
            self._manifest_changed(deck)

    def _write_media(self) -> None:
        """Every media file of the package into the media/ folder of each deck it filled; an author's file is kept."""
        decks = [d for d in self.plan.decks.values() if d.counts["new"] or d.counts["updated"] or d.counts["unchanged"]]
        for deck in decks if self.imported.media else []:
            self._ship(deck)
            for name, media in sorted(self.imported.media.items()):
                rel = f"{deck.media_folder}/{name}"
                path = self.root / rel
                if path.is_file() and path.read_bytes() != media.data:
                    self._kept_media.append(rel)
                    continue
                self.plan.files[rel] = media.data
                self.plan.media_written.add(rel)
        if self._kept_media:
            self.plan.warnings.append(
                Diagnostic(
                    self.imported.source,
                    f"{len(self._kept_media)} media file(s) of the project differ from the package's and were kept as "
                    f"they are (e.g. {self._kept_media[0]}); to take the package's, delete the project's file and "
                    "import again",
                    level="warning",
                )
            )

    # --- notes ----------------------------------------------------------------------------------------

    def run(self) -> Plan:
        """Plan every note of the package; the plan's errors say what stops the import."""
        by_top: dict[str, list[NoteIn]] = defaultdict(list)
        for note in self.imported.notes:
            by_top[split_deck(note.deck)[0]].append(note)
        for top, notes in by_top.items():
            deck = self._deck_for(top, notes)
            for note in notes:
                self._note(deck, note)
        self._deck_warnings()
        for deck in [d for d in self.plan.decks.values() if d.created and not d.counts["new"]]:
            del self.plan.decks[deck.id]  # every note of it was left out
            self.plan.files.pop(deck.manifest, None)
        for rel, data in self._data.items():
            if rel in self.plan.card_files:
                self.plan.card_headers[rel] = self._header(rel, CARD_FILE_COMMENT)
                self.plan.files[rel] = dump(data, self.plan.card_headers[rel])
        self._write_media()
        return self.plan

    def _note(self, top_deck: DeckPlan, note: NoteIn) -> None:
        source = self.imported.source
        label = f"note '{shown(note.guid)}'" if note.guid else f"the note on line {note.line}"
        notetype = self._notetype(self.imported.notetypes[note.notetype])
        if notetype is None:
            why = self._refused.get(note.notetype)
            if why is not None:
                name = self.imported.notetypes[note.notetype].name
                self.plan.warnings.append(
                    Diagnostic(
                        source,
                        f"{label} ({_first_words(note.fields)}, deck '{shown(note.deck)}'{_nid(note)}) was left out: its "
                        f"note type '{shown(name)}' cannot be used ({why}); in Anki, Tools > Manage Note Types > "
                        f"'{shown(name)}' > Cards shows the problem: fix the template, then export again",
                        level="warning",
                    )
                )
            return
        key, names, cloze = notetype
        existing = self._existing.get(note.guid) if note.guid else None
        if existing is not None and not existing.pinned:
            self.plan.warnings.append(
                Diagnostic(
                    source,
                    f"{label} is card '{existing.card_id}' of deck '{existing.deck}', which tierdeck builds itself; "
                    "it was left as the project has it",
                    level="warning",
                )
            )
            return
        values = (*note.fields, *[""] * (len(names) - len(note.fields)))
        title = split_deck(note.deck)[1]
        where = f"{label} ({_first_words(values)}, deck '{shown(note.deck)}'{_nid(note)})"
        if note.guid is not None and not re.match(GUID_PATTERN, note.guid):
            self.plan.warnings.append(
                Diagnostic(
                    source,
                    f"{where} has a GUID no Anki writes (1 to 64 printable ASCII characters), so it was left out; in "
                    "Anki's browser, use Notes > Create Copy (the copy gets a new GUID), delete the original, then "
                    "export again",
                    level="warning",
                )
            )
            return
        if existing is not None and self._existing_type(existing) not in (None, key):
            self.plan.warnings.append(
                Diagnostic(
                    source,
                    f"{where} is card '{existing.card_id}' of note type '{self._existing_type(existing)}' in the project "
                    f"but of note type '{key}' in the package; students' Anki would report it as conflicting and stop "
                    "updating it, so it was left as the project has it; keep its old note type in Anki, or make it a new "
                    "note (in Anki's browser: Notes > Create Copy, then delete the old note) and export again",
                    level="warning",
                )
            )
            return
        if existing is not None:
            deck = self.plan.decks[existing.deck]
            rel, card_id = existing.file, existing.card_id
            data = self.card_data(rel)
            old = data["cards"][existing.index]
            tier = self._tier(deck, title) if deck is top_deck else old.get("tier") or data.get("tier")
        else:
            deck = top_deck
            tier = self._tier(deck, title)
            rel = self._tier_file(deck, tier)
            data = self.card_data(rel)
            card_id = unique(id_base(values), self._ids[deck.id])
            old = None
        link = self._linker(deck, rel)
        carried = {name: carry_field(value, link) for name, value in zip(names, values, strict=True)}
        # with its media linked: a front that only showed a missing image shows nothing now
        if not self._makes_a_card(note, key, {name: c.text or "" for name, c in carried.items()}):
            self.plan.warnings.append(
                Diagnostic(
                    source,
                    f"{where} makes no card: its note type shows none of its filled fields on a card's front (often an "
                    "image the front shows is missing), so it was left out; in Anki, Tools > Empty Cards and Tools > "
                    "Check Media list such notes: fill the field the front shows, or delete the note, then export again",
                    level="warning",
                )
            )
            return
        body = card_body(names, cloze, carried)
        tags, refused = kept_tags(note.tags)
        card: dict = {"type": body.type, "id": card_id}
        if note.guid:
            card["guid"] = note.guid
        card["notetype"] = key
        if tier != data.get("tier"):
            card["tier"] = tier
        card.update({k: v for k, v in body.keys.items() if k == "format"})
        if tags:
            card["tags"] = Flow(tags)
        card.update({k: v for k, v in body.keys.items() if k != "format"})
        problems = list(body.problems)
        problems += [
            f"the tag '{shown(t)}' holds a quote or a control character, which tags cannot; the import left it out"
            for t in refused
        ]
        if body.type == "note" and not body.keys["fields"]:
            self.plan.warnings.append(
                Diagnostic(source, f"{label} has no text in any field, so it makes no card; it was left out", level="warning")
            )
            return
        if old is None:
            index = len(data["cards"])
            data["cards"].append(card)
            self.plan.card_files[rel] = data
            self._sizes[rel] = self._sizes.get(rel, 0) + 200 + sum(len(v.encode()) for v in values) + len(note.fields) * 20
            deck.seeds[card_id] = (note.guid, note.mtime if not self.text else None, note.note_id)
            self.plan.new_cards[(rel, index)] = (deck.id, card_id, where)
            self.plan.changes[rel] += 1
            deck.counts["new"] += 1
            if "::" not in note.deck:
                deck.counts["top"] += 1
        else:
            assert existing is not None  # `old` is the card `existing` names
            index = existing.index
            merged = {**card, **{k: v for k, v in old.items() if k not in IMPORTED_KEYS}}
            recorded = self._lock_mtimes.get(deck.id, {}).get(card_id)
            newer = self.text or recorded is None or (note.mtime or 0) > recorded
            if merged == old:
                deck.counts["unchanged"] += 1
                return
            if not newer:
                deck.counts["kept"] += 1
                return
            data["cards"][index] = merged
            self.plan.card_files[rel] = data
            self.plan.updated_cards[(rel, index)] = (deck.id, old, where)
            self.plan.changes[rel] += 1
            deck.counts["updated"] += 1
        for problem in problems:
            self.plan.warnings.append(Located(rel, ("cards", index), f"cards[{index}] ({label}): {problem}"))

    def _makes_a_card(self, note: NoteIn, key: str, fields: dict[str, str]) -> bool:
        """Whether Anki makes at least one card of `note` (a note type whose templates do not parse makes none)."""
        notetype = self.imported.notetypes[note.notetype] if not self.text else self.notetypes.get(key)
        if notetype is None or not notetype.templates:
            return True
        try:
            return bool(card_ordinals(notetype, fields))  # type: ignore[arg-type]
        except TemplateError:
            return True  # the note type file reports its broken template itself

    def _existing_type(self, existing: _Existing) -> str | None:
        card = self.card_data(existing.file)["cards"][existing.index]
        return card.get("notetype") if isinstance(card, dict) else None

    def _deck_warnings(self) -> None:
        for deck in self.plan.decks.values():
            if deck.counts["top"]:
                self.plan.warnings.append(
                    Located(
                        deck.manifest,
                        ("tiers",),
                        f"tiers: {deck.counts['top']} note(s) sat in the top deck '{shown(deck.name)}' itself; tierdeck puts "
                        f"every card in a tier's subdeck, so students who get them new find them in "
                        f"'{shown(deck.name)}::{TOP_DECK_TIER}' (students who have them keep them where they are)",
                    )
                )


def _short(slug: str) -> str:
    """A slug cut to a length a file name can hold with its suffixes (at a hyphen where one is near)."""
    if len(slug) <= MAX_SLUG:
        return slug
    cut = slug[:MAX_SLUG]
    return cut[: cut.rfind("-")] if cut.rfind("-") > MAX_SLUG // 2 else cut.rstrip("-")


def _first_words(values: tuple[str, ...]) -> str:
    """The start of a note's first field with text, as its author would recognise it in Anki's browser."""
    text = next((plain_text(v[:1000]).strip() for v in values if plain_text(v[:1000]).strip()), "")
    return f"'{shown(text, 40)}'" if text else "no text"


def _nid(note: NoteIn) -> str:
    return f", found in Anki's browser by 'nid:{note.note_id}'" if note.note_id is not None else ""


def _leading_comments(lines: list[str]) -> int:
    """How many of `lines` are the comment lines a file opens with."""
    count = 0
    while count < len(lines) and lines[count].startswith("#"):
        count += 1
    return count
