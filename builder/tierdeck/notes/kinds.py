"""Card types: for each `type:` a card file can hold, the notes it fills and what only it can get wrong.

A kind turns one validated card into the fields of its note(s), by field name; `tierdeck.notes` puts
those into the card's note type (the kind's own built-in one, or the card's `notetype:`), adds what all
kinds share (hint, extra, evidence, source, card id) and computes the identity. A kind also knows its
questions (`fronts`, for lint) and what must not repeat in a deck (`prompts`).
"""

from __future__ import annotations

import html as html_module
import re
from collections.abc import Callable
from dataclasses import dataclass
from difflib import get_close_matches
from typing import Any

from tierdeck.errors import YamlPath
from tierdeck.format.schema import Evidence, slugify, unicode_slug
from tierdeck.notes.render import plain_text
from tierdeck.portable.cloze import CLOZE_RE, ONE_COLON, hidden, nested_opener, parse_clozes, revealed, unclosed_openers

# Renders one text of the card (markdown or HTML, per the card's `format`), located by its YAML path below
# the card; problems found on the way are collected by the caller.
Render = Callable[..., str]
Problem = tuple[YamlPath, str]  # (where below the card, message)


@dataclass(frozen=True)
class NoteParts:
    """What a kind gives one note: its key, its fields by name, and per-note overrides (a table row's)."""

    key: str  # the card id, or `card/row/column` for a table cell
    fields: dict[str, str]
    where: YamlPath = ()  # below the card: where this note comes from (a table cell's row)
    extra: Any = None  # a table row's own extra text, used instead of the card's
    evidence: Evidence | None = None  # a table row's (or cell's) own evidence
    evidence_at: YamlPath = ()  # where that evidence is written, below the card


class Kind:
    """The behaviour every card type shares; each type overrides what differs."""

    type: str
    title: str  # how the preview and stats name it
    notetype: str  # the built-in note type its cards fill unless they name another
    prompt_field: str | None = None  # where a `hint:` is shown (None: this kind takes no hint)

    def notes(self, card: Any, render: Render) -> list[NoteParts]:
        """The fields of each note the card becomes."""
        raise NotImplementedError

    def check(self, card: Any) -> list[Problem]:
        """What the schema alone cannot say about this card."""
        return []

    def fronts(self, card: Any) -> list[tuple[YamlPath, str]]:
        """The author's text each of the card's questions shows (for lint)."""
        return []

    def prompts(self, card: Any) -> list[tuple[str, YamlPath, str]]:
        """(what, where, text) of what must not repeat within a deck."""
        return []


class Basic(Kind):
    type, title, notetype, prompt_field = "basic", "Basic", "basic", "Front"

    def notes(self, card, render):
        return [NoteParts(card.id, {"Front": render(card.front, "front"), "Back": render(card.back, "back")})]

    def fronts(self, card):
        return [(("front",), card.front)]

    def prompts(self, card):
        return [("front", ("front",), card.front)]


class Term(Kind):
    type, title, notetype, prompt_field = "term", "Term", "term", "Term"

    def notes(self, card, render):
        fields = {
            "Term": render(card.term, "term"),
            "Definition": render(card.definition, "definition"),
            "Reverse": "y" if card.reverse else "",
        }
        return [NoteParts(card.id, fields)]

    def fronts(self, card):
        return [(("term",), card.term)] + ([(("definition",), card.definition)] if card.reverse else [])

    def prompts(self, card):
        return [("term", ("term",), card.term)]


class ClozeKind(Kind):
    type, title, notetype, prompt_field = "cloze", "Cloze", "cloze", "Text"

    def notes(self, card, render):
        return [NoteParts(card.id, {"Text": render(card.text, "text")})]

    def check(self, card):
        return [(("text",), message) for message in cloze_problems(card.text)]

    def fronts(self, card):
        return [(("text",), card.text)]

    def prompts(self, card):
        return [("cloze text", ("text",), revealed(parse_clozes(card.text)))]


