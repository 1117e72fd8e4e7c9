"""MathJax formulas under the same policy as HTML: only math commands, no links, styles or resources.

Fields keep `\\(...\\)` and `\\[...\\]` exactly as written and students' Anki typesets them with MathJax's full
TeX bundle (Anki's config loads `noerrors`, `mathtools` and on AnkiDroid `mhchem`, and not the `safe`
extension). That bundle also knows `\\href` (a link, `javascript:` included), `\\style`, `\\class`, `\\cssId`
and `\\bbox` (any CSS: an overlay that hides the answer, a remote image), `\\unicode`, `\\require`, `\\mathtip`,
... So a formula may hold only the control sequences in `ALLOWED_COMMANDS` (and the environments in
`ALLOWED_ENVIRONMENTS`): math, not markup. The `.apkg` cannot change students' MathJax, so the check is here.

Formulas are found as MathJax finds them: in the page's text (entities decoded), one text run between tags
at a time (`<br>` and `<wbr>` do not end a run), from `\\(` or `\\[` to its closing delimiter outside braces.
"""

from __future__ import annotations

import html
import re

from tierdeck.errors import shown

# Letters and symbols (Greek, Hebrew, operators, relations, arrows, dots, accents), layout (fractions, roots,
# matrices, fixed spacing, sizes of delimiters), fonts and text, AMS and mathtools additions, colour by name,
# mhchem's \ce and \pu, cancel and braket. Nothing that makes a link, sets CSS or an id/class, loads
# anything, defines macros, or shows a tooltip; and, as for inline CSS, nothing that moves or resizes
# content at will (\hspace, \kern, \raise with any length, \Huge).
ALLOWED_COMMANDS = frozenset(
    """
    alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa varkappa lambda mu nu xi
    omicron pi varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega digamma
    Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega varGamma varDelta varTheta varLambda varXi
    varPi varSigma varUpsilon varPhi varPsi varOmega aleph beth gimel daleth
    frac dfrac tfrac cfrac binom dbinom tbinom genfrac over atop choose above sqrt root of
    left right middle big Big bigg Bigg bigl bigr Bigl Bigr biggl biggr Biggl Biggr bigm Bigm biggm Biggm
    sum prod coprod int iint iiint iiiint oint intop smallint bigcup bigcap bigoplus bigotimes bigodot
    biguplus bigsqcup bigvee bigwedge lim liminf limsup sup inf max min arg det exp gcd hom ker log ln lg
    sin cos tan cot sec csc sinh cosh tanh coth arcsin arccos arctan deg dim Pr mod bmod pmod pod
    operatorname limits nolimits displaystyle textstyle scriptstyle scriptscriptstyle
    text textrm textbf textit textsf texttt textup textnormal mbox hbox
    mathrm mathbf mathit mathsf mathtt mathcal mathbb mathfrak mathscr mathnormal boldsymbol bm pmb
    rm bf it sf tt cal scr frak Bbb bold
    hat widehat check tilde widetilde acute grave dot ddot dddot ddddot breve bar vec mathring overline
    underline overbrace underbrace overleftarrow overrightarrow overleftrightarrow underleftarrow
    underrightarrow underleftrightarrow overset underset stackrel xrightarrow xleftarrow xleftrightarrow
    xRightarrow xLeftarrow xLeftrightarrow xhookleftarrow xhookrightarrow xmapsto xrightharpoonup
    xrightharpoondown xleftharpoonup xleftharpoondown xrightleftharpoons xleftrightharpoons substack
    sideset prescript boxed
    begin end hline hdashline cline
    quad qquad thinspace medspace thickspace negthinspace negmedspace negthickspace enspace space
    phantom hphantom vphantom smash mathstrut strut tag notag nonumber
    mathop mathbin mathrel mathord mathopen mathclose mathpunct mathinner
    clubsuit diamondsuit heartsuit spadesuit flat natural sharp bigstar mho eth
    cdot cdots ldots dots dotsb dotsc dotsi dotsm dotso vdots ddots centerdot bullet circ ast star
    times div pm mp setminus smallsetminus cap cup sqcap sqcup uplus vee wedge lor land lnot neg oplus
    ominus otimes oslash odot dagger ddagger amalg wr diamond triangleleft triangleright bigtriangleup
    bigtriangledown lhd rhd unlhd unrhd
    leq le geq ge neq ne lt gt equiv approx approxeq cong sim simeq asymp propto doteq ll gg lll ggg
    leqq geqq leqslant geqslant lesssim gtrsim lessapprox gtrapprox nless ngtr nleq ngeq lneq gneq
    subset supset subseteq supseteq subsetneq supsetneq nsubseteq nsupseteq in ni notin owns
    perp parallel nparallel mid nmid vdash dashv models prec succ preceq succeq
    forall exists nexists emptyset varnothing infty partial nabla prime backprime angle measuredangle
    top bot ell hbar hslash Re Im wp imath jmath complement surd
    therefore because checkmark triangle square blacksquare lozenge blacklozenge degree
    to gets leftarrow rightarrow leftrightarrow Leftarrow Rightarrow Leftrightarrow longleftarrow
    longrightarrow longleftrightarrow Longleftarrow Longrightarrow Longleftrightarrow mapsto longmapsto
    uparrow downarrow updownarrow Uparrow Downarrow Updownarrow nearrow searrow swarrow nwarrow
    hookleftarrow hookrightarrow leftharpoonup leftharpoondown rightharpoonup rightharpoondown
    rightleftharpoons leftrightharpoons rightleftarrows leftrightarrows rightrightarrows leftleftarrows
    implies impliedby iff nrightarrow nleftarrow nRightarrow nLeftarrow
    langle rangle lceil rceil lfloor rfloor lvert rvert lVert rVert vert Vert lbrace rbrace backslash
    lbrack rbrack ulcorner urcorner llcorner lrcorner
    not cancel bcancel xcancel cancelto ce pu bra ket braket Bra Ket Braket
    color textcolor
    """.split()
)
ALLOWED_ENVIRONMENTS = frozenset(
    """
    matrix pmatrix bmatrix Bmatrix vmatrix Vmatrix smallmatrix matrix* pmatrix* bmatrix* Bmatrix* vmatrix*
    Vmatrix* cases dcases rcases cases* array subarray aligned alignedat gathered split align align*
    gather gather* equation equation* multline multline* eqnarray eqnarray*
    """.split()
)
# What never belongs in a card, inside a formula or not: a field without delimiters can still be the middle
# of a formula a template puts together from several fields (`{{Front}}{{Back}}`).
DANGEROUS_COMMANDS = frozenset(
    """
    href url style class cssId data bbox unicode require mathtip texttip toggle actiontype mmlToken
    def gdef edef xdef let newcommand renewcommand providecommand DeclareMathOperator newenvironment
    renewenvironment csname enclose
    """.split()
)
# `\color{name}`: a colour name or #hex, never anything that could end up as more CSS.
_COLOUR = re.compile(r"[A-Za-z]{1,20}|#[0-9A-Fa-f]{3}|#[0-9A-Fa-f]{6}")
_OPENERS = (("\\(", "\\)"), ("\\[", "\\]"))
_DELIMITERS = ("\\(", "\\)", "\\[", "\\]")
# A tag that ends a text run as MathJax reads it (all but <br> and <wbr>), and any tag.
_BREAK = re.compile(r"<(?!/?(?:br|wbr)\b)[^>]*>", re.IGNORECASE)
_ANY_TAG = re.compile(r"<[^>]*>")
_TOKEN = re.compile(r"\\([A-Za-z]+)|\\.|[{}]", re.DOTALL)
_ARGUMENT = re.compile(r"\s*\{([^{}]*)\}")


