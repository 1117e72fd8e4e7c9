"""The add-on in the real Anki desktop program (aqt under Xvfb), from a clean profile: installed from its
.ankiaddon, it follows a deck served over HTTP, applies v1; after study and the student's edits, applies v2;
after a restart the collection holds exactly what issue 20 asks; a package with a wrong hash changes nothing.

Needs a Python with `aqt` (TIERDECK_AQT_PYTHON, else ~/.aqtshot-venv/bin/python, else this one) and Xvfb;
skips with the reason otherwise, except with CI=true, where it fails (.ci/run installs both).
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from tierdeck.cli import cli

DRIVER = Path(__file__).resolve().parents[1] / "aqt_driver.py"
V1, V2 = "1700000000", "1700864000"
CORRECTION = "They break down (resorb) bone."


def _aqt_python() -> str | None:
    candidates = [
        os.environ.get("TIERDECK_AQT_PYTHON"),
        os.path.expanduser("~/.aqtshot-venv/bin/python"),
        sys.executable,
    ]
    for python in filter(None, candidates):
        if (
            os.path.exists(python)
            and subprocess.run(
                [python, "-c", "import aqt, PyQt6.QtWebEngineWidgets"], capture_output=True, cwd="/"
            ).returncode
            == 0
        ):
            return python
    return None


def _missing() -> str | None:
    if shutil.which("Xvfb") is None:
        return "Xvfb is not installed (apt-get install xvfb; .ci/run installs it)"
    if _aqt_python() is None:
        return "no Python with aqt (pip install aqt==26.9.3, or set TIERDECK_AQT_PYTHON; .ci/run installs it)"
    return None


@pytest.fixture(scope="module")
def desktop():
    """Xvfb, the aqt Python and the environment Anki runs in."""
    reason = _missing()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    runtime = tempfile.mkdtemp(prefix="tierdeck-aqt-")
    os.chmod(runtime, 0o700)
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", "1", "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    display = xvfb.stdout.readline().decode().strip()
    env = dict(
        os.environ,
        DISPLAY=f":{display}",
        QTWEBENGINE_CHROMIUM_FLAGS="--no-sandbox --disable-gpu",
        QTWEBENGINE_DISABLE_SANDBOX="1",
        QT_QPA_PLATFORM="xcb",
        XDG_RUNTIME_DIR=runtime,
        ANKI_SINGLE_INSTANCE_KEY=os.path.join(runtime, "anki-instance"),
        PYTHONUNBUFFERED="1",
    )
    env.pop("ANKI_BASE", None)
    try:
        yield _aqt_python(), env
    finally:
        xvfb.terminate()
        xvfb.wait(10)
        shutil.rmtree(runtime, ignore_errors=True)


@pytest.fixture
def server(tmp_path):
    """A local HTTP server publishing the folder `www` (what a release page would serve)."""
    www = tmp_path / "www"
    www.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(www))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield www, f"http://127.0.0.1:{httpd.server_address[1]}/manifest.json"
    httpd.shutdown()


def _publish(project, www: Path, epoch: str) -> None:
    assert project.run("build", env={"SOURCE_DATE_EPOCH": epoch}).exit_code == 0
    for old in www.iterdir():
        old.unlink()
    for path in (project.root / "dist").iterdir():
        shutil.copy(path, www / path.name)


def _anki(desktop, base: Path, phase: str, arg: str = "") -> dict:
    python, env = desktop
    out = base.parent / f"{phase}.json"
    out.unlink(missing_ok=True)
    run = subprocess.run(
        [python, str(DRIVER), phase, str(base), str(out), arg], env=env, capture_output=True, text=True, timeout=240
    )
    if phase == "seed":
        assert run.returncode == 0, run.stderr[-3000:]
        return {}
    assert out.exists(), (
        f"Anki wrote no result ({phase}, exit {run.returncode}):\n{run.stdout[-2000:]}\n{run.stderr[-3000:]}"
    )
    result = json.loads(out.read_text())
    assert "error" not in result, result["error"]
    assert not result.get("timeout"), f"{phase} timed out: {result}\n{run.stderr[-3000:]}"
    return result


def test_addon_desktop__follows_a_deck_over_http_from_install_to_restart(sample, tmp_path, server, desktop):
    www, url = server
    sample.own_notetype("basic")
    sample.edit("notetypes/basic.yaml", "CardId]", "CardId, Personal]")
    sample.edit(
        "decks/sample.yaml", "tags: [sample]", "tags: [sample]\nissues: https://github.com/course/bone/issues/new"
    )
    addon = tmp_path / "tierdeck-follow.ankiaddon"
    assert CliRunner().invoke(cli, ["addon", "build", "-o", str(addon)]).exit_code == 0
    base = tmp_path / "anki" / "base"
    _anki(desktop, base, "seed")
    assert _anki(desktop, base, "install", str(addon))["installed"] == "InstallOk"

    _publish(sample, www, V1)
    v1 = _anki(desktop, base, "follow", json.dumps({"url": url, "version": "1.0.0", "study": True}))
    assert v1["addon_loaded"] is True and v1["warnings"] == []
    assert v1["answered"] == 13
    studied = v1["facts"]["history"]

    sample.edit("cards/sample/basics.yaml", "They resorb bone.", CORRECTION)
    sample.edit(
        "cards/sample/advanced.yaml",
        "  - type: basic\n    id: h2o\n    tier: basics\n    front: Formula of water?\n    back: H<sub>2</sub>O\n",
        "",
    )
    sample.edit("notetypes/basic.yaml", "version: 1", "version: 2")
    sample.edit("notetypes/basic.yaml", "CardId, Personal]", "CardId, Personal, Mnemonic]")
    sample.edit("decks/sample.yaml", "version: 1.0.0", "version: 1.1.0")
    _publish(sample, www, V2)
    shot = tmp_path / "update-dialog.png"
    v2 = _anki(
        desktop,
        base,
        "follow",
        json.dumps({"url": url, "version": "1.1.0", "ask": True, "report": True, "shot": str(shot)}),
    )
    assert v2["warnings"] == []
    assert v2["tools_menu"] == ["Check followed tierdeck decks for updates", "Follow a tierdeck deck…"]
    # "apply": "ask" showed what the release changes before applying it
    assert v2["dialog"]["title"] == "Update Sample Deck"
    assert v2["dialog"]["html"] == (
        "<h3>Sample Deck 1.0.0 → 1.1.0</h3><p>Note types changed: tierdeck Basic (merged into the new version; your "
        "notes keep their reviews).</p><h4>1 Basics</h4><ul><li>Changed: What do osteoclasts do?<br>Back: <s>They "
        "eat bone (my words).</s> → <b>They break down (resorb) bone.</b></li><li>Removed: Formula of water?</li></ul>"
    )
    assert shot.stat().st_size > 1000
    if os.environ.get("TIERDECK_SCREENSHOTS"):  # docs/addon.md's picture, refreshed on demand
        shutil.copy(shot, os.environ["TIERDECK_SCREENSHOTS"])
    # "Report a problem with this card" from the reviewer (shortcut too) opens the issue page, prefilled
    assert v2["review_shortcuts"] == ["Ctrl+Shift+R"]
    (opened,) = v2["opened"]
    assert opened.startswith("https://github.com/course/bone/issues/new?title=Card%20osteoclast-role%20%28Sample")
    assert f"Anki%20card%20id%3A%20{v2['reported_card']}" in opened
    assert "cards%2Fsample%2Fbasics.yaml%3A11" in opened and "version%201.1.0" in opened

    after = _anki(desktop, base, "verify")["facts"]  # a restart: what Anki reads back from disk
    notes = after["notes"]
    assert after["state_version"] == "1.1.0"
    assert notes["osteoclast-role"]["fields"] == {
        "Front": "What do osteoclasts do?",
        "Back": CORRECTION,
        "Extra": "Osteo- means bone; -clast means breaker.",
        "Source": "Sample / Basics",
        "CardId": "osteoclast-role",
        "Personal": "Clast = crash: they crash bone.",
        "Mnemonic": "",
    }
    assert "exam-2" in notes["osteoclast-role"]["tags"]
    assert "tierdeck::removed" in notes["h2o"]["tags"] and notes["h2o"]["queues"] == [-1]
    assert notes["bone-cells/osteoclast/role"]["flags"] == [3]
    assert after["history"] == studied
    assert after["note_count"] == 9 and after["duplicate_guids"] == 0

    # a new release whose package arrives damaged (it does not match the manifest's hash) changes nothing
    sample.edit("cards/sample/basics.yaml", CORRECTION, "They break down bone.")
    sample.edit("decks/sample.yaml", "version: 1.1.0", "version: 1.2.0")
    _publish(sample, www, "1701000000")
    package = www / "sample.apkg"
    data = package.read_bytes()
    package.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    refused = _anki(desktop, base, "refuse", json.dumps({"url": url}))
    assert len(refused["warnings"]) == 1 and "does not match its release manifest" in refused["warnings"][0]
    assert refused["facts"] == after
