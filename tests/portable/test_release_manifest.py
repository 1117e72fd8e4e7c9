"""dist/manifest.json as a contract: what the build writes, what a reader accepts, and what it refuses, exactly."""

from __future__ import annotations

import json

import pytest

from tierdeck.portable import release

V1 = "1700000000"


def _built(sample, env=V1) -> dict:
    assert sample.run("build", env={"SOURCE_DATE_EPOCH": env}).exit_code == 0
    return json.loads((sample.root / "dist" / "manifest.json").read_text(encoding="utf-8"))


def test_release_manifest__reader_returns_what_the_build_wrote(sample):
    sample.edit(
        "decks/sample.yaml", "tags: [sample]", "tags: [sample]\nissues: https://github.com/course/bone/issues/new"
    )
    _built(sample)
    read = release.read(sample.root / "dist")  # a folder names its manifest.json
    (package,) = read.packages
    assert read.format == 1
    assert package.file == "sample.apkg"
    assert package.namespace == "sample"
    assert package.size == (sample.root / "dist" / "sample.apkg").stat().st_size
    assert package.tiers["basics"] == release.TierCounts("1 Basics", 4, 6)
    assert package.issues == "https://github.com/course/bone/issues/new"
    assert package.sources == {
        "pr-signalling": "cards/sample/advanced.yaml:5",
        "bone-cells": "cards/sample/advanced.yaml:12",
        "h2o": "cards/sample/advanced.yaml:19",
        "bone-remodeling": "cards/sample/basics.yaml:6",
        "osteoclast-role": "cards/sample/basics.yaml:11",
        "remodeling-cells": "cards/sample/basics.yaml:16",
    }
    assert package.merge_notetypes is False
    assert release.loads(release.dumps(read)) == read


def test_release_manifest__a_note_type_past_version_1_asks_students_to_merge(sample):
    _built(sample)
    sample.own_notetype("basic")
    sample.edit("notetypes/basic.yaml", "version: 1", "version: 2")
    sample.edit("notetypes/basic.yaml", "CardId]", "CardId, Mnemonic]")
    package = release.read(sample.root / "dist" / "manifest.json").packages[0]
    assert package.merge_notetypes is False
    _built(sample, "1700864000")
    package = release.read(sample.root / "dist" / "manifest.json").packages[0]
    assert package.merge_notetypes is True
    assert [(n.name, n.version) for n in package.notetypes][0] == ("tierdeck Basic", 2)


def test_release_manifest__a_renamed_deck_keeps_its_namespace(sample):
    _built(sample)
    sample.edit("decks/sample.yaml", "id: sample", "id: bone\nprevious_ids: [sample]")
    (package,) = release.read(sample.root / "dist").packages
    assert package.namespace == "sample"
    data = _built(sample, "1700864000")
    assert [(d["id"], d["namespace"]) for d in data["decks"] if d["file"] == "bone.apkg"] == [("bone", "sample")]


def test_release_manifest__an_issue_address_must_be_a_url(sample):
    sample.edit("decks/sample.yaml", "tags: [sample]", "tags: [sample]\nissues: github.com/course/bone")
    result = sample.run("check")
    assert result.exit_code == 1
    assert result.stderr == (
        "decks/sample.yaml:10: issues: 'github.com/course/bone' is not a web address; write the whole URL, e.g. "
        "'https://github.com/OWNER/REPO/issues/new'\n1 error; nothing was written\n"
    )


def _valid() -> dict:
    return {
        "format": 1,
        "tierdeck": "0.2.0",
        "decks": [
            {
                "id": "d",
                "name": "D",
                "version": "1.0",
                "namespace": "d",
                "file": "d.apkg",
                "sha256": "a" * 64,
                "size": 10,
                "tier": None,
                "notes": 1,
                "cards": 1,
                "tiers": {"one": {"title": "1 One", "notes": 1, "cards": 1}},
                "notetypes": [{"name": "tierdeck Basic", "id": 1, "version": 1}],
                "merge_notetypes": False,
                "issues": None,
            }
        ],
    }


def _with(path: tuple, value) -> str:
    data = _valid()
    target = data
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return json.dumps(data)


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "{",
            "m.json: not a release manifest: it is not valid JSON (Expecting property name enclosed in double "
            "quotes: line 1 column 2 (char 1))",
        ),
        ("[]", "m.json: not a release manifest: it has no 'decks' list"),
        (
            json.dumps({"tierdeck": "0.2.0", "decks": []}),
            "m.json: release manifest format 0 is older than format 1; "
            "the deck's author must rebuild the release with a newer tierdeck",
        ),
        (
            _with(("format",), 2),
            "m.json: release manifest format 2 is newer than this reader knows (1); update the tierdeck add-on",
        ),
        (
            _with(("decks", 0, "sha256"), "ABC"),
            "m.json: decks[0].sha256: expected 64 lowercase hexadecimal digits, got 'ABC'",
        ),
        (
            _with(("decks", 0, "file"), "../../etc/x.apkg"),
            "m.json: decks[0].file: '../../etc/x.apkg' is not the name of an .apkg file in the manifest's folder",
        ),
        (_with(("decks", 0, "size"), "10"), "m.json: decks[0].size: expected whole number, got str"),
        (
            _with(("decks", 0, "merge_notetypes"), KeyError),
            "m.json: decks[0].merge_notetypes: expected true or false, got nothing",
        ),
        (_with(("decks", 0, "tier"), "two"), "m.json: decks[0].tier: 'two' is not one of its tiers (one)"),
        (
            _with(("decks", 0, "issues"), "javascript:alert(1)"),
            "m.json: decks[0].issues: expected an http(s) URL, got 'javascript:alert(1)'",
        ),
        (
            _with(("decks", 0, "tiers", "one", "cards"), True),
            "m.json: decks[0].tiers.one.cards: expected whole number, got bool",
        ),
        (json.dumps({**_valid(), "decks": _valid()["decks"] * 2}), "m.json: decks[1].file: 'd.apkg' is listed twice"),
    ],
)
def test_release_manifest__reader_refuses_what_it_cannot_use(text, message):
    with pytest.raises(release.ManifestError) as caught:
        release.loads(text, "m.json")
    assert str(caught.value) == message


def test_release_manifest__reader_keeps_keys_added_later():
    data = {**_valid(), "homepage": "https://example.org"}
    assert release.loads(json.dumps(data)).extra == {"homepage": "https://example.org"}
