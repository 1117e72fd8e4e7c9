"""An up-to-date deck is not rebuilt; anything that changes an input, the output or tierdeck itself is."""

from __future__ import annotations

import json
import os
import re
import shutil
import time

from hypothesis import given
from hypothesis import strategies as st

from tierdeck import cache


def _stamp(path):
    return path.stat().st_mtime_ns, path.read_bytes()


def test_cache__nothing_changed_means_nothing_rewritten_and_the_same_report(sample):
    first = sample.run("build")
    apkg = sample.root / "dist" / "sample.apkg"
    before = _stamp(apkg)
    second = sample.run("-v", "build")
    assert second.exit_code == 0
    assert second.stdout.splitlines()[0] == first.stdout.strip()
    assert "(nothing changed since the last build; the packages are up to date)" in second.stdout
    assert _stamp(apkg) == before


def test_cache__an_edited_card_rebuilds_and_reports_the_change(sample):
    sample.run("build")
    apkg = sample.root / "dist" / "sample.apkg"
    before = apkg.read_bytes()
    sample.edit("cards/sample/basics.yaml", "They resorb bone.", "They break down bone.")
    result = sample.run("build")
    assert result.stdout.endswith("(1 changed since the lock file)\n")
    assert apkg.read_bytes() != before


def test_cache__a_changed_image_rebuilds(sample):
    images = sample.root / "cards" / "sample" / "images"
    images.mkdir()
    (images / "x.png").write_bytes(b"\x89PNG\r\n\x1a\n one")
    sample.edit("cards/sample/basics.yaml", "back: They resorb bone.", 'back: "![x](images/x.png) They resorb bone."')
    sample.run("build")
    (images / "x.png").write_bytes(b"\x89PNG\r\n\x1a\n two")
    assert sample.run("build").stdout.endswith("(1 changed since the lock file)\n")


def test_cache__a_damaged_or_missing_package_is_rebuilt(sample):
    sample.run("build")
    apkg = sample.root / "dist" / "sample.apkg"
    good = apkg.read_bytes()
    apkg.write_bytes(b"damaged")
    sample.run("build")
    assert apkg.read_bytes() == good
    apkg.unlink()
    sample.run("build")
    assert apkg.read_bytes() == good


def test_cache__is_safe_to_delete_or_damage(sample):
    sample.run("build")
    folder = sample.root / cache.CACHE_DIR
    for entry in folder.rglob("*.json"):
        entry.write_bytes(b"not a pickle")
    assert sample.run("check").exit_code == 0
    shutil.rmtree(folder)
    result = sample.run("check")
    assert result.exit_code == 0 and result.stdout.startswith("sample: 13 cards")


def test_cache__check_remembers_warnings_too(sample):
    sample.edit("cards/sample/basics.yaml", "source: Sample / Basics\n", "")
    cold, warm = sample.run("check"), sample.run("check")
    assert cold.exit_code == warm.exit_code == 0
    assert warm.stderr == cold.stderr and "has no source" in warm.stderr
    assert warm.stdout == cold.stdout


def test_cache__never_trusted_across_tierdeck_versions(sample, monkeypatch):
    sample.run("build")
    apkg = sample.root / "dist" / "sample.apkg"
    before = apkg.stat().st_mtime_ns
    monkeypatch.setattr(cache, "fingerprint", lambda: "another tierdeck")
    sample.run("build")
    assert apkg.stat().st_mtime_ns != before  # rewritten: the record of the other version was not used


def test_cache__an_up_to_date_build_reports_no_changes_since_the_lock(sample):
    sample.run("build")
    sample.edit("cards/sample/basics.yaml", "They resorb bone.", "They break down bone.")
    assert sample.run("build").stdout.endswith("(1 changed since the lock file)\n")
    assert sample.run("build").stdout == "sample: 13 cards (basics 6, advanced 7) -> dist/sample.apkg\n"


def test_cache__a_check_after_a_build_reuses_what_the_build_compiled_and_only_lints(sample, monkeypatch):
    """A build does not lint; the check after it lints the build's compiled units without compiling again."""
    from tierdeck.lint import file as lint_file
    from tierdeck.project import units

    sample.edit("cards/sample/basics.yaml", "source: Sample / Basics\n", "")  # a lint warning: no source
    built = sample.run("build")
    assert built.exit_code == 0 and "has no source" not in built.stderr
    compiled, linted = [], []
    monkeypatch.setattr(
        units, "compile_file", lambda *a, **k: compiled.append(a) or (_ for _ in ()).throw(AssertionError)
    )
    real = lint_file.lint_file
    monkeypatch.setattr(
        units, "lint_file", lambda deck, cards, notes: linted.append(len(cards)) or real(deck, cards, notes)
    )
    result = sample.run("check")
    assert result.exit_code == 0 and compiled == [] and len(linted) == 2
    assert "has no source" in result.stderr
    assert result.stdout.startswith("sample: 13 cards (basics 6, advanced 7)\nok: 1 deck checked, ")
    linted.clear()
    again = sample.run("check")  # nothing changed: the check's own record
    assert again.stderr == result.stderr and linted == []


