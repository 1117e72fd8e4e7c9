"""Validated cards to Anki notes: rendered, sanitised fields in their note type's order, tags, tier, identity.

A note's GUID comes from the deck and the card id (for a table cell: plus the row and column keys), never
from its text, so correcting a card updates the student's note in place. A card imported from Anki
keeps the GUID it had there (`guid:`). `tierdeck.identity` may still replace a derived GUID with the one
the deck's lock file records (a renamed deck, a card moved from another deck).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from tierdeck.cache import storable
from tierdeck.errors import Diagnostic, YamlPath
from tierdeck.format.schema import Evidence, did_you_mean, format_path
from tierdeck.notes.kinds import KINDS, NoteParts
from tierdeck.notes.loader import CardRef
from tierdeck.notes.media import MediaFile, MediaResolver
from tierdeck.notes.notetypes import NoteTypes, active_content
from tierdeck.notes.render import render
from tierdeck.portable.notetype import NoteType
from tierdeck.portable.templates import TemplateError, card_ordinals

# The tags every note gets from tierdeck itself (not the author): its tier, card type, evidence level and
# the source claim it reports or corrects.
AUTO_TAG_PREFIXES = ("tier::", "type::", "evidence::", "source-claim::")

# What the answer side calls each evidence level (colour-coded by the note types' CSS, never by colour alone).
EVIDENCE_LABELS = {
    "established": "Established",
    "source-claim": "Source's claim",
    "contested": "Contested",
    "not-mainstream": "Not mainstream",
    "refuted": "Refuted",
}
# What the answer side says, after the level, of the source's claim a card reports or corrects.
SOURCE_CLAIM_TEXTS = {
    "unsupported": "The source's claim is unsupported.",
    "contested": "The source's claim is contested.",
    "not-mainstream": "The source's claim is not mainstream.",
    "refuted": "The source's claim is refuted.",
}
# Note types imported from Anki name some fields differently from tierdeck's own.
_FIELD_ALIASES = {"Extra": ("Extra", "Back Extra")}
# The card key an author writes for each field tierdeck fills, for messages.
_AUTHOR_KEYS = {"Extra": "extra (or evidence)", "Source": "source", "Front": "front", "Back": "back", "Text": "text"}


@storable
@dataclass(slots=True)
class NoteSpec:
    """Everything Anki will store for one note."""

    deck_id: str  # the manifest id it was compiled for
    key: str  # the card id, or `card/row/column` for a table cell
    notetype: NoteType
    fields: tuple[str, ...]  # in the note type's order
    tags: tuple[str, ...]
    tier: str
    ordinals: tuple[int, ...]  # the 1-based ordinals of the cards Anki makes from it
    card_id: str  # the id of the YAML card it comes from
    card_type: str  # its `type:`
    file: Path  # the card file
    path: YamlPath  # where in the file: the card, or for a table cell the cell's row
    media: tuple[MediaFile, ...]
    guid: str  # pinned (`guid:`), else '' until `tierdeck.project.identity` gives the lock's or a derived one
    pinned: bool  # the card names its GUID (`guid:`)
    evidence: str | None  # the evidence level, if the card has one
    source_claim: str | None = None  # how the source's claim stands, if the card reports or corrects one
    content_hash: str = ""
    previous_keys: tuple[str, ...] = ()  # its key under the card's previous_ids, newest first

    def __post_init__(self) -> None:
        if not self.content_hash:
            self.content_hash = content_hash(self.notetype.key, self.fields, self.tags)

    @property
    def card_count(self) -> int:
        """How many cards Anki makes from the note."""
        return len(self.ordinals)

    def field(self, name: str) -> str:
        """One field's HTML by name ('' when the note type has no such field)."""
        try:
            return self.fields[self.notetype.fields.index(name)]
        except ValueError:
            return ""


def content_hash(notetype_key: str, fields: tuple[str, ...], tags: tuple[str, ...]) -> str:
    """Changes whenever anything Anki stores for the note changes: note type, fields, tags."""
    # \x1f and \x1e cannot occur in fields or tags (Anki itself separates fields with \x1f)
    payload = "\x1e".join((notetype_key, "\x1f".join(fields), " ".join(sorted(tags))))
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


