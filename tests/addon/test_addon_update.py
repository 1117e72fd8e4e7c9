"""The add-on's update logic, headless, in the real Anki engine: a student follows a deck from v1 to v2.

v1 -> study -> the student edits a field, a protected field, a tag, flags and suspends cards, adds a note
of their own -> v2 with a correction, a removal, an evidence change and a note type change -> every
expectation of issue 20, exactly.
"""

from __future__ import annotations

import shutil

import pytest

from anki_engine import history, notes_by_card_id, open_collection, study_everything
from tierdeck_addon import config, fetch, update

V1, V2 = "1700000000", "1700864000"  # ten days apart, both before the student's own edits (real time)
CORRECTION = "They break down (resorb) bone."


def _release(sample, folder, epoch):
    """Build the project and publish dist/ into `folder`, as a release workflow would."""
    assert sample.run("build", env={"SOURCE_DATE_EPOCH": epoch}).exit_code == 0
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(sample.root / "dist", folder)
    return folder


def _plan(col, where, tmp_path, settings, tiers=None):
    rel, manifest_at = fetch.read_manifest(str(where))
    (package,) = rel.packages
    downloads = tmp_path / "downloads"
    downloads.mkdir(exist_ok=True)
    apkg = fetch.download(manifest_at, package, downloads)
    return update.plan(col, package, apkg, settings, tiers)


def _follow(col, where, tmp_path, settings=None, tiers=None):
    settings = settings or config.read({})
    return update.apply(col, _plan(col, where, tmp_path, settings, tiers), settings)


def _deck_notes(col):
    """The deck's notes by CardId (the student's own notes have no such field)."""
    return {n["CardId"]: n for n in (col.get_note(nid) for nid in col.find_notes('"CardId:_*"'))}


def _fingerprint(col):
    """Everything a student has: notes, cards with scheduling, flags and queues, review log, config."""
    notes = col.db.all("select id, guid, mid, mod, tags, flds from notes order by id")
    cards = col.db.all(
        "select id, nid, did, ord, type, queue, due, ivl, factor, reps, lapses, flags from cards order by id"
    )
    revlog = col.db.all("select * from revlog order by id")
    return notes, cards, revlog, col.get_config("tierdeck_addon:sample", None)


@pytest.fixture
def course(sample, tmp_path):
    """The sample deck with a basic note type that has a 'Personal' field for the student's own notes."""
    sample.own_notetype("basic")
    sample.edit("notetypes/basic.yaml", "CardId]", "CardId, Personal]")
    return sample