class Mechanism(Kind):
    type, title, notetype, prompt_field = "mechanism", "Mechanism", "mechanism", "Title"

    def notes(self, card, render):
        steps = "".join(f"<li>{ghosted(i, render(step, 'steps', i - 1))}</li>" for i, step in enumerate(card.steps, start=1))
        fields = {"Title": render(card.title, "title"), "Steps": f'<ol class="td-steps">{steps}</ol>'}
        return [NoteParts(card.id, fields)]

    def check(self, card):
        return [
            (("steps", i), "a step cannot contain '{{' or '}}' (each step is hidden as a cloze); remove them")
            for i, step in enumerate(card.steps)
            if "{{" in step or "}}" in step
        ]


class Table(Kind):
    type, title, notetype, prompt_field = "table", "Table", "table", "Title"

    def notes(self, card, render):
        headers = [render(column.title, "columns", j) for j, column in enumerate(card.columns)]
        cells = [[render(cell, "rows", i, j) for j, cell in enumerate(row.cells)] for i, row in enumerate(card.rows)]
        row_keys, column_keys = table_keys(card)
        title = render(card.title, "title")
        notes = []
        for i, row in enumerate(card.rows):
            extra = render(row.extra, "rows", i, "extra") if row.extra is not None else None
            for j in range(1, len(card.columns)):
                if not asked(card, row, column_keys, j):
                    continue
                key = f"{card.id}/{row_keys[i]}/{column_keys[j]}"
                fields = {
                    "Title": title,
                    "Table": _table_html(headers, cells, i, j),
                    "Row": cells[i][0],
                    "Column": headers[j],
                }
                if column_keys[j] in row.cell_evidence:
                    evidence, at = row.cell_evidence[column_keys[j]], ("rows", i, "cell_evidence", column_keys[j])
                else:
                    evidence, at = row.evidence, ("rows", i, "evidence")
                notes.append(NoteParts(key, fields, ("rows", i), extra, evidence, at))
        return notes

    def check(self, card):
        problems: list[Problem] = []
        width = len(card.columns)
        for i, row in enumerate(card.rows):
            if len(row.cells) != width:
                problems.append(
                    (
                        ("rows", i),
                        f"row has {len(row.cells)} cells but the table has {width} columns; add cells so each row "
                        f"has {width}"
                        if len(row.cells) < width
                        else f"row has {len(row.cells)} cells but the table has {width} columns; a ',' inside a cell "
                        "splits it in two: put each cell that holds a comma in quotes, e.g. [\"Thiazides (HCTZ, "
                        f"chlorthalidone)\", DCT], or remove cells so each row has {width}",
                    )
                )
            for j, cell in enumerate(row.cells):
                if "{{" in cell or "}}" in cell:
                    problems.append(
                        (("rows", i, j), "a cell cannot contain '{{' or '}}' (each cell is hidden as a cloze); remove them")
                    )
        for j, column in enumerate(card.columns):
            if "{{" in column.title or "}}" in column.title:
                problems.append(
                    (
                        ("columns", j),
                        "a column header cannot contain '{{' or '}}' (the table is one cloze field); remove them",
                    )
                )
        row_keys, column_keys = table_keys(card)
        if card.columns and not card.columns[0].ask:
            problems.append(
                (("columns", 0, "ask"), "the first column names each row and is never asked; remove 'ask: false'")
            )
        for i, row in enumerate(card.rows):
            for key in row.cell_evidence:
                if key not in column_keys[1:]:
                    hint = f"did you mean '{m[0]}'?" if (m := get_close_matches(key, column_keys[1:], 1)) else ""
                    problems.append(
                        (
                            ("rows", i, "cell_evidence", key),
                            f"'{key}' is not a key of an asked column; {hint or 'use one of: ' + ', '.join(column_keys[1:])}",
                        )
                    )
                elif not asked(card, row, column_keys, column_keys.index(key)):
                    problems.append(
                        (
                            ("rows", i, "cell_evidence", key),
                            f"cell '{key}' is shown but not asked, so no card carries this evidence; remove it here",
                        )
                    )
            for n, key in enumerate(row.shown_only):
                if key not in column_keys[1:]:
                    hint = f"did you mean '{m[0]}'?" if (m := get_close_matches(key, column_keys[1:], 1)) else ""
                    problems.append(
                        (
                            ("rows", i, "shown_only", n),
                            f"'{key}' is not the key of a column after the first; "
                            f"{hint or 'use one of: ' + ', '.join(column_keys[1:])}",
                        )
                    )
        if len(card.columns) > 1 and len(card.rows) and not any(
            asked(card, row, column_keys, j) for row in card.rows for j in range(1, len(card.columns))
        ):
            problems.append(
                (
                    ("rows",),
                    "no cell of this table is asked, so it makes no card; ask at least one cell, or remove the table",
                )
            )
        for what, keys in (("row", row_keys), ("column", column_keys)):
            seen: dict[str, int] = {}
            for index, key in enumerate(keys):
                if key in seen:
                    fix = (
                        "give one row an id: {id: ..., cells: [...]}" if what == "row" else "give one an id: {id: ..., title: ...}"
                    )
                    problems.append(
                        ((f"{what}s", index), f"{what} key '{key}' is used by {what}s[{seen[key]}] too; {fix}")
                    )
                seen.setdefault(key, index)
        return problems