class _Fields:
    """Renders the texts of one card (markdown or HTML), collecting its media and what is not allowed."""

    def __init__(self, ref: CardRef, media: MediaResolver | None):
        self.ref = ref
        self.resolver = media
        self.html = ref.card.format != "markdown"
        self.verbatim = ref.card.format == "anki"  # an imported note's HTML: the instructor's, sent as written
        self.scripts_allowed = False  # by the note type, once known (`scripts: allowed`)
        self.media: list[MediaFile] = []
        self.problems: list[Diagnostic] = []

    def __call__(self, text: str | None, *where: str | int) -> str:
        """`text` (at `where` below the card) as safe HTML with its media packed."""
        return self.at(text, (*self.ref.path, *where))

    def at(self, text: str | None, path: YamlPath) -> str:
        """`text` at `path` in the card file as safe HTML with its media packed."""
        if text is None:
            return ""
        html, problems = (text, _active(text, self.scripts_allowed)) if self.verbatim else _render(text, self.html)
        if self.resolver is not None and self.resolver.references(html):
            html, found, media_problems = self.resolver.rewrite(html, self.ref.file)
            self.media += found
            problems = (*problems, *media_problems)
        for problem in problems:
            self.problems.append(Diagnostic(self.ref.file, f"{format_path(path)}: {problem}", path=path))
        return html

    def problem(self, where: tuple, message: str) -> None:
        """A problem at `where` below the card."""
        path = (*self.ref.path, *where)
        self.problems.append(Diagnostic(self.ref.file, f"{format_path(path)}: {message}", path=path))


def _active(text: str, allowed: bool) -> tuple[str, ...]:
    """Why verbatim HTML cannot go to students as it is: active content its note type does not allow."""
    found = [] if allowed else active_content(text)
    if not found:
        return ()
    return (
        f"{found[0]} runs code or loads a page on every student's device; remove it, or keep it knowingly: add "
        "'scripts: allowed' to the card's note type file",
    )


@lru_cache(maxsize=4096)
def _render(text: str, html: bool) -> tuple[str, tuple[str, ...]]:
    """`render`, remembered: a file's default source (and any repeated text) is rendered once."""
    rendered, problems = render(text, as_html=html)
    return rendered, tuple(problems)


def expand(
    deck_id: str, ref: CardRef, notetypes: NoteTypes, media: MediaResolver | None = None
) -> tuple[list[NoteSpec], list[Diagnostic]]:
    """The notes one card becomes, and whatever in it cannot be packed."""
    card = ref.card
    kind = KINDS[card.type]
    f = _Fields(ref, media)
    notetype_key = card.notetype or kind.notetype
    notetype = notetypes.get(notetype_key)
    if notetype is None:
        if notetype_key not in notetypes.broken:  # a note type file with errors has reported them
            hint = did_you_mean(notetype_key, list(notetypes))
            if not hint.startswith("did you mean"):
                hint += f", or add notetypes/{notetype_key}.yaml (see 'tierdeck docs notetypes')"
            f.problem(("notetype",), f"unknown note type '{notetype_key}'; {hint}")
        return [], f.problems
    f.scripts_allowed = notetype.scripts_allowed
    parts = kind.notes(card, f)
    source = f(ref.source, "source") if card.source is not None or "Source" in notetype.fields else ""
    hint = f(card.hint, "hint")
    if hint and kind.prompt_field is None:
        f.problem(("hint",), "a note card takes no hint; write the hint into one of its note type's fields")
    extra = f(card.extra, "extra")
    notes = []
    for part in parts:
        fields = dict(part.fields)
        if hint and kind.prompt_field:
            fields[kind.prompt_field] = fields.get(kind.prompt_field, "") + _hint_html(hint)
        evidence: Evidence | None
        if part.evidence is not None:
            evidence, at = part.evidence, (*ref.path, *part.evidence_at)
        elif card.evidence is not None:
            evidence, at = card.evidence, (*ref.path, "evidence")
        else:  # the file's default, written at its top
            evidence, at = ref.evidence, ("evidence",)
        note_html = f.at(evidence.note, (*at, "note")) if evidence is not None and evidence.note else ""
        part_extra = extra if part.extra is None else part.extra
        # a note type's own field of the same name, given under `fields:`, is never overwritten by a card key
        own = part.fields if card.type == "note" else {}
        given = next((name for name in _FIELD_ALIASES["Extra"] if name in own), None)  # Extra, or Back Extra
        if given is None:
            fields["Extra"] = _extra_html(evidence, note_html, part_extra, ref.collapse_extra)
        elif card.extra is not None or card.evidence is not None:
            f.problem(("extra",), f"the card gives '{given}' under fields: and extra or evidence too; keep one")
        if "Source" not in own:
            fields["Source"] = source
        elif card.source is not None:
            f.problem(("source",), "the card gives 'Source' under fields: and source: too; keep one")
        if "CardId" not in own:
            fields["CardId"] = part.key
        values = _fill(notetype, fields, part, f)
        broken = notetype_key in notetypes.broken  # its own errors are reported; its fields still are checked
        try:
            ordinals = card_ordinals(notetype, dict(zip(notetype.fields, values, strict=True)))
        except TemplateError:
            if not broken:
                raise
            ordinals = []
        if not ordinals and not broken:
            f.problem(
                part.where,
                f"this note makes no card: note type '{notetype.key}' shows none of the fields given; fill the "
                "fields its question side shows",
            )
        level = evidence.level if evidence is not None else None
        claim = evidence.source_claim if evidence is not None else None
        tier_tag, type_tag, evidence_tag, claim_tag = AUTO_TAG_PREFIXES
        tags = (
            (*ref.tags, f"{tier_tag}{ref.tier}", f"{type_tag}{card.type}")
            + ((f"{evidence_tag}{level}",) if level else ())
            + ((f"{claim_tag}{claim}",) if claim else ())
        )
        notes.append(
            NoteSpec(
                deck_id=deck_id,
                key=part.key,
                notetype=notetype,
                fields=values,
                tags=tags,
                tier=ref.tier,
                ordinals=tuple(ordinals),
                card_id=card.id,
                card_type=card.type,
                file=ref.file,
                path=(*ref.path, *part.where),
                media=tuple(dict.fromkeys(f.media)),
                guid=card.guid or "",  # pinned, or given by identity (the lock's, else derived)
                pinned=card.guid is not None,
                evidence=level,
                source_claim=claim,
                previous_keys=tuple(old + part.key[len(card.id) :] for old in reversed(card.previous_ids)),
            )
        )
    return notes, f.problems


