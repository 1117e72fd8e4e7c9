"""The core: validate a project, turn its cards into notes, write one `.apkg` per deck. Never prints.

`check` and `build` return a Report (`tierdeck.project.report`) or raise InputError carrying every problem
found, each located at `file:line`. The command line is a thin layer over these two functions.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from tierdeck import __version__, files
from tierdeck.cache import remembered_digests
from tierdeck.errors import Diagnostic, InputError, UsageError, relative
from tierdeck.format.layout import manifest_paths, project_root
from tierdeck.portable import release
from tierdeck.project.record import Record
from tierdeck.project.report import DeckResult, DeckSummary, Output, Report
from tierdeck.workers import gc_paused

if TYPE_CHECKING:
    from tierdeck.release.apkg import DeckLayout

# What reads, validates, renders and writes (pydantic, the card kinds, markdown, genanki) is imported inside
# the functions that use it: a check or build whose inputs did not change answers from its record without it.


@remembered_digests()
def check(root: Path | None = None, manifests: list[Path] | None = None, strict: bool = False) -> Report:
    """Validate without writing anything; with `strict`, lint warnings are errors too.

    A check of inputs identical to the last successful one answers from its record (`tierdeck.record`).
    """
    root = project_root(root, manifests)
    record = Record(root, "check", _names(root, manifests), strict)
    if (hit := record.get()) is not None:
        return Report(root, warnings=hit[1], cached=hit[0])
    from tierdeck.format import yamlio
    from tierdeck.project.load import load

    report = load(root, manifests)
    problems = list(report.warnings)
    if strict:
        locator = yamlio.Locator()
        problems += [locator.resolve(d) for d in _missing_evidence(report)]
    if strict and problems:
        raise InputError([replace(d, level="error") for d in problems])
    record.put(report, (tuple(report.summaries), report.warnings))
    return report


def check_tag(root: Path | None, manifests: list[Path] | None, tag: str) -> list[str]:
    """The release tag (`v1.2.0` or `1.2.0`) is the `version:` of every deck: their ids, else InputError.

    CI runs it on a tag before publishing, so a release called v1.2.0 never ships decks saying "Version 1.1.0".
    """
    from tierdeck.format import yamlio
    from tierdeck.notes.loader import read_manifest

    root = project_root(root, manifests)
    wanted = tag[1:] if tag[:1] in ("v", "V") and tag[1:2].isdigit() else tag
    problems, ids = [], []
    for path in manifest_paths(root, manifests):
        manifest, found = read_manifest(path)
        problems += found
        if manifest is None:
            continue
        ids.append(manifest.id)
        if manifest.version == wanted:
            continue
        fix = (
            f"set 'version: {wanted}' here and commit it, then move the tag onto that commit "
            f"(git tag -f {tag} && git push -f origin {tag})"
        )
        if manifest.version is None:
            problems.append(Diagnostic(path, f"the release tag is {tag} but this manifest has no version; {fix}", line=1))
        else:
            problems.append(
                Diagnostic(
                    path,
                    f"version: is {manifest.version} but the release tag is {tag}; {fix}, or tag "
                    f"v{manifest.version} if that is the release you meant",
                    path=("version",),
                )
            )
    if problems:
        locator = yamlio.Locator()
        raise InputError([locator.resolve(d) for d in problems])
    return ids


def _missing_evidence(report: Report) -> list[Diagnostic]:
    """With `--strict`, every card of a deck whose manifest sets `require_evidence` needs an evidence level."""
    problems = []
    for result in report.decks:
        if not result.deck.manifest.require_evidence:
            continue
        seen: set[tuple] = set()
        for note in result.notes:
            card_path = note.path[:2]
            if note.evidence is None and (note.file, card_path) not in seen:
                seen.add((note.file, card_path))
                problems.append(
                    Diagnostic(
                        note.file,
                        f"cards[{card_path[1]}]: card '{note.card_id}' has no evidence level, which this deck "
                        f"requires ({relative(result.deck.manifest_path, report.root)}: require_evidence); add "
                        "'evidence: {level: established}' or another level with a note, or a default at the top "
                        "of the file",
                        path=card_path,
                        level="warning",
                    )
                )
    return problems


def _names(root: Path, manifests: list[Path] | None) -> tuple[str, ...]:
    """The named manifests as a record's option (none: every manifest)."""
    return tuple(str(p.resolve()) for p in manifests or ())


def build_time() -> int:
    """The time stamped on what changed in this build: SOURCE_DATE_EPOCH when set, else now."""
    value = os.environ.get("SOURCE_DATE_EPOCH")
    if value is None:
        return int(time.time())
    try:
        return int(value)
    except ValueError:
        raise UsageError(f"SOURCE_DATE_EPOCH must be a whole number of seconds, got '{value}'") from None


