"""The Anki note types tierdeck writes: one per card type, with fields, templates, CSS and stable ids.

No JavaScript anywhere: it is where mobile clients break. Night mode is styled explicitly for the
desktop and AnkiMobile (`.nightMode`) and AnkiDroid (`.night_mode`); phones get `.mobile` rules.

Each note type has a `version`. Its *schema* (kind, field names, template names) may only change
together with a new version, because Anki refuses to update notes whose note type changed schema;
template wording and CSS may change freely and reach students on the next import.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cached_property

import genanki

CSS = """\
.card {
  font-family: -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  font-size: 20px; line-height: 1.5; text-align: center;
  color: #1f2430; background-color: #fbfbfd; padding: 0 12px;
}
.td { max-width: 44em; margin: 0 auto; }
.td-kind { font-size: .7em; letter-spacing: .06em; text-transform: uppercase; color: #6b7385; margin-bottom: .4em; }
.td-title { font-size: .8em; font-weight: 600; color: #3d4a63; margin-bottom: .5em; }
.td-prompt { font-size: 1.15em; font-weight: 600; }
.td-answer { margin-top: .2em; }
.td-extra { margin-top: 1em; font-size: .85em; font-style: italic; color: #5b4a9b; }
.td-source { margin-top: 1.4em; font-size: .65em; color: #8a93a6; }
.td-ask { font-size: .85em; color: #3d4a63; margin-bottom: .6em; }
hr#answer { border: 0; border-top: 1px solid #d5d9e2; margin: .8em 0; }
.cloze { font-weight: bold; color: #0b63c4; }
ul, ol { display: inline-block; text-align: left; margin: .3em auto; }
ol.td-steps { padding-left: 1.6em; }
ol.td-steps li { margin: .2em 0; }
img { max-width: 85%; height: auto; }
table { border-collapse: collapse; margin: .4em auto; font-size: .78em; text-align: left; }
th, td { border: 1px solid #c9ced8; padding: .35em .55em; vertical-align: top; }
th { background-color: #eef1f6; }
td.td-hit-row, th.td-hit-row, td.td-hit-col, th.td-hit-col { background-color: #fff4cc; }
td.td-hit { background-color: #ffe08a; outline: 2px solid #c99400; }
.nightMode.card, .night_mode .card, .card.night_mode { color: #e6e9ef; background-color: #1f2430; }
.nightMode .td-kind, .night_mode .td-kind, .nightMode .td-source, .night_mode .td-source { color: #9aa3b5; }
.nightMode .td-title, .night_mode .td-title, .nightMode .td-ask, .night_mode .td-ask { color: #c3cbe0; }
.nightMode .td-extra, .night_mode .td-extra { color: #c4b5fd; }
.nightMode .cloze, .night_mode .cloze { color: #7cc4ff; }
.nightMode th, .night_mode th { background-color: #2b3242; }
.nightMode th, .nightMode td, .night_mode th, .night_mode td { border-color: #465066; }
.nightMode td.td-hit-row, .nightMode td.td-hit-col, .nightMode th.td-hit-col, .nightMode th.td-hit-row,
.night_mode td.td-hit-row, .night_mode td.td-hit-col, .night_mode th.td-hit-col, .night_mode th.td-hit-row
  { background-color: #3a3522; }
.nightMode td.td-hit, .night_mode td.td-hit { background-color: #5c4a12; outline-color: #e0b000; }
.nightMode hr#answer, .night_mode hr#answer { border-top-color: #465066; }
.mobile .card, .mobile.card { font-size: 18px; padding: 0 6px; }
.mobile img { max-width: 100%; }
.mobile ul, .mobile ol { display: block; width: 100%; }
.mobile table { width: 100%; font-size: .72em; }
"""


@dataclass(frozen=True)
class Template:
    """One card template: what the question and the answer side show."""

    name: str
    front: str
    back: str


@dataclass(frozen=True)
class NoteType:
    """One note type: what Anki stores, plus the version that guards its schema."""

    key: str  # the card type it serves
    name: str
    version: int
    fields: tuple[str, ...]
    templates: tuple[Template, ...]
    cloze: bool = False
    css: str = CSS

    @cached_property
    def model_id(self) -> int:
        """Stable forever for this (key, version): derived, never random, never the time."""
        return stable_id(f"tierdeck/notetype/{self.key}/v{self.version}")

    @property
    def schema(self) -> dict:
        """What Anki compares before updating notes: kind, field names and template names, in order."""
        return {"cloze": self.cloze, "fields": list(self.fields), "templates": [t.name for t in self.templates]}

    @property
    def content(self) -> dict:
        """Everything a student's Anki receives for this note type."""
        return {
            **self.schema,
            "name": self.name,
            "templates": [[t.name, t.front, t.back] for t in self.templates],
            "css": self.css,
        }

    @cached_property
    def content_hash(self) -> str:
        """Changes whenever anything the student receives changes."""
        return hashlib.sha256(json.dumps(self.content, sort_keys=True).encode()).hexdigest()

    def model(self) -> genanki.Model:
        """A fresh genanki model (genanki mutates templates when writing, so never share one)."""
        return genanki.Model(
            self.model_id,
            self.name,
            fields=[{"name": name} for name in self.fields],
            templates=[{"name": t.name, "qfmt": t.front, "afmt": t.back} for t in self.templates],
            css=self.css,
            model_type=genanki.Model.CLOZE if self.cloze else genanki.Model.FRONT_BACK,
        )


def stable_id(key: str) -> int:
    """A positive id in [2**30, 2**31) derived from `key` (the range genanki and Anki's add-ons use)."""
    digest = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")
    return (1 << 30) + digest % (1 << 30)


def _card(inner: str) -> str:
    return f'<div class="td">{inner}</div>'


def _answer(inner: str) -> str:
    """An answer side: `inner`, then Extra and Source when the note has them."""
    return f'<div class="td">{inner}{_BACK}</div>'


_BACK = (
    '{{#Extra}}<div class="td-extra">{{Extra}}</div>{{/Extra}}'
    '{{#Source}}<div class="td-source">Source: {{Source}}</div>{{/Source}}'
)
_RULE = '<hr id="answer">'

BASIC = NoteType(
    key="basic",
    name="tierdeck Basic",
    version=1,
    fields=("Front", "Back", "Extra", "Source", "CardId"),
    templates=(
        Template(
            "Question",
            front=_card('<div class="td-prompt">{{Front}}</div>'),
            back=_answer('<div class="td-prompt">{{Front}}</div>' + _RULE + '<div class="td-answer">{{Back}}</div>'),
        ),
    ),
)

_DEFINE = '<div class="td-kind">Define</div><div class="td-prompt">{{Term}}</div>'
_WHICH = '<div class="td-kind">Which term?</div><div class="td-answer">{{Definition}}</div>'
TERM = NoteType(
    key="term",
    name="tierdeck Term",
    version=1,
    fields=("Term", "Definition", "Reverse", "Extra", "Source", "CardId"),
    templates=(
        Template(
            "Term to definition",
            front=_card(_DEFINE),
            back=_answer(_DEFINE + _RULE + '<div class="td-answer">{{Definition}}</div>'),
        ),
        Template(
            "Definition to term",
            # only notes with `reverse: true` (a non-empty Reverse field) get this card
            front="{{#Reverse}}" + _card(_WHICH) + "{{/Reverse}}",
            back=_answer(_WHICH + _RULE + '<div class="td-prompt">{{Term}}</div>'),
        ),
    ),
)

CLOZE = NoteType(
    key="cloze",
    name="tierdeck Cloze",
    version=1,
    fields=("Text", "Extra", "Source", "CardId"),
    templates=(
        Template(
            "Cloze",
            front=_card('<div class="td-answer">{{cloze:Text}}</div>'),
            back=_answer('<div class="td-answer">{{cloze:Text}}</div>'),
        ),
    ),
    cloze=True,
)

_MECHANISM = '<div class="td-kind">Mechanism</div><div class="td-title">{{Title}}</div>{{cloze:Steps}}'
MECHANISM = NoteType(
    key="mechanism",
    name="tierdeck Mechanism",
    version=1,
    fields=("Title", "Steps", "Extra", "Source", "CardId"),
    templates=(Template("Hidden step", front=_card(_MECHANISM), back=_answer(_MECHANISM)),),
    cloze=True,
)

TABLE = NoteType(
    key="table",
    name="tierdeck Table",
    version=1,
    fields=("Title", "Table", "Row", "Column", "Extra", "Source", "CardId"),
    templates=(
        Template(
            "Hidden cell",
            front=_card(
                '<div class="td-title">{{Title}}</div><div class="td-ask">{{Row}} &middot; {{Column}}?</div>'
                "{{cloze:Table}}"
            ),
            back=_answer(
                '<div class="td-title">{{Title}}</div><div class="td-ask">{{Row}} &middot; {{Column}}</div>'
                "{{cloze:Table}}"
            ),
        ),
    ),
    cloze=True,
)

NOTE_TYPES: dict[str, NoteType] = {nt.key: nt for nt in (BASIC, TERM, CLOZE, MECHANISM, TABLE)}