def test_addon__v2_reaches_a_student_who_studied_and_edited_v1_exactly_as_issue_20_asks(course, tmp_path):
    v1 = _release(course, tmp_path / "server" / "v1", V1)
    col = open_collection(tmp_path / "student")
    first = _follow(col, v1, tmp_path)
    assert first.summary() == "Sample Deck 1.0.0: 9 added, 0 changed, 0 removed"
    assert study_everything(col) == 13

    # The student annotates, edits, tags, flags and suspends, and adds a note of their own.
    notes = notes_by_card_id(col)
    mine = notes["osteoclast-role"]
    mine["Back"] = "They eat bone (my words)."
    mine["Personal"] = "Clast = crash: they crash bone."
    mine.tags.append("exam-2")
    col.update_note(mine)
    changed_by_release = notes["remodeling-cells"]
    changed_by_release["Text"] += " (see lecture 3)"
    col.update_note(changed_by_release)
    unchanged_by_release = notes["bone-remodeling"]
    unchanged_by_release["Extra"] = "My own extra."
    col.update_note(unchanged_by_release)
    flagged = col.find_cards('"CardId:bone-cells/osteoclast/role"')[0]
    col.set_user_flag_for_cards(3, [flagged])
    suspended = col.find_cards('"CardId:pr-signalling"')
    col.sched.suspend_cards(suspended)
    own = col.new_note(col.models.by_name("Basic"))
    own["Front"], own["Back"] = "My own question", "My own answer"
    col.add_note(own, col.decks.id("Default"))
    own = col.get_note(own.id)
    own_before = (own.id, own.guid, list(own.fields), own.mod)
    before = history(col)

    # v2: the instructor corrects a card, removes one, lowers a card's evidence level, and gives the Basic
    # note type a new field (version 2: a new note type in Anki, which needs "merge note types").
    course.edit("cards/sample/basics.yaml", "They resorb bone.", CORRECTION)
    course.edit(
        "cards/sample/basics.yaml",
        "    id: remodeling-cells\n",
        "    id: remodeling-cells\n    evidence: {level: contested, note: Debated in the 2024 review.}\n",
    )
    course.edit(
        "cards/sample/advanced.yaml",
        "  - type: basic\n    id: h2o\n    tier: basics\n    front: Formula of water?\n    back: H<sub>2</sub>O\n",
        "",
    )
    course.edit("notetypes/basic.yaml", "version: 1", "version: 2")
    course.edit("notetypes/basic.yaml", "CardId, Personal]", "CardId, Personal, Mnemonic]")
    v2 = _release(course, tmp_path / "server" / "v2", V2)

    settings = config.read({})
    plan = _plan(col, v2, tmp_path, settings)
    assert plan.previous_version == "1.0.0"
    assert plan.added == []
    assert [(c.guid == mine.guid, c.tier, c.fields, c.evidence) for c in plan.changed] == [
        (True, "basics", (update.FieldChange("Back", "They eat bone (my words).", CORRECTION),), None),
        (
            False,
            "basics",
            (
                update.FieldChange(
                    "Text",
                    "Osteoblasts {{c1::build new bone matrix}}; osteoclasts {{c2::resorb old bone}}. (see lecture 3)",
                    "Osteoblasts {{c1::build new bone matrix}}; osteoclasts {{c2::resorb old bone}}.",
                ),
                update.FieldChange("Extra", "", "Contested Debated in the 2024 review."),
            ),
            (None, "contested"),
        ),
    ]
    assert [(c.tier, c.summary) for c in plan.removed] == [("basics", "Formula of water?")]
    assert plan.notetypes_changed == ["tierdeck Basic"]
    assert plan.merge_notetypes is True
    assert plan.per_tier() == {
        "basics": {"added": 0, "changed": 2, "removed": 1},
        "advanced": {"added": 0, "changed": 0, "removed": 0},
    }

    outcome = update.apply(col, plan, settings)
    assert outcome.summary() == (
        "Sample Deck 1.0.0: 0 added, 2 changed, your text kept in the protected fields of 1, 1 removed"
    )

    notes = _deck_notes(col)
    corrected = notes["osteoclast-role"]
    # the correction arrives on the edited note; the protected field keeps the student's text; their tag stays
    assert dict(corrected.items()) == {
        "Front": "What do osteoclasts do?",
        "Back": CORRECTION,
        "Extra": "Osteo- means bone; -clast means breaker.",
        "Source": "Sample / Basics",
        "CardId": "osteoclast-role",
        "Personal": "Clast = crash: they crash bone.",
        "Mnemonic": "",
    }
    assert sorted(corrected.tags) == ["cells", "exam-2", "sample", "tier::basics", "type::basic"]
    assert corrected.note_type()["id"] != mine.mid  # moved to the note type's version 2 (merged)
    # a note the release changed takes the instructor's text (and evidence tag); one it did not change keeps the student's
    assert notes["remodeling-cells"]["Text"].endswith("{{c2::resorb old bone}}.")
    assert "evidence::contested" in notes["remodeling-cells"].tags
    assert notes["bone-remodeling"]["Extra"] == "My own extra."
    # the removed card is suspended and tagged, not deleted
    h2o = notes["h2o"]
    assert "tierdeck::removed" in h2o.tags
    assert [col.get_card(c).queue for c in h2o.card_ids()] == [-1]
    # scheduling, review history, flags, the student's own suspension and own note are untouched; no duplicates
    assert history(col) == before
    assert col.get_card(flagged).user_flag() == 3
    assert all(col.get_card(c).queue == -1 for c in suspended)
    own_after = col.get_note(own.id)
    assert (own_after.id, own_after.guid, list(own_after.fields), own_after.mod) == own_before
    assert col.note_count() == 10
    assert len(col.db.list("select guid from notes")) == len(set(col.db.list("select guid from notes")))

    # applying the same release again changes nothing
    again = _plan(col, v2, tmp_path, settings)
    assert again.empty
    col.close()


def test_addon__a_package_that_does_not_match_its_hash_changes_nothing(course, tmp_path):
    v1 = _release(course, tmp_path / "server", V1)
    col = open_collection(tmp_path / "student")
    _follow(col, v1, tmp_path)
    course.edit("cards/sample/basics.yaml", "They resorb bone.", CORRECTION)
    v2 = _release(course, tmp_path / "server", V2)
    good = (v2 / "sample.apkg").read_bytes()
    (v2 / "sample.apkg").write_bytes(good[:-1] + bytes([good[-1] ^ 1]))  # one bit flipped on the way
    before = _fingerprint(col)
    rel, manifest_at = fetch.read_manifest(str(v2))
    with pytest.raises(fetch.FetchError) as caught:
        fetch.download(manifest_at, rel.packages[0], tmp_path)
    digest = __import__("hashlib").sha256((v2 / "sample.apkg").read_bytes()).hexdigest()
    assert str(caught.value) == (
        f"sample.apkg does not match its release manifest (expected {len(good)} bytes with SHA-256 "
        f"{rel.packages[0].sha256}, got SHA-256 {digest}); it was not imported and nothing was changed. Try again "
        "later; if it persists, tell the deck's author"
    )
    assert not (tmp_path / "sample.apkg").exists() and not list(tmp_path.glob(".download-*"))
    assert _fingerprint(col) == before
    col.close()


