"""Bringing a release into a student's collection, headless: plan what it changes, then apply it in one step.

Anki's own importer does the import (`Collection.import_anki_package`), with "merge note types" when the
release or the student's collection needs it. Anki updates a note only when the incoming one is newer than
the student's copy, and then replaces every field, so around it this module:

- makes every note *the release changed* show the instructor's version, even when the student edited it
  after the previous release (a corrected dose must arrive), except the fields the student protects and the
  student's own tags;
- keeps protected fields on every note Anki overwrote;
- suspends and tags `tierdeck::removed` the notes the release no longer has (or deletes them, if the student
  chose so), and suspends the tiers the student does not follow (tagged `tierdeck::unfollowed`);
- never touches scheduling, review history, flags, other suspensions or the student's own notes.

Which notes the release changed is known from the package alone: tierdeck keeps an unchanged note's
modification time from release to release, so a note newer than the last release applied here changed. The
add-on records, per deck namespace, in the collection's config (it syncs with the collection): the version
and newest note time applied, the GUIDs it holds and the tags the instructor used.

Everything runs as one undo step; if anything fails after the import started, it is undone, so an update
either happens whole or not at all.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from tierdeck.errors import InputError
from tierdeck.portable import release
from tierdeck.portable.apkg import read_package
from tierdeck.portable.safety import Limits

from . import fetch
from .config import Settings

if TYPE_CHECKING:
    from anki.cards import CardId
    from anki.collection import Collection
    from anki.notes import NoteId

STATE_KEY = "tierdeck_addon:{namespace}"
REMOVED_TAG = "tierdeck::removed"
UNFOLLOWED_TAG = "tierdeck::unfollowed"
OWNED_PREFIXES = ("tier::", "type::", "evidence::")  # tags tierdeck derives: always the instructor's
SUMMARY_CHARS = 80


class UpdateError(Exception):
    """An update that could not be applied; the collection is as it was."""


@dataclass(frozen=True)
class FieldChange:
    name: str
    before: str  # the student's current text (plain)
    after: str  # the release's text (plain)


@dataclass(frozen=True)
class NoteChange:
    """One note in the preview: its GUID, tier, how it is named, and for a changed note what changes."""

    guid: str
    tier: str
    summary: str
    fields: tuple[FieldChange, ...] = ()
    evidence: tuple[str | None, str | None] | None = None  # (before, after) when the evidence level changes


@dataclass
class Plan:
    """What applying a package will do, computed before anything is changed."""

    package: release.Package
    apkg: Path
    tiers: tuple[str, ...] | None  # followed tiers (None: all)
    previous_version: str | None
    added: list[NoteChange] = field(default_factory=list)
    changed: list[NoteChange] = field(default_factory=list)
    removed: list[NoteChange] = field(default_factory=list)
    notetypes_changed: list[str] = field(default_factory=list)  # names of note types whose notes change type
    merge_notetypes: bool = False
    # internal: GUIDs whose fields the release sets, and those whose protected fields must be restored
    _release_changed: set[str] = field(default_factory=set, repr=False)
    _snapshots: dict[str, tuple[dict[str, str], list[str]]] = field(default_factory=dict, repr=False)
    _incoming: dict = field(default_factory=dict, repr=False)
    _state: dict | None = field(default=None, repr=False)

    @property
    def empty(self) -> bool:
        """Nothing a student would see changes."""
        return not (self.added or self.changed or self.removed or self.notetypes_changed)

    def per_tier(self) -> dict[str, dict[str, int]]:
        """Counts of added, changed and removed notes per tier, in the package's tier order."""
        out = {t: {"added": 0, "changed": 0, "removed": 0} for t in self.package.tiers}
        for what, items in (("added", self.added), ("changed", self.changed), ("removed", self.removed)):
            for change in items:
                out.setdefault(change.tier, {"added": 0, "changed": 0, "removed": 0})[what] += 1
        return out