class Note(Kind):
    type, title, notetype = "note", "Note", ""  # always names its note type

    def notes(self, card, render):
        return [NoteParts(card.id, {name: render(text, "fields", name) for name, text in card.fields.items()})]

    def check(self, card):
        return [
            (("fields", name), message)
            for name, text in card.fields.items()
            if "{{c" in text
            for message in cloze_problems(text)
            if "at least one deletion" not in message
        ]

    def fronts(self, card):
        first = next(iter(card.fields.items()), None)
        return [(("fields", first[0]), first[1])] if first else []


KINDS: dict[str, Kind] = {k.type: k for k in (Basic(), Term(), ClozeKind(), Mechanism(), Table(), Note())}


def asked(card, row, column_keys: list[str], j: int) -> bool:
    """Whether the cell of `row` in column `j` (after the first) is asked as a card, not only shown."""
    return card.columns[j].ask and column_keys[j] not in row.shown_only


def table_keys(card) -> tuple[list[str], list[str]]:
    """The row and column keys of a table: ids where given, else slugs of the first cell and the header.

    A title with no Latin letters or digits (Greek, Chinese, Arabic) slugs to nothing; such titles, and
    titles whose Latin slugs collide, get Unicode keys instead. A table whose keys collided did not build
    before, so no key of a cell students already have changes.
    """

    def keys(texts: list[str | None], ids: list[str | None]) -> list[str]:
        latin = [i or slugify(t or "") for t, i in zip(texts, ids, strict=True)]
        clashing = {k for k in latin if latin.count(k) > 1}
        return [
            k if i or (k != "x" and k not in clashing) or not t else unicode_slug(t) or k
            for k, t, i in zip(latin, texts, ids, strict=True)
        ]

    rows = keys([row.cells[0] if row.cells else None for row in card.rows], [row.id for row in card.rows])
    columns = keys([column.title for column in card.columns], [column.id for column in card.columns])
    return rows, columns


ONE_BRACE = re.compile(r"(?<!\{)\{c(\d+)::")  # `{c1::`: a deletion missing a brace