def test_addon__an_unreachable_manifest_changes_nothing(tmp_path):
    with pytest.raises(fetch.FetchError) as caught:
        fetch.read_manifest(str(tmp_path / "nowhere" / "manifest.json"))
    assert str(caught.value) == (
        f"could not read the release manifest {tmp_path}/nowhere/manifest.json: No such file or directory; "
        "nothing was changed"
    )


def test_addon__a_failure_after_the_import_began_is_undone_whole(course, tmp_path, monkeypatch):
    v1 = _release(course, tmp_path / "server", V1)
    col = open_collection(tmp_path / "student")
    _follow(col, v1, tmp_path)
    study_everything(col)
    course.edit("cards/sample/basics.yaml", "They resorb bone.", CORRECTION)
    course.edit(
        "cards/sample/basics.yaml", "    id: osteoclast-role\n", "    id: osteoclast-role\n    tags: [new-tag]\n"
    )
    v2 = _release(course, tmp_path / "server", V2)
    before = _fingerprint(col)
    settings = config.read({})
    plan = _plan(col, v2, tmp_path, settings)

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(col.tags, "bulk_add", broken)  # fails after the import and the note updates
    plan.tiers = ("advanced",)  # the last step tags the basics tier's notes as not followed: it fails there
    with pytest.raises(update.UpdateError) as caught:
        update.apply(col, plan, settings)
    assert str(caught.value) == "sample.apkg could not be applied (disk full); it was undone and nothing was changed"
    assert _fingerprint(col) == before
    col.close()


def test_addon__following_some_tiers_suspends_the_others_until_followed_again(course, tmp_path):
    v1 = _release(course, tmp_path / "server", V1)
    col = open_collection(tmp_path / "student")
    outcome = _follow(col, v1, tmp_path, tiers=("basics",))
    assert outcome.unfollowed == 5

    def queues(tier):
        return sorted({col.get_card(c).queue for c in col.find_cards(f"tag:tier::{tier}")})

    assert queues("basics") == [0] and queues("advanced") == [-1]
    assert len(col.find_notes("tag:tierdeck::unfollowed")) == 5
    again = _follow(col, v1, tmp_path)  # now following every tier
    assert again.unfollowed == 0
    assert queues("advanced") == [0] and col.find_notes("tag:tierdeck::unfollowed") == []
    col.close()


def test_addon__removed_cards_can_be_deleted_instead(course, tmp_path):
    v1 = _release(course, tmp_path / "server", V1)
    col = open_collection(tmp_path / "student")
    _follow(col, v1, tmp_path)
    course.edit(
        "cards/sample/advanced.yaml",
        "  - type: basic\n    id: h2o\n    tier: basics\n    front: Formula of water?\n    back: H<sub>2</sub>O\n",
        "",
    )
    v2 = _release(course, tmp_path / "server", V2)
    settings = config.read({"removed_cards": "delete"})
    assert _follow(col, v2, tmp_path, settings).removed == 1
    assert "h2o" not in notes_by_card_id(col) and col.note_count() == 8
    col.close()


def test_addon__a_card_removed_and_then_restored_is_studied_again(course, tmp_path):
    h2o = "  - type: basic\n    id: h2o\n    tier: basics\n    front: Formula of water?\n    back: H<sub>2</sub>O\n"
    col = open_collection(tmp_path / "student")
    _follow(col, _release(course, tmp_path / "server", V1), tmp_path)
    course.edit("cards/sample/advanced.yaml", h2o, "")
    assert _follow(col, _release(course, tmp_path / "server", V2), tmp_path).removed == 1
    course.write("cards/sample/advanced.yaml", (course.root / "cards/sample/advanced.yaml").read_text() + h2o)
    _follow(col, _release(course, tmp_path / "server", "1701000000"), tmp_path)
    note = _deck_notes(col)["h2o"]
    assert "tierdeck::removed" not in note.tags
    assert [col.get_card(c).queue for c in note.card_ids()] == [0]
    col.close()


@pytest.mark.parametrize(
    "data, message",
    [
        ({"apply": "always"}, 'apply: expected "ask" or "automatic", got \'always\''),
        ({"subscriptions": [{"link": "x"}]}, 'subscriptions[0]: expected {"url": "https://…/manifest.json"}'),
        (
            {"protected_fields": ["Personal"]},
            'protected_fields: expected {"note type name": ["Field", …]}, with "*" for every note type',
        ),
    ],
)
def test_addon__config_mistakes_are_named(data, message):
    with pytest.raises(config.ConfigError) as caught:
        config.read(data)
    assert str(caught.value) == message


def test_addon__personal_and_my_notes_are_protected_by_default_and_more_can_be_added():
    settings = config.read({"protected_fields": {"*": ["Personal", "My notes"], "tierdeck Basic": ["Extra"]}})
    assert settings.protected("tierdeck Basic+") == {"Personal", "My notes", "Extra"}
    assert config.read({}).protected("tierdeck Cloze") == {"Personal", "My notes"}
