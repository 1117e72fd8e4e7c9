"""A fast parser for card files: yaml-rs (Rust, many times faster than PyYAML's C loader), used only where
it returns exactly what tierdeck's PyYAML loader (`tierdeck.yamlio`) would.

PyYAML stays the reference and the fallback: any file using something yaml-rs reads differently (tags,
merge keys, directives, several documents, complex keys, numbers, characters PyYAML refuses) or that
yaml-rs refuses goes to PyYAML, which also explains every error. Tests hold the two to the same data on
every shipped file, every benchmark file and every case of the bad-input corpus.
"""

from __future__ import annotations

import re
from typing import Any

try:
    import yaml_rs
except ImportError:  # pragma: no cover - yaml-rs has wheels for the usual platforms; PyYAML serves otherwise
    yaml_rs = None  # type: ignore[assignment]

# Characters PyYAML refuses, or reads as line breaks where yaml-rs does not (NEL, U+2028, U+2029).
_FOREIGN = re.compile("[^\x09\x0a\x0d\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_BEFORE_INDICATOR = frozenset(" \t\r\n[{,")


def _starts_a_node(text: str, char: str, after: str | None = None) -> bool:
    """Whether `char` occurs where YAML reads it as an indicator: at the start of a line or after a space or
    flow bracket (and, with `after`, followed by one of those characters or the end)."""
    i = text.find(char)
    while i != -1:
        if (i == 0 or text[i - 1] in _BEFORE_INDICATOR) and (
            after is None or i + 1 == len(text) or text[i + 1] in after
        ):
            return True
        i = text.find(char, i + 1)
    return False


def _needs_pyyaml(text: str) -> bool:
    """Tags (`!!python/object` must be refused; yaml-rs would silently drop the tag), anchors (PyYAML bounds
    their expansion and reports self-reference), merge keys, directives, document markers, complex keys,
    and characters the two read differently. Plain `str.find` scans: card text is mostly prose."""
    return (
        _starts_a_node(text, "!")
        or _starts_a_node(text, "&")
        or _starts_a_node(text, "?", " \t\r\n")
        or "<<" in text
        or "\t" in text  # PyYAML refuses tabs where YAML forbids them; yaml-rs is more lenient
        or text.startswith(("---", "...", "%"))
        or "\n---" in text
        or "\n..." in text
        or "\n%" in text
        or _FOREIGN.search(text) is not None
        or _block_scalar_in_flow(text)
    )


def _block_scalar_in_flow(text: str) -> bool:
    """A '|' or '>' starting a node inside a flow collection (`{id: |x}`, `[a, >b]`): PyYAML refuses it (block
    scalars cannot sit in flow context), yaml-rs reads it as plain text. Each '|' and '>' is checked backwards:
    right after an opening bracket, or after ',' or ': ' with a bracket earlier on its line. `str.find` scans (a
    regex over the whole file cost 3 us a card); each line's brackets are looked up once, so it stays linear."""
    for indicator in "|>":
        line_end = first_bracket = -1
        i = text.find(indicator)
        while i != -1:
            j = i - 1
            while j >= 0 and text[j] in " \t":
                j -= 1
            char = text[j] if j >= 0 else ""
            if char in ("[", "{"):
                return True
            if char == "," or (char == ":" and j + 1 < i):
                if i > line_end:  # the first candidate on this line: where its first bracket is
                    start = text.rfind("\n", 0, i) + 1
                    line_end = text.find("\n", i)
                    line_end = len(text) if line_end == -1 else line_end
                    found = [b for b in (text.find("[", start, line_end), text.find("{", start, line_end)) if b != -1]
                    first_bracket = min(found, default=-1)
                if -1 < first_bracket < j:
                    return True
            i = text.find(indicator, i + 1)
    return False


class NotFast(Exception):
    """yaml-rs cannot answer for this text the way PyYAML would; use PyYAML."""


def _as_pyyaml_reads_it(value: Any) -> bool:
    """True when `value` holds only what PyYAML would also produce: no numbers (PyYAML keeps them as the
    text written, `1.10` stays "1.10"), and text keys only."""
    stack = [value]
    while stack:
        item = stack.pop()
        if type(item) is str:  # nearly every node: decided first
            continue
        if isinstance(item, dict):
            for key, child in item.items():
                if not isinstance(key, str):
                    return False
                stack.append(child)
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, (int, float)) and not isinstance(item, bool):
            return False
    return True


def load(text: str, max_values: int) -> Any:
    """The data of `text` via yaml-rs; raises NotFast when PyYAML must decide (or yaml-rs is absent)."""
    if yaml_rs is None or _needs_pyyaml(text):
        raise NotFast
    try:
        data = yaml_rs.loads(
            text,
            parse_datetime=False,
            alias_limits=yaml_rs.AliasLimits(max_total_replayed_events=max_values),
        )
    except Exception as exc:
        raise NotFast from exc
    if not _as_pyyaml_reads_it(data):
        raise NotFast
    return data
