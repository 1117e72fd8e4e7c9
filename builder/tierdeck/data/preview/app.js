/* tierdeck preview: shows the cards listed by index.js, rendering only what is near the window.
 *
 * Data files are scripts calling the functions of `window.tierdeck` (browsers refuse fetch() from file://):
 * index.js -> tierdeck.index(data), cards/<hash>.js -> tierdeck.cards(hash, records), text/<hash>.js ->
 * tierdeck.texts(hash, [texts, text of each card, file]). See builder/preview/site.py for what each holds.
 *
 * The filtered list (headings and cards) is cut into blocks of BLOCK rows. A block is an empty box of its
 * estimated (or last measured) height until it comes within MARGIN of the window; then its cards' data scripts
 * are loaded, its cards written, and each card side gets its shadow root. A block far from the window is
 * emptied again. Chromium's scroll anchoring keeps what is on screen still as heights settle above it.
 * Every card is also measured at phone width, off screen and when the page is idle, and flagged when it
 * overflows 390 px or has text under 15 px or below 4.5:1 contrast; results are kept in localStorage per
 * data script (its name is the hash of its content).
 */
"use strict";
(() => {
  const BLOCK = 20;
  const SMALL = 100; // a list this short is rendered whole
  const MARGIN = "1500px 0px";
  // the targets of data/readability.json (assets/readability.js), which lint and the layout tests read too
  const MIN_FONT_PX = window.tierdeckReadability.min_font_px;
  const MIN_CONTRAST = window.tierdeckReadability.min_text_contrast;
  const FLAGS_KEY = "tierdeck-flags-1:";
  const HEADING_PX = [0, 60, 56, 44];
  // What Anki's reviewer gives a card side (its body is the .card): the desktop's 20 px margin, AnkiDroid's .5em.
  const BASE_CSS = `:host { display: flex; flex-direction: column; }
.pv-html { flex: 1; display: flex; flex-direction: column; container-type: inline-size; }
.card { flex: 1; margin: 0; box-sizing: border-box; overflow-wrap: break-word; }
#qa { margin: 20px; }
.mobile #qa { margin: .5em; }
img { max-width: 100%; max-height: 95vh; }
li { text-align: start; }
pre { text-align: left; }
audio { max-width: 100%; }`;

  const $ = (id) => document.getElementById(id);
  const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  const esc = (text) => String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]);
  const plural = (n) => `${n.toLocaleString("en")} card${n === 1 ? "" : "s"}`;
  const idle = window.requestIdleCallback || ((f) => setTimeout(() => f({ timeRemaining: () => 8 }), 1));

  const loaded = { cards: new Map(), texts: new Map() }; // script name -> records or texts
  const waiting = new Map(); // script name -> { promise, resolve, reject }
  const sheets = new Map(); // stylesheet id -> CSSStyleSheet
  const base = new CSSStyleSheet();
  base.replaceSync(BASE_CSS);
  const average = new Map(); // "phone/type" -> [sum of heights, cards measured]
  const flags = new Map(); // cards script -> per card [bits, detail], or undefined while unmeasured
  let ix = null; // the index
  let rows = []; // the filtered list: card numbers and heading objects
  let blocks = [];
  let generation = 0;
  let flagCount = 0;
  let measured = 0;
  const urgent = []; // card numbers on screen, measured first

  // --- loading data scripts ------------------------------------------------------------------------------

  function settle(name, value) {
    const wait = waiting.get(name);
    if (wait) {
      waiting.delete(name);
      wait.resolve(value);
    }
  }

  function load(name, query = "") {
    if (waiting.has(name)) return waiting.get(name).promise;
    const wait = {};
    wait.promise = new Promise((resolve, reject) => Object.assign(wait, { resolve, reject }));
    waiting.set(name, wait);
    const script = document.createElement("script");
    script.src = name + query;
    script.onload = () => script.remove();
    script.onerror = () => {
      script.remove();
      waiting.delete(name);
      wait.reject(new Error(`cannot load ${name}`));
    };
    document.head.appendChild(script);
    return wait.promise;
  }

  const cardsOf = (chunk) => ix.scripts[chunk][0];
  const textsOf = (chunk) => ix.scripts[chunk][1];
  const need = (name) => (loaded.cards.has(name) ? null : load(name));
  const record = (i) => loaded.cards.get(cardsOf(ix.cards.chunk[i]))[ix.cards.pos[i]];

  let allTexts = null;
  function texts() {
    allTexts = allTexts || Promise.all(ix.scripts.map(([, name]) => (loaded.texts.has(name) ? null : load(name))));
    return allTexts;
  }

  window.tierdeck = {
    index(data) {
      if (waiting.has("index.js")) settle("index.js", data);
      else start(data);
    },
    cards(hash, records) {
      loaded.cards.set(`cards/${hash}.js`, records);
      settle(`cards/${hash}.js`);
    },
    texts(hash, list) {
      loaded.texts.set(`text/${hash}.js`, list);
      settle(`text/${hash}.js`);
    },
  };

  // --- filters ---------------------------------------------------------------------------------------------

  const controls = {
    search: $("pv-search"), tier: $("pv-tier"), type: $("pv-type"), tag: $("pv-tag"), level: $("pv-level"),
    flagged: $("pv-flagged"), night: $("pv-night"), phone: $("pv-phone"),
  };
  let tierIds = []; // global tier id of each card
  let tagTexts = []; // each set of tags as search text

  function options(select, pairs) {
    const keep = select.value;
    select.length = 1;
    for (const [value, text, count] of pairs) select.add(new Option(`${text} (${count.toLocaleString("en")})`, value));
    select.value = [...select.options].some((o) => o.value === keep) ? keep : "";
  }

  function fillFilters() {
    const c = ix.cards;
    const n = c.chunk.length;
    tierIds = new Array(n);
    const tiers = new Map();
    const types = new Array(ix.types.length).fill(0);
    const tags = new Array(ix.tags.length).fill(0);
    const levels = new Array(ix.levels.length + 1).fill(0);
    for (let i = 0; i < n; i++) {
      const [id, title] = ix.decks[c.deck[i]].tiers[c.tier[i]];
      tierIds[i] = id;
      if (!tiers.has(id)) tiers.set(id, [id, title, 0]);
      tiers.get(id)[2]++;
      types[c.type[i]]++;
      for (const t of c.tags[i]) tags[t]++;
      levels[c.level[i] + 1]++;
    }
    options(controls.tier, [...tiers.values()]);
    options(controls.type, ix.types.map(([key, title], k) => [key, title, types[k]]));
    options(controls.tag, ix.tags.map((tag, t) => [tag, tag, tags[t]]));
    const levelPairs = ix.levels.map(([key, label], l) => [key, label, levels[l + 1]]);
    options(controls.level, levels[0] ? [...levelPairs, ["none", "No evidence level", levels[0]]] : levelPairs);
  }

  const flagOf = (i) => stored(cardsOf(ix.cards.chunk[i]))[ix.cards.pos[i]];

  function matcher() {
    const c = ix.cards;
    const words = controls.search.value.toLowerCase().split(/\s+/).filter(Boolean);
    const tier = controls.tier.value;
    const type = ix.types.findIndex(([key]) => key === controls.type.value);
    const tag = ix.tags.indexOf(controls.tag.value);
    const level = controls.level.value === "none" ? -1 : ix.levels.findIndex(([key]) => key === controls.level.value);
    const anyLevel = !controls.level.value;
    const flagged = controls.flagged.checked;
    return (i) => {
      if (tier && tierIds[i] !== tier) return false;
      if (type >= 0 && c.type[i] !== type) return false;
      if (tag >= 0 && !c.tags[i].includes(tag)) return false;
      if (!anyLevel && c.level[i] !== level) return false;
      if (flagged) {
        const f = flagOf(i);
        if (!f || !f[0]) return false;
      }
      if (words.length) {
        const [texts, which, file] = loaded.texts.get(textsOf(c.chunk[i])); // a note's text, shared by its cards
        const text = texts[which[c.pos[i]]];
        const tags = tagTexts[c.tagset[i]];
        for (const w of words) if (!text.includes(w) && !tags.includes(w) && !file.includes(w)) return false;
      }
      return true;
    };
  }

  // --- the list --------------------------------------------------------------------------------------------

  function heading(level, text, note) {
    return { level, text, note, all: 0, shown: 0, children: [] };
  }

  /** The filtered rows, with a heading per deck, tier and card type that has a card left. */
  function filterRows(match) {
    const c = ix.cards;
    const decks = [];
    let h1 = null, h2 = null, h3 = null, shown = 0;
    for (let i = 0; i < c.chunk.length; i++) {
      const d = c.deck[i], t = c.tier[i], k = c.type[i];
      if (!h1 || h1.d !== d) {
        const deck = ix.decks[d];
        h1 = Object.assign(heading(1, deck.name, deck.version ? `v${deck.version}` : ""), { d });
        decks.push(h1);
        h2 = null;
      }
      if (!h2 || h2.t !== t) {
        h2 = Object.assign(heading(2, ix.decks[d].tiers[t][1], ""), { t });
        h1.children.push(h2);
        h3 = null;
      }
      if (!h3 || h3.k !== k) {
        h3 = Object.assign(heading(3, ix.types[k][1], ""), { k });
        h2.children.push(h3);
      }
      h1.all++; h2.all++; h3.all++;
      if (match(i)) {
        h1.shown++; h2.shown++; h3.shown++; shown++;
        h3.children.push(i);
      }
    }
    const out = [];
    const walk = (h) => {
      if (!h.shown) return;
      out.push(h);
      if (h.level === 3) for (const i of h.children) out.push(i);
      else h.children.forEach(walk);
    };
    decks.forEach(walk);
    return { out, shown };
  }

  function estimate(row) {
    if (typeof row !== "number") return HEADING_PX[row.level];
    const [sum, n] = average.get(`${controls.phone.checked}/${ix.cards.type[row]}`) || [0, 0];
    return n ? sum / n : controls.phone.checked ? 700 : 320;
  }

  const observer = new IntersectionObserver(
    (entries) => {
      for (const entry of entries) {
        const block = blocks[entry.target.dataset.b];
        if (!block || block.el !== entry.target) continue;
        if (entry.isIntersecting) show(block);
        else hide(block);
      }
    },
    { rootMargin: MARGIN },
  );

  /** Filter and lay out the list again; `heights` reuses the blocks' measured heights when the rows are alike. */
  async function build({ keepHeights = false } = {}) {
    const mine = ++generation;
    if (controls.search.value.trim()) await texts();
    if (mine !== generation) return;
    const { out, shown } = filterRows(matcher());
    const same = keepHeights && rows.length === out.length;
    const old = same ? blocks.map((b) => b.height) : null;
    const onScreen = same ? blocks.filter((b) => b.state === "shown").map((b) => Number(b.el.dataset.b)) : [];
    if (onScreen.length) {
      // an update: load what the blocks on screen will show before swapping them, so the page never blanks
      const names = new Set();
      for (const b of onScreen) {
        for (let r = b * BLOCK; r < Math.min((b + 1) * BLOCK, out.length); r++) {
          if (typeof out[r] === "number") names.add(cardsOf(ix.cards.chunk[out[r]]));
        }
      }
      await Promise.all([...names].map(need));
      if (mine !== generation) return;
    }
    rows = out;
    observer.disconnect();
    const main = $("pv-main");
    const fragment = document.createDocumentFragment();
    blocks = [];
    for (let from = 0, b = 0; from < rows.length; from += BLOCK, b++) {
      const to = Math.min(from + BLOCK, rows.length);
      let height = old ? old[b] : 0;
      if (!height) for (let r = from; r < to; r++) height += estimate(rows[r]);
      const el = document.createElement("div");
      el.className = "pv-block";
      el.dataset.b = b;
      el.style.height = `${height}px`;
      blocks.push({ el, from, to, height, state: "empty" });
      fragment.appendChild(el);
    }
    main.replaceChildren(fragment);
    for (const b of onScreen) render(blocks[b]);
    for (const block of blocks) observer.observe(block.el);
    if (rows.length <= SMALL) blocks.forEach(show);
    const total = ix.cards.chunk.length;
    $("pv-count").textContent = `${shown.toLocaleString("en")} of ${plural(total)}`;
    $("pv-empty").hidden = shown > 0;
    if (!shown) drawn();
  }

  // body[data-drawn] counts the lists drawn (for tests and benchmarks: the filters' answer is on screen)
  function drawn() {
    document.body.dataset.drawn = String(generation);
    ready();
  }

  function ready() {
    if (document.body.dataset.ready) return;
    document.body.dataset.ready = String(Math.round(performance.now()));
    texts(); // the search text, so that the first search need not wait for it
  }

  function show(block) {
    if (block.state !== "empty") return;
    block.state = "loading";
    const mine = generation;
    const names = new Set();
    for (let r = block.from; r < block.to; r++) if (typeof rows[r] === "number") names.add(cardsOf(ix.cards.chunk[rows[r]]));
    Promise.all([...names].map(need)).then(
      () => {
        if (mine !== generation || block.state !== "loading") return;
        render(block);
      },
      () => { block.state = "empty"; },
    );
  }

  function hide(block) {
    if (rows.length <= SMALL) return;
    if (block.state === "loading") block.state = "empty";
    if (block.state !== "shown") return;
    block.height = block.el.offsetHeight;
    block.el.style.height = `${block.height}px`;
    block.el.replaceChildren();
    block.state = "empty";
  }

  function render(block) {
    let html = "";
    for (let r = block.from; r < block.to; r++) {
      const row = rows[r];
      html += typeof row === "number" ? cardHtml(row) : headingHtml(row);
    }
    const el = block.el;
    el.innerHTML = html;
    for (const card of el.querySelectorAll(".pv-card")) {
      const i = Number(card.dataset.i);
      const rec = record(i);
      const [front, back] = card.querySelectorAll(".pv-side");
      attach(front, rec[3], rec[1], rec[9]);
      attach(back, rec[4], rec[1], rec[9]);
      if (!flagOf(i)) urgent.push(i);
    }
    el.style.height = "";
    block.state = "shown";
    for (const card of el.querySelectorAll(".pv-card")) {
      const key = `${controls.phone.checked}/${ix.cards.type[card.dataset.i]}`;
      const [sum, n] = average.get(key) || [0, 0];
      average.set(key, [sum + card.offsetHeight + 14, n + 1]);
    }
    block.height = el.offsetHeight;
    if (!blocks.some((b) => b.state === "loading")) drawn(); // every block in view is drawn
    measureSoon();
  }

  function headingHtml(h) {
    const count = `${h.shown < h.all ? `${h.shown.toLocaleString("en")} of ` : ""}${plural(h.all)}`;
    const tag = `h${h.level}`;
    const note = h.note ? ` <small>${esc(h.note)}</small>` : "";
    return `<${tag}>${esc(h.text)}${note} <small class="pv-n">${count}</small></${tag}>`;
  }

  function cardHtml(i) {
    const [key, ordinal, label, , , tags, source, location, level] = record(i);
    const levelLabel = level ? (ix.levels.find(([k]) => k === level) || [level, level])[1] : "";
    const flag = flagOf(i);
    const warnings = ix.warnings[i] || [];
    const tagHtml = tags.map((t) => `<span class="pv-tag">${esc(t)}</span>`).join(" ") || '<span class="pv-none">none</span>';
    return `<article class="pv-card" id="${esc(key)}.${ordinal}" data-i="${i}" data-key="${esc(key)}" data-ordinal="${ordinal}">`
      + `<header><code class="pv-id">${esc(key)}</code> <span class="pv-label">${esc(label)}</span>`
      + (level ? `<span class="pv-level pv-level-${esc(level)}">${esc(levelLabel)}</span>` : "")
      + `<span class="pv-flag"${flag && flag[0] ? "" : " hidden"}>${flag && flag[0] ? esc(flag[1]) : ""}</span></header>`
      + '<div class="pv-sides"><figure><figcaption>Front</figcaption><div class="pv-side" data-side="front"></div></figure>'
      + '<figure><figcaption>Back</figcaption><div class="pv-side" data-side="back"></div></figure></div>'
      + `<dl class="pv-meta"><dt>Tags</dt><dd>${tagHtml}</dd><dt>Source</dt><dd>${source || '<span class="pv-none">no source</span>'}</dd>`
      + `<dt>File</dt><dd><code>${esc(location)}</code></dd></dl>`
      + (warnings.length ? `<ul class="pv-warnings">${warnings.map((w) => `<li class="pv-warning">${esc(w)}</li>`).join("")}</ul>` : "")
      + "</article>";
  }

  // --- card sides: shadow roots with the note type's CSS and Anki's classes ---------------------------------

  // A width media query asks about the window; a side is a 390 px phone window only in phone view, where the
  // note type's width queries are asked of the side instead (as container queries).
  function forPhone(css) {
    return css.replace(/@media([^{]*)\{/g, (all, query) => {
      const asked = query.trim().replace(/^(only\s+)?screen\s+and\s+/i, "");
      return /^\(\s*(min-|max-)?width\s*:[^)]*\)(\s+and\s+\(\s*(min-|max-)?width\s*:[^)]*\))*$/i.test(asked)
        ? `@container ${asked} {` : all;
    });
  }

  function sheet(id, phone) {
    const key = `${id}/${phone}`;
    let found = sheets.get(key);
    if (!found) {
      found = new CSSStyleSheet();
      const css = ix.styles[id] || "";
      found.replaceSync(phone ? forPhone(css) : css);
      sheets.set(key, found);
    }
    return found;
  }

  // Anki's clients mark the page: nightMode (desktop, AnkiMobile) and night_mode (AnkiDroid) on the body, which
  // is the .card; `mobile` and the desktop's `night-mode` on <html>, here the element around the card.
  function sideHtml(html, ordinal, night, phone) {
    return `<div class="pv-html${phone ? " mobile" : ""}${night ? " night-mode" : ""}">`
      + `<div class="card card${ordinal}${night ? " nightMode night_mode" : ""}"><div id="qa">${html}</div></div></div>`;
  }

  function attach(host, html, ordinal, style) {
    const root = host.shadowRoot || host.attachShadow({ mode: "open" });
    root.adoptedStyleSheets = [base, sheet(style, controls.phone.checked)];
    root.innerHTML = sideHtml(html, ordinal, controls.night.checked, controls.phone.checked);
    host.dataset.style = style;
  }

  function modes() {
    const night = controls.night.checked, phone = controls.phone.checked;
    document.body.classList.toggle("pv-dark", night);
    document.body.classList.toggle("pv-phone", phone);
    for (const host of document.querySelectorAll("#pv-main .pv-side")) {
      const outer = host.shadowRoot && host.shadowRoot.querySelector(".pv-html");
      if (!outer) continue;
      host.shadowRoot.adoptedStyleSheets = [base, sheet(host.dataset.style, phone)];
      outer.classList.toggle("mobile", phone);
      outer.classList.toggle("night-mode", night);
      const card = outer.querySelector(".card");
      card.classList.toggle("nightMode", night);
      card.classList.toggle("night_mode", night);
    }
  }

  // --- flags: each card measured at phone width, as tests/card_metrics.py measures the real Anki pages ------

  const probe = $("pv-probe");
  const probes = [0, 1].map(() => {
    const host = document.createElement("div");
    probe.appendChild(host);
    return host.attachShadow({ mode: "open" });
  });

  function rgba(color) {
    const m = /rgba?\(([^)]+)\)/.exec(color || "");
    if (!m) return [0, 0, 0, 0];
    const p = m[1].split(/[\s,/]+/).filter(Boolean).map(parseFloat);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  }
  const over = (top, below) => [0, 1, 2].map((k) => top[k] * top[3] + below[k] * (1 - top[3]));
  function luminance(c) {
    const [r, g, b] = c.map((v) => { v /= 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  }
  function contrast(a, b) {
    const la = luminance(a), lb = luminance(b);
    return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
  }

  /** One side's widest overflow, smallest text and lowest contrast, as rendered now in `root`. */
  function measureSide(root, night) {
    const canvas = night ? [0, 0, 0] : [255, 255, 255];
    const backgrounds = new Map();
    const background = (el) => {
      if (!el) return canvas;
      if (backgrounds.has(el)) return backgrounds.get(el);
      const own = rgba(getComputedStyle(el).backgroundColor);
      const found = own[3] >= 1 ? own.slice(0, 3) : own[3] > 0 ? over(own, background(el.parentElement)) : background(el.parentElement);
      backgrounds.set(el, found);
      return found;
    };
    const host = root.host;
    const result = { overflow: host.scrollWidth - host.clientWidth, size: Infinity, sizeAt: "", ratio: Infinity, ratioAt: "" };
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!/\S/.test(node.data)) continue;
      const el = node.parentElement;
      if (!el || !el.checkVisibility({ visibilityProperty: true })) continue;
      const style = getComputedStyle(el);
      const size = parseFloat(style.fontSize);
      const text = node.data.trim().slice(0, 40);
      // a formula's sub- and superscripts are small by design (MathML scales them): not small text to flag
      if (size < result.size && !el.closest("math")) Object.assign(result, { size, sizeAt: text });
      const fg = rgba(style.color);
      const bg = background(el);
      const ratio = contrast(over(fg, bg), bg);
      if (ratio < result.ratio) Object.assign(result, { ratio, ratioAt: text });
    }
    return result;
  }

  /** [bits, what is wrong]: 1 overflow, 2 text under 15 px, 4 low contrast in light mode, 8 at night. */
  function measureCard(rec) {
    const problems = [];
    let bits = 0;
    const sides = [rec[3], rec[4]];
    for (const night of [false, true]) {
      probes.forEach((root, s) => {
        root.adoptedStyleSheets = [base, sheet(rec[9], true)];
        root.innerHTML = sideHtml(sides[s], rec[1], night, true);
      });
      const found = probes.map((root) => measureSide(root, night));
      const name = (s) => (s ? "back" : "front");
      if (!night) {
        found.forEach((m, s) => {
          if (m.overflow > 1) { bits |= 1; problems.push(`${name(s)} ${m.overflow}px wider than a 390px phone`); }
          if (m.size < MIN_FONT_PX) { bits |= 2; problems.push(`${name(s)} text at ${m.size}px: "${m.sizeAt}"`); }
        });
      }
      found.forEach((m, s) => {
        if (m.ratio < MIN_CONTRAST) {
          bits |= night ? 8 : 4;
          problems.push(`${name(s)} contrast ${m.ratio.toFixed(1)}:1${night ? " at night" : ""}: "${m.ratioAt}"`);
        }
      });
    }
    probes.forEach((root) => root.replaceChildren());
    return [bits, problems.join("; ")];
  }

  function stored(name) {
    if (flags.has(name)) return flags.get(name);
    let list = null;
    try { list = JSON.parse(localStorage.getItem(FLAGS_KEY + name) || "null"); } catch (e) { list = null; }
    if (list) count(list);
    list = list || [];
    flags.set(name, list);
    return list;
  }

  function count(list) {
    for (const f of list) if (f) { measured++; if (f[0]) flagCount++; }
  }

  function setFlag(i, value) {
    const name = cardsOf(ix.cards.chunk[i]);
    const list = stored(name);
    const pos = ix.cards.pos[i];
    if (list[pos]) return;
    list[pos] = value;
    count([value]);
    if (list.filter(Boolean).length === loaded.cards.get(name).length) {
      try { localStorage.setItem(FLAGS_KEY + name, JSON.stringify(list)); } catch (e) { /* full: measured again next time */ }
    }
    const card = document.querySelector(`#pv-main .pv-card[data-i="${i}"] .pv-flag`);
    if (card && value[0]) { card.hidden = false; card.textContent = value[1]; }
  }

  let background = 0; // the next chunk the idle measurer looks at
  let measuring = false;

  function measureSoon() {
    if (measuring) return;
    measuring = true;
    idle(measureSome);
  }

  function measureSome(deadline) {
    const more = () => idle(measureSome);
    while (deadline.timeRemaining() > 4) {
      const i = urgent.shift();
      if (i !== undefined) {
        if (i < ix.cards.chunk.length && !flagOf(i) && loaded.cards.has(cardsOf(ix.cards.chunk[i]))) setFlag(i, measureCard(record(i)));
        continue;
      }
      if (background >= ix.scripts.length) {
        measuring = false;
        showFlagCount();
        if (controls.flagged.checked) build({ keepHeights: true }); // every card measured: the list is complete
        return;
      }
      const name = ix.scripts[background][0];
      const list = stored(name);
      if (!loaded.cards.has(name)) {
        need(name).then(more, () => { background++; more(); });
        showFlagCount();
        return;
      }
      const records = loaded.cards.get(name);
      const pos = records.findIndex((_, p) => !list[p]);
      if (pos < 0) { background++; continue; }
      const card = indexOf(background, pos);
      if (card < 0) { background++; continue; }
      setFlag(card, measureCard(records[pos]));
    }
    showFlagCount();
    more();
  }

  const where = new Map(); // "chunk/pos" -> card number, built on demand
  function indexOf(chunk, pos) {
    if (!where.size) ix.cards.chunk.forEach((c, i) => where.set(`${c}/${ix.cards.pos[i]}`, i));
    const found = where.get(`${chunk}/${pos}`);
    return found === undefined ? -1 : found;
  }

  function showFlagCount() {
    const total = ix.cards.chunk.length;
    const done = Math.min(measured, total);
    $("pv-flags").textContent = flagCount.toLocaleString("en") + (done < total ? ` (measured ${Math.floor((100 * done) / total)}%)` : "");
  }

  // --- watching: a server started by `tierdeck preview --watch` tells the page when the cards change ---------

  function showErrors(errors) {
    const box = $("pv-errors");
    box.hidden = !errors.length;
    if (!errors.length) return;
    box.innerHTML = `<strong>${errors.length} problem${errors.length === 1 ? "" : "s"} in the cards; the preview shows them as they were before the last edit.</strong>`
      + `<ul>${errors.map((e) => `<li><code>${esc(e)}</code></li>`).join("")}</ul>`;
  }

  function stopped() {
    const box = $("pv-errors");
    box.hidden = false;
    box.innerHTML = "<strong>The preview server stopped ('tierdeck preview --watch' ended): this page no longer "
      + "follows your edits. Run it again to pick up where you left off.</strong>";
  }

  async function update(version) {
    const data = await load("index.js", `?v=${version}`);
    prepare(data);
    await build({ keepHeights: true });
  }

  async function watch() {
    if (!location.protocol.startsWith("http")) return;
    let since = -1;
    for (;;) {
      let state;
      try {
        const response = await fetch(`_tierdeck/poll?since=${since}`, { cache: "no-store" });
        if (!response.ok) return; // not tierdeck's server
        state = await response.json();
      } catch (e) {
        stopped(); // the server is gone (Ctrl-C) or restarting: say so until it answers again
        await new Promise((resolve) => setTimeout(resolve, 1000));
        continue;
      }
      since = state.epoch;
      if (state.version && state.version !== ix.version) await update(state.version);
      showErrors(state.errors);
    }
  }

  // --- start -------------------------------------------------------------------------------------------------

  /** The index with each card's deck, tier, type and tags at hand (index.js sends them compactly). */
  function expand(data) {
    const c = data.cards;
    const n = c.chunk.length;
    const deck = new Int32Array(n), tier = new Int32Array(n), type = new Int32Array(n);
    let i = 0;
    for (const [d, t, k, count] of data.groups) {
      deck.fill(d, i, i + count); tier.fill(t, i, i + count); type.fill(k, i, i + count);
      i += count;
    }
    const level = c.level.length ? Int32Array.from(c.level) : new Int32Array(n).fill(-1);
    const tags = c.tagset.map((set) => data.tagsets[set]);
    tagTexts = data.tagsets.map((set) => set.map((t) => data.tags[t]).join(" ").toLowerCase());
    return { ...data, cards: { chunk: c.chunk, pos: c.pos, deck, tier, type, level, tags, tagset: c.tagset } };
  }

  function prepare(data) {
    ix = expand(data);
    document.title = `${ix.title} - tierdeck preview`;
    const used = new Set(ix.scripts.flat());
    for (const kind of ["cards", "texts"]) for (const name of loaded[kind].keys()) if (!used.has(name)) loaded[kind].delete(name);
    for (const name of flags.keys()) if (!used.has(name)) flags.delete(name);
    measured = flagCount = 0;
    for (const list of flags.values()) count(list);
    where.clear();
    background = 0;
    allTexts = null;
    fillFilters();
    showFlagCount();
  }

  function start(data) {
    prepare(data);
    for (const name of ["search", "tier", "type", "tag", "level", "flagged"]) controls[name].addEventListener("input", () => build());
    for (const name of ["night", "phone"]) controls[name].addEventListener("change", modes);
    modes();
    build();
    watch();
  }
})();
