"""What a student sees of every card, measured in real Chromium on the real Anki engine's rendering.

Library (no tests here) and script:

    .venv/bin/python tests/card_metrics.py dist/DECK.apkg [--width 390 --width 900] [--json out.json]

For each card of the package, imported into a fresh collection by the `anki` engine, both sides are shown the
way Anki's clients show them (`reviewer_page`: the reviewer's page, the card's HTML in `#qa`, the body classes
`card cardN nightMode night_mode`, `mobile` on <html> for phones) at each width, light and night, with and
without `.mobile`, and measured (`measure`): horizontal overflow, what moves when the card flips, the smallest
text, the lowest text contrast, the weakest highlight and whether the prompt is the most prominent text.
`failures` checks a `Metrics` against the targets of issue 13 (`TARGETS`).

`chromium_path()` is the one place that decides what a browser test does without /usr/bin/chromium: skip, or
fail when CI=true.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"  # Debian's; never `playwright install`
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT_HEIGHT = 800
# Issue 13's targets, from the file lint and the preview page read too (tierdeck/data/readability.json).
_READABILITY = json.loads((resources.files("tierdeck") / "data" / "readability.json").read_text("utf-8"))
PHONE_MAX_WIDTH = _READABILITY["phone_max_width_px"]  # a width below this is a phone for the font-size targets
TARGETS = {
    "overflow_px": 0,  # no horizontal overflow (document wider than the viewport)
    "move_px": _READABILITY["max_move_on_flip_px"],  # no element on both sides moves more than this on a flip
    "body_font_desktop_px": _READABILITY["body_font_desktop_px"],
    "body_font_phone_px": _READABILITY["body_font_phone_px"],
    "min_font_phone_px": _READABILITY["min_font_px"],
    "text_contrast": _READABILITY["min_text_contrast"],
    "highlight_contrast": _READABILITY["min_highlight_contrast"],
}

# The element each note type asks its question with (the text that must be the most prominent), by
# (note type name, template ordinal); None: the largest text.
PROMPTS: dict[tuple[str, int], str] = {
    ("tierdeck Basic", 0): ".td-prompt",
    ("tierdeck Term", 0): ".td-prompt",
    ("tierdeck Term", 1): ".td-prompt",
    ("tierdeck Cloze", -1): ".td-cloze",  # -1: every ordinal (cloze note types have one per deletion)
    ("tierdeck Mechanism", -1): ".td-title",
    ("tierdeck Table", -1): ".td-ask",
}


def prompt_selector(note_type: str, ord: int) -> str | None:
    return PROMPTS.get((note_type, ord), PROMPTS.get((note_type, -1)))


# --------------------------------------------------------------------------------------------------------------
# Browser: the shared skip/fail decision and the launch arguments


def chromium_path() -> str:
    """/usr/bin/chromium, or skip the calling test (fail instead when CI=true): every browser test calls this."""
    import pytest

    problem = None
    if not Path(CHROMIUM).exists():
        problem = f"{CHROMIUM} is missing (Debian/Ubuntu: apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "the playwright package is missing (pip install -e '.[test]')"
    if problem is None:
        return CHROMIUM
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser tests cannot run on CI: {problem}", pytrace=False)
    pytest.skip(f"browser test skipped: {problem}")


def launch(playwright, executable: str = CHROMIUM):
    """Headless Debian Chromium with the arguments every test uses."""
    return playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)


def new_page(browser, width: int = 900):
    """The one page `measure` reuses: device scale 1, height 800."""
    return browser.new_page(viewport={"width": width, "height": VIEWPORT_HEIGHT}, device_scale_factor=1)


# --------------------------------------------------------------------------------------------------------------
# Cards as the Anki engine renders them


@dataclass(frozen=True)
class RenderedCard:
    """One card of an imported package, both sides as `card.question()` / `card.answer()` return them."""

    card_id: int
    key: str  # the note's CardId field, or its GUID when the note type has no CardId
    note_type: str
    template: str
    ord: int  # 0-based template ordinal (cloze: deletion number - 1); the body class is card{ord + 1}
    deck: str
    question: str  # card.question(): begins with <style>{css}</style>, as Anki's reviewer receives it
    answer: str
    css: str  # card.note_type()["css"]

    @property
    def question_body(self) -> str:
        return split_style(self.question)[1]

    @property
    def answer_body(self) -> str:
        return split_style(self.answer)[1]


def split_style(html: str) -> tuple[str, str]:
    """(css, rest) of rendered card HTML: Anki prepends the note type's CSS as one leading <style> element."""
    match = re.match(r"\s*<style>(.*?)</style>", html, flags=re.DOTALL)
    if not match:
        return "", html
    return match.group(1), html[match.end() :]


def rendered_cards(apkg: Path, workdir: Path) -> list[RenderedCard]:
    """Every card of `apkg`, imported into a fresh collection under `workdir`, sorted by key then ordinal.

    `card.question()` is `<style>{note type css}</style>{question html}` (anki's TemplateRenderOutput.
    question_and_style()); the desktop reviewer puts that whole string into `#qa`, so the pages built here do
    too and never add the CSS a second time.
    """
    from anki_engine import import_package, open_collection

    workdir.mkdir(parents=True, exist_ok=True)
    col = open_collection(Path(tempfile.mkdtemp(prefix="collection-", dir=workdir)))
    try:
        import_package(col, apkg)
        cards = []
        for cid in col.find_cards(""):
            card = col.get_card(cid)
            note = card.note()
            note_type = card.note_type()
            names = [f["name"] for f in note_type["flds"]]
            cards.append(
                RenderedCard(
                    card_id=card.id,
                    key=note["CardId"] if "CardId" in names else note.guid,
                    note_type=note_type["name"],
                    template=card.template()["name"],
                    ord=card.ord,
                    deck=col.decks.name(card.did),
                    question=card.question(),
                    answer=card.answer(),
                    css=note_type["css"],
                )
            )
    finally:
        col.close()
    return sorted(cards, key=lambda c: (c.key, c.ord))