def problems(fragment: str) -> list[str]:
    """What in rendered HTML `fragment` MathJax would read as more than math, in words an author understands."""
    if "\\" not in fragment and ("&" not in fragment or "\\" not in html.unescape(fragment)):
        return []
    found: dict[str, None] = {}
    for run in _runs(fragment):
        for problem in _run_problems(run):
            found[problem] = None
    return list(found)


def _runs(fragment: str) -> list[str]:
    """The text runs of `fragment` as MathJax reads them: entities decoded, split at tags but <br> and <wbr>."""
    return [html.unescape(_ANY_TAG.sub("", run)) for run in _BREAK.split(fragment) if "\\" in run or "&" in run]


def _run_problems(text: str) -> list[str]:
    spans = []  # (start, end) of each formula's TeX, as MathJax pairs the delimiters
    position = 0
    while True:
        starts = [(text.find(o, position), c) for o, c in _OPENERS]
        starts = [s for s in starts if s[0] != -1]
        if not starts:
            break
        start, closing = min(starts)
        end = _closing(text, start + 2, closing)
        if end is None:  # MathJax skips an opener it cannot close and looks on after it
            position = start + 2
            continue
        spans.append((start + 2, end))
        position = end + 2
    rest, last = [], 0
    for start, end in spans:
        rest.append(text[last : start - 2])
        last = end + 2
    rest.append(text[last:])
    outside = "".join(rest)
    if any(d in outside for d in _DELIMITERS):
        # a delimiter left alone: another field the template puts beside this one may close or open it
        return _tex_problems(text)
    found = [p for start, end in spans for p in _tex_problems(text[start:end])]
    return found + _tex_problems(outside, allowed=None)


