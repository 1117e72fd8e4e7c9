"""YAML is read as plain data only: no Python objects, bounded alias expansion, a size limit, text kept as written."""

from __future__ import annotations

import sqlite3
import time
import zipfile
from pathlib import Path

import pytest
import yaml
from yaml.constructor import SafeConstructor

from tierdeck.format import yamlio


def parse(text: str):
    return yamlio.parse(Path("cards/a.yaml"), text)


def only_problem(text: str) -> tuple[int | None, str]:
    data, problems = parse(text)
    assert data is None
    (problem,) = problems
    return problem.line, problem.message


def test_yaml_safety__the_loader_is_the_safe_one_and_knows_no_python_tags():
    assert issubclass(yamlio._Loader, SafeConstructor)
    assert not issubclass(yamlio._Loader, yaml.constructor.FullConstructor)
    tags = [*yamlio._Loader.yaml_constructors, *yamlio._Loader.yaml_multi_constructors]
    assert not [tag for tag in tags if tag and "python" in tag]


@pytest.mark.parametrize(
    "tag",
    [
        "!!python/object/apply:os.system",
        "!!python/object/new:os.system",
        "!!python/object:tierdeck.errors.Diagnostic",
        "!!python/name:os.system",
        "!!python/module:os",
        "!!python/tuple",
    ],
)
def test_yaml_safety__python_object_tags_are_refused_and_never_run(tag, tmp_path):
    marker = tmp_path / "pwned"
    line, message = only_problem(f"tier: one\ncards:\n  - front: {tag} ['touch {marker}']\n")
    assert line == 3
    assert message == (
        f"invalid YAML: the tag '{tag}' asks for a Python object, which tierdeck never creates (it reads plain data "
        "only); remove the tag"
    )
    assert not marker.exists()


@pytest.mark.parametrize("tag", ["!!binary", "!!set", "!!omap", "!!pairs", "!custom"])
def test_yaml_safety__other_explicit_tags_are_refused_with_a_message(tag):
    line, message = only_problem(f"a: 1\nb: {tag} x\n")
    assert line == 2
    assert message.startswith(f"invalid YAML: the tag '{tag}' is not allowed (tierdeck reads plain data only)")


def _laughs(levels: int) -> str:
    text = 'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
    for i in range(1, levels):
        text += f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]\n"
    return text + f"cards: *a{levels - 1}\n"


ALIASES = (
    "cards/a.yaml:1: aliases ('*name') in this file expand to more than 1,000,000 values; write the values out "
    "instead of nesting aliases"
)


@pytest.mark.parametrize("levels", [7, 9, 12])
def test_yaml_safety__billion_laughs_fails_fast_with_a_message(levels):
    started = time.perf_counter()
    _, problems = parse(_laughs(levels))
    elapsed = time.perf_counter() - started
    assert [p.render() for p in problems] == [ALIASES]
    assert elapsed < 2, f"{elapsed:.2f} s"


def test_yaml_safety__one_big_anchor_used_many_times_is_bounded_too():
    text = "a: &a [" + ", ".join(["x"] * 10_000) + "]\nb: [" + ", ".join(["*a"] * 200) + "]\n"
    started = time.perf_counter()
    _, problems = parse(text)
    assert [p.render() for p in problems] == [ALIASES]
    assert time.perf_counter() - started < 2


AMPLIFIED = (
    "cards/a.yaml:1: aliases ('*name') in this file expand to more than 10 MB of text; write long text once, not "
    "through aliases used many times"
)


def test_yaml_safety__one_long_anchored_text_used_many_times_is_bounded_by_bytes(mini):
    """Review M9: 1,500 uses of one 1 MB string were a 1 MB file, a 1.5 GB collection and 4.5 GB of memory."""
    big = "Long answer. " * 4_000  # 52 KB; 300 uses are 15 MB of text from a 70 KB file
    cards = "".join(f"  - {{type: basic, id: c{i}, front: Question {i}?, back: *big}}\n" for i in range(300))
    mini.write("cards/a.yaml", f"tier: one\nsource: S\nanchors: &big '{big}'\ncards:\n{cards}")
    assert (mini.root / "cards" / "a.yaml").stat().st_size < 100_000
    result = mini.run("check", "--strict")
    assert result.exit_code == 1
    assert result.stderr == f"{AMPLIFIED}\n1 error; nothing was written\n"
    _, problems = parse(f"a: &a '{big}'\nb: [" + ", ".join(["*a"] * 150) + "]\n")  # 7.8 MB: allowed
    assert problems == []


def test_yaml_safety__modest_aliases_are_fine():
    data, problems = parse("base: &b [cells, bone]\ncards:\n  - {tags: *b}\n  - {tags: *b}\n")
    assert problems == []
    assert data["cards"][1]["tags"] == ["cells", "bone"]


def test_yaml_safety__a_self_referencing_alias_neither_loops_nor_crashes():
    data, problems = parse("cards: &loop\n  - *loop\n")
    assert problems == []
    assert data["cards"][0] is data["cards"]


def test_yaml_safety__deep_nesting_is_a_message_not_a_crash():
    line, message = only_problem("cards: " + "[" * 5000 + "]" * 5000 + "\n")
    assert (line, message) == (1, "invalid YAML: values are nested too deeply; flatten the structure")