# --------------------------------------------------------------------------------------------------------------
# The page a client shows a card side in

# Anki desktop (and AnkiMobile, which ships the same reviewer.css): the reviewer webview.
#   qt/aqt/webview.py AnkiWebView.stdHtml(): <html class="night-mode"?>, css/webview.css, then standard_css():
#     `body { zoom: 1 (Qt6); background-color: var(--canvas) }`, `:root { --canvas: #f5f5f5 }`,
#     `:root[class*=night-mode] { --canvas: #2c2c2c }` (CANVAS/FG in aqt/colors.py, from _root-vars.scss).
#   qt/aqt/data/web/css/webview.scss: `* { box-sizing: content-box }`, `body { color: var(--fg); margin: 2em }`.
#   ts/reviewer/reviewer.scss (css/reviewer.css, loaded after webview.css): `body { margin: 20px;
#     overflow-wrap: break-word }`, `body.nightMode { background-color: var(--canvas); color: var(--fg) }`,
#     `img { max-width: 100%; max-height: 95vh }`, `li { text-align: start }`, `pre { text-align: left }`.
#   qt/aqt/reviewer.py revHtml(): `<div id="_mark" hidden>`, `<div id="_flag" hidden>`, `<div id="qa">`;
#   ts/reviewer/index.ts _showQuestion()/_updateQA(): `#qa.innerHTML = card.question()` (with its <style>),
#     `document.body.className = "card card{ord+1} " + body_class()` (qt/aqt/theme.py body_classes_for_card_ord:
#     isWin/isMac/isLin, plus "nightMode night_mode" at night); _emulateMobile() puts `mobile` on <html>.
DESKTOP_CSS = """\
:root { --canvas: #f5f5f5; --fg: #020202; }
:root[class*=night-mode] { --canvas: #2c2c2c; --fg: #fcfcfc; }
* { box-sizing: content-box; }
html { font-family: sans-serif; }  /* standard_css: Qt's UI font family; the card's .card rule overrides it */
body { color: var(--fg); background-color: var(--canvas); margin: 20px; overflow-wrap: break-word; zoom: 1; }
body.nightMode { background-color: var(--canvas); color: var(--fg); }
img { max-width: 100%; max-height: 95vh; }
li { text-align: start; }
pre { text-align: left; }
#_mark, #_flag { position: fixed; top: 0; font-size: 30px; }
"""

# AnkiDroid: AnkiDroid/src/main/assets/card_template.html: `<html class="mobile android linux js">`,
#   flashcard.css then the card's style in <head>, `<body class="card card{ord+1} night_mode nightMode">`
#   (CardAppearance.getCardClass), the card in `<div id="content">`. flashcard.css: `body { margin: 0;
#   padding: 0 }`, `#content { margin: 0.5em }`, `body.night_mode { color: white; background-color: black }`,
#   `video { max-width: 100% }`. The content div is #qa here so that element paths are the same on every client.
ANKIDROID_CSS = """\
body { margin: 0; padding: 0; }
body.night_mode { color: white; background-color: black; }
video { max-width: 100%; }
#qa { margin: 0.5em; }
"""

# AnkiMobile (closed source): since 2.0.88 its page links the desktop's reviewer.css and has
# `<meta name="viewport" content="width=device-width,initial-scale=1.0">`; <html> carries `mobile` (and iphone/
# ipad). Approximated as the desktop page with the mobile class; its system font is not available here.
CLIENTS = ("desktop", "ankidroid", "ankimobile")


def default_client(mobile: bool) -> str:
    return "ankidroid" if mobile else "desktop"


def body_class(ord: int, night: bool, client: str) -> str:
    classes = ["card", f"card{ord + 1}"]
    if client == "desktop":
        classes.append("isLin")
    if night:
        classes += ["nightMode", "night_mode"]
    return " ".join(classes)


def html_class(night: bool, mobile: bool, client: str) -> str:
    classes = []
    if mobile:
        classes.append("mobile")
    if client == "ankidroid":
        classes += ["android", "linux", "js"]
    if client == "ankimobile":
        classes = ["webkit", "safari", *classes, "iphone", "js"]
    if night and client in ("desktop", "ankimobile"):
        classes.append("night-mode")
    return " ".join(classes)


