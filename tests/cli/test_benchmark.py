"""The benchmark harness keeps working: it runs end to end on a tiny deck (100 cards) in a few seconds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "benchmarks" / "bench_build.py"
STEPS = ["floor", "floor_genanki", "cold_check", "cold_build", "warm_check", "warm_build", "edit_check", "edit_build"]


def test_benchmark_runs_on_a_tiny_deck(tmp_path: Path) -> None:
    out, project = tmp_path / "r.json", tmp_path / "project"
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--sizes", "100", "--out", str(out), "--keep", str(project)],
        check=False,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "PASS" in run.stdout or "FAIL" in run.stdout  # the targets are reported

    payload = json.loads(out.read_text(encoding="utf-8"))
    assert payload["machine"]["cpu_count"] and payload["machine"]["python"]
    assert "commit" in payload["tierdeck"]
    (result,) = payload["results"]
    assert abs(result["cards"] - 100) <= 3
    assert set(result["cards_by_type"]) == {"basic", "cloze", "term", "mechanism", "table"}
    for step in STEPS:
        measured = result["steps"][step]
        assert measured["seconds"] > 0, step
        assert measured["peak_rss_mb"] > 0, step
        assert measured["rc"] == 0, (step, measured["stderr_tail"])
    assert result["steps"]["floor"]["phases"]["parse"] > 0
    assert result["steps"]["floor_genanki"]["phases"]["write"] > 0
    checks = result["checks"]
    assert checks["tierdeck_cards"] == result["cards"]
    assert checks["floor_notes"] == checks["floor_genanki_notes"] == checks["tierdeck_notes"] == result["notes"]
    assert checks["edit_build_changed_apkg"]
    assert {t["target"] for t in payload["targets"]} >= {"peak RSS < 600 MB", "every step exits 0"}

    # the kept project is left as generated, and tierdeck accepts it
    assert (project / "decks" / "bench.yaml").is_file()
    assert not (project / "dist").exists() and not (project / "decks" / "bench.lock").exists()
    check = subprocess.run(
        [sys.executable, "-m", "tierdeck", "check"], check=False, cwd=project, capture_output=True, text=True, timeout=60
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "warning" not in check.stderr


def test_benchmark_runs_a_baseline_side_by_side(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    # any tierdeck command, here the same one, named by a path relative to where the benchmark starts
    baseline = f"{os.path.relpath(sys.executable, REPO)} -m tierdeck"
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--sizes", "100", "--out", str(out), "--baseline", baseline],
        check=False,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "baseline s" in run.stdout and "cold_check (baseline)" in run.stdout
    (result,) = json.loads(out.read_text(encoding="utf-8"))["results"]
    assert result["baseline"]["command"] == [str(Path(sys.executable).absolute()), "-m", "tierdeck"]
    for step in STEPS[2:]:
        measured = result["baseline"]["steps"][step]
        assert measured["seconds"] > 0 and measured["rc"] == 0, (step, measured["stderr_tail"])
    targets = {t["target"] for t in json.loads(out.read_text(encoding="utf-8"))["targets"]}
    assert "no step slower than the baseline, beyond 10% noise (issue 19)" in targets


def test_benchmark_refuses_a_baseline_that_does_not_run(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--sizes", "100", "--out", str(tmp_path / "r.json"), "--baseline", "/nonexistent/tierdeck"],
        check=False,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2 and "--baseline '/nonexistent/tierdeck' does not run" in run.stderr
