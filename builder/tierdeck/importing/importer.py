"""`tierdeck import`: an Anki deck into a tierdeck project as one transaction. Never prints.

Read the file (`tierdeck.importing.read`), plan where every note lands (`plan.py`), write the result into
a staging folder next to the project, load it there with the same code a build runs, seed the deck's
lock file, and only then move the files into the project (`writer.py`). A problem with one note (a
shared GUID, a note that makes no card, a new card that would not build) leaves that note out with a
warning naming it and what to do in Anki; anything else (and, with `strict`, any such warning) raises
InputError (or OutputError) and leaves the project byte for byte as it was.

The seeded lock is what keeps students' history quiet: each imported note is recorded with the content
hash tierdeck computes for it, its Anki note id and its Anki modification time, and each note type with
its Anki modification time. The first build therefore gives every unchanged note the time the student's
copy already has, so Anki leaves it alone, and exactly the notes the author edits afterwards update.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tierdeck import files
from tierdeck.errors import Diagnostic, InputError, UsageError
from tierdeck.format.layout import NOTETYPES_DIR, discover
from tierdeck.format.yamlio import Locator
from tierdeck.importing.plan import DeckPlan, Located, Plan, Planner
from tierdeck.importing.sources import read
from tierdeck.importing.writer import Staging, check_reads_back, finish
from tierdeck.notes.notetypes import NoteTypes, project_notetypes
from tierdeck.portable.lock import Lock, schema_hash, stamp
from tierdeck.portable.safety import Limits
from tierdeck.project.load import load
from tierdeck.project.report import Report
from tierdeck.release.build import build_time


@dataclass
class ImportReport:
    """What an import did: per deck the notes new, updated, unchanged or kept, and what could not be carried."""

    source: Path
    root: Path
    format: str
    decks: list[DeckPlan]
    notetypes: list[str]  # keys of the note type files written or rewritten
    media: int  # media files written (new, or with new bytes)
    warnings: list[Diagnostic] = field(default_factory=list)


def import_deck(source: Path, dest: Path, limits: Limits = Limits(), strict: bool = False) -> ImportReport:
    """Write (or extend) the project in `dest` with the notes of the Anki package or text export `source`.

    A note that cannot be carried over is left out with a warning saying what to do in Anki; with
    `strict`, any warning refuses the whole import instead."""
    if dest.exists() and not dest.is_dir():
        raise UsageError(f"{dest} is a file; name the project folder to write into with -o")
    deck = read(source, limits)
    dest = dest.resolve()
    finish(dest)  # an import killed while moving its files in: its moves first
    report, notetypes = _current(dest)
    plan = Planner(deck, dest, report, notetypes).run()
    if plan.errors:
        raise InputError([*plan.errors, *deck.warnings])
    if strict and (deck.warnings or plan.warnings):
        found = [*deck.warnings, *(w for w in plan.warnings if isinstance(w, Diagnostic))]
        located = [Diagnostic(source, w.message) for w in plan.warnings if isinstance(w, Located)]
        raise InputError(
            [
                *(Diagnostic(d.file, d.message, d.line, d.path) for d in found),
                *located,
                Diagnostic(source, "--strict: the import was refused for the problems above, and nothing was written"),
            ]
        )
    now = build_time()
    for attempt in (1, 2):
        staging = Staging(dest)
        try:
            staging.copy_in(_project_paths(dest, report, plan))
            for rel, content in plan.files.items():
                data = content.encode("utf-8") if isinstance(content, str) else content
                if not (dest / rel).is_file() or (dest / rel).read_bytes() != data:  # an unchanged file stays untouched
                    staging.write(rel, data)
            for rel, card_file in plan.card_files.items():
                check_reads_back(staging.root / rel, card_file)
            try:
                built = load(staging.root, cache=False, lint=False)
            except InputError as exc:
                if attempt == 1 and not strict and _leave_out(plan, exc.diagnostics, staging.root, source):
                    continue  # once more without the notes whose cards would not build
                raise InputError(_would_not_build(exc.diagnostics, staging.root, dest, source)) from None
            _seed_locks(built, plan, staging, now)
            warnings = [*deck.warnings, *_located(plan, staging.root, dest)]
            for folder in {(dest / rel).parent for rel in staging.written}:  # a cloned repository may carry links
                files.inside(dest, folder, option=None)
            staging.commit()
            break
        finally:
            staging.close()
    return ImportReport(
        source,
        dest,
        deck.format,
        [d for d in plan.decks.values() if d.created or d.counts.total()],
        [key for key in plan.notetypes_written if f"{NOTETYPES_DIR}/{key}.yaml" in staging.written],
        len(plan.media_written & staging.written),
        warnings,
    )


def _current(dest: Path) -> tuple[Report | None, NoteTypes]:
    """The project already in `dest` (None when it has no deck yet) and its note types; it must be free of errors."""
    if (dest / "decks").is_dir() and discover(dest):
        try:
            report = load(dest, cache=False)
        except InputError as exc:
            raise InputError(
                [
                    *exc.diagnostics,
                    Diagnostic(
                        dest / "decks",
                        "the project this import would extend has the errors above; fix them first ('tierdeck check')",
                    ),
                ]
            ) from None
        assert report.notetypes is not None
        return report, report.notetypes
    notetypes, problems = project_notetypes(dest)
    errors = [d for d in problems if d.level == "error"]
    if errors:
        raise InputError([Locator().resolve(d) for d in errors])
    return None, notetypes


def _project_paths(dest: Path, report: Report | None, plan: Plan) -> list[str]:
    """What of the project the staging folder needs besides the import's files: decks, note types, card folders."""
    paths = ["decks", NOTETYPES_DIR, *(d.card_folder for d in plan.decks.values())]
    for result in report.all_decks if report is not None else []:
        for entry in result.deck.manifest.cards:
            target = (dest / entry).resolve()
            if target.is_relative_to(dest) and target != dest:
                paths.append(target.relative_to(dest).as_posix())
    return list(dict.fromkeys(paths))


