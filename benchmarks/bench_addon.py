"""How long the students' add-on takes to bring a release into a collection (issue 20), in the real Anki engine.

    python benchmarks/bench_addon.py [--cards 10000] [--seed 7]

Generates bench_build.py's synthetic deck (all five card types, 3 tiers), builds v1, and times in a fresh
collection: following v1 (plan + apply: read the package, import, record), then after one card's answer
is edited and v2 built, checking v2 (plan) and applying it. Prints one JSON object. Not a test: numbers
depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from anki.collection import Collection  # noqa: E402

from bench_build import edit_one_card, generate, tierdeck_command  # noqa: E402
from tierdeck_addon import config, fetch, update  # noqa: E402


def _build(root: Path, epoch: str) -> None:
    env = dict(os.environ, SOURCE_DATE_EPOCH=epoch)
    subprocess.run([*tierdeck_command(), "-q", "build"], cwd=root, env=env, check=True)


def _apply(col: Collection, dist: Path, into: Path) -> dict:
    settings = config.read({})
    started = time.perf_counter()
    rel, at = fetch.read_manifest(str(dist))
    apkg = fetch.download(at, rel.packages[0], into)
    fetched = time.perf_counter()
    plan = update.plan(col, rel.packages[0], apkg, settings)
    planned = time.perf_counter()
    outcome = update.apply(col, plan, settings)
    applied = time.perf_counter()
    return {
        "fetch_s": round(fetched - started, 3),
        "plan_s": round(planned - fetched, 3),
        "apply_s": round(applied - planned, 3),
        "summary": outcome.summary(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cards", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-addon-") as tmp:
        root = Path(tmp) / "project"
        project = generate(root, args.cards, args.seed)
        _build(root, "1700000000")
        col = Collection(str(Path(tmp) / "collection.anki2"))
        v1 = _apply(col, root / "dist", Path(tmp))
        edit_one_card(project, "changedword")
        _build(root, "1700864000")
        v2 = _apply(col, root / "dist", Path(tmp))
        state_bytes = len(json.dumps(update.state_of(col, "bench")))
        col.close()
    print(
        json.dumps(
            {"cards": project.cards, "notes": project.notes, "v1": v1, "v2": v2, "state_bytes": state_bytes}, indent=2
        )
    )


if __name__ == "__main__":
    main()
