"""One imported Anki note as a tierdeck card: its fields as tierdeck takes them, its card type, id and tier.

Pure functions over plain data; where the card lands and what is written is `tierdeck.importing.plan`'s.

- Fields keep their HTML byte for byte (`format: anki`): the instructor's own markup, which tierdeck sends
  to students as written (its sanitiser is for what authors write in tierdeck). Media references are
  rewritten to the files the import writes next to the cards; the build packs those under their own
  names again, so a student's note holds what it held in Anki.
- A note keeps its own note type (with Anki's id) even when it becomes a tierdeck card type: a note of a
  Basic-shaped type (fields Front and Back, both filled) becomes `type: basic`, of a Cloze-shaped type
  (Text, and Back Extra or Extra) `type: cloze`; every other note `type: note` with its fields by name.
- A card's id is made from its first field's text, so an author can find it; the caller keeps it unique.
- Each Anki deck that holds notes becomes one tier, titled with its path below the top deck
  (`Kinetics::Clearance`), so the subdecks students get are the ones they had.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from tierdeck.format.schema import TAG_PATTERN, slugify
from tierdeck.notes.render import plain_text
from tierdeck.portable.cloze import CLOZE_RE

# The tier of notes that sit in the top deck itself: tierdeck puts every card in a tier's subdeck.
TOP_DECK_TIER = "General"
_IMG = re.compile(r"""<img\b(?:[^<>"']|"[^"<]*"|'[^'<]*')*>""", re.IGNORECASE)
_SRC = re.compile(r"""(\s)src\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.IGNORECASE)
_SOUND = re.compile(r"\[sound:([^\[\]]+)\]")
_FORMULA = re.compile(r"\\\(.*?\\\)|\\\[.*?\\\]", re.DOTALL)  # MathJax: no words to name a card by
_REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.\-]*:|//)", re.IGNORECASE)
# Characters YAML cannot hold (yamlio refuses them) and Anki's own editor never writes.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ID_CHARS = 40
_ID_SCAN = 1000

# How a field's media reference is linked: (path relative to the card file, problem) for a name and a
# kind ("image" or "sound"); a problem means the reference cannot be kept.
MediaLink = Callable[[str, str], tuple[str | None, str | None]]


@dataclass(frozen=True)
class Carried:
    """A field as the card holds it (None: left empty), and what of it could not be carried over."""

    text: str | None
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class CardBody:
    """The keys of a card that come from the note: its type, format and text keys, and what was lost."""

    type: str
    keys: dict  # format and the text keys (front/back, text/extra, or fields)
    problems: list[str] = field(default_factory=list)


def carry_field(raw: str, link: MediaLink) -> Carried:
    """`raw` Anki HTML as the card keeps it: verbatim (`format: anki`) but for its media, linked to their files."""
    problems: list[str] = []
    text = _CONTROL.sub("", raw)
    if text != raw:
        problems.append("it held invisible control characters, which the import left out")
    text = _link_media(text, link, problems)
    return Carried(text or None, tuple(problems))


def _link_media(text: str, link: MediaLink, problems: list[str]) -> str:
    """`text` with each local image and sound pointing at its file next to the cards, or taken out."""

    def image(tag: re.Match) -> str:
        source = _SRC.search(tag.group())
        if source is None:
            return tag.group()
        written = next(v for v in source.groups()[1:] if v is not None)
        name = html.unescape(written)
        if not name or _REMOTE.match(name):
            return tag.group()
        path, problem = link(name, "image")
        if path is None:
            problems.append(_taken_out(problem or "", "image"))
            return ""
        start, end = source.span()
        return f'{tag.group()[:start]}{source.group(1)}src="{path}"{tag.group()[end:]}'

    def sound(tag: re.Match) -> str:
        path, problem = link(html.unescape(tag.group(1)), "sound")
        if path is None:
            problems.append(_taken_out(problem or "", "sound"))
            return ""
        return f"[sound:{path}]"

    if "<" in text:
        text = _IMG.sub(image, text)
    if "[sound:" in text:
        text = _SOUND.sub(sound, text)
    return text


def _taken_out(problem: str, kind: str) -> str:
    """'<what is wrong>, so the import took out the <kind>', then the fix the problem named, if any."""
    what, _, fix = problem.partition("; ")
    return f"{what}, so the import took out the {kind}" + (f"; {fix}" if fix else "")


def card_body(fields: tuple[str, ...], cloze: bool, carried: dict[str, Carried]) -> CardBody:
    """The card type and text keys of a note whose note type has `fields` (in order), filled with `carried`."""
    texts = {name: c.text for name, c in carried.items() if c.text is not None}
    problems = [f"field '{name}': {p}" for name, c in carried.items() for p in c.problems]
    keys: dict = {}
    if not cloze and fields == ("Front", "Back") and len(texts) == 2:
        kind = "basic"
        keys = {"front": texts["Front"], "back": texts["Back"]}
    elif cloze and fields in (("Text",), ("Text", "Back Extra"), ("Text", "Extra")) and "Text" in texts:
        kind = "cloze"
        keys = {"text": texts["Text"]}
        extra = texts.get("Back Extra", texts.get("Extra"))
        if extra is not None:
            keys["extra"] = extra
    else:
        kind = "note"
        keys = {"fields": {name: texts[name] for name in fields if name in texts}}
    return CardBody(kind, {"format": "anki", **keys}, problems)


def id_base(fields: tuple[str, ...]) -> str:
    """A readable card id from the first field with words in it: its first words as a slug ('card' if none)."""
    for text in fields:
        text = text[:_ID_SCAN]  # a name needs the first words only; bounded, so no pattern meets a huge field
        shown = plain_text(_FORMULA.sub(" ", _SOUND.sub(" ", CLOZE_RE.sub(lambda m: m.group(2).split("::")[0], text))))
        slug = slugify(shown)
        if slug == "x":  # no Latin letters or digits
            continue
        words = slug.split("-")
        base = words[0][:_ID_CHARS]
        for word in words[1:]:
            if len(base) + 1 + len(word) > _ID_CHARS:
                break
            base += f"-{word}"
        return base
    return "card"


def unique(base: str, taken: set[str]) -> str:
    """`base`, or `base-2`, `base-3`, ... : the first not in `taken` (which it is added to)."""
    candidate, number = base, 2
    while candidate in taken:
        candidate, number = f"{base}-{number}", number + 1
    taken.add(candidate)
    return candidate


def split_deck(name: str) -> tuple[str, str]:
    """An Anki deck name as (top deck, tier title): `A::B::C` -> (`A`, `B::C`); the top deck itself -> General."""
    top, _, below = name.partition("::")
    return top, below or TOP_DECK_TIER


def kept_tags(tags: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """(the tags tierdeck can hold, the ones it cannot: those with a quote or a control character)."""
    good = [tag for tag in dict.fromkeys(tags) if re.match(TAG_PATTERN, tag)]
    return good, [tag for tag in dict.fromkeys(tags) if tag not in good]
