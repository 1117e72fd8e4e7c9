"""Card text to safe HTML: markdown rendering, then an allowlist sanitiser. Pure functions.

Markdown is rendered by pyromark (pulldown-cmark); the HTML then passes through nh3 (ammonia), so no
script, event handler or `javascript:` URL can reach a student's Anki, whatever an author writes. Markup
the sanitiser would remove is reported to the author as an error first, so nothing vanishes silently.
"""

from __future__ import annotations

import hashlib
import html
import re
from functools import lru_cache

import nh3
import pyromark

from tierdeck.errors import shown
from tierdeck.notes import formulas

_OPTIONS = pyromark.Options.ENABLE_TABLES | pyromark.Options.ENABLE_STRIKETHROUGH

ALLOWED_TAGS = frozenset(
    [
        "a",
        "b",
        "i",
        "em",
        "strong",
        "u",
        "s",
        "del",
        "ins",
        "sub",
        "sup",
        "br",
        "p",
        "ul",
        "ol",
        "li",
        "table",
        "thead",
        "tbody",
        "tfoot",
        "tr",
        "th",
        "td",
        "code",
        "pre",
        "blockquote",
        "img",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "span",
        "div",
        "mark",
        "small",
        "caption",
        "font",  # <font color>: how Anki's own editor colours text
        "details",  # a disclosure the student opens by tapping: no script needed
        "summary",
    ]
)
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "th": {"align", "colspan", "rowspan"},
    "td": {"align", "colspan", "rowspan"},
    "ol": {"start"},
    "code": {"class"},  # markdown code fences name their language: ```python -> class="language-python"
    "span": {"class"},
    "div": {"class"},
    "font": {"color"},
    "details": {"open"},
    "*": {"style", "dir"},  # any allowed tag; `style` keeps only STYLE_PROPERTIES
}
# Inline CSS the sanitiser keeps: colour and emphasis, as colour-coded medical decks use them. Anything that
# can move, hide or resize content (position, display, font-size, width, ...) stays out: a card must fit a
# phone and show its answer only when asked.
STYLE_PROPERTIES = frozenset(
    {"color", "background-color", "font-weight", "font-style", "text-decoration", "text-align"}
)
_DIRECTIONS = frozenset({"ltr", "rtl", "auto"})
_UNSAFE_CSS_VALUE = re.compile(r"url\(|expression\(|\\|/\*|@import|javascript:", re.IGNORECASE)
# A whole comparison table is a few hundred tags; thousands in one field are a mistake or an attack.
MAX_TAGS = 2_000
LINK_SCHEMES = frozenset({"http", "https", "mailto"})
_DATA_IMAGE = re.compile(r"^data:image/(png|jpe?g|gif|webp);base64,[a-z0-9+/=\s]*$", re.IGNORECASE)
_SCHEME = re.compile(r"^\s*([a-z][a-z0-9+.\-]*):", re.IGNORECASE)
# Text without any of these cannot contain markdown markup or raw HTML: it renders to itself, escaped.
# Split in three cheap tests (one character class, one anchored match, two substrings): this runs on
# every field, and one regex with all the alternatives was the slowest step of a 50,000-card check.
_MARKUP_CHAR = re.compile(r"[*_`\[\]<>&\\~|#!\n]")
_BLOCK_START = re.compile(r"\s*(?:[-+>]|\d+[.)])\s")
# Raw HTML and links are the only ways markdown can carry something unsafe (Anki's LaTeX is looked for
# in the rendered HTML). Every part is linear: `^[ \t]*` stays on its line (`^\s*` with MULTILINE
# rescans runs of blank lines: quadratic).
_NEEDS_SANITISING = re.compile(r"<|\]\s*[(:\[]|^[ \t]*\[", re.MULTILINE)
# Anki turns [latex]...[/latex], [$]...[/$] and [$$]...[/$$] into images by running the LaTeX installed on
# the student's computer, which can be made to read files or run programs.
_ANKI_LATEX = re.compile(r"\[(?:\$\$?|latex)\]", re.IGNORECASE)
# Browsers drop tabs and newlines anywhere in a URL and leading controls and spaces, so
# "jav&#9;ascript:" is still javascript: (WHATWG URL standard).
_URL_IGNORED = re.compile(r"[\t\n\r]")
_URL_LEADING = "".join(chr(c) for c in range(0x21))


