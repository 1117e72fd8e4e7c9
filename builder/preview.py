"""A static HTML preview of every card, rendered from the same templates and CSS as the `.apkg`. Never prints.

`write_site` writes `index.html` (page, filters and a little inline JavaScript) and the note types' CSS
into a folder that opens from disk, without a server. Each card side sits in its own shadow root
(declarative shadow DOM) holding the note type's CSS unchanged, exactly as Anki applies it to the card,
while the page around it keeps its own styles. Night mode and phone width set the classes Anki's
clients set (`nightMode`, `night_mode`, `mobile`) on each card, so the note type's own rules apply.
"""

from __future__ import annotations

import hashlib
import html
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tierdeck import yamlio
from tierdeck.kinds import KINDS
from tierdeck.render import plain_text
from tierdeck.stats import AUTO_TAG_PREFIXES
from tierdeck.templating import render_cards

if TYPE_CHECKING:
    from tierdeck.build import Report

TYPE_ORDER = ("term", "basic", "cloze", "mechanism", "table", "note")  # how a tier's cards are grouped


@dataclass(frozen=True)
class PreviewCard:
    """One Anki card as the preview shows it."""

    deck_id: str
    tier: str
    card_type: str
    note_key: str  # the card id, or `card/row/column` for a table cell
    ordinal: int  # 1-based, as Anki numbers the card within its note
    label: str  # which card of the note: the template name, with the deletion number for clozes
    question: str  # HTML, without the note type's CSS
    answer: str
    css: str
    tags: tuple[str, ...]
    source: str  # HTML of the Source field, empty when the card has none
    location: str  # `file:line` relative to the project root
    warnings: tuple[str, ...]


def preview_cards(report: Report) -> list[PreviewCard]:
    """Every card of every deck in `report`, in deck, tier, card type, then file order."""
    locator = yamlio.Locator()
    cards: list[PreviewCard] = []
    for result in report.decks:
        manifest = result.deck.manifest
        tier_titles = {t.id: t.title for t in manifest.tiers}
        tier_order = list(tier_titles)
        notes = sorted(
            enumerate(result.notes),
            key=lambda pair: (tier_order.index(pair[1].tier), TYPE_ORDER.index(pair[1].card_type), pair[0]),
        )
        for _, note in notes:
            card_path = note.path[:2]  # ("cards", index)
            where = f"{_relative(note.file, report.root)}:{locator.line(note.file, note.path)}"
            warnings = tuple(
                d.render(report.root)
                for d in report.warnings
                if d.file == note.file and d.path[: len(card_path)] == card_path
            )
            specials = {
                "Tags": " ".join(note.tags),
                "Deck": f"{manifest.name}::{tier_titles[note.tier]}",
                "Subdeck": tier_titles[note.tier],
            }
            rendered = render_cards(note.notetype, note.fields, specials)
            for card in rendered:
                label = card.name if len(rendered) > 1 or not note.notetype.cloze else note.notetype.templates[0].name
                cards.append(
                    PreviewCard(
                        deck_id=manifest.id,
                        tier=note.tier,
                        card_type=note.card_type,
                        note_key=note.key,
                        ordinal=card.ordinal,
                        label=label,
                        question=card.question,
                        answer=card.answer,
                        css=note.notetype.css,
                        tags=note.tags,
                        source=note.field("Source"),
                        location=where,
                        warnings=warnings,
                    )
                )
    return cards


