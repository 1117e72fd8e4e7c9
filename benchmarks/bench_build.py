"""Benchmark `tierdeck check` and `tierdeck build` against the floor (PyYAML's C loader + genanki).

    python benchmarks/bench_build.py [--sizes 1000,10000,50000] [--out benchmarks/results.json]
                                     [--keep DIR] [--repeat N] [--seed S] [--strict]

For each size it generates a synthetic project in tierdeck's own format (see `generate`), then runs
every step below as its own process, through `measure.py` (wall time, CPU time, peak RSS):

    floor          benchmarks/floor.py on the YAML: CSafeLoader parse + genanki notes + genanki write
    floor_genanki  benchmarks/floor.py --from-json: the same notes from already parsed cards (genanki only)
    cold_check     tierdeck check    after deleting caches, dist/ and the lock file
    cold_build     tierdeck build    after deleting caches, dist/ and the lock file
    warm_check     tierdeck check    nothing changed since the cold build: the first check after a build
    warm_build     tierdeck build    nothing changed
    edit_check     tierdeck check    after changing one word of one card
    edit_build     tierdeck build    after changing another word of that card
    preview_cold   tierdeck preview  after deleting caches, dist/, the lock file and preview/
    preview_warm   tierdeck preview  nothing changed
    preview_edit   tierdeck preview  after changing another word of that card

then, in headless Chromium (skipped without /usr/bin/chromium and playwright), the preview page: time until its
first cards are drawn and it responds, and how long search and the tier, type, tag and evidence filters take
to answer; and `tierdeck preview --watch`: from saving an edited card file to the open page showing it.
With --preview-only, only the floors, the cold build and the preview steps run.

It prints a table with the ratios to the floors, writes everything to --out as JSON, and checks the
targets of issue 7 (and issue 15's, for the preview) at the largest size. Exit code 0 (it is a report)
unless --strict and a target failed. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import platform
import random
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DECK_ID = "bench"
CARDS_PER_FILE = 500
TIERS = [("fundamentals", "1 Fundamentals"), ("intermediate", "2 Intermediate"), ("academic", "3 Academic")]
# Share of Anki *cards* (not notes) per card type.
MIX = {"cloze": 0.35, "basic": 0.25, "term": 0.20, "mechanism": 0.12, "table": 0.08}
STEPS = [
    "floor",
    "floor_genanki",
    "cold_check",
    "cold_build",
    "warm_check",
    "warm_build",
    "edit_check",
    "edit_build",
    "preview_cold",
    "preview_warm",
    "preview_edit",
]
TIERDECK_STEPS = STEPS[2:]
PREVIEW_ONLY_STEPS = ["floor", "floor_genanki", "cold_build", "preview_cold", "preview_warm", "preview_edit"]
WATCH_EDITS = 3  # saved edits timed per size; the median is reported
NOISE = 0.10  # how much slower than the baseline a step may measure before it counts as slower (shared machine)

# --- synthetic cards ---------------------------------------------------------------------------------------


def _words_of(text: str) -> list[str]:
    return text.split()


WORDS = _words_of(
    """
osteoblast osteoclast osteocyte collagen matrix mineral calcium phosphate hydroxyapatite cortical trabecular
periosteum marrow remodeling resorption formation turnover density fracture fragility microarchitecture
estrogen progesterone testosterone cortisol insulin glucagon thyroxine calcitonin parathyroid hormone
vitamin receptor ligand agonist antagonist isoform promoter enhancer transcription translation ribosome
chaperone kinase phosphatase cascade signalling pathway feedback inhibition stimulation secretion synthesis
clearance hypothalamus pituitary adrenal gonadal ovarian testicular hepatic renal intestinal pancreatic
placental cytokine interleukin necrosis factor inflammation macrophage monocyte lymphocyte neutrophil
fibroblast mesenchymal progenitor differentiation proliferation apoptosis senescence autophagy mitochondria
oxidative glucose lipid cholesterol triglyceride lipoprotein albumin globulin binding plasma serum
interstitial sodium potassium chloride bicarbonate magnesium zinc iron copper selenium iodine dose regimen
oral transdermal subcutaneous intramuscular pellet cream patch tablet injection menopause perimenopause
menarche puberty pregnancy lactation aging deficiency excess imbalance absorption distribution metabolism
excretion half-life bioavailability potency efficacy tolerance diagnosis screening assay biomarker imaging
densitometry biopsy prognosis therapy prevention symptom fatigue insomnia anxiety mood libido weight
appetite thermoregulation sweating gradient membrane channel transporter pump vesicle exocytosis endocytosis
cytoskeleton nucleus enzyme substrate cofactor coenzyme allosteric competitive reversible irreversible
saturable tissue organ system network axis loop rhythm circadian pulsatile episodic chronic acute
"""
)
FILLERS = _words_of(
    """
the of and in to by with from for as through during within under after before
"""
)
VERBS = _words_of(
    """
regulates increases decreases inhibits stimulates promotes suppresses modulates activates binds converts
releases transports stores degrades signals maintains restores disrupts amplifies attenuates
"""
)
QUESTIONS = ["What", "How", "Why", "Which", "When", "Where"]
QUESTION_TAILS = ["does", "do", "is", "are", "can", "may"]
HEADERS = _words_of(
    """