@dataclass(frozen=True)
class Outcome:
    """What an applied update did."""

    deck: str
    version: str | None
    previous_version: str | None
    added: int
    changed: int
    protected_kept: int  # notes on which a protected field kept the student's text against the release
    removed: int
    unfollowed: int  # notes newly suspended because their tier is not followed
    merged_notetypes: bool
    changes: object = field(default=None, compare=False, repr=False)  # Anki's OpChanges, for the GUI to refresh

    def summary(self) -> str:
        """One line for the student."""
        version = self.version or "(no version)"
        if self.previous_version and self.previous_version != self.version:
            version = f"{self.previous_version} → {version}"
        parts = [f"{self.added} added", f"{self.changed} changed"]
        if self.protected_kept:
            parts.append(f"your text kept in the protected fields of {self.protected_kept}")
        parts.append(f"{self.removed} removed")
        if self.unfollowed:
            parts.append(f"{self.unfollowed} suspended (tier not followed)")
        return f"{self.deck} {version}: {', '.join(parts)}"


# --- reading --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Incoming:
    fields: dict[str, str]  # by field name
    tags: tuple[str, ...]
    mtime: int
    notetype: str  # its note type's name
    notetype_id: int
    tier: str


def _read_incoming(apkg: Path) -> dict[str, _Incoming]:
    try:
        deck = read_package(apkg, Limits())
    except InputError as exc:
        raise UpdateError(f"{apkg.name} cannot be read ({exc}); nothing was changed") from None
    out = {}
    for note in deck.notes:
        notetype = deck.notetypes[note.notetype]
        tier = next((t[6:] for t in note.tags if t.startswith("tier::")), note.deck.split("::", 1)[-1])
        out[str(note.guid)] = _Incoming(
            dict(zip(notetype.fields, note.fields)),
            note.tags,
            int(note.mtime or 0),
            notetype.name,
            int(note.notetype),
            tier,
        )
    return out


