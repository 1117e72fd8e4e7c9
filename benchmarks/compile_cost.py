"""CPU per Anki card of compiling card files, with and without lint, in one process (no cache, no workers).

Compile is what every command pays for each card file it has not seen: read and validate the YAML, render
and sanitise the fields, make the notes. Lint is its own pass (`check` and the preview run it; `build`,
`diff` and `import` do not), so both are reported: issue 19's budget is compile <= 30 us a card.

    python benchmarks/compile_cost.py                 # a generated 10,000-card project (bench_build's deck)
    python benchmarks/compile_cost.py --cards 50000
    python benchmarks/compile_cost.py --project DIR   # an existing project, e.g. one --keep'd by bench_build
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

BUDGET_US = 30.0


def measure(root: Path, repeat: int) -> dict:
    """Best-of-`repeat` CPU seconds to compile every card file of every deck, without and with lint."""
    from tierdeck.format.layout import discover
    from tierdeck.notes.loader import read_deck
    from tierdeck.notes.notetypes import project_notetypes
    from tierdeck.project.units import compile_file

    notetypes, _ = project_notetypes(root)
    decks = [read_deck(m, root, notetypes)[0] for m in discover(root)]
    result: dict = {"cards": 0}
    for deck in decks:  # a first pass fills what every run shares (compiled regexes, imports, small caches)
        for file in deck.files[:2]:
            compile_file(deck, file, lint=True)
    for lint in (False, True):
        best = None
        for _ in range(repeat):
            gc.collect()
            gc.disable()
            started = time.process_time()
            cards = 0
            for deck in decks:
                for file in deck.files:
                    unit = compile_file(deck, file, lint=lint)
                    cards += sum(n.card_count for n in unit.notes)
            spent = time.process_time() - started
            gc.enable()
            best = spent if best is None else min(best, spent)
        result["cards"] = cards
        result["lint" if lint else "compile"] = best
    result["compile_us_per_card"] = result["compile"] / result["cards"] * 1e6
    result["with_lint_us_per_card"] = result["lint"] / result["cards"] * 1e6
    result["lint_us_per_card"] = result["with_lint_us_per_card"] - result["compile_us_per_card"]
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=10_000, help="size of the generated project [10000]")
    parser.add_argument("--project", type=Path, help="measure this project instead of generating one")
    parser.add_argument("--repeat", type=int, default=3, help="runs; the fastest is reported [3]")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if args.project:
        root = args.project.resolve()
    else:
        from bench_build import generate

        root = Path(tempfile.mkdtemp(prefix="compile-cost-")) / "project"
        generate(root, args.cards, args.seed)
    r = measure(root, args.repeat)
    print(f"{r['cards']} cards: compile {r['compile']:.2f} s = {r['compile_us_per_card']:.1f} us/card "
          f"(budget {BUDGET_US:.0f}: {'PASS' if r['compile_us_per_card'] <= BUDGET_US else 'FAIL'}); "
          f"lint adds {r['lint_us_per_card']:.1f} us/card (check and preview only)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
