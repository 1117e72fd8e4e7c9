"""Drives the real Anki desktop program (aqt) for tests/addon/test_addon_desktop.py: one phase per run.

    python aqt_driver.py PHASE BASE OUT.json [ARG]

Runs under Xvfb with a Python that has `aqt`, in Anki's base folder BASE (a clean profile `student`,
seeded as ../shared/tools/aqtshot does: no first-run dialogs, no sync, no update checks). Each phase
writes what it saw to OUT.json and quits Anki the normal way (the profile is unloaded and the collection
closed), so the next phase is a restart.

- seed:    create BASE with the profile (no Anki window).
- install: install ARG (an .ankiaddon) with Anki's add-on manager, as "Install from file" does.
- follow:  ARG is JSON {"url", "version", "study"}: set the add-on's config to follow url with
           "apply": "automatic", open the profile (the add-on checks in the background and applies),
           wait for the update; with "study", answer every card and make the student's edits.
- refuse:  ARG is JSON {"url"}: like follow, but the release is broken: record the add-on's warning.
- verify:  record the collection.
"""

from __future__ import annotations

import json
import os
import sys
import time

PROFILE = "student"
ADDON = "tierdeck_follow"
STATE = "tierdeck_addon:sample"
TIMEOUT = 150


def seed(base: str) -> None:
    import anki.lang

    anki.lang.set_lang("en_US")
    from aqt.profiles import ProfileManager, VideoDriver

    pm = ProfileManager(ProfileManager.get_created_base_folder(base))
    pm.setupMeta()
    pm.meta.update(
        firstRun=False,
        defaultLang="en_US",
        check_for_updates=False,
        check_for_addon_updates=False,
        last_addon_update_check=int(time.time()),
        suppressUpdate=True,
    )
    pm.create(PROFILE)
    pm.load(PROFILE)
    pm.profile.update(autoSync=False, syncMedia=False, syncKey=None, numBackups=0)
    pm.save()
    pm.db.close()
    pm.set_video_driver(VideoDriver.Software)


def history(col) -> dict:
    out = {}
    for cid in col.find_cards(""):
        card = col.get_card(cid)
        revlog = col.db.list("select id from revlog where cid = ? order by id", cid)
        out[f"{card.note().guid}/{card.ord}"] = [card.reps, card.ivl, card.due, card.type, revlog]
    return out


def facts(col) -> dict:
    """What the test checks, read from the collection."""
    notes = {}
    for nid in col.find_notes('"CardId:_*"'):
        note = col.get_note(nid)
        notes[note["CardId"]] = {
            "fields": dict(note.items()),
            "tags": sorted(note.tags),
            "queues": [col.get_card(c).queue for c in note.card_ids()],
            "flags": [col.get_card(c).user_flag() for c in note.card_ids()],
        }
    guids = col.db.list("select guid from notes")
    state = col.get_config(STATE, None)
    return {
        "notes": notes,
        "note_count": col.note_count(),
        "duplicate_guids": len(guids) - len(set(guids)),
        "history": history(col),
        "state_version": state and state.get("version"),
    }