Agent Role Origin Target Effect Mechanism Onset Duration Route Dose Marker Site Risk Benefit Source Trigger
Outcome Receptor Pathway Timing Evidence Caution Monitoring
"""
)
SUBSCRIPTS = ["CO<sub>2</sub>", "O<sub>2</sub>", "H<sub>2</sub>O", "T<sub>3</sub>", "T<sub>4</sub>", "D<sub>3</sub>"]


def _sentence(rng: random.Random, low: int, high: int, end: str = ".") -> str:
    """low..high words of plausible biomedical prose, some with *emphasis*, **strong** or <sub>."""
    n = rng.randint(low, high)
    words = []
    for i in range(n):
        roll = rng.random()
        if i and roll < 0.28:
            words.append(rng.choice(FILLERS))
        elif i and roll < 0.36:
            words.append(rng.choice(VERBS))
        else:
            words.append(rng.choice(WORDS))
    if words[-1] in FILLERS or words[-1] in VERBS:
        words[-1] = rng.choice(WORDS)
    if n > 6 and rng.random() < 0.3:
        i = rng.randrange(2, n - 1)
        if words[i] not in FILLERS:
            words[i] += ","
    if rng.random() < 0.12:
        i = rng.randrange(1, n)
        words[i] = f"*{words[i].rstrip(',')}*"
    elif rng.random() < 0.05:
        i = rng.randrange(1, n)
        words[i] = f"**{words[i].rstrip(',')}**"
    if rng.random() < 0.05:
        words[rng.randrange(1, n)] = rng.choice(SUBSCRIPTS)
    words[0] = words[0].capitalize()
    return " ".join(words).rstrip(",") + end


def _words(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high)))


class _Cards:
    """Generates cards of each type, each with an id unique in the deck."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.count = 0
        self.terms: set[str] = set()

    def _common(self, kind: str) -> dict:
        rng = self.rng
        self.count += 1
        card = {"type": kind, "id": f"{kind}-{rng.choice(WORDS).replace('-', '')}-{self.count:06d}"}
        if rng.random() < 0.10:
            card["tier"] = rng.choice(TIERS)[0]
        if rng.random() < 0.70:
            card["tags"] = [f"topic::{rng.choice(WORDS)}" for _ in range(rng.randint(1, 2))]
            card["tags"] = list(dict.fromkeys(card["tags"]))
        if rng.random() < 0.10:
            card["source"] = f"Chapter {rng.randint(1, 40)} / {_words(rng, 2, 5).capitalize()}"
        return card

    def _finish(self, card: dict) -> dict:
        if self.rng.random() < 0.25:
            card["extra"] = _sentence(self.rng, 5, 20)
        return card

    def basic(self) -> tuple[dict, int]:
        rng, card = self.rng, self._common("basic")
        lead = f"{rng.choice(QUESTIONS)} {rng.choice(QUESTION_TAILS)}"
        rest = _sentence(rng, 4, 18, "?")
        card["front"] = f"{lead} {rest[0].lower()}{rest[1:]}"
        card["back"] = _sentence(rng, 10, 35)
        return self._finish(card), 1

    def term(self, reverse_allowed: bool = True) -> tuple[dict, int]:
        rng, card = self.rng, self._common("term")
        while True:
            term = " ".join(w.capitalize() if i == 0 else w for i, w in enumerate(_words(rng, 1, 3).split()))
            if term.casefold() not in self.terms:
                self.terms.add(term.casefold())
                break
        card["term"] = term
        card["definition"] = _sentence(rng, 10, 35)
        reverse = reverse_allowed and rng.random() < 0.3
        if reverse:
            card["reverse"] = True
        return self._finish(card), 2 if reverse else 1

    def cloze(self, max_numbers: int = 3) -> tuple[dict, int]:
        rng, card = self.rng, self._common("cloze")
        numbers = min(max_numbers, rng.choices([1, 2, 3], weights=[60, 25, 15])[0])
        words = _sentence(rng, 10 + 4 * numbers, 30).split(" ")
        # deletions over 1-3 plain words each, at increasing positions, none overlapping
        slots = sorted(rng.sample(range(1, len(words) - 3, 4), numbers))
        for number, start in enumerate(slots, start=1):
            length = rng.randint(1, 3)
            inner = " ".join(w.strip("*,.") for w in words[start : start + length])
            hint = f"::{rng.choice(WORDS)}" if rng.random() < 0.1 else ""
            trail = "," if words[start + length - 1].endswith(",") else ""
            words[start : start + length] = [f"{{{{c{number}::{inner}{hint}}}}}{trail}"] + [""] * (length - 1)
        card["text"] = " ".join(w for w in words if w)
        return self._finish(card), numbers

    def mechanism(self, max_steps: int = 6) -> tuple[dict, int]:
        rng, card = self.rng, self._common("mechanism")
        card["title"] = _words(rng, 3, 8).capitalize()
        card["steps"] = [_sentence(rng, 4, 9, "") for _ in range(min(max_steps, rng.randint(4, 6)))]
        return self._finish(card), len(card["steps"])

    def table(self, max_cards: int = 10**9) -> tuple[dict, int]:
        rng, card = self.rng, self._common("table")
        card["title"] = _words(rng, 3, 7).capitalize()
        n_cols, n_rows = rng.randint(3, 4), rng.randint(4, 6)
        while n_rows * (n_cols - 1) > max_cards and n_cols > 2:
            n_cols -= 1
        n_rows = max(1, min(n_rows, max_cards // (n_cols - 1)))
        card["columns"] = rng.sample(HEADERS, n_cols)
        firsts: set[str] = set()
        rows = []
        while len(rows) < n_rows:
            first = _words(rng, 1, 3).capitalize()
            if first.lower() in firsts:
                continue
            firsts.add(first.lower())
            cells = [first] + [_words(rng, 2, 8).capitalize() for _ in range(n_cols - 1)]
            rows.append({"id": f"row-{len(rows) + 1}", "cells": cells} if rng.random() < 0.1 else cells)
        card["rows"] = rows
        return self._finish(card), n_rows * (n_cols - 1)


def make_cards(size: int, seed: int) -> list[tuple[dict, int]]:
    """(card, Anki card count) pairs totalling exactly `size` Anki cards, in the MIX proportions, shuffled."""
    rng = random.Random(seed)
    gen = _Cards(rng)
    made: list[tuple[dict, int]] = []
    budgets = {kind: round(size * share) for kind, share in MIX.items()}
    for kind in ("table", "mechanism", "term", "cloze"):
        left = budgets[kind]
        while left > 0:
            if kind == "table":
                if left < 2:
                    break
                item = gen.table(max_cards=left)
            elif kind == "mechanism":
                if left < 2:
                    break
                item = gen.mechanism(max_steps=left)
            elif kind == "term":
                item = gen.term(reverse_allowed=left >= 2)
            else:
                item = gen.cloze(max_numbers=left)
            made.append(item)
            left -= item[1]
    total = sum(n for _, n in made)
    while total < size:  # basic cards fill the rest exactly
        made.append(gen.basic())
        total += 1
    rng.shuffle(made)
    return made


# --- a YAML writer in the style authors write by hand ---------------------------------------------------

_RESERVED = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"}
_PLAIN = re.compile(r"[A-Za-z][^\n\"'\\{}\[\]#]*")  # a letter first, then no quote, bracket or comment


def _scalar(value: object, flow: bool = False) -> str:
    """A plain scalar where YAML reads it back as the same text (as authors write), else double-quoted."""
    if value is True:
        return "true"
    text = str(value)
    plain = (
        _PLAIN.fullmatch(text)
        and ": " not in text
        and not text.endswith((":", " "))
        and not (flow and "," in text)
        and text.lower() not in _RESERVED
    )
    return text if plain else json.dumps(text, ensure_ascii=False)  # JSON strings are YAML double-quoted scalars


def _flow_list(values: list) -> str:
    return "[" + ", ".join(_scalar(v, flow=True) for v in values) + "]"


def card_yaml(card: dict) -> str:
    lines = []
    for key, value in card.items():
        first = "  - " if not lines else "    "
        if key == "tags" or key == "columns":
            lines.append(f"{first}{key}: {_flow_list(value)}")
        elif key == "steps":
            lines.append(f"{first}{key}:")
            lines += [f"      - {_scalar(step)}" for step in value]
        elif key == "rows":
            lines.append(f"{first}{key}:")
            for row in value:
                if isinstance(row, dict):
                    lines.append(f"      - {{id: {row['id']}, cells: {_flow_list(row['cells'])}}}")
                else:
                    lines.append(f"      - {_flow_list(row)}")
        elif key == "text":  # cloze text starts or may start with '{': always quoted, as docs/format.md says
            lines.append(f"{first}{key}: {json.dumps(value, ensure_ascii=False)}")
        else:
            lines.append(f"{first}{key}: {_scalar(value)}")
    return "\n".join(lines) + "\n"


def file_yaml(header: dict, cards: list[dict]) -> str:
    out = [f"# Synthetic benchmark cards ({len(cards)} cards), generated by benchmarks/bench_build.py."]
    out.append(f"tier: {header['tier']}")
    out.append(f"tags: {_flow_list(header['tags'])}")
    out.append(f"source: {_scalar(header['source'])}")
    out.append("cards:")
    return "\n".join(out) + "\n" + "\n".join(card_yaml(c) for c in cards)


@dataclass
class Project:
    root: Path
    size: int
    cards: int = 0
    notes: int = 0
    files: int = 0
    yaml_bytes: int = 0
    cards_by_type: dict = field(default_factory=dict)
    notes_by_type: dict = field(default_factory=dict)
    edit_file: Path | None = None
    edit_card: str = ""
    edit_word: str = ""
    edit_original: str = ""


def generate(root: Path, size: int, seed: int) -> Project:
    """A project at `root`: decks/bench.yaml (3 tiers) and card files of ~500 Anki cards under cards/bench/."""
    import yaml  # only to verify what was written

    rng = random.Random(seed + 1)
    project = Project(root, size)
    (root / "decks").mkdir(parents=True)
    folder = root / "cards" / DECK_ID
    folder.mkdir(parents=True)
    tiers = "\n".join(f"  - {{id: {tid}, title: {title}}}" for tid, title in TIERS)
    (root / "decks" / f"{DECK_ID}.yaml").write_text(
        f"id: {DECK_ID}\nname: Benchmark Deck\nversion: 1.0.0\ndescription: |\n"
        f"  Synthetic deck of {size} cards generated by `benchmarks/bench_build.py` (seed {seed}).\n"
        f"  Mixes *all five* card types.\ntiers:\n{tiers}\ncards: [cards/{DECK_ID}]\ntags: [bench, synthetic]\n",
        encoding="utf-8",
    )
    groups: list[list[tuple[dict, int]]] = [[]]
    in_group = 0
    for item in make_cards(size, seed):
        if in_group >= CARDS_PER_FILE:
            groups.append([])
            in_group = 0
        groups[-1].append(item)
        in_group += item[1]
    middle = len(groups) // 2
    for number, group in enumerate(groups, start=1):
        topic = rng.choice(WORDS).replace("-", "")
        header = {
            "tier": TIERS[(number - 1) % len(TIERS)][0],
            "tags": [f"part::{number:03d}", f"topic::{topic}"],
            "source": f"Chapter {number} / {_words(rng, 2, 5).capitalize()}",
        }
        cards = [card for card, _ in group]
        path = folder / f"{number:03d}-{topic}.yaml"
        text = file_yaml(header, cards)
        path.write_text(text, encoding="utf-8")
        if number <= 10:  # the writer's quoting is the same everywhere: check it on the first files
            expected = {**header, "cards": cards}
            if yaml.load(text, Loader=yaml.CSafeLoader) != expected:
                raise AssertionError(f"the YAML written to {path} does not read back as generated")
        project.files += 1
        project.yaml_bytes += len(text.encode())
        for card, n in group:
            kind = card["type"]
            project.cards_by_type[kind] = project.cards_by_type.get(kind, 0) + n
            notes = n if kind == "table" else 1
            project.notes_by_type[kind] = project.notes_by_type.get(kind, 0) + notes
            project.cards += n
            project.notes += notes
        if number - 1 == middle:
            target = next((c for c in cards if c["type"] == "basic"), None) or next(
                c for c in cards if "back" in c or "definition" in c
            )
            project.edit_file, project.edit_card = path, target["id"]
            project.edit_original = text
            project.edit_word = next(
                w for w in (target.get("back") or target["definition"]).split(" ")[1:] if w.isalpha() and len(w) > 3
            )
    return project


def edit_one_card(project: Project, new_word: str) -> None:
    """Replace one word in the answer of one card of one file (the file's other bytes stay as they were)."""
    path = project.edit_file
    lines = path.read_text(encoding="utf-8").split("\n")
    start = lines.index(f"    id: {project.edit_card}")
    for i in range(start + 1, len(lines)):
        if lines[i].startswith(("    back: ", "    definition: ")):
            pattern = rf"(?<= ){re.escape(project.edit_word)}(?=[ ,.\"])"
            lines[i], found = re.subn(pattern, new_word, lines[i], count=1)
            if not found:
                raise AssertionError(f"word '{project.edit_word}' not found in {path}:{i + 1}")
            break
    else:
        raise AssertionError(f"no answer line after card '{project.edit_card}' in {path}")
    path.write_text("\n".join(lines), encoding="utf-8")
    project.edit_word = new_word


# --- running and measuring -------------------------------------------------------------------------------


def tierdeck_command() -> list[str]:
    """The installed `tierdeck` console script next to this Python, else `python -m tierdeck`."""
    script = Path(sys.executable).parent / ("tierdeck.exe" if os.name == "nt" else "tierdeck")
    return [str(script)] if script.exists() else [sys.executable, "-m", "tierdeck"]


class Runner:
    def __init__(self, work: Path):
        self.work = work
        self.logs = work / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)

    def measure(self, name: str, argv: list[str], cwd: Path, env: dict) -> dict:
        """Run `argv` once through measure.py; its seconds, CPU seconds, peak RSS, exit code and output."""
        result_path = self.logs / f"{name}.rusage.json"
        out_path, err_path = self.logs / f"{name}.out", self.logs / f"{name}.err"
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            subprocess.run(
                [sys.executable, "-I", "-S", str(HERE / "measure.py"), str(result_path), "--", *argv],
                cwd=cwd,
                env=env,
                stdout=out,
                stderr=err,
                check=True,
            )
        usage = json.loads(result_path.read_text())
        stdout = out_path.read_text(encoding="utf-8", errors="replace")
        stderr = err_path.read_text(encoding="utf-8", errors="replace")
        return {
            "seconds": usage["seconds"],
            "cpu_seconds": usage["user"] + usage["sys"],
            "peak_rss_mb": usage["maxrss_kb"] * 1024 / 1e6,
            "rc": usage["rc"],
            "stdout": stdout,
            "stderr_tail": stderr.strip().splitlines()[-5:],
        }


def _best(runs: list[dict]) -> dict:
    """Of repeated runs: the fastest time (noise only adds), the largest peak memory, any failure."""
    best = dict(min(runs, key=lambda r: r["seconds"]))
    best["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
    best["rc"] = next((r["rc"] for r in runs if r["rc"] != 0), 0)
    best["runs"] = [{k: r[k] for k in ("seconds", "cpu_seconds", "peak_rss_mb", "rc")} for r in runs]
    return best


def _clean(root: Path, cache_home: Path) -> None:
    """Cold: no tierdeck cache (in the project or under XDG_CACHE_HOME), no dist/, no lock file, no preview/."""
    for path in (root / ".tierdeck-cache", cache_home / "tierdeck", root / "dist", root / "preview"):
        shutil.rmtree(path, ignore_errors=True)
    (root / "decks" / f"{DECK_ID}.lock").unlink(missing_ok=True)
    cache_home.mkdir(parents=True, exist_ok=True)


def _sha256(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


EDIT_WORDS = ["modulated", "attenuated", "amplified", "restored", "suppressed", "stimulated", "inhibited"]


def _edit_words():
    """Words never used before in the run: every edit gives file bytes no cache has seen."""
    for i in itertools.count():
        yield EDIT_WORDS[i % len(EDIT_WORDS)] + (str(i) if i >= len(EDIT_WORDS) else "")


@dataclass
class Side:
    """One tierdeck being measured: this checkout's, or the baseline run side by side with it."""

    name: str  # "tierdeck" or "baseline"
    tierdeck: list[str]
    project: Project
    cache_home: Path
    env: dict
    steps: dict = field(default_factory=dict)

    @property
    def root(self) -> Path:
        return self.project.root


def bench_size(
    size: int,
    seed: int,
    repeat: int,
    root: Path,
    runner: Runner,
    preview_only: bool = False,
    baseline: list[str] | None = None,
) -> dict:
    print(f"\n== {size} cards: generating {root}", flush=True)
    t = time.perf_counter()
    project = generate(root, size, seed)
    print(
        f"   {project.cards} cards in {project.notes} notes, {project.files} files, "
        f"{project.yaml_bytes / 1e6:.1f} MB of YAML ({time.perf_counter() - t:.1f} s)",
        flush=True,
    )
    work = runner.work / f"size-{size}"
    work.mkdir()
    env = dict(os.environ)
    for name in ("SOURCE_DATE_EPOCH", "TIERDECK_NO_CACHE", "TIERDECK_JOBS"):  # measure tierdeck as it runs by default
        env.pop(name, None)
    sides = [Side("tierdeck", tierdeck_command(), project, work / "xdg-cache", {**env, "XDG_CACHE_HOME": str(work / "xdg-cache")})]
    if baseline:  # its own copy of the project and its own caches; each step runs on both, one after the other
        copy = work / "baseline-project"
        shutil.copytree(root, copy)
        assert project.edit_file is not None
        twin = replace(project, root=copy, edit_file=copy / project.edit_file.relative_to(root))
        home = work / "xdg-cache-baseline"
        sides.append(Side("baseline", baseline, twin, home, {**env, "XDG_CACHE_HOME": str(home)}))
    current = sides[0]
    cache_home = current.cache_home
    dump = work / "floor-cards.json"
    subprocess.run(
        [sys.executable, str(HERE / "floor.py"), str(root), "--dump", str(dump)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    tierdeck = current.tierdeck
    apkg = root / "dist" / f"{DECK_ID}.apkg"
    edits = _edit_words()
    steps = current.steps
    facts: dict = {}

    def measure(side: Side, step: str, argv: list[str], before=None) -> None:
        runs = []
        for i in range(repeat):
            if before:
                before(side)
            runs.append(runner.measure(f"{size}-{side.name}-{step}-{i}", argv, side.root, side.env))
        side.steps[step] = _best(runs)
        s = side.steps[step]
        label = step if side is current else f"{step} ({side.name})"
        print(f"   {label:<25} {s['seconds']:8.2f} s  {s['peak_rss_mb']:7.0f} MB  rc {s['rc']}", flush=True)
        if s["rc"] != 0:
            print("     " + "\n     ".join(s["stderr_tail"]), flush=True)

    def run(step: str, argv: list[str], before=None) -> None:
        """A floor step, with its command line as given."""
        measure(current, step, argv, before)

    def run_tierdeck(step: str, args: list[str], before=None) -> None:
        """`tierdeck ARGS` with every tierdeck measured: the baseline first, then this one, at the same moment."""
        for side in reversed(sides):
            measure(side, step, [*side.tierdeck, *args], before)

    def clean(side: Side) -> None:
        _clean(side.root, side.cache_home)

    def edit(side: Side) -> None:
        edit_one_card(side.project, next(edits))

    def rebuilt(side: Side) -> None:
        clean(side)
        subprocess.run([*side.tierdeck, "build"], cwd=side.root, env=side.env, check=True, capture_output=True)

    floor_py = [sys.executable, str(HERE / "floor.py")]
    run("floor", [*floor_py, str(root), "--out", str(work / "floor.apkg")])
    run("floor_genanki", [*floor_py, "--from-json", str(dump), "--out", str(work / "floor-genanki.apkg")])
    for step in ("floor", "floor_genanki"):
        try:
            printed = json.loads(steps[step]["stdout"])
            steps[step]["phases"], facts[f"{step}_notes"] = printed["phases"], printed["notes"]
        except (ValueError, KeyError):
            steps[step]["phases"], facts[f"{step}_notes"] = {}, None
    if not preview_only:
        run_tierdeck("cold_check", ["check"], before=clean)
    run_tierdeck("cold_build", ["build"], before=clean)
    try:
        manifest = json.loads((root / "dist" / "manifest.json").read_text(encoding="utf-8"))
        entry = next(d for d in manifest["decks"] if d["id"] == DECK_ID)
        facts["tierdeck_cards"], facts["tierdeck_notes"] = entry["cards"], entry["notes"]
    except (OSError, ValueError, KeyError, StopIteration):
        facts["tierdeck_cards"] = facts["tierdeck_notes"] = None
    if not preview_only:
        # the first check after a build: it lints what the build compiled. A second check would answer from its
        # record, so with --repeat every run starts from a fresh cold build (untimed)
        run_tierdeck("warm_check", ["check"], before=rebuilt if repeat > 1 else None)
        cold_sha, cold_mtime = _sha256(apkg), apkg.stat().st_mtime_ns if apkg.exists() else None
        run_tierdeck("warm_build", ["build"])
        facts["warm_build_same_apkg"] = _sha256(apkg) == cold_sha
        facts["warm_build_rewrote_apkg"] = (apkg.stat().st_mtime_ns if apkg.exists() else None) != cold_mtime
        run_tierdeck("edit_check", ["check"], before=edit)
        before_edit_build = _sha256(apkg)
        run_tierdeck("edit_build", ["build"], before=edit)
        facts["edit_build_changed_apkg"] = _sha256(apkg) != before_edit_build
    run_tierdeck("preview_cold", ["preview"], before=clean)
    run_tierdeck("preview_warm", ["preview"])
    run_tierdeck("preview_edit", ["preview"], before=edit)
    shown = re.search(r"preview of ([\d,]+) cards", steps["preview_edit"]["stdout"])
    facts["preview_cards"] = int(shown.group(1).replace(",", "")) if shown else None
    page = preview_page(root / "preview" / "index.html", project.edit_card)
    watch = watch_latency(root, [*tierdeck, "preview", "--watch", "--port", "0"], current.env, edits) if page else None
    # leave the project as generated: the edited file restored, no caches, no dist/, no lock file
    project.edit_file.write_text(project.edit_original, encoding="utf-8")
    _clean(root, cache_home)
    for side in sides:
        for s in side.steps.values():
            s["stdout_tail"] = s.pop("stdout").strip().splitlines()[-3:]
    return {
        "size": size,
        "cards": project.cards,
        "notes": project.notes,
        "files": project.files,
        "yaml_bytes": project.yaml_bytes,
        "cards_by_type": project.cards_by_type,
        "notes_by_type": project.notes_by_type,
        "edited": {"file": str(project.edit_file.relative_to(root)), "card": project.edit_card},
        "checks": facts,
        "steps": steps,
        "page": page,
        "watch": watch,
        "baseline": {"command": baseline, "steps": sides[1].steps} if baseline else None,
    }


# --- the preview in a browser ----------------------------------------------------------------------------

# In the page: set a control, and resolve with the milliseconds until the list it asks for is drawn (the page
# counts the lists it has drawn in body[data-drawn]).
_ANSWER_JS = """
async ([id, value]) => {
  const control = document.getElementById(id);
  const before = document.body.dataset.drawn;
  const start = performance.now();
  control.value = value;
  control.dispatchEvent(new Event("input", { bubbles: true }));
  while (document.body.dataset.drawn === before) await new Promise(requestAnimationFrame);
  await new Promise(requestAnimationFrame);  // and painted
  return performance.now() - start;
}
"""


def _chromium():
    """Playwright's sync API and the system Chromium's path, or None when either is missing."""
    chromium = Path("/usr/bin/chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    return (sync_playwright, chromium) if chromium.exists() else None


def _launch(playwright, chromium: Path):
    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
    return playwright.chromium.launch(executable_path=str(chromium), args=args, headless=True)


def preview_page(index: Path, unique_word: str) -> dict | None:
    """The preview page in headless Chromium: ms until its first cards are drawn and it responds, then the
    ms each search and filter takes to be answered on screen. None without Chromium."""
    found = _chromium()
    if found is None:
        print("   (no /usr/bin/chromium or playwright: the page is not measured)", flush=True)
        return None
    sync_playwright, chromium = found
    with sync_playwright() as playwright:
        browser = _launch(playwright, chromium)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(index.as_uri(), wait_until="commit")
            page.wait_for_function("document.body.dataset.ready", polling="raf", timeout=120_000)
            first_cards = float(page.evaluate("document.body.dataset.ready"))
            interactive = page.evaluate("performance.now()")  # runs once the page's main thread is free
            def answer(control, value):
                return page.evaluate(_ANSWER_JS, [control, value])

            result = {"first_cards_ms": first_cards, "interactive_ms": interactive}
            result["search_first_ms"] = answer("pv-search", unique_word)  # loads the search text too
            result["search_ms"] = max(answer("pv-search", w) for w in ("osteoclast", "calcium fracture", "zz"))
            answer("pv-search", "")
            options = page.evaluate(
                "() => Object.fromEntries(['tier', 'type', 'tag', 'level'].map(f => [f, "
                "[...document.getElementById('pv-' + f).options].map(o => o.value).filter(Boolean)]))"
            )
            for name, values in options.items():
                if values:
                    result[f"filter_{name}_ms"] = answer(f"pv-{name}", values[len(values) // 2])
                    answer(f"pv-{name}", "")
            result["cards_on_page"] = page.evaluate("document.querySelectorAll('#pv-main .pv-card').length")
            result["js_heap_mb"] = page.evaluate("performance.memory ? performance.memory.usedJSHeapSize / 1e6 : null")
        finally:
            browser.close()
    print(
        "   page           "
        + ", ".join(f"{k.removesuffix('_ms')} {v:.0f} ms" for k, v in result.items() if k.endswith("_ms")),
        flush=True,
    )
    return result


def watch_latency(root: Path, argv: list[str], env: dict, edits) -> dict | None:
    """`tierdeck preview --watch` with the page open: seconds from saving an edit of the first card on the page
    to the page showing it, WATCH_EDITS times. The card file is restored afterwards."""
    found = _chromium()
    if found is None:
        return None
    sync_playwright, chromium = found
    process = subprocess.Popen(
        argv,
        cwd=root,
        env={**env, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    times: list[float] = []
    edited: tuple[Path, str] | None = None
    try:
        line = process.stdout.readline()
        url = re.search(r"http://\S+/", line)
        if url is None:
            raise RuntimeError(f"tierdeck preview --watch did not start: {line!r}")
        with sync_playwright() as playwright:
            browser = _launch(playwright, chromium)
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 1000})
                page.goto(url.group(), wait_until="commit")
                page.wait_for_function("document.body.dataset.ready", polling="raf", timeout=120_000)
                where = page.inner_text("#pv-main .pv-card .pv-meta code")
                path, line_number = root / where.rsplit(":", 1)[0], int(where.rsplit(":", 1)[1])
                edited = (path, path.read_text(encoding="utf-8"))
                for _ in range(WATCH_EDITS):
                    word = next(edits)
                    text = _edit_answer(edited[1], line_number, word)
                    started = time.perf_counter()
                    path.write_text(text, encoding="utf-8")
                    page.wait_for_function(
                        "word => document.querySelector('#pv-main .pv-card').querySelectorAll('.pv-side')[1]"
                        "?.shadowRoot.textContent.includes(word)",
                        arg=word,
                        polling="raf",
                        timeout=60_000,
                    )
                    times.append(time.perf_counter() - started)
            finally:
                browser.close()
    finally:
        if edited is not None:
            edited[0].write_text(edited[1], encoding="utf-8")
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
    median = sorted(times)[len(times) // 2]
    print(f"   watch          {median:.2f} s from saving to the page (of {', '.join(f'{t:.2f}' for t in times)})")
    return {"seconds": median, "runs": times, "exit_code": process.returncode}


def _edit_answer(text: str, card_line: int, word: str) -> str:
    """`text` with the last word of the answer (back, definition, text or first step) of the card starting at
    line `card_line` replaced by `word`."""
    lines = text.split("\n")
    for i in range(card_line - 1, len(lines)):
        if i > card_line - 1 and lines[i].startswith("  - "):
            break
        match = re.match(r"(    (?:back|definition|text): .*?)(\w+)([.\"*_]*)$", lines[i])
        if match:
            lines[i] = f"{match.group(1)}{word}{match.group(3)}"
            return "\n".join(lines)
    raise AssertionError(f"no answer line in the card at line {card_line}")


# --- report ----------------------------------------------------------------------------------------------


def ratios(result: dict) -> dict[str, dict[str, float]]:
    floor = result["steps"]["floor"]["seconds"]
    genanki = result["steps"]["floor_genanki"]["seconds"]
    return {
        step: {"floor": s["seconds"] / floor, "floor_genanki": s["seconds"] / genanki}
        for step, s in result["steps"].items()
    }


def print_table(results: list[dict]) -> None:
    print()
    header = (
        f"{'cards':>7}  {'step':<14} {'seconds':>8} {'x floor':>8} {'x genanki':>9} {'CPU s':>7} {'peak RSS MB':>11}"
    )
    print(header)
    print("-" * len(header))
    for result in results:
        r = result["ratios"]
        for step in (step for step in STEPS if step in result["steps"]):
            s = result["steps"][step]
            failed = "" if s["rc"] == 0 else f"  (exit {s['rc']})"
            print(
                f"{result['cards']:>7}  {step:<14} {s['seconds']:>8.2f} {r[step]['floor']:>8.2f} "
                f"{r[step]['floor_genanki']:>9.2f} {s['cpu_seconds']:>7.2f} {s['peak_rss_mb']:>11.0f}{failed}"
            )
        full = result["steps"]["floor"].get("phases", {})
        gen = result["steps"]["floor_genanki"].get("phases", {})
        print(
            f"{'':>7}  floor phases: "
            + ", ".join(f"{k} {v:.2f}" for k, v in full.items())
            + " | genanki-only: "
            + ", ".join(f"{k} {v:.2f}" for k, v in gen.items())
        )
        print("-" * len(header))


def print_baseline(results: list[dict]) -> None:
    """With --baseline: each tierdeck step's seconds for the baseline and for this tierdeck, side by side."""
    if not any(r.get("baseline") for r in results):
        return
    print()
    header = f"{'cards':>7}  {'step':<14} {'baseline s':>10} {'tierdeck s':>10} {'ratio':>6}"
    print(header + "   (ratio: tierdeck / baseline, each step run on both one after the other)")
    print("-" * len(header))
    for result in results:
        before = result["baseline"]["steps"]
        for step in (step for step in TIERDECK_STEPS if step in result["steps"] and step in before):
            old, new = before[step]["seconds"], result["steps"][step]["seconds"]
            print(f"{result['cards']:>7}  {step:<14} {old:>10.2f} {new:>10.2f} {new / old:>6.2f}")
        print("-" * len(header))


def targets(results: list[dict]) -> list[dict]:
    """Issue 7's targets, at the largest size (they are stated for 50,000 cards)."""
    if not results:
        return []
    top = max(results, key=lambda r: r["size"])
    s = {k: v["seconds"] for k, v in top["steps"].items()}
    genanki_phases = top["steps"]["floor_genanki"].get("phases", {})
    genanki_work = genanki_phases.get("notes", 0) + genanki_phases.get("write", 0)
    write = genanki_phases.get("write", float("nan"))
    at = f"at {top['cards']} cards"
    found = []

    def add(name: str, ok: bool, detail: str) -> None:
        found.append({"target": name, "pass": bool(ok), "detail": f"{detail} ({at})"})

    add(
        "cold build <= 1.5x genanki-only floor",
        s["cold_build"] <= 1.5 * s["floor_genanki"],
        f"{s['cold_build']:.2f} s / {s['floor_genanki']:.2f} s = {s['cold_build'] / s['floor_genanki']:.2f}x; "
        f"vs genanki's in-process notes+write {genanki_work:.2f} s: {s['cold_build'] / genanki_work:.2f}x"
        if genanki_work
        else "",
    )
    add(
        "cold check < 1/3 of cold build",
        s["cold_check"] < s["cold_build"] / 3,
        f"{s['cold_check']:.2f} s vs {s['cold_build']:.2f} s / 3 = {s['cold_build'] / 3:.2f} s",
    )
    for step in ("warm_build", "warm_check"):
        add(f"{step.replace('_', ' ')} < 1.5 s", s[step] < 1.5, f"{s[step]:.2f} s")
    add(
        "edit-one-card build <= genanki write + 1 s",
        s["edit_build"] <= write + 1,
        f"{s['edit_build']:.2f} s vs {write:.2f} s + 1 s",
    )
    add(
        "edit-one-card build <= 0.5x genanki-only floor (issue 15)",
        s["edit_build"] <= 0.5 * s["floor_genanki"],
        f"{s['edit_build']:.2f} s / {s['floor_genanki']:.2f} s = {s['edit_build'] / s['floor_genanki']:.2f}x",
    )
    add(
        "cold build <= 1.0x the full floor (issue 19)",
        s["cold_build"] <= s["floor"],
        f"{s['cold_build']:.2f} s / {s['floor']:.2f} s = {s['cold_build'] / s['floor']:.2f}x",
    )
    before = (top.get("baseline") or {}).get("steps")
    if before:
        ratios_ = {st: s[st] / before[st]["seconds"] for st in TIERDECK_STEPS if st in s and st in before}
        slower = {st: r for st, r in ratios_.items() if r > 1 + NOISE}
        add(
            f"no step slower than the baseline, beyond {NOISE:.0%} noise (issue 19)",
            not slower,
            ", ".join(f"{st} {r:.2f}x" for st, r in sorted(ratios_.items(), key=lambda item: -item[1])),
        )
    peaks = [(r["steps"][st]["peak_rss_mb"], r["cards"], st) for r in results for st in TIERDECK_STEPS]
    peak = max(peaks)
    found.append(
        {
            "target": "peak RSS < 600 MB",
            "pass": peak[0] < 600,
            "detail": f"largest {peak[0]:.0f} MB ({peak[2]} at {peak[1]} cards)",
        }
    )
    ordered = sorted(results, key=lambda r: r["size"])
    if len(ordered) >= 2:
        small = ordered[-2]
        growth = []
        for step in ("cold_build", "cold_check"):
            per_small = small["steps"][step]["seconds"] / small["cards"]
            per_top = top["steps"][step]["seconds"] / top["cards"]
            growth.append((step, per_top / per_small))
        found.append(
            {
                "target": "linear growth (per-card cost within 1.5x)",
                "pass": all(g <= 1.5 for _, g in growth),
                "detail": ", ".join(f"{st} per card {g:.2f}x" for st, g in growth)
                + f" ({top['cards']} vs {small['cards']} cards)",
            }
        )
    else:
        found.append({"target": "linear growth (per-card cost within 1.5x)", "pass": None, "detail": "needs 2 sizes"})
    # not targets, but a benchmark of a broken build means nothing
    bad = [f"{r['cards']}:{st} exit {r['steps'][st]['rc']}" for r in results for st in STEPS if r["steps"][st]["rc"]]
    found.append({"target": "every step exits 0", "pass": not bad, "detail": ", ".join(bad) or "all steps"})
    mismatch = [
        f"{r['cards']} generated, tierdeck counted {r['checks']['tierdeck_cards']}"
        for r in results
        if r["checks"]["tierdeck_cards"] != r["cards"]
    ]
    found.append(
        {"target": "tierdeck builds every generated card", "pass": not mismatch, "detail": "; ".join(mismatch) or "ok"}
    )
    differ = [
        f"{r['cards']}: tierdeck {r['checks']['tierdeck_notes']}, floor {r['checks'][f'{step}_notes']}"
        for r in results
        for step in ("floor", "floor_genanki")
        if r["checks"][f"{step}_notes"] != r["checks"]["tierdeck_notes"]
    ]
    found.append(
        {
            "target": "the floors write as many notes as tierdeck",
            "pass": not differ,
            "detail": "; ".join(differ) or "ok",
        }
    )
    stale = [str(r["cards"]) for r in results if not r["checks"]["edit_build_changed_apkg"]]
    found.append(
        {
            "target": "the edit reaches the .apkg",
            "pass": not stale,
            "detail": "unchanged .apkg after the edit at " + ", ".join(stale) if stale else "ok",
        }
    )
    return found


def print_preview(results: list[dict]) -> None:
    """The page's numbers per size: drawn, interactive, search and filters (ms), and the watch loop (s)."""
    print()
    for result in results:
        page, watch = result.get("page"), result.get("watch")
        if page:
            timings = ", ".join(f"{k.removesuffix('_ms')} {v:.0f}" for k, v in page.items() if k.endswith("_ms"))
            print(f"{result['cards']:>7}  page (ms): {timings}")
        if watch:
            print(f"{result['cards']:>7}  watch: {watch['seconds']:.2f} s from saving a card file to the open page")


def preview_targets(results: list[dict]) -> list[dict]:
    """Issue 15's targets for the preview, at the largest size (stated for 50,000 cards)."""
    if not results:
        return []
    top = max(results, key=lambda r: r["size"])
    steps, page = top["steps"], top.get("page")
    at = f"at {top['cards']} cards"
    cold, build = steps["preview_cold"], steps["cold_build"]
    found = [
        {
            "target": "preview generation no slower than a cold build",
            "pass": cold["seconds"] <= build["seconds"],
            "detail": f"{cold['seconds']:.2f} s vs {build['seconds']:.2f} s ({at}); "
            f"{cold['seconds'] / steps['floor_genanki']['seconds']:.2f}x the genanki-only floor",
        },
        {
            "target": "preview peak RSS < 400 MB",
            "pass": max(r["steps"][s]["peak_rss_mb"] for r in results for s in PREVIEW_ONLY_STEPS[3:]) < 400,
            "detail": f"cold {cold['peak_rss_mb']:.0f} MB ({at}; one process, its workers measured apart)",
        },
    ]
    if page is None:
        found.append({"target": "preview page in Chromium", "pass": None, "detail": "not measured (no Chromium)"})
        return found
    found.append(
        {
            "target": "page interactive < 1.5 s",
            "pass": page["interactive_ms"] < 1500,
            "detail": f"first cards drawn at {page['first_cards_ms']:.0f} ms, responding at "
            f"{page['interactive_ms']:.0f} ms ({at})",
        }
    )
    answers = {k: v for k, v in page.items() if k.startswith(("search", "filter")) and k.endswith("_ms")}
    found.append(
        {
            "target": "search and filters answer < 300 ms",
            "pass": all(v < 300 for v in answers.values()),
            "detail": ", ".join(f"{k.removesuffix('_ms')} {v:.0f} ms" for k, v in answers.items()) + f" ({at})",
        }
    )
    return found


def machine_info() -> dict:
    info = {
        "cpu_count": os.cpu_count(),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
    }
    try:
        info["loadavg"] = os.getloadavg()
    except OSError:
        pass
    return info


def git_info() -> dict:
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=True).stdout.rstrip()
        except (OSError, subprocess.CalledProcessError):
            return ""

    changed = git("status", "--porcelain", "--", "builder", "pyproject.toml").splitlines()
    return {
        "commit": git("rev-parse", "HEAD") or None,
        "dirty": bool(changed),
        "uncommitted": changed,
        "tierdeck_sha256": builder_fingerprint(),
    }


def builder_fingerprint() -> str:
    """A hash of every file under builder/: the code every step ran, committed or not."""
    digest = hashlib.sha256()
    package = REPO / "builder" / "tierdeck"
    for path in sorted(p for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def versions() -> dict:
    from importlib import metadata

    found = {}
    for name in ("tierdeck", "genanki", "PyYAML", "pydantic", "pyromark", "nh3"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,50000", help="Anki card counts, comma-separated")
    parser.add_argument("--out", type=Path, default=HERE / "results.json", help="JSON results [%(default)s]")
    parser.add_argument("--keep", type=Path, help="generate the largest size's project here and keep it")
    parser.add_argument("--repeat", type=int, default=1, help="runs per step; the fastest is reported [1]")
    parser.add_argument("--seed", type=int, default=7, help="random seed of the generated cards [7]")
    parser.add_argument("--strict", action="store_true", help="exit 1 if a target fails")
    parser.add_argument(
        "--preview-only", action="store_true", help="run only the floors, the cold build and the preview steps"
    )
    parser.add_argument(
        "--baseline",
        metavar="COMMAND",
        help="another tierdeck (e.g. an older release's console script) run on every tierdeck step too, each step "
        "right after it on its own copy of the project, and compared side by side",
    )
    args = parser.parse_args(argv)
    try:
        sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    except ValueError:
        parser.error("--sizes takes whole numbers, e.g. 1000,10000,50000")
    if not sizes or min(sizes) < 20 or args.repeat < 1:
        parser.error("sizes must be at least 20 cards; --repeat at least 1")
    keep = args.keep.resolve() if args.keep else None
    if keep and keep.exists():
        if any(keep.iterdir()) and not (keep / "decks" / f"{DECK_ID}.yaml").exists():
            parser.error(f"--keep {keep} exists and is not a benchmark project; name a new or empty folder")
        shutil.rmtree(keep)

    baseline = shlex.split(args.baseline) if args.baseline else None
    if baseline:
        # its steps run in the project folders: a command named by a path relative to here must still be found
        found = shutil.which(baseline[0])
        baseline[0] = str(Path(found).absolute()) if found else baseline[0]
        try:
            subprocess.run([*baseline, "--version"], check=True, stdout=subprocess.DEVNULL)  # and a warm-up
        except (OSError, subprocess.CalledProcessError) as exc:
            parser.error(f"--baseline {args.baseline!r} does not run: {exc}")
    started = time.time()
    machine = machine_info()
    code_at_start = git_info()
    work = Path(tempfile.mkdtemp(prefix="tierdeck-bench-"))
    runner = Runner(work)
    results = []
    try:
        # untimed warm-up: compiles tierdeck's bytecode and pulls its imports into the page cache
        subprocess.run([*tierdeck_command(), "--version"], check=True, stdout=subprocess.DEVNULL)
        for size in sizes:
            root = keep if keep and size == sizes[-1] else work / f"project-{size}"
            result = bench_size(size, args.seed, args.repeat, root, runner, args.preview_only, baseline)
            result["project"] = str(root) if root == keep else None
            result["ratios"] = ratios(result)
            results.append(result)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    machine["loadavg_end"] = machine_info().get("loadavg")

    print_table(results)
    print_baseline(results)
    print_preview(results)
    found = ([] if args.preview_only else targets(results)) + preview_targets(results)
    top = max(sizes)
    issues = "issue 15" if args.preview_only else "issue 7; issue 15 for the preview"
    print(f"\nTargets ({issues}){'' if top >= 50000 else f'; stated for 50,000 cards, measured at {top}'}:")
    for t in found:
        verdict = "SKIP" if t["pass"] is None else ("PASS" if t["pass"] else "FAIL")
        print(f"  {verdict}  {t['target']}: {t['detail']}")
    if keep:
        print(f"\nThe {top}-card project is kept at {keep}")
    code = git_info()
    if code["tierdeck_sha256"] != code_at_start["tierdeck_sha256"]:
        print("\nWARNING: builder/ changed while the benchmark ran; the steps did not all run the same code")

    payload = {
        "tierdeck": code,
        "tierdeck_at_start": code_at_start,
        "versions": versions(),
        "machine": machine,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "duration_seconds": time.time() - started,
        "settings": {
            "sizes": sizes,
            "repeat": args.repeat,
            "seed": args.seed,
            "cards_per_file": CARDS_PER_FILE,
            "preview_only": args.preview_only,
        },
        "mix": MIX,
        "command": {"tierdeck": tierdeck_command(), "python": sys.executable, "baseline": baseline},
        "rss_method": "os.wait4 rusage of the command, spawned by benchmarks/measure.py (python -I -S)",
        "results": results,
        "targets": found,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    print(f"Results: {args.out}")
    failed = any(t["pass"] is False for t in found)
    return 1 if args.strict and failed else 0


if __name__ == "__main__":
    sys.exit(main())