def layout_of(result: DeckResult, tier: str | None = None) -> DeckLayout:
    """The Anki deck tree of a deck (only one tier's subdeck with `tier`)."""
    from tierdeck.notes.render import safe_markdown as markdown  # the description is shown as HTML: sanitised
    from tierdeck.release.apkg import DeckLayout

    manifest = result.deck.manifest
    parts = []
    if manifest.description:
        parts.append(markdown(manifest.description))
    if manifest.version:
        parts.append(f"<p>Version {markdown(manifest.version)}</p>")
    tiers = tuple((t.id, t.title) for t in manifest.tiers if tier is None or t.id == tier)
    return DeckLayout(result.identity.namespace, manifest.name, "\n".join(parts), tiers)


@gc_paused()
@remembered_digests()
def build(
    root: Path | None = None,
    manifests: list[Path] | None = None,
    out_dir: Path | None = None,
    tiers: tuple[str, ...] = (),
    locked: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Validate, then write `<deck id>.apkg` per deck into `out_dir` (default `<root>/dist`).

    Unchanged notes keep the time recorded in the deck's lock file; changed and new ones get the build
    time. The lock file is updated, unless `locked`, where a lock that would change is an error
    (nothing is written then). With `tiers`, each deck's package of each of those tiers is written as
    `<deck id>.<tier id>.apkg`, and lock files are left alone. `progress(done, total)` is called with
    the notes written so far, before the first package and after each one.
    """
    root = project_root(root, manifests)
    if out_dir is None:  # the project's own dist/: never through a link out of the project
        out_dir = files.inside(root, root / "dist")
    out_dir = out_dir.resolve()
    tiers = tuple(dict.fromkeys(tiers))
    record = Record(root, "build", _names(root, manifests), str(out_dir), tiers)
    if (hit := record.get()) is not None and _outputs_intact(hit[0], out_dir):
        return Report(root, warnings=hit[1], cached=hit[0])
    from tierdeck.portable.lock import stamp
    from tierdeck.project.load import load

    report = load(root, manifests, lint=False)  # lint is check's: a build stops only for errors
    for result in report.decks:
        ids = [t.id for t in result.deck.manifest.tiers]
        unknown = [t for t in tiers if t not in ids]
        if unknown:
            raise UsageError(
                f"deck '{result.deck.manifest.id}' has no tier '{unknown[0]}'; its tiers are {', '.join(ids)}"
            )
        result.tiers = tiers
    now = build_time()
    stale = []
    for result in report.decks:
        result.stamps = stamp(result.identity.lock, result.notes, now)
        if locked and result.stamps.lock.dumps() != _read_or_empty(result.identity.lock_path):
            stale.append(_stale_lock(result))
    if stale:
        raise InputError(stale)
    _write_packages(report, out_dir, tiers, locked, progress)
    # a rerun of these inputs finds the lock file this build wrote: nothing changed, moved or renamed since it
    unchanged = tuple(
        replace(s, changes=tuple((word, 0, 0) for word, *_ in s.changes), moved=(), renamed_from=None, moved_in=())
        for s in report.summaries
    )
    record.put(report, (unchanged, report.warnings))
    return report


def _write_packages(
    report: Report, out_dir: Path, tiers: tuple[str, ...], locked: bool, progress: Callable[[int, int], None] | None
) -> None:
    """Each deck's package(s), its lock file (unless `locked` or `tiers`) and dist/manifest.json, put in place
    together once every one is written whole: a full disk or a read-only decks/ changes none of them."""
    from tierdeck.format.layout import shipped_folders
    from tierdeck.notes.media import shipped_files
    from tierdeck.release.apkg import Times, write_apkg

    total = sum(1 for r in report.decks for n in r.notes if not tiers or n.tier in tiers)
    done = 0
    if progress:
        progress(done, total)
    kept = "packages and lock files already there were left as they were"
    for folder in {r.identity.lock_path.parent for r in report.decks}:
        files.sweep(folder)  # a lock file staged by a killed build (dist/ is swept as each package is written)
    with files.Replacement() as replacement:
        for result in report.decks:
            stamps = result.stamps
            assert stamps is not None  # build() stamps every deck before writing
            times = Times(stamps.timestamp, stamps.note_mtimes, stamps.note_ids, stamps.notetype_mtimes)
            for tier in tiers or (None,):
                notes = [n for n in result.notes if tier is None or n.tier == tier]
                name = result.deck.manifest.id + (f".{tier}" if tier else "")
                path = out_dir / f"{name}.apkg"
                shipped = shipped_files(shipped_folders(result.deck.root, result.deck.manifest.media))
                try:
                    media = [*shipped, *(m for n in notes for m in n.media)]
                    staged = write_apkg(path, layout_of(result, tier), notes, times, media)
                    replacement.adopt(staged, path)
                    data = staged.read_bytes()
                    digest = hashlib.sha256(data).hexdigest()
                except OSError as exc:
                    raise files.output_error(exc, path, kept) from exc
                result.outputs.append(Output(path, digest, tier, len(data)))
                done += len(notes)
                if progress:
                    progress(done, total)
            if not tiers and not locked:
                replacement.write(result.identity.lock_path, stamps.lock.dumps())
        replacement.write(out_dir / "manifest.json", release_manifest(out_dir, report.decks, report.root))
        replacement.commit()
    for result in report.decks:
        old = result.identity.read_from
        if not tiers and not locked and old is not None and old != result.identity.lock_path:
            files.remove(old, old.parent)  # the renamed deck's lock now lives under its new id


def _outputs_intact(summaries: tuple[DeckSummary, ...], out_dir: Path) -> bool:
    """Every package a remembered build wrote is still there, byte for byte, with its manifest.json."""
    if not (out_dir / "manifest.json").is_file():
        return False
    for summary in summaries:
        for output in summary.outputs:
            if not output.path.is_file() or hashlib.sha256(output.path.read_bytes()).hexdigest() != output.sha256:
                return False
    return True


def _read_or_empty(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""


def _stale_lock(result: DeckResult) -> Diagnostic:
    stamps = result.stamps
    assert stamps is not None
    counts = [
        f"{len(stamps.added)} added",
        f"{len(stamps.changed)} changed",
        f"{len(stamps.removed)} removed",
        f"{len(stamps.notetypes_changed)} note types changed",
    ]
    if result.identity.read_from is None:
        name = result.identity.lock_path.name
        return Diagnostic(
            result.identity.lock_path,
            f"there is no lock file yet, and --locked builds only what a lock file records; run 'tierdeck build' "
            f"without --locked and commit decks/{name} with the cards",
            line=None,
        )
    renamed = result.identity.renamed_from
    what = f"the deck was renamed from '{renamed}'" if renamed else f"{', '.join(counts)} since it was written"
    return Diagnostic(
        result.identity.read_from if renamed and result.identity.read_from else result.identity.lock_path,
        f"the lock file is out of date ({what}); run 'tierdeck build' without --locked and commit the updated "
        "lock file",
        line=1,
    )


def _sources(notes: list, root: Path) -> dict[str, str]:
    """`file:line` of each card, by card id, for students' reports (only decks that say where issues go)."""
    from tierdeck.format import yamlio

    locator = yamlio.Locator()
    out: dict[str, str] = {}
    for note in notes:
        if note.card_id not in out:
            line = locator.line(note.file, (*note.path[:2], "id"), at_key=True)
            out[note.card_id] = f"{relative(note.file, root)}:{line}" if line else relative(note.file, root)
    return out


def release_manifest(out_dir: Path, decks: list[DeckResult], report_root: Path) -> str:
    """The text of `dist/manifest.json` (`tierdeck.portable.release`): per package its deck, file, sha256, size,
    counts per tier, note types and whether students must merge them.

    Entries of other packages already in the file are kept while their package still exists.
    """
    try:
        kept = [p for p in release.read(out_dir).packages if (out_dir / p.file).exists()]
    except release.ManifestError:  # none yet, or an older format: rewritten from this build
        kept = []
    packages = {p.file: p for p in kept}
    for result in decks:
        manifest = result.deck.manifest
        titles = {t.id: t.title for t in manifest.tiers}
        for output in result.outputs:
            notes = [n for n in result.notes if output.tier in (None, n.tier)]
            note_counts = Counter(n.tier for n in notes)
            cards = {t: c for t, c in result.cards_per_tier.items() if output.tier in (None, t)}
            notetypes = {n.notetype.key: n.notetype for n in notes}
            packages[output.path.name] = release.Package(
                id=manifest.id,
                name=manifest.name,
                version=manifest.version,
                namespace=result.identity.namespace,
                file=output.path.name,
                sha256=output.sha256,
                size=output.size,
                tier=output.tier,
                notes=len(notes),
                cards=sum(cards.values()),
                tiers={t: release.TierCounts(titles[t], note_counts[t], cards[t]) for t in cards},
                notetypes=tuple(
                    release.NoteTypeInfo(nt.name, nt.model_id, nt.version)
                    for nt in sorted(notetypes.values(), key=lambda nt: nt.name)
                ),
                merge_notetypes=any(nt.version > 1 for nt in notetypes.values()),
                issues=manifest.issues,
                sources=_sources(notes, report_root) if manifest.issues else None,
            )
    return release.dumps(release.Release(tuple(packages[k] for k in sorted(packages)), __version__))