def reviewer_page(
    side_html: str,
    css: str = "",
    *,
    ord: int = 0,
    night: bool = False,
    mobile: bool = False,
    client: str | None = None,
) -> str:
    """The whole document a client shows one card side in; `side_html` goes into `<div id="qa">`.

    `css` (the note type's) is added as a <style> in #qa only when `side_html` does not already carry it, as
    `card.question()`/`card.answer()` do.
    """
    client = client or default_client(mobile)
    if client not in CLIENTS:
        raise ValueError(f"unknown client {client!r}; one of {CLIENTS}")
    base = ANKIDROID_CSS if client == "ankidroid" else DESKTOP_CSS
    if css and css not in side_html:
        side_html = f"<style>{css}</style>{side_html}"
    meta = '<meta name="viewport" content="width=device-width, initial-scale=1">' if client != "desktop" else ""
    chrome = (
        '<div id="_mark" hidden>&#x2605;</div><div id="_flag" hidden>&#x2691;</div>' if client != "ankidroid" else ""
    )
    return (
        f'<!doctype html><html class="{html_class(night, mobile, client)}" dir="ltr"><head><meta charset="utf-8">'
        f"{meta}<style>{base}</style></head>"
        f'<body class="{body_class(ord, night, client)}">{chrome}<div id="qa">{side_html}</div></body></html>'
    )


# --------------------------------------------------------------------------------------------------------------
# Measuring one side: everything in one page.evaluate