def test_cache__after_an_edit_only_the_edited_file_is_parsed_and_validated(sample, monkeypatch):
    from tierdeck.notes import loader

    sample.run("build")
    parsed = []
    original = loader._card_file
    monkeypatch.setattr(loader, "_card_file", lambda path: parsed.append(path.name) or original(path))
    sample.edit("cards/sample/basics.yaml", "They resorb bone.", "They break down bone.")
    result = sample.run("build")
    assert result.stdout.endswith("(1 changed since the lock file)\n")
    assert parsed == ["basics.yaml"]


def test_cache__a_value_that_cannot_be_stored_is_skipped_without_leftovers(tmp_path):
    store = cache.Cache(tmp_path)
    store.put("records", "abc", lambda: None)  # functions cannot be pickled
    assert store.get("records", "abc") is None
    assert [p.name for p in tmp_path.rglob("*") if p.is_file() and p.name != ".gitignore"] == []


def test_cache__entries_unused_for_two_weeks_are_deleted_when_something_new_is_stored(sample):
    sample.run("check")
    entries = sorted((sample.root / cache.CACHE_DIR).glob("units/*/*.json"))
    assert len(entries) == 2  # one per card file
    old = time.time() - 15 * 86400
    os.utime(entries[0], (old, old))
    os.utime(entries[1], (old, old))
    sample.edit("cards/sample/basics.yaml", "They resorb bone.", "They break down bone.")
    sample.run("check")  # stores the edited file's unit; reads the other one (which keeps it)
    left = sorted((sample.root / cache.CACHE_DIR).glob("units/*/*.json"))
    kept = [e for e in entries if e in left]
    assert len(left) == 2  # the unedited file's entry (read, so kept) and the edited file's new one
    assert len(kept) == 1 and kept[0].stat().st_mtime > old


def test_cache__a_rebuild_from_the_cache_writes_what_a_cold_build_of_the_same_input_writes(sample, monkeypatch):
    """The cache only saves time: after an edit, the package and lock are byte for byte those of a build
    that starts with no cache at all (same cards, same lock, same clock)."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    sample.run("build")
    lock = sample.root / "decks" / "sample.lock"
    apkg = sample.root / "dist" / "sample.apkg"
    lock_before = lock.read_bytes()
    sample.edit("cards/sample/basics.yaml", "They resorb bone.", "They break down bone.")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000500")
    assert sample.run("build").stdout.endswith("(1 changed since the lock file)\n")
    incremental = apkg.read_bytes(), lock.read_bytes()
    assert incremental[1] != lock_before  # the edited note got a new modification time

    shutil.rmtree(sample.root / cache.CACHE_DIR)
    shutil.rmtree(sample.root / "dist")
    lock.write_bytes(lock_before)
    assert sample.run("build").stdout.endswith("(1 changed since the lock file)\n")
    assert (apkg.read_bytes(), lock.read_bytes()) == incremental


def _cold_package(sample) -> bytes:
    """The sample's package as a build without any cache writes it."""
    result = sample.run("build", "-o", "cold", env={"TIERDECK_NO_CACHE": "1", "SOURCE_DATE_EPOCH": "1700000000"})
    assert result.exit_code == 0, result.stderr
    return (sample.root / "cold" / "sample.apkg").read_bytes()


def test_cache__a_planted_pickle_never_runs(sample, tmp_path):
    """tierdeck 0.2 unpickled its entries; a pickle planted under any entry name is never loaded now."""
    import pickle

    sample.run("check")
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    folder = sample.root / cache.CACHE_DIR
    for entry in list(folder.rglob("*.json")):
        entry.write_bytes(pickle.dumps(Payload()))
        entry.with_suffix(".pickle").write_bytes(pickle.dumps(Payload()))
    (sample.root / "cards/sample/basics.yaml").touch()
    assert sample.run("check").exit_code == 0
    assert sample.run("build").exit_code == 0
    assert not marker.exists()


