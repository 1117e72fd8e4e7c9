"""ruff and mypy pass on the package, the tests and the benchmarks: run here so the README's one test command
(and CI) holds them, with the configuration in pyproject.toml."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, check=False)


def test_static__ruff_finds_nothing():
    result = _run("ruff", "check", "--no-cache", "builder", "tests", "benchmarks")
    assert result.returncode == 0, result.stdout + result.stderr


def test_static__mypy_finds_nothing():
    result = _run("mypy", "--no-incremental", "--cache-dir", "/dev/null")
    assert result.returncode == 0, result.stdout + result.stderr
