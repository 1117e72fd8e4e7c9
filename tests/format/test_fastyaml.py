"""yaml-rs may only speed parsing up: on every file it must return exactly what tierdeck's PyYAML loader returns."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from tierdeck.format import fastyaml
from tierdeck.format.yamlio import MAX_EXPANDED_VALUES, _parse_pyyaml, read_text

REPO = Path(__file__).resolve().parents[2]


def _both(path: Path, text: str):
    """(fast result or None when yaml-rs declines, PyYAML result or None when it reports problems)."""
    try:
        fast = fastyaml.load(text, MAX_EXPANDED_VALUES)
        took_fast = True
    except fastyaml.NotFast:
        fast, took_fast = None, False
    reference, problems = _parse_pyyaml(path, text)
    return took_fast, fast, reference, problems


def _bench_files(tmp: Path) -> list[Path]:
    spec = importlib.util.spec_from_file_location("bench_build", REPO / "benchmarks" / "bench_build.py")
    bench = importlib.util.module_from_spec(spec)
    sys.modules["bench_build"] = bench
    spec.loader.exec_module(bench)
    bench.generate(tmp, 2000, 7)
    return sorted(tmp.rglob("*.yaml"))


def test_fastyaml__same_data_as_pyyaml_on_every_shipped_benchmark_and_corpus_file(tmp_path):
    files = [
        *sorted((REPO / "decks").glob("*.yaml")),
        *sorted((REPO / "cards").rglob("*.yaml")),
        *sorted((REPO / "tests" / "sample").rglob("*.yaml")),
        *sorted((REPO / "tests" / "corpus").rglob("*.yaml")),
        *sorted((REPO / "builder" / "tierdeck" / "data").rglob("*.yaml")),
        *_bench_files(tmp_path / "bench"),
    ]
    fast_count = 0
    for path in files:
        text, _ = read_text(path)
        if text is None:
            continue  # not UTF-8 or too large: neither parser sees it
        took_fast, fast, reference, problems = _both(path, text)
        if took_fast:
            fast_count += 1
            assert problems == [], f"yaml-rs accepted {path} which PyYAML refuses: {problems}"
            assert fast == reference, path
    # the fast path is really taken (not a test that always falls back): every shipped and benchmark card file
    shipped = [p for p in files if "corpus" not in p.parts]
    assert fast_count >= len(shipped)


# Documents PyYAML itself writes from random data, in block and flow style, with every quoting style.
_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x85\u2028\u2029"), max_size=30)
_values = st.recursive(
    st.one_of(_text, st.booleans(), st.none()),
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(_text, children, max_size=4)),
    max_leaves=12,
)


@given(data=st.dictionaries(_text, _values, min_size=1, max_size=5), flow=st.booleans(), width=st.integers(20, 200))
def test_fastyaml__same_data_as_pyyaml_on_generated_documents(data, flow, width):
    text = yaml.safe_dump(data, default_flow_style=flow, allow_unicode=True, width=width)
    took_fast, fast, reference, problems = _both(Path("generated.yaml"), text)
    if took_fast:
        assert problems == [] and fast == reference


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("a: !!python/object/apply:os.system ['ls']\n", "tags"),
        ("base: &b {x: 1}\nc:\n  <<: *b\n", "anchors and merge keys"),
        ("a: 1.10\n", "numbers stay the text written"),
        ("a: 1\n---\nb: 2\n", "several documents"),
        ("a: x\x85y\n", "NEL is a line break to PyYAML"),
        ("a: 1\na: 2\n", "duplicate keys are reported by PyYAML"),
        ("\ttier: one\n", "tabs, which PyYAML refuses in indentation"),
        ("a: {id: |x, cells: [b]}\n", "a block-scalar indicator in a flow mapping, which PyYAML refuses"),
        ("a: [b, >c]\n", "a block-scalar indicator in a flow sequence, which PyYAML refuses"),
    ],
)
def test_fastyaml__declines_what_pyyaml_must_decide(text, why):
    with pytest.raises(fastyaml.NotFast):
        fastyaml.load(text, MAX_EXPANDED_VALUES)


# The rule `_block_scalar_in_flow` applies with `str.find` scans, written as the regex it replaced (which cost
# 3 us a card): an opening bracket, then optionally anything up to a ',' or ': ' on the same line, then '|' or '>'.
_BLOCK_IN_FLOW = re.compile(r"[\[{](?:[^\n]*?(?:,|:[ \t]))?[ \t]*[|>]")


@given(st.text(alphabet="[]{},:| >\t\na-", max_size=24))
def test_fastyaml__block_scalar_in_flow_is_the_regex_rule(text):
    assert fastyaml._block_scalar_in_flow(text) == (_BLOCK_IN_FLOW.search(text) is not None)