def _leave_out(plan: Plan, problems: list[Diagnostic], staged: Path, source: Path) -> bool:
    """Take back the cards of `plan` these load errors are about (a new one left out, an updated one kept as it
    was); False if any error is about something else."""
    failing: dict[str, dict[int, str]] = {}
    for problem in problems:
        if problem.level != "error":
            continue
        try:
            rel = problem.file.resolve().relative_to(staged.resolve()).as_posix()
        except ValueError:
            return False
        at = problem.path[1] if len(problem.path) > 1 and problem.path[0] == "cards" else None
        if not isinstance(at, int) or ((rel, at) not in plan.new_cards and (rel, at) not in plan.updated_cards):
            return False  # not one imported card's own problem (a file, a note type, the author's card): stop
        failing.setdefault(rel, {}).setdefault(at, problem.message.partition(": ")[2] or problem.message)
    for rel, found in failing.items():
        for index in sorted(found, reverse=True):
            if (rel, index) in plan.updated_cards:
                plan.keep_old(rel, index, found[index], source)
            else:
                plan.leave_out(rel, index, found[index], source)
    return bool(failing)


def _would_not_build(problems: list[Diagnostic], staged: Path, dest: Path, source: Path) -> list[Diagnostic]:
    """A load's problems as the author would see them in `dest`, and why nothing was written."""
    out = []
    for problem in problems:
        try:
            file = dest / problem.file.resolve().relative_to(staged.resolve())
        except ValueError:
            file = problem.file
        out.append(Diagnostic(file, problem.message, problem.line, problem.path, problem.level, problem.at_key))
    out.append(
        Diagnostic(
            source,
            "the cards these notes make would not build (see above), so nothing was written; change those notes in Anki "
            "and export again (or report it as a bug in tierdeck if the notes are fine in Anki)",
        )
    )
    return out


def _seed_locks(built: Report, plan: Plan, staging: Staging, now: int) -> None:
    """Each deck's lock file, recording every imported note with its Anki time and id, as a build would write it."""
    results = {r.deck.manifest.id: r for r in built.all_decks}
    for deck in plan.decks.values():
        if not (deck.created or deck.seeds or deck.counts["updated"]):
            continue  # a deck the import did not change keeps its lock file as its last build wrote it
        result = results[deck.id]
        old = result.identity.lock
        seed = Lock(old.deck, old.namespace, dict(old.notes), dict(old.notetypes))
        notes = {n.key: n for n in result.notes}
        taken = {e["nid"] for e in old.notes.values() if isinstance(e.get("nid"), int)}
        for card_id, (_, mtime, nid) in deck.seeds.items():
            note = notes.get(card_id)
            if note is None or card_id in old.notes:
                continue
            entry = {
                "card": note.card_id,
                "guid": note.guid,
                "hash": note.content_hash,
                "mtime": mtime if mtime is not None else now,
                "tier": note.tier,
                "type": note.notetype.key,
            }
            if nid is not None and nid not in taken:  # Anki's own id; two collections could share one
                entry["nid"] = nid
                taken.add(nid)
            seed.notes[card_id] = entry
        for notetype in {n.notetype.key: n.notetype for n in result.notes}.values():
            if notetype.key in plan.notetype_mtimes and notetype.key not in seed.notetypes:
                mtime = plan.notetype_mtimes[notetype.key]
                seed.notetypes[notetype.key] = {
                    "content": notetype.content_hash,
                    "fields": list(notetype.fields),
                    "model_id": notetype.model_id,
                    "mtime": mtime if mtime is not None else now,
                    "schema": schema_hash(notetype),
                    "templates": [t.name for t in notetype.templates],
                    "version": notetype.version,
                }
        lock_path = result.identity.lock_path
        staging.write(lock_path.relative_to(staging.root.resolve()).as_posix(), stamp(seed, result.notes, now).lock.dumps())


def _located(plan: Plan, staged: Path, dest: Path) -> list[Diagnostic]:
    """The plan's warnings at `file:line` in the project (lines read from the staged files)."""
    locator = Locator()
    out = []
    for warning in plan.warnings:
        if isinstance(warning, Located):
            found = locator.resolve(Diagnostic(staged / warning.file, warning.message, path=warning.path, level="warning"))
            out.append(Diagnostic(dest / warning.file, found.message, found.line, found.path, "warning"))
        else:
            out.append(warning)
    return sorted(out, key=lambda d: (str(d.file), d.line or 0))