_MEASURE_JS = r"""
async ({html, bodyClass, prompt}) => {
  const qa = document.getElementById('qa');
  if (html !== null) {
    // As the reviewer's _updateQA: replace #qa's HTML, re-create scripts so they run, set the body classes.
    document.body.className = bodyClass;
    qa.innerHTML = html;
    for (const old of [...qa.getElementsByTagName('script')]) {
      const s = document.createElement('script');
      for (const a of old.attributes) s.setAttribute(a.name, a.value);
      s.appendChild(document.createTextNode(old.innerHTML));
      old.parentNode.replaceChild(s, old);
    }
  }
  window.scrollTo(0, 0);
  const pending = [...qa.querySelectorAll('img')].filter(i => !i.complete);
  if (pending.length) await Promise.all(pending.map(i => new Promise(r => { i.onload = i.onerror = r; })));

  const vw = document.documentElement.clientWidth;
  const sx = window.scrollX, sy = window.scrollY;
  const round = v => Math.round(v * 100) / 100;
  const snippet = s => { s = (s || '').replace(/\s+/g, ' ').trim(); return s.length > 60 ? s.slice(0, 57) + '...' : s; };

  // Stable paths: tag[index among same-tag siblings] from #qa down; labels: a readable CSS path.
  const info = new Map(), elems = [];
  (function walk(el, path, label) {
    info.set(el, {path, label});
    elems.push(el);
    const total = {}, seen = {};
    for (const ch of el.children) { const t = ch.tagName.toLowerCase(); total[t] = (total[t] || 0) + 1; }
    for (const ch of el.children) {
      const t = ch.tagName.toLowerCase();
      if (t === 'style' || t === 'script') continue;
      const i = seen[t] = t in seen ? seen[t] + 1 : 0;
      const cls = ch.classList.length ? '.' + [...ch.classList].join('.') : '';
      const nth = total[t] > 1 ? `:nth-of-type(${i + 1})` : '';
      walk(ch, `${path}/${t}[${i}]`, `${label} > ${t}${cls}${nth}`);
    }
  })(qa, 'qa', '#qa');

  const style = new Map();
  const cs = el => { let s = style.get(el); if (!s) { s = getComputedStyle(el); style.set(el, s); } return s; };

  const parse = c => {
    const m = (c || '').match(/rgba?\(([^)]+)\)/);
    if (!m) return [0, 0, 0, 0];
    const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(parseFloat);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, bottom) => [0, 1, 2].map(i => top[i] * top[3] + bottom[i] * (1 - top[3]));  // opaque result
  const lum = c => {
    const [r, g, b] = c.map(v => { v /= 255; return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const ratio = (a, b) => { const la = lum(a), lb = lum(b); return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05); };
  const hex = c => '#' + c.slice(0, 3).map(v => Math.round(v).toString(16).padStart(2, '0')).join('');

  // Effective (opaque) background: background-colors composited from the element up to <html>, on white.
  const bgMemo = new Map();
  const effBg = el => {
    if (!el) return [255, 255, 255];
    if (bgMemo.has(el)) return bgMemo.get(el);
    const own = parse(cs(el).backgroundColor);
    const below = own[3] >= 1 ? null : effBg(el.parentElement);
    const result = own[3] >= 1 ? own.slice(0, 3) : own[3] > 0 ? over(own, below) : below;
    bgMemo.set(el, result);
    return result;
  };

  // Boxes: the first line box of inline elements (where they start), the border box of the others.
  const boxes = new Map();
  for (const el of elems) {
    const s = cs(el);
    if (s.display === 'none') continue;
    const rects = el.getClientRects();
    if (!rects.length) continue;
    const r = s.display === 'inline' ? rects[0] : el.getBoundingClientRect();
    const b = el.getBoundingClientRect();
    if (b.width <= 0 && b.height <= 0) continue;
    boxes.set(el, {x: r.left + sx, y: r.top + sy, w: r.width, h: r.height, left: b.left + sx, right: b.right + sx,
                   inline: s.display === 'inline'});
  }
  const inClosedDetails = el => {
    for (let d = el.closest('details'); d; d = d.parentElement && d.parentElement.closest('details')) {
      if (d.open) continue;
      const summary = [...d.children].find(c => c.tagName === 'SUMMARY');
      if (!(summary && summary.contains(el))) return true;
    }
    return false;
  };
  const visible = el => boxes.has(el) && cs(el).visibility === 'visible' && !inClosedDetails(el);

  // Overflow: the outermost elements that reach past the viewport.
  const scrollWidth = document.documentElement.scrollWidth;
  const offenders = [];
  let maxRight = vw, minLeft = 0;
  for (const el of elems) {
    const b = boxes.get(el);
    if (!b) continue;
    maxRight = Math.max(maxRight, b.right); minLeft = Math.min(minLeft, b.left);
    if (b.right <= vw + 0.5 && b.left >= -0.5) continue;
    const p = el.parentElement, pb = p && boxes.get(p);
    if (pb && (pb.right > vw + 0.5 || pb.left < -0.5) && el !== qa) continue;
    offenders.push({label: info.get(el).label, left: round(b.left), right: round(b.right), text: snippet(el.textContent)});
  }

  // Text: elements with a non-blank text node of their own.
  const texts = [];
  for (const el of elems) {
    const own = [...el.childNodes].filter(n => n.nodeType === 3).map(n => n.nodeValue).join(' ');
    if (!/\S/.test(own) || !visible(el)) continue;
    const s = cs(el);
    const bg = effBg(el);
    let fg = parse(s.color);
    fg = fg[3] < 1 ? over(fg, bg) : fg.slice(0, 3);
    texts.push({
      el, label: info.get(el).label, text: snippet(own), chars: own.replace(/\s+/g, '').length,
      size: round(parseFloat(s.fontSize)), weight: parseInt(s.fontWeight, 10) || 400,
      contrast: round(ratio(fg, bg)), fg: hex(fg), bg: hex(bg),
    });
  }

  // Highlights: marked elements (class with hit/cloze/highlight, <mark>) and outlines; their best indicator
  // (background, outline, distinctive border) against what surrounds them. Other background changes: shading.
  const marked = el => el.tagName === 'MARK' || /hit|cloze|highlight/i.test(el.getAttribute('class') || '');
  const neighbours = el => {
    const out = [el.previousElementSibling, el.nextElementSibling];
    if (el.tagName === 'TD' || el.tagName === 'TH') {
      const row = el.parentElement, i = el.cellIndex;
      for (const r of [row.previousElementSibling, row.nextElementSibling]) if (r && r.cells && r.cells[i]) out.push(r.cells[i]);
      const sec = row.parentElement;  // first/last row of a section: the rows of the adjacent section
      if (!row.previousElementSibling && sec.previousElementSibling) { const rs = sec.previousElementSibling.rows; if (rs && rs.length && rs[rs.length - 1].cells[i]) out.push(rs[rs.length - 1].cells[i]); }
      if (!row.nextElementSibling && sec.nextElementSibling) { const rs = sec.nextElementSibling.rows; if (rs && rs.length && rs[0].cells[i]) out.push(rs[0].cells[i]); }
    }
    return out.filter(n => n && boxes.has(n));
  };
  const peers = el => {
    const scope = (el.tagName === 'TD' || el.tagName === 'TH') ? el.closest('table') : el.parentElement;
    return scope ? [...scope.querySelectorAll(el.tagName)].filter(p => p !== el && !marked(p)) : [];
  };
  const highlights = [], shading = [];
  for (const el of elems) {
    if (el === qa || !visible(el)) continue;
    const s = cs(el), isMarked = marked(el);
    const around = effBg(el.parentElement);
    const surround = [around, ...neighbours(el).map(effBg)];
    const indicators = [];
    const own = parse(s.backgroundColor);
    if (own[3] > 0) {
      const mine = effBg(el), c = ratio(mine, around);
      const entry = {kind: 'background', contrast: round(c), color: hex(mine), against: hex(around)};
      if (isMarked) indicators.push(entry);
      else if (hex(mine) !== hex(around)) shading.push({label: info.get(el).label, text: snippet(el.textContent), ...entry});
    }
    const edge = (kind, color) => {
      const col = over(parse(color), around);
      let worst = null;
      for (const bg of surround) { const c = ratio(col, bg); if (!worst || c < worst.c) worst = {c, bg}; }
      indicators.push({kind, contrast: round(worst.c), color: hex(col), against: hex(worst.bg)});
    };
    if (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0 && parse(s.outlineColor)[3] > 0) edge('outline', s.outlineColor);
    // a border that marks it: on any side, in a colour its peers do not have on that side
    for (const side of isMarked ? ['Top', 'Right', 'Bottom', 'Left'] : []) {
      const color = s[`border${side}Color`], style = s[`border${side}Style`];
      if (style === 'none' || !(parseFloat(s[`border${side}Width`]) > 0) || !(parse(color)[3] > 0)) continue;
      const same = peers(el).some(p => cs(p)[`border${side}Color`] === color && cs(p)[`border${side}Style`] === style);
      if (!same) edge('border', color);
    }
    if (!indicators.length) continue;
    const best = indicators.reduce((a, b) => b.contrast > a.contrast ? b : a);
    highlights.push({label: info.get(el).label, text: snippet(el.textContent), contrast: best.contrast, indicator: best.kind, indicators});
  }

  // Prominence: the prompt's largest text against the largest text outside it.
  const bigger = (a, b) => a.size > b.size + 0.01 || (Math.abs(a.size - b.size) <= 0.01 && a.weight > b.weight);
  const pick = list => list.reduce((a, b) => (a === null || bigger(b, a)) ? b : a, null);
  let promptText = null, otherText = null, promptFound = true;
  if (prompt) {
    const roots = [...qa.querySelectorAll(prompt)].filter(visible);
    promptFound = roots.length > 0;
    const inside = t => roots.some(r => r.contains(t.el));
    promptText = pick(texts.filter(inside));
    otherText = pick(texts.filter(t => !inside(t)));
  } else {
    promptText = pick(texts);
    otherText = promptText && pick(texts.filter(t => !t.el.contains(promptText.el) && !promptText.el.contains(t.el)));
  }
  const brief = t => t && {label: t.label, text: t.text, size: t.size, weight: t.weight};

  // Text that reflows: inline elements after the asked deletion in the same paragraph move when the
  // deletion's "[...]" becomes its answer. Keeping them still would mean reserving the answer's width on the
  // question side, which tells the student how long the answer is; so they are reported apart.
  const active = qa.querySelector('.cloze[data-cloze]') || qa.querySelector('.cloze');
  const blockOf = el => {
    for (let b = el.parentElement; b && b !== qa; b = b.parentElement) if (cs(b).display !== 'inline') return b;
    return qa;
  };
  const activeBlock = active && blockOf(active);
  // (The deletion itself too: with the text before it unchanged, it can only move by starting a new line
  // when its answer no longer fits at the end of the line.)
  const reflows = el => !!active && boxes.get(el).inline && activeBlock.contains(el)
    && (el === active || active.contains(el)
        || (!el.contains(active) && !!(active.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING)));
  const positions = {};
  for (const el of elems) {
    if (el === qa || !visible(el)) continue;
    const b = boxes.get(el);
    positions[info.get(el).path] = [round(b.x), round(b.y), round(b.w), round(b.h), info.get(el).label, b.inline,
                                    reflows(el) ? info.get(activeBlock).path : null];
  }
  const chars = {};
  for (const t of texts) chars[t.size] = (chars[t.size] || 0) + t.chars;
  return {
    viewport: vw, scroll_width: scrollWidth,
    overflow_px: round(Math.max(0, scrollWidth - vw, maxRight - vw, -minLeft)),
    offenders,
    body_font_px: round(parseFloat(cs(document.body).fontSize)),
    chars_by_size: chars,
    texts: texts.map(({el, ...rest}) => rest),
    highlights, shading,
    prompt: brief(promptText), other: brief(otherText), prompt_found: promptFound,
    positions,
  };
}
"""