def _plain(text: str) -> str:
    """What a student reads of a field's HTML: no tags, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())


def _short(text: str) -> str:
    return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 1].rstrip() + "…"


def _evidence(tags) -> str | None:
    return next((t[10:] for t in tags if t.startswith("evidence::")), None)


def _summary(fields: dict[str, str]) -> str:
    return _short(next((_plain(v) for k, v in fields.items() if k != "CardId" and _plain(v)), ""))


def state_of(col: Collection, namespace: str) -> dict | None:
    """What the add-on recorded when it last applied this deck (None: never)."""
    return col.get_config(STATE_KEY.format(namespace=namespace), None)


# --- planning ---------------------------------------------------------------------------------------------


def plan(
    col: Collection, package: release.Package, apkg: Path, settings: Settings, tiers: tuple[str, ...] | None = None
) -> Plan:
    """What applying `apkg` (already checked against `package`) would change; changes nothing."""
    incoming = _read_incoming(apkg)
    state = state_of(col, package.namespace)
    since = state.get("timestamp") if state else None
    result = Plan(package, apkg, tiers, state.get("version") if state else None, _incoming=incoming, _state=state)
    result.merge_notetypes = package.merge_notetypes
    names_of: dict[int, list[str]] = {}
    mt_names: dict[int, str] = {}
    for nt in col.models.all():
        names_of[int(nt["id"])] = [f["name"] for f in nt["flds"]]
        mt_names[int(nt["id"])] = nt["name"]
    existing = {
        guid: (nid, mid, mod, flds, tags)
        for nid, guid, mid, mod, flds, tags in _rows(col, "select id, guid, mid, mod, flds, tags from notes")
    }
    changing_types: set[str] = set()
    for guid, new in incoming.items():
        old = existing.get(guid)
        if old is None:
            result.added.append(NoteChange(guid, new.tier, _summary(new.fields)))
            continue
        nid, mid, mod, flds, tags = old
        fields = dict(zip(names_of.get(mid, []), flds.split("\x1f")))
        tag_list = tags.split()
        if mid != new.notetype_id:
            changing_types.add(new.notetype)
        by_release = new.mtime > since if since is not None else new.mtime > mod
        if by_release or new.mtime > mod:
            result._snapshots[guid] = (fields, tag_list)
        if not by_release:
            continue
        result._release_changed.add(guid)
        protected = settings.protected(new.notetype) | settings.protected(mt_names.get(mid, ""))
        diffs = tuple(
            FieldChange(name, _plain(fields.get(name, "")), _plain(value))
            for name, value in new.fields.items()
            if name not in protected and fields.get(name, "") != value
        )
        before, after = _evidence(tag_list), _evidence(new.tags)
        evidence = (before, after) if before != after else None
        if diffs or evidence:
            result.changed.append(NoteChange(guid, new.tier, _summary(new.fields), diffs, evidence))
    for guid in (state or {}).get("guids", []):
        old = existing.get(guid)
        if guid in incoming or old is None or REMOVED_TAG in old[4].split():
            continue
        fields = dict(zip(names_of.get(old[1], []), old[3].split("\x1f")))
        tier = next((t[6:] for t in old[4].split() if t.startswith("tier::")), "")
        result.removed.append(NoteChange(guid, tier, _summary(fields)))
    result.notetypes_changed = sorted(changing_types)
    result.merge_notetypes = result.merge_notetypes or bool(changing_types)
    return result


# --- applying ---------------------------------------------------------------------------------------------


def apply(col: Collection, plan: Plan, settings: Settings) -> Outcome:
    """Apply a plan as one undo step; on any failure after the import began, undo it and raise UpdateError."""
    # Anki 23.10 has these only in import_export_pb2 (anki.collection re-exports them in newer versions)
    from anki.import_export_pb2 import ImportAnkiPackageOptions, ImportAnkiPackageRequest

    package = plan.package
    checkpoint = col.add_custom_undo_entry(f"Update {package.name}")
    try:
        options = ImportAnkiPackageOptions(merge_notetypes=plan.merge_notetypes, with_scheduling=False)
        log = col.import_anki_package(ImportAnkiPackageRequest(package_path=str(plan.apkg), options=options)).log
        if hasattr(col.models, "_clear_cache"):  # the import changed note types behind the Python cache
            col.models._clear_cache()
        outcome = _after_import(col, plan, settings, len(log.new))
        outcome = replace(outcome, changes=col.merge_undo_entries(checkpoint))
    except Exception as exc:
        try:
            col.merge_undo_entries(checkpoint)
            col.undo()
        except Exception:  # noqa: BLE001 - report the first failure, which is the one that matters
            pass
        if isinstance(exc, UpdateError):
            raise
        raise UpdateError(
            f"{package.file} could not be applied ({exc}); it was undone and nothing was changed"
        ) from exc
    return outcome


def _after_import(col: Collection, plan: Plan, settings: Settings, added: int) -> Outcome:
    incoming, state = plan._incoming, plan._state
    old_instructor_tags = set((state or {}).get("tags", []))
    nids = cast("dict[str, NoteId]", dict(_rows(col, "select guid, id from notes")))
    updates = []
    protected_kept = 0
    for guid, (snapshot, old_tags) in plan._snapshots.items():
        new = incoming[guid]
        note = col.get_note(nids[guid])
        notetype = note.note_type() or {}
        protected = settings.protected(notetype.get("name", "")) | settings.protected(new.notetype)
        before = (list(note.fields), list(note.tags))
        kept = False
        for name in note.keys():
            if name in protected:
                if name in snapshot:
                    note[name] = snapshot[name]
                    kept = kept or snapshot[name] != new.fields.get(name, "")
            elif guid in plan._release_changed and name in new.fields:
                note[name] = new.fields[name]
        if guid in plan._release_changed:
            own = [t for t in old_tags if not t.startswith(OWNED_PREFIXES) and t not in old_instructor_tags]
            note.tags = list(dict.fromkeys([*new.tags, *own]))
        protected_kept += kept
        if (list(note.fields), list(note.tags)) != before:
            updates.append(note)
    if updates:
        col.update_notes(updates)
    removed_nids = [nids[c.guid] for c in plan.removed if c.guid in nids]
    if removed_nids:
        if settings.removed_cards == "delete":
            col.remove_notes(removed_nids)
        else:
            col.sched.suspend_cards(_cards_of(col, removed_nids))
            col.tags.bulk_add(removed_nids, REMOVED_TAG)
    _restore_returned(col, plan, nids)
    unfollowed = _follow_tiers(col, plan, nids)
    col.set_config(
        STATE_KEY.format(namespace=plan.package.namespace),
        {
            "deck": plan.package.id,
            "name": plan.package.name,
            "version": plan.package.version,
            "issues": plan.package.issues,
            "sources": plan.package.sources,
            "sha256": plan.package.sha256,
            "timestamp": max((n.mtime for n in incoming.values()), default=0),
            "tiers": list(plan.tiers) if plan.tiers is not None else None,
            "guids": sorted(incoming),
            "tags": sorted({t for n in incoming.values() for t in n.tags}),
        },
        undoable=True,
    )
    return Outcome(
        plan.package.name,
        plan.package.version,
        plan.previous_version,
        added,
        len(plan._release_changed),
        protected_kept,
        len(removed_nids),
        unfollowed,
        plan.merge_notetypes,
    )


def _rows(col: Collection, sql: str) -> list[Any]:
    """The rows a query on the (open) collection returns."""
    assert col.db is not None, "the collection is closed"
    return col.db.all(sql)


def _cards_of(col: Collection, nids: list[NoteId]) -> list[CardId]:
    return [cid for nid in nids for cid in col.card_ids_of_note(nid)]


def _restore_returned(col: Collection, plan: Plan, nids: dict[str, NoteId]) -> None:
    """A note an earlier release removed and this one has again: lift what the removal did."""
    tagged = set(col.find_notes(f'"tag:{REMOVED_TAG}"'))
    back = [nids[g] for g in plan._incoming if g in nids and nids[g] in tagged]
    if back:
        col.sched.unsuspend_cards(_cards_of(col, back))
        col.tags.bulk_remove(back, REMOVED_TAG)


def _follow_tiers(col: Collection, plan: Plan, nids: dict[str, NoteId]) -> int:
    """Suspend the notes of tiers not followed (tagged, so following the tier again lifts exactly those)."""
    if plan.tiers is None:
        followed_again = [nids[g] for g in plan._incoming if g in nids]
        to_suspend: list[NoteId] = []
    else:
        followed_again = [nids[g] for g, n in plan._incoming.items() if g in nids and n.tier in plan.tiers]
        to_suspend = [nids[g] for g, n in plan._incoming.items() if g in nids and n.tier not in plan.tiers]
    tagged = set(col.find_notes(f'"tag:{UNFOLLOWED_TAG}"'))
    lift = [nid for nid in followed_again if nid in tagged]
    if lift:
        col.sched.unsuspend_cards(_cards_of(col, lift))
        col.tags.bulk_remove(lift, UNFOLLOWED_TAG)
    suspend = [nid for nid in to_suspend if nid not in tagged]
    if suspend:
        col.sched.suspend_cards(_cards_of(col, suspend))
        col.tags.bulk_add(suspend, UNFOLLOWED_TAG)
    return len(suspend)


# --- following subscriptions -----------------------------------------------------------------------------


@dataclass
class Pending:
    """One followed deck after a check: a plan to show and apply, up to date (no plan), or an error."""

    url: str
    package: release.Package | None = None
    plan: Plan | None = None
    error: str | None = None


def check(col: Collection, settings: Settings, downloads: Path) -> list[Pending]:
    """Every subscription's release, downloaded into `downloads` and planned when it is not applied yet.

    Reads the collection and never changes it: safe to run in the background."""
    results = []
    for sub in settings.subscriptions:
        try:
            rel, at = fetch.read_manifest(sub.url)
            whole = [p for p in rel.packages if p.tier is None]
            if not whole:
                raise UpdateError(f"{at} lists no whole-deck package; nothing was changed")
            for package in whole:
                state = state_of(col, package.namespace)
                tiers = list(sub.tiers) if sub.tiers is not None else None
                if state and state.get("sha256") == package.sha256 and state.get("tiers") == tiers:
                    results.append(Pending(sub.url, package))
                    continue
                apkg = fetch.download(at, package, downloads)
                results.append(Pending(sub.url, package, plan(col, package, apkg, settings, sub.tiers)))
        except (fetch.FetchError, UpdateError) as exc:
            results.append(Pending(sub.url, error=str(exc)))
    return results
