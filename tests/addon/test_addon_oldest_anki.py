"""The oldest Anki the add-on supports, 23.10 (the first whose importer can merge note types): the headless
add-on tests run again in a Python that has anki 23.10.1 (TIERDECK_OLD_ANKI_PYTHON; .ci/run makes one).
Skips with the reason where there is none, except with CI=true, where it fails."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
OLDEST = "23.10.1"


def test_addon__headless_tests_pass_with_the_oldest_supported_anki():
    python = os.environ.get("TIERDECK_OLD_ANKI_PYTHON")
    if not python or not os.path.exists(python):
        reason = f"no Python with anki {OLDEST} (set TIERDECK_OLD_ANKI_PYTHON; .ci/run makes one)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    version = subprocess.run(
        [python, "-c", "from anki.buildinfo import version; print(version)"], capture_output=True, text=True
    )
    assert version.stdout.strip() == OLDEST
    run = subprocess.run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_addon_update.py", "test_addon_report.py"],
        cwd=TESTS,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout[-4000:]
    last = run.stdout.strip().splitlines()[-1]
    assert " passed" in last and "skipped" not in last and "failed" not in last, last
