"""What Anki's clients add to a card as they show it, done ahead for the preview: math typeset, sounds playable.

Fields keep MathJax formulas (`\\(...\\)`, `\\[...\\]`) and `[sound:name]` tags exactly as written, and the
`.apkg` carries them so (Anki's clients typeset and play them). The preview has no MathJax and no network:
each formula becomes MathML here (latex2mathml), which Chromium, Firefox and Safari draw natively, and each
sound tag an `<audio controls>` player for the media file copied beside the page.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from xml.etree.ElementTree import Element

from latex2mathml.converter import convert_to_element

from tierdeck.notes.formulas import tex_problems

# A formula as Anki's MathJax finds it, in the text between tags (never inside an attribute).
_MATH = re.compile(r"\\\((.*?)\\\)|\\\[(.*?)\\\]", re.DOTALL)
_SOUND = re.compile(r"\[sound:([^\[\]]*)\]")
_TAG = re.compile(r"(<[^>]*>)")
_ENTITY = re.compile(r"(&#x[0-9A-Fa-f]+;)")
# latex2mathml writes only MathML; anything else (its `\href` link, say) is left out, and so are MathML's
# own links, tooltips and glyph images (`maction`, `mglyph`) and any style or href attribute.
_MATHML_TAGS = frozenset(
    "math semantics annotation none mprescripts mrow mi mn mo ms mtext mspace mfrac msqrt mroot msub msup "
    "msubsup munder mover munderover mmultiscripts mtable mtr mtd mlabeledtr mpadded mphantom menclose mstyle "
    "merror mfenced".split()
)
_MATHML_ATTRIBUTES = frozenset(
    {
        "display",
        "mathvariant",
        "stretchy",
        "fence",
        "separator",
        "lspace",
        "rspace",
        "linethickness",
        "columnalign",
        "columnlines",
        "columnspacing",
        "rowspacing",
        "displaystyle",
        "scriptlevel",
        "minsize",
        "maxsize",
        "accent",
        "accentunder",
        "movablelimits",
        "width",
        "height",
        "depth",
        "notation",
        "form",
        "largeop",
        "symmetric",
    }
)


def for_browser(side: str) -> str:
    """A rendered card side with its formulas as MathML and its sound tags as audio players."""
    if "\\(" in side or "\\[" in side:
        side = "".join(part if part.startswith("<") else _MATH.sub(_typeset, part) for part in _TAG.split(side))
    if "[sound:" in side:
        side = _SOUND.sub(_player, side)
    return side


def _typeset(match: re.Match) -> str:
    inline, display = match.groups()
    return mathml(html.unescape(inline if inline is not None else display), display is not None) or match.group()


@lru_cache(maxsize=4096)
def mathml(latex: str, display: bool = False) -> str:
    """`latex` as MathML, every text escaped; empty when latex2mathml cannot read it or it holds more than math."""
    if tex_problems(latex):  # `check` reports it; the preview shows it as written, untypeset
        return ""
    try:
        tree = convert_to_element(latex, display="block" if display else "inline")
    except Exception:  # noqa: BLE001 - an unreadable formula stays as written, as MathJax leaves it
        return ""
    return _serialise(tree)


def _serialise(element: Element) -> str:
    """MathML text of `element`: latex2mathml leaves author text unescaped (`\\text{<b>}`), so escape it here."""
    inner = _text(element.text) + "".join(_serialise(child) + _text(child.tail) for child in element)
    if element.tag not in _MATHML_TAGS:
        return inner
    attributes = "".join(
        f' {name}="{html.escape(value)}"' for name, value in element.attrib.items() if name in _MATHML_ATTRIBUTES
    )
    return f"<{element.tag}{attributes}>{inner}</{element.tag}>"


def _text(text: str | None) -> str:
    """Text escaped for HTML, keeping the character references latex2mathml writes for symbols (`&#x0002B;`)."""
    if not text:
        return ""
    return "".join(part if _ENTITY.fullmatch(part) else html.escape(part, quote=False) for part in _ENTITY.split(text))


def _player(match: re.Match) -> str:
    name = html.escape(match.group(1), quote=True)
    return f'<audio class="pv-sound" controls preload="none" src="{name}" title="{name}"></audio>'
