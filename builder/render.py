"""Card text to safe HTML: markdown rendering, then an allowlist sanitiser. Pure functions.

Markdown is rendered by pyromark (pulldown-cmark); the HTML then passes through nh3 (ammonia), so no
script, event handler or `javascript:` URL can reach a student's Anki, whatever an author writes. Markup
the sanitiser would remove is reported to the author as an error first, so nothing vanishes silently.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import nh3
import pyromark

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
    ]
)
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "th": {"align", "colspan", "rowspan"},
    "td": {"align", "colspan", "rowspan"},
    "ol": {"start"},
    "span": {"class"},
    "div": {"class"},
}
LINK_SCHEMES = frozenset({"http", "https", "mailto"})
_DATA_IMAGE = re.compile(r"^data:image/(png|jpe?g|gif|webp);base64,[a-z0-9+/=\s]*$", re.IGNORECASE)
_SCHEME = re.compile(r"^\s*([a-z][a-z0-9+.\-]*):", re.IGNORECASE)
# Text without any of these cannot contain markdown markup or raw HTML: it renders to itself, escaped.
_MARKUP_CHARS = re.compile(r"[*_`\[\]<>&\\~|#!\n]|^\s*(?:[-+>]|\d+[.)])\s|://|www\.")
# Raw HTML and links are the only ways markdown can carry something unsafe.
_NEEDS_SANITISING = re.compile(r"<|\]\s*[(:\[]|^\s*\[", re.MULTILINE)


def _url_allowed(tag: str, attribute: str, value: str) -> bool:
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
    return value


class _Auditor(HTMLParser):
    """Lists what the sanitiser would remove, in words an author understands."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self._add(f"the HTML tag <{tag}> is not allowed in cards; remove it")
            return
        for name, value in attrs:
            if name.startswith("on"):
                self._add(f"the event handler '{name}' on <{tag}> is not allowed (cards run no scripts); remove it")
            elif name not in ALLOWED_ATTRIBUTES.get(tag, ()):
                self._add(f"the attribute '{name}' on <{tag}> is not allowed; remove it")
            elif name in ("href", "src") and not _url_allowed(tag, name, value or ""):
                scheme = (_SCHEME.match(value or "") or [None, "?"])[1]
                self._add(f"the '{scheme}:' URL in <{tag} {name}> is not allowed; use an http(s) link or an image file")

    handle_startendtag = handle_starttag

    def handle_comment(self, data: str) -> None:
        self._add("HTML comments are not allowed in cards; remove it")

    def _add(self, problem: str) -> None:
        if problem not in self.problems:
            self.problems.append(problem)


def markdown(text: str) -> str:
    """Markdown to HTML; a single paragraph loses its <p> wrapper so short fields stay inline."""
    if not _MARKUP_CHARS.search(text):
        return html.escape(text, quote=False)
    rendered = pyromark.html(text, options=_OPTIONS).strip()
    if rendered.startswith("<p>") and rendered.endswith("</p>") and rendered.count("<p>") == 1:
        rendered = rendered[3:-4]
    return rendered


def sanitise(fragment: str) -> str:
    """Only allowlisted tags, attributes and URL schemes survive."""
    return nh3.clean(
        fragment,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        attribute_filter=_attribute_filter,
        url_schemes=set(LINK_SCHEMES) | {"data"},
        strip_comments=True,
        link_rel="noopener noreferrer",
    )


def render(text: str) -> tuple[str, list[str]]:
    """Card text as safe HTML, and what the author wrote that is not allowed (empty when all is well)."""
    rendered = markdown(text)
    if not _NEEDS_SANITISING.search(text):
        return rendered, []
    auditor = _Auditor()
    auditor.feed(rendered)
    auditor.close()
    return sanitise(rendered), auditor.problems


def plain_text(fragment: str) -> str:
    """The visible text of an HTML fragment, on one line (for reports and changelogs)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())