def test_yaml_safety__a_file_over_the_size_limit_is_refused_unread(tmp_path, monkeypatch):
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (yamlio.MAX_FILE_BYTES + 1))
    read = []
    monkeypatch.setattr(Path, "read_bytes", lambda self: read.append(self))
    text, problems = yamlio.read_text(big)
    assert text is None and read == []
    assert [p.render(tmp_path) for p in problems] == [
        "big.yaml:1: the file is 5.1 MB, over the limit of 5 MB for one YAML file; split it into several files"
    ]


def test_yaml_safety__a_file_at_the_size_limit_is_read(tmp_path):
    edge = tmp_path / "edge.yaml"
    edge.write_bytes(b"a: 1\n" + b"#" * (yamlio.MAX_FILE_BYTES - 6) + b"\n")
    text, problems = yamlio.read_text(edge)
    assert problems == [] and text.startswith("a: 1\n")


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("1.10", "1.10"),  # a float would make it 1.1
        ("1:30", "1:30"),  # YAML 1.1 reads this as the base-60 number 90
        ("2024-01-01", "2024-01-01"),  # a date object otherwise
        ("0x1F", "0x1F"),  # 31 otherwise
        ("007", "007"),  # 7 otherwise
        ("1_000", "1_000"),  # 1000 otherwise
        (".inf", ".inf"),
        ("12", "12"),
    ],
)
def test_yaml_safety__numbers_and_dates_stay_the_text_the_author_wrote(written, read):
    data, problems = parse(f"back: {written}\n")
    assert problems == []
    assert data == {"back": read}


def test_yaml_safety__yes_no_are_text_true_false_are_booleans_and_null_stays_empty():
    # YAML 1.2 booleans (docs/format.md): `back: no` is the word, not false.
    data, _ = parse("a: yes\nb: false\nc: ~\nd:\ne: No\nf: on\ng: TRUE\n")
    assert data == {"a": "yes", "b": False, "c": None, "d": None, "e": "No", "f": "on", "g": True}


def test_yaml_safety__keys_are_always_text():
    data, problems = parse("no: 1\n1: 2\nnull: 3\ntrue: 4\n2024-01-01: 5\n")
    assert problems == []
    assert list(data) == ["no", "1", "null", "true", "2024-01-01"]
    line, message = only_problem("? [a, b]\n: 1\n")
    assert (line, message) == (
        1,
        "invalid YAML: a key must be plain text, not a list or mapping; write the key as text",
    )


def test_yaml_safety__duplicate_keys_are_refused_but_merges_may_override():
    line, message = only_problem("a: 1\nb: 2\na: 3\n")
    assert (line, message) == (
        3,
        "the key 'a' appears twice in one mapping (first on line 1); remove or rename one of them",
    )
    data, problems = parse("base: &b {tier: one, source: x}\ncard: {<<: *b, tier: two}\n")
    assert problems == [] and data["card"] == {"tier": "two", "source": "x"}


def test_yaml_safety__a_byte_order_mark_is_accepted_and_utf16_is_refused(tmp_path):
    bom = tmp_path / "bom.yaml"
    bom.write_bytes(b"\xef\xbb\xbftier: one\n")
    assert yamlio.load(bom) == ({"tier": "one"}, [])
    utf16 = tmp_path / "utf16.yaml"
    utf16.write_bytes("tier: one\n".encode("utf-16"))
    _, problems = yamlio.load(utf16)
    assert [p.render(tmp_path) for p in problems] == [
        "utf16.yaml:1: is saved as UTF-16; save it as UTF-8 in your editor"
    ]


def test_yaml_safety__a_control_character_is_located_on_its_line():
    line, message = only_problem("a: é\nb: ok\nc: bell\x07\n")
    assert line == 3
    assert message.startswith("invalid YAML: the invisible control character U+0007 is not allowed")


def test_yaml_safety__locating_a_line_never_expands_aliases(tmp_path):
    laughs = tmp_path / "laughs.yaml"
    laughs.write_text(_laughs(12), encoding="utf-8")
    started = time.perf_counter()
    # cards -> *a11 (line 12) -> item 3, *a10 (line 11) -> item 2, *a9: where that value is written, line 10
    assert yamlio.Locator().line(laughs, ("cards", 3, 2)) == 10
    assert time.perf_counter() - started < 2


def test_yaml_safety__numbers_and_dates_reach_anki_as_written(mini):
    mini.write(
        "cards/a.yaml",
        """
        tier: one
        source: 2024-01-01
        cards:
          - type: basic
            id: q1
            front: Cortical to trabecular turnover?
            back: 1:30
            extra: 1.10
        """,
    )
    assert mini.run("build").exit_code == 0
    with zipfile.ZipFile(mini.root / "dist" / "mini.apkg") as zf:
        (mini.root / "c.anki2").write_bytes(zf.read("collection.anki2"))
    with sqlite3.connect(mini.root / "c.anki2") as conn:
        ((fields,),) = conn.execute("SELECT flds FROM notes").fetchall()
    assert fields.split("\x1f") == ["Cortical to trabecular turnover?", "1:30", "1.10", "2024-01-01", "q1"]


def test_yaml_safety__an_escape_that_makes_a_control_character_is_located_at_its_value():
    data, problems = parse('cards:\n  - front: "a\\bb"\n    back: "C:\\\\path"\n')
    assert data is None
    assert [(p.path, p.message.split(",")[0]) for p in problems] == [
        (("cards", 0, "front"), "cards[0].front: holds the invisible control character U+0008")
    ]