def test_cache__a_forged_entry_with_a_script_never_reaches_the_package(sample):
    """An entry written without this machine's secret (planted in a repository) is recomputed, not used."""
    cold = _cold_package(sample)
    epoch = {"SOURCE_DATE_EPOCH": "1700000000"}
    sample.run("build", env=epoch)
    folder = sample.root / cache.CACHE_DIR
    forged = 0
    for entry in folder.glob("units/*/*.json"):
        data = entry.read_bytes()
        head = data.index(b"\n", data.index(b"\n") + 1) + 1
        # the first field of every note: right after its note type's name
        payload = re.sub(rb'(\{"r":"[a-z-]+"\},\[")', rb"\1<script>alert(1)</script>", data[head:])
        mac = b"0" * 64
        entry.write_bytes(data[: data.index(b"\n") + 1] + mac + b"\n" + payload)
        forged += payload != data[head:]
    assert forged
    shutil.rmtree(sample.root / "dist")
    (sample.root / "decks/sample.lock").unlink()
    result = sample.run("build", env=epoch)
    assert result.exit_code == 0
    assert (sample.root / "dist/sample.apkg").read_bytes() == cold


def test_cache__entries_of_another_machine_are_not_trusted(sample, monkeypatch, tmp_path):
    """Entries copied from another machine (another secret) are compiled again."""
    from tierdeck.project import units

    sample.run("check")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "other-machine"))
    compiled = []
    real = units.compile_file
    monkeypatch.setattr(units, "compile_file", lambda deck, file, lint=False: compiled.append(file.name) or real(deck, file, lint))
    (sample.root / "decks/sample.yaml").touch()  # not a change of content: the record is checked by digest
    shutil.rmtree(sample.root / cache.CACHE_DIR / "records")
    assert sample.run("check").exit_code == 0
    assert sorted(compiled) == ["advanced.yaml", "basics.yaml"]
    assert (tmp_path / "other-machine/tierdeck/cache-secret").stat().st_mode & 0o777 == 0o600


def test_cache__random_bit_flips_never_change_a_package(sample):
    """Flip one random bit of one random entry, many times: every build writes what a cold build writes."""
    import random

    cold = _cold_package(sample)
    epoch = {"SOURCE_DATE_EPOCH": "1700000000"}
    rng = random.Random(20261208)
    folder = sample.root / cache.CACHE_DIR
    for trial in range(40):
        shutil.rmtree(sample.root / "dist", ignore_errors=True)
        (sample.root / "decks/sample.lock").unlink(missing_ok=True)
        assert sample.run("build", env=epoch).exit_code == 0  # fills the cache
        entries = sorted(p for p in folder.rglob("*.json"))
        victim = rng.choice(entries)
        data = bytearray(victim.read_bytes())
        bit = rng.randrange(len(data) * 8)
        data[bit // 8] ^= 1 << (bit % 8)
        victim.write_bytes(bytes(data))
        shutil.rmtree(sample.root / "dist")
        (sample.root / "decks/sample.lock").unlink()
        result = sample.run("build", env=epoch)
        assert result.exit_code == 0, (trial, victim, result.stderr)
        assert (sample.root / "dist/sample.apkg").read_bytes() == cold, (trial, victim.relative_to(folder), bit)


def test_cache__a_cache_folder_that_is_a_link_elsewhere_is_not_used(sample, tmp_path):
    """A repository can carry `.tierdeck-cache` as a symbolic link: tierdeck writes nothing through it."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (sample.root / cache.CACHE_DIR).symlink_to(elsewhere, target_is_directory=True)
    assert sample.run("build").exit_code == 0
    assert sample.run("check").exit_code == 0
    assert list(elsewhere.iterdir()) == []
    assert (sample.root / "dist/sample.apkg").is_file()


def test_cache__an_authentic_record_of_another_shape_is_a_miss(sample):
    """Even an entry this machine wrote is checked for its shape before use (a miss, never a crash)."""
    sample.run("check")
    folder = sample.root / cache.CACHE_DIR / "records"
    store = cache.Cache(sample.root)
    for entry in folder.rglob("*.json"):
        store.put_bytes("records", entry.stem, cache.encode(["not", "a", "record"]))
    result = sample.run("check")
    assert result.exit_code == 0 and result.stdout.startswith("sample: 13 cards")


# What the cache stores: text of any characters, 64-bit integers, booleans, None, lists and text-keyed objects.
_json = st.recursive(
    st.one_of(st.text(), st.integers(-(2**63), 2**63 - 1), st.booleans(), st.none()),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(), inner, max_size=4)),
    max_leaves=20,
)


@given(_json)
def test_cache__orjson_writes_the_bytes_the_standard_library_writes(value):
    """orjson only makes writing faster: an entry is the same bytes with or without it (and reads back)."""
    assert cache._fast_dumps() is not None  # a dependency: this test is about its path
    expected = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    assert cache._dumps(value) == expected
    assert json.loads(expected) == value