def main() -> int:
    phase, base, out = sys.argv[1:4]
    arg = sys.argv[4] if len(sys.argv) > 4 else ""
    if phase == "seed":
        seed(base)
        return 0
    import aqt
    from aqt import gui_hooks

    result: dict = {"phase": phase, "warnings": []}
    options = json.loads(arg) if phase in ("follow", "refuse") else {}
    if options:
        folder = os.path.join(base, "addons21", ADDON)
        meta_path = os.path.join(folder, "meta.json")
        meta = json.load(open(meta_path)) if os.path.exists(meta_path) else {}
        config = json.load(open(os.path.join(folder, "config.json")))
        config.update(subscriptions=[{"url": options["url"]}], apply="ask" if options.get("ask") else "automatic")
        meta["config"] = config
        json.dump(meta, open(meta_path, "w"))
    started = time.time()
    finished = False

    def finish() -> None:
        nonlocal finished
        if finished:
            return
        finished = True
        result["seconds"] = round(time.time() - started, 1)
        with open(out, "w") as f:
            json.dump(result, f)
        aqt.mw.progress.single_shot(30_000, lambda: os._exit(3), False)  # a dialog blocked the exit
        aqt.mw.unloadProfileAndExit()

    def guarded(fn):
        def run(*args):
            try:
                fn(*args)
            except Exception:  # noqa: BLE001 - recorded for the test, which fails on it
                import traceback

                result["error"] = traceback.format_exc()
                finish()

        return run

    def on_profile_open() -> None:
        # runs before the add-on's own hook (registered first): warnings are recorded, not shown modally
        gui = sys.modules.get(f"{ADDON}.gui")
        result["addon_loaded"] = gui is not None
        if gui is not None:
            gui.showWarning = lambda text, **kwargs: result["warnings"].append(text)
            gui.openLink = lambda url: result.setdefault("opened", []).append(url)
            result["tools_menu"] = [a.text() for a in aqt.mw.form.menuTools.actions() if "tierdeck" in a.text()]

            def open_dialog(dialog) -> None:  # what the student sees, then the Apply button
                result["dialog"] = {"title": dialog.windowTitle(), "html": gui.changes_html(dialog.plan)}
                dialog.show()
                if options.get("shot"):
                    aqt.mw.progress.single_shot(800, guarded(lambda: shoot(dialog)), False)
                else:
                    dialog.accept()

            def shoot(dialog) -> None:
                dialog.grab().save(options["shot"], "PNG")
                dialog.accept()

            gui.ChangesDialog.open = open_dialog
        aqt.mw.progress.single_shot(TIMEOUT * 1000, guarded(timeout), False)
        if phase == "refuse":
            aqt.mw.progress.single_shot(500, guarded(wait_for_warning), False)

    def timeout() -> None:
        result["timeout"] = True
        finish()

    def wait_for_warning() -> None:
        if result["warnings"]:
            result["facts"] = facts(aqt.mw.col)
            finish()
        else:
            aqt.mw.progress.single_shot(500, guarded(wait_for_warning), False)

    def after_op(changes, handler) -> None:
        if phase != "follow" or finished:
            return
        state = aqt.mw.col.get_config(STATE, None)
        if not state or state.get("version") != options["version"]:
            return
        col = aqt.mw.col
        if options.get("study"):
            for deck in col.decks.all_names_and_ids():
                conf = col.decks.config_dict_for_deck_id(deck.id)
                conf["new"]["perDay"] = 9999
                col.decks.save(conf)
            top = next(d for d in col.decks.all_names_and_ids() if d.name == "Sample Deck")
            col.decks.select(top.id)
            answered = 0
            while (card := col.sched.getCard()) is not None:
                col.sched.answerCard(card, 4)
                answered += 1
            result["answered"] = answered
            note = col.get_note(col.find_notes('"CardId:osteoclast-role"')[0])
            note["Back"] = "They eat bone (my words)."
            note["Personal"] = "Clast = crash: they crash bone."
            note.tags.append("exam-2")
            col.update_note(note)
            col.set_user_flag_for_cards(3, col.find_cards('"CardId:bone-cells/osteoclast/role"'))
        result["facts"] = facts(col)
        if options.get("report"):
            review("osteoclast-role")
        else:
            finish()

    def review(card_id: str) -> None:
        """Show one card in the reviewer (through a one-card filtered deck), then report it."""
        col = aqt.mw.col
        (cid,) = col.find_cards(f'"CardId:{card_id}"')
        deck = col.sched.get_or_create_filtered_deck(0)
        deck.name = "review one"
        del deck.config.search_terms[:]
        term = deck.config.search_terms.add()
        term.search, term.limit = f"cid:{cid}", 1
        result["filtered_deck"] = col.sched.add_or_update_filtered_deck(deck).id
        col.decks.select(result["filtered_deck"])
        result["reported_card"] = cid
        aqt.mw.moveToState("review")

    def on_question(card) -> None:
        if phase != "follow" or not options.get("report") or finished:
            return
        shortcuts = []
        sys.modules[f"{ADDON}.gui"]._shortcuts("review", shortcuts)
        result["review_shortcuts"] = [key for key, _ in shortcuts]
        sys.modules[f"{ADDON}.gui"].report_current_card()
        aqt.mw.moveToState("deckBrowser")
        aqt.mw.col.sched.empty_filtered_deck(result["filtered_deck"])  # the card goes home, its schedule as it was
        aqt.mw.col.decks.remove([result["filtered_deck"]])
        finish()

    def on_init() -> None:
        if phase == "install":
            installed = aqt.mw.addonManager.install(arg)
            result["installed"] = type(installed).__name__
            result["name"] = getattr(installed, "name", None)
            finish()
        elif phase == "verify":
            result["addon_loaded"] = f"{ADDON}.gui" in sys.modules
            result["facts"] = facts(aqt.mw.col)
            finish()

    gui_hooks.profile_did_open.append(guarded(on_profile_open))
    gui_hooks.operation_did_execute.append(guarded(after_op))
    gui_hooks.main_window_did_init.append(guarded(on_init))
    gui_hooks.reviewer_did_show_question.append(guarded(on_question))
    aqt._run(["anki", "-b", base, "-p", PROFILE, "-l", "en_US"], exec=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
