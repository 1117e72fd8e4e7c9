"""The preview folder: a static site that opens from disk and stays fast at any size.

    index.html            the page (package data: tierdeck/data/preview/index.html), loads assets/ and index.js
    assets/app.js, .css   the page's code and style, copied from the package
    index.js              `tierdeck.index({...})`: decks, tiers, types, evidence levels, tags, note type CSS,
                          the data scripts, every card's place and facets in display order, lint warnings
    cards/<hash>.js       one card file's cards (up to 500), see `tierdeck.preview.cards`
    text/<hash>.js        the same cards' search text, loaded when the page is idle or a search starts
    <media>               the cards' images and sounds under their packed names, as Anki's media folder

Browsers refuse `fetch()` of file:// URLs, so every data file is a script calling a global function, added to
the page as a <script> element when needed. Only changed files are written; data scripts no index names any
more are deleted.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from tierdeck import files
from tierdeck.cache import storable
from tierdeck.notes.expand import EVIDENCE_LABELS
from tierdeck.notes.kinds import KINDS
from tierdeck.preview.cards import Chunk, chunks, script_data, stylesheet_id
from tierdeck.project.record import Record

if TYPE_CHECKING:
    from tierdeck.project.report import Report

TYPE_ORDER = ("term", "basic", "cloze", "mechanism", "table", "note")  # how a tier's cards are grouped
ASSETS = ("app.js", "app.css")
DATA_FOLDERS = ("cards", "text")


@storable
@dataclass(frozen=True)
class Site:
    """A written preview: its page, the version of its index (changes with any card) and its card count."""

    index: Path
    version: str
    cards: int


def preview_folder(root: Path, out_dir: Path | None = None) -> Path:
    """Where the preview goes, resolved: `out_dir` as given, or the project's `preview/`, which must not be a
    link out of the project (a cloned repository could make the preview overwrite and delete files elsewhere)."""
    return out_dir.resolve() if out_dir is not None else files.inside(root, root / "preview")


def preview(root: Path, manifests: list[Path] | None = None, out_dir: Path | None = None) -> tuple[Site, Report]:
    """Load the project and write (or update) its preview: `(site, report)`.

    When no input changed since the last preview into the same folder and nothing in that folder did either,
    the answer comes from that run's record (its warnings included), without reading a card.
    """
    from tierdeck.project.load import load
    from tierdeck.project.report import Report

    out = preview_folder(root, out_dir)
    names = tuple(str(p.resolve()) for p in manifests or ())
    record = Record(root, "preview", names, str(out), outputs=lambda: site_files(out))
    if (hit := record.get()) is not None:
        site, warnings = hit
        return site, Report(root, warnings=warnings, cached=())
    report = load(root, manifests)
    site = write_site(report, out)
    record.put(report, (site, report.warnings))
    return site, report


def site_files(out_dir: Path) -> list[Path]:
    """The files a preview in `out_dir` is made of: those beside its page (the page, index.js, media) and in its
    own folders; nothing deeper, as `-o` may name a folder holding other things."""
    found = []
    for folder in (out_dir, *(out_dir / name for name in ("assets", *DATA_FOLDERS))):
        try:
            found += [entry for entry in folder.iterdir() if entry.is_file()]
        except OSError:
            pass  # not written yet, or gone: its files are missing from the list
    return found


def write_site(report: Report, out_dir: Path, memo: dict[str, list[Chunk]] | None = None) -> Site:
    """Write or update the preview of `report` in `out_dir` (`memo`: chunks kept between runs by a watcher)."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise files.output_error(exc, out_dir) from exc
    for folder in ("assets", *DATA_FOLDERS):  # written and pruned: never through a link out of the preview
        files.inside(out_dir, out_dir / folder)
        files.sweep(out_dir / folder)  # what a killed run left half-written
    files.sweep(out_dir)
    per_deck = chunks(report, out_dir, memo)
    _copy_assets(out_dir)
    _copy_media(report, out_dir)
    data = index_data(report, per_deck)
    files.write_if_changed(out_dir / "index.js", f"tierdeck.index({script_data(data)});\n")
    _remove_stale(out_dir, {s for deck in per_deck for chunk in deck for s in chunk.scripts})
    page = out_dir / "index.html"
    files.write_if_changed(page, (resources.files("tierdeck") / "data" / "preview" / "index.html").read_text("utf-8"))
    return Site(page, data["version"], len(data["cards"]["chunk"]))