@dataclass
class Metrics:
    """One card side pair (question, answer) at one width, theme and client."""

    width: int
    night: bool
    mobile: bool
    client: str
    overflow_px: float  # the worse side
    overflow_side: str | None
    overflow: list[dict]  # outermost elements past the viewport: side, label, left, right, text
    move_px: float  # the largest |dx| or |dy| of an element's top-left between the sides
    moves: list[dict]  # the worst elements over TARGETS["move_px"]: label, dx, dy, px, inline (a text span)
    reflow_px: float  # the largest move of inline text after the revealed deletion (allowed: see the JS)
    body_font_px: float  # the body's (.card's) computed font-size
    main_font_px: float  # the font-size carrying the most characters (both sides)
    min_font_px: float | None
    min_font: dict | None  # side, label, text, size
    min_contrast: float | None
    min_contrast_at: dict | None  # side, label, text, fg, bg, contrast
    min_highlight: float | None  # the weakest highlight's best indicator (target >= 3:1)
    min_highlight_at: dict | None
    min_shading: float | None  # other background changes (e.g. header cells), for information
    min_shading_at: dict | None
    prompt: dict | None  # question side: the prompt's largest text (label, text, size, weight)
    other: dict | None  # question side: the largest text outside the prompt
    prompt_found: bool
    prompt_most_prominent: bool
    answer_prompt_most_prominent: bool
    sides: dict = field(default_factory=dict, repr=False)  # the raw measurements, per side

    @property
    def phone(self) -> bool:
        return self.width < PHONE_MAX_WIDTH

    @property
    def condition(self) -> str:
        return condition_name(self.width, self.night, self.mobile)


def condition_name(width: int, night: bool, mobile: bool) -> str:
    return f"{width} {'night' if night else 'light'}{' mobile' if mobile else ''}"


def _show_side(page, html: str, *, ord: int, width: int, night: bool, mobile: bool, client: str, prompt, fresh: bool):
    """Show one side and measure it: one evaluate. The page is (re)built with set_content when the condition
    changes (or `fresh`); otherwise #qa's HTML and the body classes are replaced, as Anki's reviewer does."""
    key = (width, night, mobile, client)
    if fresh or getattr(page, "_card_metrics_shell", None) != key:
        if page.viewport_size != {"width": width, "height": VIEWPORT_HEIGHT}:
            page.set_viewport_size({"width": width, "height": VIEWPORT_HEIGHT})
        page.set_content(reviewer_page("", ord=ord, night=night, mobile=mobile, client=client))
        page._card_metrics_shell = key
    return page.evaluate(_MEASURE_JS, {"html": html, "bodyClass": body_class(ord, night, client), "prompt": prompt})