def _fill(notetype: NoteType, fields: dict[str, str], part: NoteParts, f: _Fields) -> tuple[str, ...]:
    """`fields` in the note type's order; a non-empty field the note type lacks is the author's to fix."""
    values = dict.fromkeys(notetype.fields, "")
    note_card = f.ref.card.type == "note"
    targets = _targets(notetype.fields)
    for name, value in fields.items():
        target = targets.get(name)
        if target is not None:
            values[target] = value
        elif note_card and name in part.fields:
            f.problem(
                ("fields", name),
                f"note type '{notetype.key}' has no field '{name}'; " + did_you_mean(name, list(notetype.fields)),
            )
        elif value and name != "CardId":
            key = _AUTHOR_KEYS.get(name, name.lower())
            f.problem(
                (key.split(" ")[0],) if name in _AUTHOR_KEYS else (),
                f"note type '{notetype.key}' has no field '{name}' for this card's {key}; remove it here, or use a "
                f"note type that has the field ({notetype.where})",
            )
    return tuple(values.values())


@lru_cache(maxsize=256)
def _targets(names: tuple[str, ...]) -> dict[str, str]:
    """The field of a note type (with fields `names`) that each field tierdeck fills goes to: its own, or
    its alias (Extra -> Back Extra in an imported cloze note type)."""
    targets = {name: name for name in names}
    for name, aliases in _FIELD_ALIASES.items():
        found = next((alias for alias in aliases if alias in targets), None)
        if found is not None:
            targets[name] = found
    return targets


def _hint_html(hint: str) -> str:
    """A hint as a disclosure the student opens by tapping: no JavaScript, works on every client."""
    return f'<details class="td-hint"><summary>Hint</summary><div class="td-hint-text">{hint}</div></details>'


def _extra_html(evidence: Evidence | None, note_html: str, extra: str, collapsed: bool) -> str:
    """The Extra field: the evidence line, then the author's extra (collapsed under 'More' if asked)."""
    parts = []
    if evidence is not None:
        label = EVIDENCE_LABELS[evidence.level]
        claim = (
            f' <span class="td-ev-claim">{SOURCE_CLAIM_TEXTS[evidence.source_claim]}</span>'
            if evidence.source_claim
            else ""
        )
        note = f' <span class="td-ev-note">{note_html}</span>' if note_html else ""
        parts.append(
            f'<div class="td-evidence td-ev-{evidence.level}"><b class="td-ev-label">{label}</b>{claim}{note}</div>'
        )
    if extra:
        parts.append(f'<details class="td-more"><summary>More</summary>{extra}</details>' if collapsed else extra)
    return "".join(parts)