def cloze_problems(text: str) -> list[str]:
    """A cloze text must hide something Anki can ask: at least one deletion, numbered from 1, not empty."""
    unclosed = unclosed_openers(text)
    if unclosed:
        return [f"the deletion opened with '{{{{c{unclosed[0]}::' is never closed; end it with '}}}}'"]
    nested = nested_opener(text)
    if nested:
        return [
            f"deletion c{nested[1]} sits inside deletion c{nested[0]}; the package would hold no card for the "
            "inner one, so write each deletion on its own, e.g. {{c1::Osteoblasts}} {{c2::build}} bone"
        ]
    deletions = CLOZE_RE.findall(text)
    if not deletions:
        if ONE_COLON.search(text):
            return ["a cloze deletion takes two colons; write {{c1::answer}}, not {{c1:answer}}"]
        return ["a cloze card needs at least one deletion; mark the answer like {{c1::answer}}"]
    problems = []
    for number, answer in deletions:
        if any(answer.count(opening) > answer.count(closing) for opening, closing in (("\\(", "\\)"), ("\\[", "\\]"))):
            problems.append(
                f"the formula in deletion c{number} holds '}}}}', which ends the deletion early in Anki; put a space "
                "between the two braces ('} }'), which MathJax ignores"
            )
    for stray in ONE_BRACE.finditer(CLOZE_RE.sub("", text)):
        problems.append(
            f"'{stray.group()}' opens deletion c{stray.group(1)} with one brace, so Anki shows it as text; write "
            f"'{{{{c{stray.group(1)}::' (two braces), and close it with '}}}}'"
        )
    if any(int(number) == 0 for number, _ in deletions):
        problems.append("cloze deletions are numbered from 1; write {{c1::...}} instead of {{c0::...}}")
    if any(not answer.split("::", 1)[0].strip() for _, answer in deletions):
        problems.append("a cloze deletion hides nothing; write the answer between '::' and '}}'")
    return problems


def ghosted(number: int, html: str) -> str:
    """Deletion `number` hiding `html`, in a box that keeps the room of its answer on the question side too.

    The answer's text, invisible, sits under the deletion (`.td-cz::before` shows the data-ghost attribute
    with visibility: hidden): whatever comes after a hidden step or cell stays where it is when the card
    flips. An attribute, not text: Anki's browser and search see only `[...]` on the question side."""
    ghost = html_module.escape(hidden(plain_text(html)), quote=True)
    return f'<span class="td-cz" data-ghost="{ghost}">{{{{c{number}::{hidden(html)}}}}}</span>'


def _table_html(headers: list[str], cells: list[list[str]], hit_row: int, hit_col: int) -> str:
    """The table for the cell at (hit_row, hit_col), asked as cloze c1, for every screen.

    Wide screens show the whole table with the asked cell, its row's first cell and its column's header
    marked; phones (the CSS switches below 600 px) show the asked row as "column: value" lines and the
    whole table behind a disclosure, so no card is wider than the phone."""

    def whole(small: bool) -> str:
        marked = ' class="td-hit-colhead"'
        head = "".join(f"<th{marked if j == hit_col and not small else ''}>{h}</th>" for j, h in enumerate(headers))
        body = []
        for i, row in enumerate(cells):
            tds = []
            for j, cell in enumerate(row):
                if i == hit_row and j == hit_col:
                    tds.append(f'<td class="td-hit">{ghosted(1, cell)}</td>')
                elif i == hit_row and j == 0 and not small:
                    tds.append(f'<td class="td-hit-rowhead">{cell}</td>')
                else:
                    tds.append(f"<td>{cell}</td>")
            body.append(f"<tr>{''.join(tds)}</tr>")
        return f'<table class="td-table"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'

    items = "".join(
        f'<div class="td-rowitem{" td-hit-item" if j == hit_col else ""}"><dt>{headers[j]}</dt>'
        f"<dd>{ghosted(1, cells[hit_row][j]) if j == hit_col else cells[hit_row][j]}</dd></div>"
        for j in range(1, len(headers))
    )
    return (
        f'<div class="td-tbl">{whole(False)}<dl class="td-rowlist">{items}</dl>'
        f'<details class="td-whole"><summary>Whole table</summary>{whole(True)}</details></div>'
    )