def _normalised_url(value: str) -> str:
    return _URL_IGNORED.sub("", value).lstrip(_URL_LEADING)


def _url_allowed(tag: str, attribute: str, value: str) -> bool:
    value = _normalised_url(value)
    match = _SCHEME.match(value)
    if match is None:
        return True  # relative: a media file name or an in-page anchor
    scheme = match.group(1).lower()
    if scheme == "data":
        return tag == "img" and attribute == "src" and bool(_DATA_IMAGE.match(value))
    return scheme in LINK_SCHEMES


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    if attribute in ("href", "src") and not _url_allowed(tag, attribute, value):
        return None
    if attribute == "dir" and value.strip().lower() not in _DIRECTIONS:
        return None
    if attribute == "style" and _UNSAFE_CSS_VALUE.search(value):
        return None
    return value


# A tag as a browser starts to read it: `<!--`, `<!...`/`<?...`, or `<name attributes>`. Linear by
# construction: the attribute part cannot run past the next `<` outside quotes, and each quote scans only
# to its partner. (The standard library's HTMLParser rescans to the end of the input from every unclosed
# construct, so a field of `<a b="` repeated takes minutes.) The sanitiser, html5ever through nh3, is the
# real guard; this only has to find what it would remove, erring towards reporting too much.
_TAG = re.compile(r"""<(?:(!--)|([!?])|(/?)([a-zA-Z][^\s/<>]*)((?:[^<>"']|"[^"]*"|'[^']*')*))""")
_ATTRIBUTE = re.compile(r"""([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?""")


def audit(fragment: str) -> list[str]:
    """What the sanitiser would remove from rendered HTML, in words an author understands (each once)."""
    problems: dict[str, None] = {}
    for match in _TAG.finditer(fragment):
        comment, declaration, closing, name, attributes = match.groups()
        if comment:
            problems["HTML comments are not allowed; remove the <!-- ... -->"] = None
            continue
        if declaration:
            problems[
                f"'<{declaration}...>' markup (a declaration or processing instruction) is not allowed; remove it"
            ] = None
            continue
        tag = name.lower()
        if tag not in ALLOWED_TAGS:
            problems[f"the HTML tag <{shown(tag, 20)}> is not allowed; remove it"] = None
            continue
        if closing:
            continue
        for attribute in _ATTRIBUTE.finditer(attributes):
            key = attribute.group(1).lower()
            value = html.unescape(next((v for v in attribute.groups()[1:] if v is not None), ""))
            if key.startswith("on"):
                problems[
                    f"the event handler '{shown(key, 20)}' on <{tag}> is not allowed (cards run no scripts); remove it"
                ] = None
            elif key == "style":
                for problem in _style_problems(value):
                    problems[problem] = None
            elif key == "dir" and value.strip().lower() not in _DIRECTIONS:
                problems[f"dir='{shown(value, 20)}' is not a direction; write dir=\"rtl\", \"ltr\" or \"auto\""] = None
            elif key not in ALLOWED_ATTRIBUTES.get(tag, ()) and key not in ALLOWED_ATTRIBUTES["*"]:
                problems[f"the attribute '{shown(key, 20)}' on <{tag}> is not allowed; remove it"] = None
            elif key in ("href", "src") and not _url_allowed(tag, key, value):
                problems[_url_problem(tag, key, _normalised_url(value))] = None
    return list(problems)


def _style_problems(style: str) -> list[str]:
    """What of an inline style the sanitiser would drop: properties outside the allowlist, unsafe values."""
    problems = []
    for declaration in style.split(";"):
        if not declaration.strip():
            continue
        name, _, value = declaration.partition(":")
        name = name.strip().lower()
        if name not in STYLE_PROPERTIES:
            problems.append(
                f"the CSS property '{shown(name, 30)}' in style is not kept (it could move, hide or resize the card); "
                f"use only {', '.join(sorted(STYLE_PROPERTIES))}"
            )
        elif _UNSAFE_CSS_VALUE.search(value) or not value.strip():
            problems.append(f"the value of '{name}' in style is not kept ('{shown(value.strip(), 30)}'); write a plain value")
    return problems


