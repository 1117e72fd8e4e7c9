"""The real Anki engine, headless: import packages into a fresh collection and read what a student sees."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from anki.collection import Collection
from anki.import_export_pb2 import ImportAnkiPackageOptions, ImportAnkiPackageRequest  # where Anki 23.10 has them
from anki.notes import Note


@dataclass
class ImportCounts:
    new: int
    updated: int
    duplicate: int
    conflicting: int


def open_collection(folder: Path) -> Collection:
    """A fresh, empty collection in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    return Collection(str(folder / "collection.anki2"))


def import_package(col: Collection, apkg: Path, merge_notetypes: bool = False) -> ImportCounts:
    """Import as a student would, with Anki's default options (update notes and note types if newer).

    `merge_notetypes`: the import dialog's "Merge note types" box (Anki 23.10+), off by default."""
    options = ImportAnkiPackageOptions(merge_notetypes=merge_notetypes)
    request = ImportAnkiPackageRequest(package_path=str(apkg), options=options)
    log = col.import_anki_package(request).log
    # The Python layer caches note types; the import changed them in the backend (as Anki's GUI would see).
    col.models._clear_cache()
    return ImportCounts(len(log.new), len(log.updated), len(log.duplicate), len(log.conflicting))


def deck_names(col: Collection) -> list[str]:
    """Every deck name except Anki's Default deck."""
    return sorted(d.name for d in col.decks.all_names_and_ids() if d.name != "Default")


def notes_by_card_id(col: Collection) -> dict[str, Note]:
    """Each imported note keyed by the CardId field tierdeck stores in it."""
    return {col.get_note(nid)["CardId"]: col.get_note(nid) for nid in col.find_notes("")}


def visible_text(html: str) -> str:
    """The text a student sees in rendered card HTML: no style block, no tags, collapsed whitespace."""
    import html as htmllib
    import re

    html = re.sub(r"<style>.*?</style>", " ", html, flags=re.DOTALL)
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", html)).split())


def study_everything(col: Collection, deck: str | None = None) -> int:
    """Answer every card once with Easy (straight to review), as a student's first session would; returns how many.

    `deck` names the top deck to study (default: every deck)."""
    for did in col.decks.all_names_and_ids():
        conf = col.decks.config_dict_for_deck_id(did.id)
        conf["new"]["perDay"] = 9999
        col.decks.save(conf)
    answered = 0
    tops = [d for d in col.decks.all_names_and_ids() if "::" not in d.name and d.name != "Default"]
    for top in tops:
        if deck is not None and top.name != deck:
            continue
        col.decks.select(top.id)
        while (card := col.sched.getCard()) is not None:
            col.sched.answerCard(card, 4)
            answered += 1
    return answered


def history(col: Collection) -> dict:
    """Per card (by note GUID and template ordinal): its review count, interval, due, type and revlog ids."""
    out = {}
    for cid in col.find_cards(""):
        card = col.get_card(cid)
        revlog = col.db.list("select id from revlog where cid = ? order by id", cid)
        out[(card.note().guid, card.ord)] = (card.reps, card.ivl, card.due, card.type, tuple(revlog))
    return out