def measure(
    page,
    html_question: str,
    html_answer: str,
    css: str = "",
    *,
    width: int,
    night: bool,
    mobile: bool,
    ord: int = 0,
    prompt: str | None = None,
    client: str | None = None,
    fresh: bool = False,
) -> Metrics:
    """Show the question, measure, show the answer, measure, and compare (see `Metrics`)."""
    client = client or default_client(mobile)
    sides = {}
    for side, html in (("question", html_question), ("answer", html_answer)):
        if css and css not in html:
            html = f"<style>{css}</style>{html}"
        sides[side] = _show_side(
            page, html, ord=ord, width=width, night=night, mobile=mobile, client=client, prompt=prompt, fresh=fresh
        )
    return combine(sides, width=width, night=night, mobile=mobile, client=client)


def combine(sides: dict, *, width: int, night: bool, mobile: bool, client: str) -> Metrics:
    q, a = sides["question"], sides["answer"]
    worst_side = max(sides, key=lambda s: sides[s]["overflow_px"])
    overflow_px = sides[worst_side]["overflow_px"]
    overflow = [{"side": s, **o} for s in sides for o in sides[s]["offenders"]]

    def moved(path: str) -> float:
        """How far the element at `path` moved (0 when it is not on both sides)."""
        if path not in q["positions"] or path not in a["positions"]:
            return 0.0
        (qx, qy), (ax, ay) = q["positions"][path][:2], a["positions"][path][:2]
        return max(abs(ax - qx), abs(ay - qy))

    moves, reflow_px = [], 0.0
    for path, (qx, qy, _qw, _qh, label, inline, block) in q["positions"].items():
        if path not in a["positions"]:
            continue
        ax, ay = a["positions"][path][:2]
        dx, dy = round(ax - qx, 2), round(ay - qy, 2)
        block = block or a["positions"][path][6]
        if block is not None and moved(block) <= TARGETS["move_px"]:  # text reflowing in a paragraph that stays
            reflow_px = max(reflow_px, abs(dx), abs(dy))
            continue
        moves.append({"label": label, "dx": dx, "dy": dy, "px": max(abs(dx), abs(dy)), "inline": inline})
    moves.sort(key=lambda m: -m["px"])
    move_px = moves[0]["px"] if moves else 0.0

    texts = [(s, t) for s in sides for t in sides[s]["texts"]]
    smallest = min(texts, key=lambda st: st[1]["size"], default=None)
    dimmest = min(texts, key=lambda st: st[1]["contrast"], default=None)
    chars = Counter()
    for s in sides.values():
        for size, n in s["chars_by_size"].items():
            chars[float(size)] += n
    hls = [(s, h) for s in sides for h in sides[s]["highlights"]]
    weakest = min(hls, key=lambda sh: sh[1]["contrast"], default=None)
    shades = [(s, h) for s in sides for h in sides[s]["shading"]]
    faintest = min(shades, key=lambda sh: sh[1]["contrast"], default=None)

    def at(pair, *keys):
        if pair is None:
            return None
        side, item = pair
        return {"side": side, **{k: item[k] for k in keys if k in item}}

    def most_prominent(side):
        p, o = side["prompt"], side["other"]
        if p is None:
            return False
        return (
            o is None
            or p["size"] > o["size"] + 0.01
            or (abs(p["size"] - o["size"]) <= 0.01 and p["weight"] > o["weight"])
        )

    return Metrics(
        width=width,
        night=night,
        mobile=mobile,
        client=client,
        overflow_px=overflow_px,
        overflow_side=worst_side if overflow_px > 0 else None,
        overflow=overflow,
        move_px=move_px,
        moves=_worst_moves(moves),
        reflow_px=reflow_px,
        body_font_px=q["body_font_px"],
        main_font_px=chars.most_common(1)[0][0] if chars else q["body_font_px"],
        min_font_px=smallest[1]["size"] if smallest else None,
        min_font=at(smallest, "label", "text", "size"),
        min_contrast=dimmest[1]["contrast"] if dimmest else None,
        min_contrast_at=at(dimmest, "label", "text", "fg", "bg", "contrast"),
        min_highlight=weakest[1]["contrast"] if weakest else None,
        min_highlight_at=at(weakest, "label", "text", "contrast", "indicator", "indicators"),
        min_shading=faintest[1]["contrast"] if faintest else None,
        min_shading_at=at(faintest, "label", "text", "contrast", "color", "against"),
        prompt=q["prompt"],
        other=q["other"],
        prompt_found=q["prompt_found"],
        prompt_most_prominent=most_prominent(q),
        answer_prompt_most_prominent=most_prominent(a),
        sides=sides,
    )


def _worst_moves(moves: list[dict], keep: int = 5) -> list[dict]:
    """The `keep` worst moves over the target, plus the worst block (non-inline) one if it is not among them."""
    over = [m for m in moves if m["px"] > TARGETS["move_px"]]
    worst = over[:keep]
    block = next((m for m in over if not m["inline"]), None)
    if block is not None and block not in worst:
        worst.append(block)
    return worst


def failures(m: Metrics) -> list[str]:
    """What misses issue 13's targets, one short phrase each (empty: all met)."""
    out = []
    if m.overflow_px > TARGETS["overflow_px"]:
        out.append(f"overflow {m.overflow_px:g}px")
    if m.move_px > TARGETS["move_px"]:
        out.append(f"moves {m.move_px:g}px")
    body_target = TARGETS["body_font_phone_px"] if m.phone else TARGETS["body_font_desktop_px"]
    if m.body_font_px < body_target:
        out.append(f"body {m.body_font_px:g}px")
    if m.phone and m.min_font_px is not None and m.min_font_px < TARGETS["min_font_phone_px"]:
        out.append(f"text {m.min_font_px:g}px")
    if m.min_contrast is not None and m.min_contrast < TARGETS["text_contrast"]:
        out.append(f"contrast {m.min_contrast:g}")
    if m.min_highlight is not None and m.min_highlight < TARGETS["highlight_contrast"]:
        out.append(f"highlight {m.min_highlight:g}")
    if not m.prompt_most_prominent:
        out.append("prompt not most prominent")
    return out