def _url_problem(tag: str, attribute: str, url: str) -> str:
    scheme = url.split(":", 1)[0]
    if scheme.lower() == "data" and tag == "img":
        kind = shown(url.split(";", 1)[0].split(",", 1)[0], 40)
        return (
            f"the '{kind}' URL in <img src> is not allowed (only PNG, JPEG, GIF and WebP images may be written "
            "inline, as base64); use an image file"
        )
    return (
        f"the '{shown(scheme, 20)}:' URL in <{tag} {attribute}> is not allowed; use an http(s) or mailto: link, "
        "or an image file"
    )


def needs_markdown(text: str) -> bool:
    """Whether `text` has anything markdown would change; without it, the text renders to itself."""
    return (
        _MARKUP_CHAR.search(text) is not None or _BLOCK_START.match(text) is not None or "://" in text or "www." in text
    )


def markdown(text: str) -> str:
    """Markdown to HTML; a single paragraph loses its <p> wrapper so short fields stay inline."""
    return _markdown(text)[0]


def _markdown(text: str) -> tuple[str, bool]:
    """(HTML, whether markdown was needed): text without markup characters renders to itself, escaped."""
    if not needs_markdown(text):
        return html.escape(text, quote=False), False
    rendered = pyromark.html(text, options=_OPTIONS).strip()
    if 'style="text-align: ' in rendered:  # an aligned table column; `align` says the same without CSS
        rendered = rendered.replace(' style="text-align: ', ' align="')
    if rendered.startswith("<p>") and rendered.endswith("</p>") and rendered.count("<p>") == 1:
        rendered = rendered[3:-4]
    return rendered, True


@lru_cache(maxsize=1)
def _cleaner() -> nh3.Cleaner:
    """The sanitiser, configured once: handing nh3 the allowlists on every call cost more than cleaning."""
    return nh3.Cleaner(
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        attribute_filter=_attribute_filter,
        filter_style_properties=set(STYLE_PROPERTIES),
        url_schemes=set(LINK_SCHEMES) | {"data"},
        strip_comments=True,
        link_rel="noopener noreferrer",
    )


def sanitise(fragment: str) -> str:
    """Only allowlisted tags, attributes and URL schemes survive, and Anki's LaTeX markers are defused."""
    cleaned = _cleaner().clean(fragment)
    if "[" in cleaned:
        cleaned = _ANKI_LATEX.sub(lambda m: "&#91;" + m.group()[1:], cleaned)
    return cleaned


# Some text outside the tags: markdown turns a lone '#', '>' or '```' into an empty heading, quote or
# code block, which Anki would show as a blank card.
_VISIBLE = re.compile(r"(?:^|>)[\s\xa0]*[^<\s\xa0]")
_SHOWS_NOTHING = (
    "shows nothing once rendered (empty markup, or a lone '#', '>' or '```' that markdown reads as an empty "
    "heading, quote or code block); write the text, or put a backslash before that first character"
)


def render(text: str, as_html: bool = False) -> tuple[str, list[str]]:
    """Card text (markdown, or HTML with `as_html`) as safe HTML, and what the author wrote that is not allowed.

    MathJax formulas, `\\(...\\)` and `\\[...\\]` as Anki writes them, reach the field exactly as written:
    markdown would eat their backslashes and read `*` and `_` in them as emphasis. A formula holding more than
    math (`\\href`, `\\style`, ...: `tierdeck.notes.formulas`) is reported, and defused in the HTML.
    """
    rendered, problems = _render(text, as_html)
    refused = formulas.problems(rendered)
    if refused:
        return formulas.defused(rendered), [*problems, *refused]
    return rendered, problems