def write_site(report: Report, out_dir: Path) -> Path:
    """Write the preview of `report` into `out_dir`; returns the path of its `index.html`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    assets = out_dir / "assets"
    assets.mkdir(exist_ok=True)
    cards = preview_cards(report)
    stylesheets: dict[str, str] = {}
    for css in dict.fromkeys(card.css for card in cards):
        name = f"notetype-{hashlib.sha256(css.encode()).hexdigest()[:12]}.css"
        stylesheets[css] = f"assets/{name}"
    for stale in assets.glob("notetype-*.css"):
        if f"assets/{stale.name}" not in stylesheets.values():
            stale.unlink()
    for css, href in stylesheets.items():
        _write_if_changed(out_dir / href, css)
    # Fields name images by their bare packed name, as Anki's flat media folder does: put them beside the page.
    for media in {m.name: m for r in report.decks for n in r.notes for m in getattr(n, "media", ())}.values():
        target = out_dir / media.name
        if not target.is_file() or target.read_bytes() != media.path.read_bytes():
            shutil.copyfile(media.path, target)
    index = out_dir / "index.html"
    _write_if_changed(index, _page(report, cards, stylesheets))
    return index


def _write_if_changed(path: Path, text: str) -> None:
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def _relative(file: Path, root: Path) -> str:
    try:
        return str(file.relative_to(root))
    except ValueError:
        return str(file)


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _page(report: Report, cards: list[PreviewCard], stylesheets: dict[str, str]) -> str:
    decks = {r.deck.manifest.id: r.deck.manifest for r in report.decks}
    tiers = {(r.deck.manifest.id, t.id): t.title for r in report.decks for t in r.deck.manifest.tiers}
    tags = Counter(tag for card in cards for tag in card.tags if not tag.startswith(AUTO_TAG_PREFIXES))
    title = ", ".join(m.name for m in decks.values()) or "tierdeck"

    def options(pairs: list[tuple[str, str]]) -> str:
        return "".join(f'<option value="{_e(value)}">{_e(text)}</option>' for value, text in pairs)

    tier_options = options(list(dict.fromkeys((tier, f"{t}") for (_, tier), t in tiers.items())))
    types_present = [k for k in TYPE_ORDER if any(c.card_type == k for c in cards)]
    type_options = options([(k, KINDS[k].title) for k in types_present])
    tag_options = options([(tag, f"{tag} ({n})") for tag, n in sorted(tags.items())])

    body: list[str] = []
    for deck_id, manifest in decks.items():
        deck_cards = [c for c in cards if c.deck_id == deck_id]
        version = f" <small>v{_e(manifest.version)}</small>" if manifest.version else ""
        body.append(f'<section class="pv-group pv-deck" data-deck="{_e(deck_id)}">')
        body.append(f'<h1>{_e(manifest.name)}{version} <small class="pv-n">{_plural(len(deck_cards))}</small></h1>')
        for tier in manifest.tiers:
            tier_cards = [c for c in deck_cards if c.tier == tier.id]
            if not tier_cards:
                continue
            body.append(f'<section class="pv-group pv-tier" data-tier="{_e(tier.id)}">')
            body.append(f'<h2>{_e(tier.title)} <small class="pv-n">{_plural(len(tier_cards))}</small></h2>')
            for kind in types_present:
                group = [c for c in tier_cards if c.card_type == kind]
                if not group:
                    continue
                body.append(f'<section class="pv-group pv-type" data-type="{_e(kind)}">')
                body.append(
                    f'<h3>{_e(KINDS[kind].title)} <small class="pv-n">{_plural(len(group))}</small></h3>'
                )
                body += [_card_html(c, stylesheets[c.css]) for c in group]
                body.append("</section>")
            body.append("</section>")
        body.append("</section>")

    return _TEMPLATE.format(
        title=_e(title),
        style=_PAGE_CSS,
        script=_SCRIPT,
        total=len(cards),
        tier_options=tier_options,
        type_options=type_options,
        tag_options=tag_options,
        body="\n".join(body),
    )


def _plural(n: int) -> str:
    return f"{n} card{'' if n == 1 else 's'}"


def _side(inner: str, href: str, side: str) -> str:
    """One card side in its own shadow root: the note type's CSS, then the card as Anki's body holds it."""
    return (
        f'<div class="pv-side" data-side="{side}"><template shadowrootmode="open">'
        f'<link rel="stylesheet" href="{_e(href)}"><style>{_SHADOW_CSS}</style>'
        f'<div class="card card1"><div id="qa">{inner}</div></div></template></div>'
    )


def _card_html(card: PreviewCard, href: str) -> str:
    searchable = " ".join(
        [card.note_key, card.label, plain_text(card.question), plain_text(card.answer), *card.tags]
        + [plain_text(card.source), card.location]
    ).lower()
    author_tags = [t for t in card.tags if not t.startswith(AUTO_TAG_PREFIXES)]
    tag_html = (
        " ".join(f'<span class="pv-tag">{_e(t)}</span>' for t in author_tags) or '<span class="pv-none">none</span>'
    )
    source = card.source or '<span class="pv-none">no source</span>'
    warnings = "".join(f'<li class="pv-warning">{_e(w)}</li>' for w in card.warnings)
    return (
        f'<article class="pv-card" id="{_e(card.note_key)}.{card.ordinal}" data-deck="{_e(card.deck_id)}" '
        f'data-tier="{_e(card.tier)}" data-type="{_e(card.card_type)}" data-tags="{_e(" ".join(card.tags))}" '
        f'data-text="{_e(searchable)}" data-key="{_e(card.note_key)}" data-ordinal="{card.ordinal}">'
        f'<header><code class="pv-id">{_e(card.note_key)}</code> <span class="pv-label">{_e(card.label)}</span>'
        f"</header>"
        f'<div class="pv-sides"><figure><figcaption>Front</figcaption>{_side(card.question, href, "front")}</figure>'
        f"<figure><figcaption>Back</figcaption>{_side(card.answer, href, 'back')}</figure></div>"
        f'<dl class="pv-meta"><dt>Tags</dt><dd>{tag_html}</dd><dt>Source</dt><dd>{source}</dd>'
        f"<dt>File</dt><dd><code>{_e(card.location)}</code></dd></dl>"
        + (f'<ul class="pv-warnings">{warnings}</ul>' if warnings else "")
        + "</article>"
    )


# Inside each card's shadow root: the box Anki's window gives the card (its body), nothing else.
_SHADOW_CSS = (
    ":host{display:block;height:100%}"
    ".card{min-height:100%;box-sizing:border-box;overflow-wrap:break-word}"
    "#qa{padding:18px 0}"
)

_PAGE_CSS = """
:root { color-scheme: light; --bg: #f3f4f7; --fg: #1f2430; --muted: #6b7385; --panel: #ffffff;
  --line: #dde1e8; --accent: #0b63c4; --warn: #9a5b00; --warn-bg: #fff6e0; }
body.pv-dark { color-scheme: dark; --bg: #14171f; --fg: #e6e9ef; --muted: #9aa3b5; --panel: #1b1f2a;
  --line: #2f3646; --accent: #7cc4ff; --warn: #f0c060; --warn-bg: #33290f; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 15px/1.45 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
.pv-bar { position: sticky; top: 0; z-index: 2; display: flex; flex-wrap: wrap; gap: 8px 14px; align-items: center;
  padding: 10px 20px; background: var(--panel); border-bottom: 1px solid var(--line); }
.pv-bar .pv-brand { font-weight: 700; letter-spacing: .02em; margin-right: 6px; }
.pv-bar input[type=search] { flex: 1 1 220px; max-width: 360px; }
.pv-bar input[type=search], .pv-bar select { font: inherit; padding: 5px 8px; border: 1px solid var(--line);
  border-radius: 6px; background: var(--bg); color: var(--fg); }
.pv-bar select { max-width: 13em; }
.pv-bar label { display: inline-flex; gap: 5px; align-items: center; cursor: pointer; user-select: none; }
.pv-count { margin-left: auto; color: var(--muted); }
main { padding: 6px 20px 40px; max-width: 1400px; margin: 0 auto; }
h1 { font-size: 22px; margin: 22px 0 4px; }
h2 { font-size: 18px; margin: 22px 0 6px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
h3 { font-size: 14px; margin: 16px 0 8px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); }
h1 small, h2 small, h3 small { font-weight: 400; color: var(--muted); font-size: 13px; text-transform: none;
  letter-spacing: normal; }
.pv-card { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 10px 12px 8px;
  margin: 0 0 14px; scroll-margin-top: 64px; }
.pv-card > header { display: flex; gap: 10px; align-items: baseline; margin-bottom: 8px; }
.pv-id { font-size: 13px; color: var(--accent); }
.pv-label { font-size: 12px; color: var(--muted); }
.pv-sides { display: grid; grid-template-columns: 1fr 1fr; gap: 10px; }
.pv-sides figure { margin: 0; display: flex; flex-direction: column; min-width: 0; }
.pv-sides figcaption { font-size: 11px; text-transform: uppercase; letter-spacing: .08em; color: var(--muted);
  margin-bottom: 3px; }
.pv-side { flex: 1; border: 1px solid var(--line); border-radius: 8px; overflow: hidden; min-height: 90px; }
.pv-meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 10px; margin: 8px 0 0; font-size: 12.5px; }
.pv-meta dt { color: var(--muted); }
.pv-meta dd { margin: 0; min-width: 0; overflow-wrap: anywhere; }
.pv-tag { display: inline-block; padding: 0 6px; margin: 0 3px 2px 0; border-radius: 9px; background: var(--bg);
  border: 1px solid var(--line); font-size: 12px; }
.pv-none { color: var(--muted); font-style: italic; }
.pv-warnings { margin: 8px 0 0; padding: 6px 10px 6px 26px; background: var(--warn-bg); color: var(--warn);
  border-radius: 6px; font-size: 12.5px; }
.pv-empty { padding: 40px; text-align: center; color: var(--muted); }
body.pv-phone main { max-width: 420px; }
body.pv-phone .pv-sides { grid-template-columns: 1fr; }
body.pv-phone .pv-side { max-width: 375px; }
"""

_SCRIPT = """
(() => {
  // Browsers without declarative shadow DOM leave the <template>s inert: attach them by hand.
  for (const t of document.querySelectorAll("template[shadowrootmode]")) {
    const host = t.parentElement;
    if (!host.shadowRoot) { host.attachShadow({ mode: "open" }).appendChild(t.content); }
    t.remove();
  }
  const $ = (id) => document.getElementById(id);
  const cards = [...document.querySelectorAll(".pv-card")];
  const search = $("pv-search"), tier = $("pv-tier"), type = $("pv-type"), tag = $("pv-tag");
  const night = $("pv-night"), phone = $("pv-phone");
  function filter() {
    const words = search.value.toLowerCase().split(/\\s+/).filter(Boolean);
    let shown = 0;
    for (const card of cards) {
      const d = card.dataset;
      const visible = words.every((w) => d.text.includes(w))
        && (!tier.value || d.tier === tier.value)
        && (!type.value || d.type === type.value)
        && (!tag.value || d.tags.split(" ").includes(tag.value));
      card.hidden = !visible;
      if (visible) shown++;
    }
    for (const group of document.querySelectorAll(".pv-group")) {
      const all = group.querySelectorAll(".pv-card").length;
      const visible = group.querySelectorAll(".pv-card:not([hidden])").length;
      group.hidden = visible === 0;
      const count = group.querySelector(".pv-n");
      if (count) count.textContent = (visible < all ? visible + " of " : "") + all + (all === 1 ? " card" : " cards");
    }
    $("pv-count").textContent = shown + " of " + cards.length + " cards";
    $("pv-empty").hidden = shown > 0;
  }
  // Anki's clients mark the card element: nightMode (desktop, AnkiMobile), night_mode (AnkiDroid), mobile.
  function mark(names, on) {
    for (const side of document.querySelectorAll(".pv-side")) {
      const card = side.shadowRoot && side.shadowRoot.querySelector(".card");
      if (card) { for (const name of names) card.classList.toggle(name, on); }
    }
  }
  function modes() {
    mark(["nightMode", "night_mode"], night.checked);
    mark(["mobile"], phone.checked);
    document.body.classList.toggle("pv-dark", night.checked);
    document.body.classList.toggle("pv-phone", phone.checked);
  }
  for (const input of [search, tier, type, tag]) input.addEventListener("input", filter);
  for (const input of [night, phone]) input.addEventListener("change", modes);
  filter();
  modes();
})();
"""

_TEMPLATE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - tierdeck preview</title>
<style>{style}</style>
</head>
<body>
<div class="pv-bar" role="search">
  <span class="pv-brand">tierdeck preview</span>
  <input type="search" id="pv-search" placeholder="Search cards, ids, tags, sources" aria-label="Search">
  <select id="pv-tier" aria-label="Tier"><option value="">All tiers</option>{tier_options}</select>
  <select id="pv-type" aria-label="Card type"><option value="">All types</option>{type_options}</select>
  <select id="pv-tag" aria-label="Tag"><option value="">All tags</option>{tag_options}</select>
  <label><input type="checkbox" id="pv-night"> Night mode</label>
  <label><input type="checkbox" id="pv-phone"> Phone width</label>
  <span class="pv-count" id="pv-count" aria-live="polite">{total} cards</span>
</div>
<main>
{body}
<p class="pv-empty" id="pv-empty" hidden>No card matches; clear the search or the filters.</p>
</main>
<script>{script}</script>
</body>
</html>
"""