def index_data(report: Report, per_deck: list[list[Chunk]]) -> dict:
    """What index.js gives the page: the decks and facets, then every card's place in display order.

    Display order is deck, tier, card type, then file order. Cards are listed in `groups` of one deck, tier and
    type (`[deck, tier, type, count]`), and per card by `chunk` (its data scripts' number in `scripts`), `pos`
    (its place in them), `level` (evidence level number, -1 for none; empty when no card has one) and `tagset`
    (the number of its set of tags in `tagsets`, as a deck's cards share a few sets).
    """
    decks = [r.deck.manifest for r in report.decks]
    type_rank = {k: i for i, k in enumerate(dict.fromkeys([*TYPE_ORDER, *KINDS]))}
    entries = [e for deck in per_deck for chunk in deck for e in chunk.entries]
    types = sorted({e.card_type for e in entries}, key=type_rank.__getitem__)
    present_levels = {e.evidence for e in entries}
    levels = [level for level in EVIDENCE_LABELS if level in present_levels]
    tags = sorted({t for e in entries for t in e.tags})
    tag_at = _positions(tags)
    level_at = _positions(levels)
    warnings = _warnings(report)
    scripts: list[list[str]] = []
    groups: list[list[int]] = []
    columns: dict[str, list[int]] = {"chunk": [], "pos": [], "level": [], "tagset": []}
    tagsets: dict[tuple[str, ...], int] = {}
    shown_warnings: dict[str, list[str]] = {}
    for d, (manifest, deck) in enumerate(zip(decks, per_deck, strict=True)):
        # each chunk's positions by (tier, type): its part of each group, in file order
        parts: dict[tuple[str, str], list[tuple[int, Chunk, list[int]]]] = {}
        for chunk in deck:
            number = len(scripts)
            scripts.append(list(chunk.scripts))
            here: dict[tuple[str, str], list[int]] = {}
            for p, e in enumerate(chunk.entries):
                here.setdefault((e.tier, e.card_type), []).append(p)
            for key, positions in here.items():
                parts.setdefault(key, []).append((number, chunk, positions))
        for t, tier in enumerate(manifest.tiers):
            for k, card_type in enumerate(types):
                count = 0
                for number, chunk, positions in parts.get((tier.id, card_type), ()):
                    for p in positions:
                        e = chunk.entries[p]
                        found = warnings.get((chunk.file, e.card_index)) if warnings else None
                        if found:
                            shown_warnings[str(len(columns["chunk"]))] = found
                        columns["chunk"].append(number)
                        columns["pos"].append(p)
                        columns["level"].append(level_at.get(e.evidence, -1))
                        columns["tagset"].append(tagsets.setdefault(e.tags, len(tagsets)))
                    count += len(positions)
                if count:
                    groups.append([d, t, k, count])
    if not levels:
        columns["level"] = []
    data = {
        "title": ", ".join(m.name for m in decks) or "tierdeck",
        "decks": [
            {"id": m.id, "name": m.name, "version": m.version or "", "tiers": [[t.id, t.title] for t in m.tiers]}
            for m in decks
        ],
        "types": [[k, KINDS[k].title] for k in types],
        "levels": [[level, EVIDENCE_LABELS[level]] for level in levels],
        "tags": tags,
        "tagsets": [[tag_at[t] for t in tagset] for tagset in tagsets],
        "styles": {stylesheet_id(css): css for css in _stylesheets(report)},
        "scripts": scripts,
        "groups": groups,
        "cards": columns,
        "warnings": shown_warnings,
    }
    data["version"] = hashlib.sha256(script_data(data).encode()).hexdigest()[:16]
    return data


def _positions(values: list[str]) -> dict[str, int]:
    return {value: i for i, value in enumerate(values)}


def _stylesheets(report: Report) -> list[str]:
    """Each note type CSS the decks' notes use, once."""
    return list(dict.fromkeys({n.notetype.key: n.notetype.css for r in report.decks for n in r.notes}.values()))


def _warnings(report: Report) -> dict[tuple[Path, int], list[str]]:
    """Lint warnings by (card file, card index in it): a card's, shown on each of its Anki cards."""
    by_card: dict[tuple[Path, int], list[str]] = {}
    for d in report.warnings:
        if len(d.path) >= 2 and d.path[0] == "cards" and isinstance(d.path[1], int):
            by_card.setdefault((d.file, d.path[1]), []).append(d.render(report.root))
    for d, rule, why in report.ignored:  # shown too, so a reviewer sees what was waived and why
        if len(d.path) >= 2 and d.path[0] == "cards" and isinstance(d.path[1], int):
            by_card.setdefault((d.file, d.path[1]), []).append(f"lint '{rule}' ignored on purpose: {why}")
    return by_card


def _copy_assets(out_dir: Path) -> None:
    folder = resources.files("tierdeck") / "data" / "preview"
    for name in ASSETS:
        files.write_if_changed(out_dir / "assets" / name, (folder / name).read_text("utf-8"))
    # the flags' thresholds: the same file lint and the layout tests read
    targets = (resources.files("tierdeck") / "data" / "readability.json").read_text("utf-8")
    files.write_if_changed(out_dir / "assets" / "readability.js", f"window.tierdeckReadability = {targets.strip()};\n")


def _copy_media(report: Report, out_dir: Path) -> None:
    """Images and sounds beside the page under their packed names: fields name them so, as Anki's media folder."""
    media = {m.name: m for r in report.decks for n in r.notes for m in n.media}
    for item in media.values():
        files.write_if_changed(out_dir / item.name, item.path.read_bytes())


def _remove_stale(out_dir: Path, used: set[str]) -> None:
    for folder in DATA_FOLDERS:
        for path in (out_dir / folder).glob("*.js"):
            if f"{folder}/{path.name}" not in used:
                files.remove(path, out_dir / folder)
