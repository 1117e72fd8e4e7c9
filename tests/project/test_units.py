"""Card files are compiled one at a time, in worker processes when there are many: what students and
authors get must not depend on that (same package bytes, same messages), and a cached file is reused
only while everything it was made from is unchanged."""

from __future__ import annotations

import hashlib
from concurrent import futures

import pytest

from tierdeck.project import units

EPOCH = {"SOURCE_DATE_EPOCH": "1700000000", "TIERDECK_NO_CACHE": "1"}


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _spread(sample, files: int = 6) -> None:
    """Copy the sample's cards into more files (new ids), so there is work for several processes."""
    source = (sample.root / "cards/sample/basics.yaml").read_text(encoding="utf-8")
    for n in range(files):
        text = source.replace("id: ", f"id: copy{n}-")
        (sample.root / f"cards/sample/copy{n}.yaml").write_text(text, encoding="utf-8")


@pytest.fixture
def pools(monkeypatch) -> list:
    """The worker pools started (one entry per pool)."""
    started = []
    real = futures.ProcessPoolExecutor
    monkeypatch.setattr(futures, "ProcessPoolExecutor", lambda *a, **k: started.append(a) or real(*a, **k))
    return started


def test_units__worker_processes_write_the_same_package_and_report(sample, pools):
    _spread(sample)
    one = sample.run("build", "-o", "one", env={**EPOCH, "TIERDECK_JOBS": "1"})
    assert not pools
    (sample.root / "decks/sample.lock").unlink()
    two = sample.run("build", "-o", "two", env={**EPOCH, "TIERDECK_JOBS": "2"})
    assert pools, "the second build did not use worker processes"
    assert one.exit_code == two.exit_code == 0
    assert one.stdout.replace("one/", "two/") == two.stdout
    assert _sha(sample.root / "one/sample.apkg") == _sha(sample.root / "two/sample.apkg")


def test_units__errors_found_in_worker_processes_read_as_in_one_process(sample, pools):
    _spread(sample)
    sample.edit(
        "cards/sample/copy1.yaml", "front: What do osteoclasts do?", "front: What do osteoclasts do?\n    bogus: 1"
    )
    (sample.root / "cards/sample/copy4.yaml").write_text("cards: [", encoding="utf-8")
    one = sample.run("check", env={**EPOCH, "TIERDECK_JOBS": "1"})
    two = sample.run("check", env={**EPOCH, "TIERDECK_JOBS": "2"})
    assert len(pools) == 1
    assert one.exit_code == two.exit_code == 1
    assert one.stderr == two.stderr
    assert "copy1.yaml:" in two.stderr and "copy4.yaml:" in two.stderr


def test_units__a_bug_in_a_worker_process_is_reported_as_a_bug(sample, monkeypatch, pools):
    _spread(sample)

    def broken(deck, file, lint=False):
        raise RuntimeError("boom")

    monkeypatch.setattr(units, "compile_file", broken)  # the forked workers inherit the broken function
    result = sample.run("check", env={**EPOCH, "TIERDECK_JOBS": "2"})
    assert pools
    assert result.exit_code == 3
    assert "internal error: RuntimeError: boom" in result.stderr


def test_units__a_check_after_a_build_lints_the_built_files_in_workers_and_compiles_none(sample, monkeypatch, pools):
    _spread(sample)  # the copies repeat the sample's prompts: warnings across files, from every file's lint
    sample.edit("cards/sample/copy2.yaml", "front: What do osteoclasts do?", "front: " + "very " * 45 + "long?")
    cold = sample.run("check", env={"TIERDECK_JOBS": "1", "TIERDECK_NO_CACHE": "1"})
    assert "the front has 46 words" in cold.stderr
    assert sample.run("build", env={"TIERDECK_JOBS": "2"}).exit_code == 0  # builds do not lint
    pools.clear()

    def compiled(deck, file, lint=False):
        raise RuntimeError(f"{file.name} was compiled again")

    monkeypatch.setattr(units, "compile_file", compiled)  # inherited by the forked workers too
    after = sample.run("check", env={"TIERDECK_JOBS": "2"})
    assert pools, "the lint of the built files did not use worker processes"
    assert (after.exit_code, after.stdout, after.stderr) == (cold.exit_code, cold.stdout, cold.stderr)


@pytest.mark.parametrize("value", ["0", "two", "-1"])
def test_units__a_bad_job_count_is_a_usage_error(sample, value):
    result = sample.run("check", env={"TIERDECK_JOBS": value, "TIERDECK_NO_CACHE": "1"})
    assert result.exit_code == 2
    assert f"TIERDECK_JOBS must be a whole number of processes (1 or more), got '{value}'" in result.stderr


def test_units__only_files_whose_bytes_changed_are_compiled_again(sample, monkeypatch):
    _spread(sample, files=2)
    assert sample.run("check").exit_code == 0
    compiled = []
    real = units.compile_file
    monkeypatch.setattr(units, "compile_file", lambda deck, file, lint=False: compiled.append(file.name) or real(deck, file, lint))
    sample.edit("cards/sample/copy1.yaml", "They resorb bone.", "They break down bone.")
    assert sample.run("check").exit_code == 0
    assert compiled == ["copy1.yaml"]


def test_units__a_changed_manifest_compiles_every_file_again(sample, monkeypatch):
    assert sample.run("check").exit_code == 0
    compiled = []
    real = units.compile_file
    monkeypatch.setattr(units, "compile_file", lambda deck, file, lint=False: compiled.append(file.name) or real(deck, file, lint))
    manifest = sample.root / "decks/sample.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8") + "\n# a comment\n", encoding="utf-8")
    assert sample.run("check").exit_code == 0
    assert sorted(compiled) == ["advanced.yaml", "basics.yaml"]


def test_units__a_file_with_errors_is_never_cached(sample, monkeypatch):
    sample.edit("cards/sample/basics.yaml", "They resorb bone.", "<script>x</script>")
    assert sample.run("check").exit_code == 1
    compiled = []
    real = units.compile_file
    monkeypatch.setattr(units, "compile_file", lambda deck, file, lint=False: compiled.append(file.name) or real(deck, file, lint))
    assert sample.run("check").exit_code == 1
    assert compiled == ["basics.yaml"]  # an image or file it names may appear: errors are never cached


def test_units__checks_across_files_see_cached_files_too(sample):
    assert sample.run("check").exit_code == 0  # both files' units are cached now
    with (sample.root / "cards/sample/advanced.yaml").open("a", encoding="utf-8") as handle:
        handle.write(
            "  - type: basic\n    id: osteoclast-role\n    front: What do osteoclasts do?\n    back: Resorb bone.\n"
        )
    result = sample.run("check")
    assert result.exit_code == 1
    # advanced.yaml is read first (files are sorted), so the older card in basics.yaml is the repeat
    assert result.stderr.splitlines() == [
        (
            "cards/sample/basics.yaml:11: cards[1].id: duplicate card id 'osteoclast-role', also used at "
            "cards/sample/advanced.yaml:24; card ids must be unique in a deck, rename one"
        ),
        (
            "cards/sample/basics.yaml:12: warning: cards[1].front: same front as card 'osteoclast-role' at "
            "cards/sample/advanced.yaml:25; merge the two cards or reword one"
        ),
        "1 error, 1 warning; nothing was written",
    ]