# --------------------------------------------------------------------------------------------------------------
# The script


@dataclass
class CardResult:
    card: RenderedCard
    metrics: list[Metrics]


def conditions(widths: list[int]) -> list[tuple[int, bool, bool]]:
    return [(w, night, mobile) for w in widths for night in (False, True) for mobile in (False, True)]


def measure_deck(
    apkg: Path,
    widths: list[int],
    *,
    workdir: Path | None = None,
    match: str | None = None,
    mobile_client: str | None = None,
    progress=None,
) -> list[CardResult]:
    """Every card of `apkg` in every condition: one browser, one page, condition by condition."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="card-metrics-") as tmp:
        cards = rendered_cards(apkg, workdir or Path(tmp))
    if match:
        cards = [c for c in cards if match in c.key or match in c.note_type]
    results = {c.card_id: CardResult(c, []) for c in cards}
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = new_page(browser, widths[0])
            for width, night, mobile in conditions(widths):
                client = (mobile_client or default_client(True)) if mobile else "desktop"
                for card in cards:
                    m = measure(
                        page,
                        card.question,
                        card.answer,
                        width=width,
                        night=night,
                        mobile=mobile,
                        ord=card.ord,
                        prompt=prompt_selector(card.note_type, card.ord),
                        client=client,
                    )
                    results[card.card_id].metrics.append(m)
                if progress:
                    progress(condition_name(width, night, mobile))
        finally:
            browser.close()
    return list(results.values())


def _short_type(card: RenderedCard) -> str:
    name = card.note_type.removeprefix("tierdeck ")
    return f"{name[:5]}/{card.ord + 1}"


def _fmt(value, spec="g", none="-"):
    return none if value is None else format(value, spec)


def report(results: list[CardResult], out=sys.stdout) -> None:
    """The per-card table, then the summary against the targets."""
    w = out.write
    header = (
        f"{'card':34} {'type':8} {'condition':19} {'ovf px':>6} {'move':>6} {'body':>5} {'min px':>6} "
        f"{'contr':>5} {'hl':>5}  fails\n"
    )
    w(header)
    w("-" * (len(header) + 20) + "\n")
    for r in results:
        for m in r.metrics:
            w(
                f"{r.card.key[:34]:34} {_short_type(r.card):8} {m.condition:19} {m.overflow_px:6g} {m.move_px:6g} "
                f"{m.body_font_px:5g} {_fmt(m.min_font_px):>6} {_fmt(m.min_contrast):>5} {_fmt(m.min_highlight):>5}  "
                f"{', '.join(failures(m))}\n"
            )
    w("\n")
    summarize(results, out)


def summarize(results: list[CardResult], out=sys.stdout) -> None:
    w = out.write
    n = len(results)
    by_type = Counter(r.card.note_type for r in results)
    w(f"{n} cards: " + ", ".join(f"{t.removeprefix('tierdeck ')} {k}" for t, k in sorted(by_type.items())) + "\n\n")
    conds = sorted({(m.width, m.night, m.mobile) for r in results for m in r.metrics})
    w("Per condition (cards failing; worst value and where):\n")
    for cond in conds:
        ms = [(r, m) for r in results for m in r.metrics if (m.width, m.night, m.mobile) == cond]
        name = condition_name(*cond)
        over = [(r, m) for r, m in ms if m.overflow_px > TARGETS["overflow_px"]]
        over_q = [(r, m) for r, m in over if any(o["side"] == "question" for o in m.overflow)]
        over_a = [(r, m) for r, m in over if any(o["side"] == "answer" for o in m.overflow)]
        moved = [(r, m) for r, m in ms if m.move_px > TARGETS["move_px"]]
        w(f"  {name} ({ms[0][1].client}):\n")
        w(
            f"    overflow: {len(over)}/{n} cards (question side {len(over_q)}, answer side {len(over_a)}) {_types(over)}"
        )
        if over:
            r, m = max(over, key=lambda rm: rm[1].overflow_px)
            o = m.overflow[0] if m.overflow else {}
            w(f"; worst {m.overflow_px:g}px {r.card.key} {o.get('label', '')!s}")
        w("\n")
        w(f"    moves > {TARGETS['move_px']}px: {len(moved)}/{n} {_types(moved)}")
        if moved:
            r, m = max(moved, key=lambda rm: rm[1].move_px)
            mv = m.moves[0]
            w(f"; worst {m.move_px:g}px (dx {mv['dx']:g}, dy {mv['dy']:g}) {r.card.key} {_tail(mv['label'])}")
        sideways = [(r, m) for r, m in moved if any(abs(x["dx"]) > TARGETS["move_px"] for x in m.moves)]
        blocks = [
            (r, m) for r, m in sideways if any(abs(x["dx"]) > TARGETS["move_px"] and not x["inline"] for x in m.moves)
        ]
        w(
            f"; sideways {len(sideways)} {_types(sideways)}, of which blocks (lists, cells) {len(blocks)} {_types(blocks)}"
        )
        if blocks:
            r, m = max(blocks, key=lambda rm: max(abs(x["dx"]) for x in rm[1].moves if not x["inline"]))
            mv = max((x for x in m.moves if not x["inline"]), key=lambda x: abs(x["dx"]))
            w(f", worst {abs(mv['dx']):g}px {r.card.key} card {r.card.ord + 1} {_tail(mv['label'], 1)}")
        w("\n")
        bodies = sorted({m.body_font_px for _, m in ms})
        mains = sorted({m.main_font_px for _, m in ms})
        w(
            f"    body font: {'/'.join(f'{b:g}' for b in bodies)}px; "
            f"most text at {'/'.join(f'{b:g}' for b in mains)}px\n"
        )
        _worst(w, "smallest text", ms, lambda m: m.min_font_px, lambda m: m.min_font, "px")
        _worst(w, "lowest text contrast", ms, lambda m: m.min_contrast, lambda m: m.min_contrast_at, ":1")
        _worst(w, "weakest highlight", ms, lambda m: m.min_highlight, lambda m: m.min_highlight_at, ":1")
        _worst(w, "faintest shading (info)", ms, lambda m: m.min_shading, lambda m: m.min_shading_at, ":1")
        not_prominent = [(r, m) for r, m in ms if not m.prompt_most_prominent]
        w(f"    prompt not the most prominent text (question side): {len(not_prominent)}/{n} {_types(not_prominent)}")
        if not_prominent:
            r, m = not_prominent[0]
            p, o = m.prompt or {}, m.other or {}
            w(
                f"; e.g. {r.card.key}: prompt {p.get('size')}px/{p.get('weight')} vs {_tail(o.get('label', ''))} "
                f"{o.get('size')}px/{o.get('weight')}"
            )
        w("\n")
    w("\nFailures against issue 13's targets (cards failing in at least one condition):\n")
    checks = {
        "overflow": lambda m: m.overflow_px > TARGETS["overflow_px"],
        "moves on flip": lambda m: m.move_px > TARGETS["move_px"],
        "body text too small": lambda m: (
            m.body_font_px < (TARGETS["body_font_phone_px"] if m.phone else TARGETS["body_font_desktop_px"])
        ),
        "text under 15px on a phone": lambda m: (
            m.phone and m.min_font_px is not None and m.min_font_px < TARGETS["min_font_phone_px"]
        ),
        "text contrast < 4.5": lambda m: m.min_contrast is not None and m.min_contrast < TARGETS["text_contrast"],
        "highlight contrast < 3": lambda m: (
            m.min_highlight is not None and m.min_highlight < TARGETS["highlight_contrast"]
        ),
        "prompt not most prominent": lambda m: not m.prompt_most_prominent,
    }
    for name, bad in checks.items():
        failing = [r for r in results if any(bad(m) for m in r.metrics)]
        w(f"  {name}: {len(failing)}/{n} {_types([(r, None) for r in failing])}\n")


def _types(pairs) -> str:
    c = Counter(r.card.note_type.removeprefix("tierdeck ") for r, _ in pairs)
    return "(" + ", ".join(f"{t} {k}" for t, k in sorted(c.items())) + ")" if c else ""


def _tail(label: str, parts: int = 2) -> str:
    return " > ".join(label.split(" > ")[-parts:])


def _worst(w, title, ms, value, where, unit):
    vals = [(r, m) for r, m in ms if value(m) is not None]
    if not vals:
        w(f"    {title}: none\n")
        return
    r, m = min(vals, key=lambda rm: value(rm[1]))
    at = where(m) or {}
    w(
        f'    {title}: {value(m):g}{unit} at {_tail(at.get("label", ""))} ({at.get("side")}) "{at.get("text", "")}" '
        f"in {r.card.key}\n"
    )


def to_json(results: list[CardResult]) -> list[dict]:
    out = []
    for r in results:
        card = asdict(r.card)
        card.pop("question"), card.pop("answer"), card.pop("css")
        out.append(
            {
                **card,
                "conditions": [
                    {**{k: v for k, v in asdict(m).items() if k != "sides"}, "failures": failures(m)} for m in r.metrics
                ],
            }
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("apkg", type=Path)
    parser.add_argument(
        "--width", type=int, action="append", help="viewport width in CSS px (repeatable; default 390 and 900)"
    )
    parser.add_argument("--json", type=Path, help="write every measurement here")
    parser.add_argument("--match", help="only cards whose CardId or note type contains this")
    parser.add_argument(
        "--mobile-client",
        choices=["ankidroid", "ankimobile"],
        default="ankidroid",
        help="whose page the .mobile conditions use (default AnkiDroid's)",
    )
    parser.add_argument("--summary-only", action="store_true", help="skip the per-card table")
    args = parser.parse_args(argv)
    widths = args.width or [390, 900]
    start = time.perf_counter()
    results = measure_deck(
        args.apkg,
        widths,
        match=args.match,
        mobile_client=args.mobile_client,
        progress=lambda c: print(f"  measured {c} ({time.perf_counter() - start:.1f}s)", file=sys.stderr),
    )
    if args.summary_only:
        summarize(results)
    else:
        report(results)
    if args.json:
        args.json.write_text(json.dumps(to_json(results), indent=1), encoding="utf-8")
    print(
        f"\n{len(results)} cards x {len(conditions(widths))} conditions in {time.perf_counter() - start:.1f}s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