def _closing(text: str, position: int, closing: str) -> int | None:
    """Where `closing` ends the formula begun before `position`: outside braces, as MathJax finds it."""
    braces = 0
    for match in _TOKEN.finditer(text, position):
        token = match.group()
        if token == closing and braces == 0:
            return match.start()
        if token == "{":
            braces += 1
        elif token == "}" and braces:
            braces -= 1
    return None


def tex_problems(tex: str) -> list[str]:
    """What in the TeX of one formula (without its delimiters) is not allowed."""
    return _tex_problems(tex)


def _tex_problems(tex: str, allowed: frozenset[str] | None = ALLOWED_COMMANDS) -> list[str]:
    """The control sequences of `tex` outside `allowed` (None: only the dangerous ones are refused)."""
    if "\\" not in tex:
        return []
    found = []
    for match in _TOKEN.finditer(tex):
        name = match.group(1)
        if name is None:
            continue
        if name in DANGEROUS_COMMANDS or (allowed is not None and name not in allowed):
            found.append(
                f"the formula command '\\{shown(name, 20)}' is not allowed (a formula may hold math only: no links, "
                "styles, classes, ids or external resources); remove it, or write the formula with the math "
                "commands docs/format.md lists"
            )
            continue
        if allowed is None:
            continue
        argument = _ARGUMENT.match(tex, match.end())
        value = argument.group(1).strip() if argument else ""
        if name in ("begin", "end") and value not in ALLOWED_ENVIRONMENTS:
            found.append(
                f"the formula environment '{shown(value, 20)}' is not allowed; use matrix, pmatrix, bmatrix, cases, "
                "array, aligned or another one docs/format.md lists"
            )
        elif name in ("color", "textcolor") and not _COLOUR.fullmatch(value):
            found.append(
                f"the formula colour '{shown(value, 20)}' is not a colour name or #hex; write e.g. \\color{{red}} "
                "or \\color{#c00}"
            )
    return found


def defused(fragment: str) -> str:
    """`fragment` with every backslash of its text followed by an empty tag: MathJax then typesets nothing."""
    parts = []
    for part in re.split(r"(<[^>]*>)", fragment):
        if part.startswith("<") or ("\\" not in part and "&" not in part):
            parts.append(part)
        else:
            text = html.escape(html.unescape(part), quote=False).replace("[", "&#91;")  # Anki's [latex] stays defused
            parts.append(text.replace("\\", "\\<span></span>"))
    return "".join(parts)