def _render(text: str, as_html: bool) -> tuple[str, list[str]]:
    if "\\(" in text or "\\[" in text:
        cut, formulas = _cut_math(text)
        unclosed = [_unclosed_math(opening, closing) for opening, closing in _MATH_DELIMITERS if opening in cut]
        if formulas or unclosed:
            for opening, _ in _MATH_DELIMITERS:  # an unclosed opener stays text (and is reported)
                cut = cut.replace(opening, "&#92;" + opening[1])
            rendered, problems = _render(cut, as_html)
            return _put_back_math(rendered, formulas, as_html), [*problems, *unclosed]
    rendered, marked_up = (text, True) if as_html else _markdown(text)
    if not marked_up:  # plain text shows itself, unless it is blank
        return rendered, [_SHOWS_NOTHING] if not text or text.isspace() else []
    # in the rendered HTML: markdown turns `\[$]` and `&#91;$]` into `[$]` too
    latex = "[" in rendered and _ANKI_LATEX.search(rendered) is not None
    if not latex and not _NEEDS_SANITISING.search(text):
        return rendered, _blank(rendered)
    tags = rendered.count("<")
    if tags > MAX_TAGS:  # the sanitiser's tree building slows down with depth: never feed it unbounded markup
        problem = f"this text makes {tags:,} HTML tags, more than the {MAX_TAGS:,} one field may hold"
        return html.escape(text), [f"{problem}; split it over several cards"]
    problems = audit(rendered)
    if latex:
        problems.append(
            "Anki LaTeX ([latex], [$], [$$]) is not allowed: it runs the LaTeX installed on the student's "
            "computer; write the formula as text with <sub> and <sup> instead"
        )
    safe = sanitise(rendered)
    return safe, problems or _blank(safe)


_MATH_DELIMITERS = (("\\(", "\\)"), ("\\[", "\\]"))


def _cut_math(text: str) -> tuple[str, dict[str, str]]:
    """`text` with each formula replaced by a token markdown leaves alone, and the formulas by token.

    A scan with `str.find`, not a regex: a field of unclosed `\\(` stays linear."""
    nonce = hashlib.blake2b(text.encode(), digest_size=4).hexdigest()
    formulas: dict[str, str] = {}
    out, position = [], 0
    while True:
        starts = [(text.find(opening, position), opening, closing) for opening, closing in _MATH_DELIMITERS]
        starts = [found for found in starts if found[0] != -1]
        if not starts:
            break
        start, opening, closing = min(starts)
        end = text.find(closing, start + 2)
        if end == -1:
            break
        token = f"TDMATH{nonce}N{len(formulas)}E"
        formulas[token] = text[start : end + 2]
        out += [text[position:start], token]
        position = end + 2
    out.append(text[position:])
    return "".join(out), formulas


def _unclosed_math(opening: str, closing: str) -> str:
    """The problem of a formula opened and never closed: Anki would show its raw LaTeX."""
    return f"the formula opened with '{opening}' is never closed, so Anki shows it as raw text; end it with '{closing}'"


def _put_back_math(rendered: str, formulas: dict[str, str], as_html: bool) -> str:
    """The formulas in place of their tokens, as text of the HTML (an HTML field keeps its entities)."""
    for token, formula in formulas.items():
        shown = formula.replace("<", "&lt;").replace(">", "&gt;") if as_html else html.escape(formula, quote=False)
        rendered = rendered.replace(token, shown)
    return rendered


def safe_markdown(text: str) -> str:
    """Markdown to sanitised HTML, for text shown outside the cards (the deck description and version)."""
    return render(text)[0]


def _blank(fragment: str) -> list[str]:
    """The problem of a fragment that shows nothing (no text, no image); none otherwise."""
    return [] if _VISIBLE.search(fragment) or "<img" in fragment else [_SHOWS_NOTHING]


# A tag, quoted attribute values included; outside quotes it stops at the next `<`, so a `<` that is never
# closed does not make every later `<` scan to the end (`<[^>]+>` is quadratic on `<<<<...`).
_ANY_TAG = re.compile(r"""<(?:[^<>"']|"[^"]*"|'[^']*')+>""")


def plain_text(fragment: str) -> str:
    """The visible text of an HTML fragment, on one line (for reports and changelogs)."""
    return " ".join(html.unescape(_ANY_TAG.sub(" ", fragment)).split())
