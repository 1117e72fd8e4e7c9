"""`tierdeck preview --watch`: the open page follows saved edits, shows errors at file:line while keeping the last
good cards, the server serves only the preview folder on the loopback address, and Ctrl-C ends it cleanly."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from test_preview import browser  # noqa: F401 - the browser fixture, shared
from tierdeck.preview import serve
from tierdeck.preview.serve import Outcome, Preview, PreviewServer

CARDS = """
    tier: one
    source: Histology
    cards:
      - {type: basic, id: q1, front: What do osteoclasts do?, back: They resorb bone.}
      - {type: basic, id: q2, front: What do osteoblasts do?, back: They build bone.}
"""


@pytest.fixture
def watching(mini):
    """`serve.run` on the mini project in a thread (any free port); yields (project, url, outcomes)."""
    mini.write("cards/a.yaml", CARDS)
    stop = threading.Event()
    ready = threading.Event()
    urls: list[str] = []
    outcomes: list[Outcome] = []

    def on_ready(url: str) -> None:
        urls.append(url)
        ready.set()

    preview = Preview(mini.root, None, mini.root / "preview")
    thread = threading.Thread(target=serve.run, args=(preview, 0, on_ready, outcomes.append, stop), daemon=True)
    thread.start()
    assert ready.wait(30)
    yield mini, urls[0], outcomes
    stop.set()
    thread.join(10)
    assert not thread.is_alive()


class Lines:
    """A process's output stream a line at a time, waiting at most `timeout` seconds for each: a watcher that
    misses a save fails the test instead of hanging the run."""

    def __init__(self, stream, timeout: float = 30):
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.timeout = timeout

        def read() -> None:
            for line in stream:
                self.lines.put(line)
            self.lines.put(None)  # the stream closed: the process ended

        threading.Thread(target=read, daemon=True).start()

    def next(self) -> str:
        try:
            line = self.lines.get(timeout=self.timeout)
        except queue.Empty:
            pytest.fail(f"no output line within {self.timeout} s")
        assert line is not None, "the process ended"
        return line

    def rest(self) -> str:
        """Everything still to come, up to the end of the stream."""
        found = []
        while (line := self.lines.get(timeout=self.timeout)) is not None:
            found.append(line)
        return "".join(found)


def front_text(page, key: str) -> str:
    return page.evaluate(
        "key => document.querySelector(`[id=\"${key}\"] .pv-side`).shadowRoot.querySelector('#qa').textContent", key
    )


def test_watch__the_open_page_shows_a_saved_edit(browser, watching):  # noqa: F811
    project, url, outcomes = watching
    page = browser.new_page()
    page.goto(url)
    page.wait_for_function("document.body.dataset.ready")
    assert "What do osteoclasts do?" in front_text(page, "q1.1")
    project.edit("cards/a.yaml", "What do osteoclasts do?", "What do osteoclasts resorb?")
    page.wait_for_function(
        "document.querySelector('[id=\"q1.1\"] .pv-side')?.shadowRoot.textContent.includes('osteoclasts resorb?')",
        timeout=15000,
    )
    assert "What do osteoblasts do?" in front_text(page, "q2.1")
    assert outcomes[-1].site is not None and outcomes[-1].site.cards == 2
    page.close()


def test_watch__a_broken_edit_shows_its_error_in_the_page_and_keeps_the_old_cards(browser, watching):  # noqa: F811
    project, url, outcomes = watching
    page = browser.new_page()
    page.goto(url)
    page.wait_for_function("document.body.dataset.ready")
    project.edit("cards/a.yaml", "back: They build bone.", "bak: They build bone.")
    page.wait_for_function("!document.querySelector('#pv-errors').hidden", timeout=15000)
    errors = page.inner_text("#pv-errors")
    assert "cards/a.yaml:5: cards[1].bak: unknown key 'bak'; did you mean 'back'?" in errors
    assert "the preview shows them as they were before the last edit" in errors
    assert "What do osteoblasts do?" in front_text(page, "q2.1")  # the last good preview stays
    assert page.inner_text("#pv-count") == "2 of 2 cards"
    project.edit("cards/a.yaml", "bak: They build bone.", "back: They build new bone.")
    page.wait_for_function("document.querySelector('#pv-errors').hidden", timeout=15000)
    page.wait_for_function(
        "document.querySelectorAll('[id=\"q2.1\"] .pv-side')[1]?.shadowRoot.textContent.includes('new bone')",
        timeout=15000,
    )
    assert [o.site is None for o in outcomes][-2:] == [True, False]
    page.close()


def test_server__serves_only_the_preview_folder(tmp_path):
    folder = tmp_path / "preview"
    (folder / "cards").mkdir(parents=True)
    (folder / "index.html").write_text("<p>page</p>")
    (folder / "cards" / "a.js").write_text("tierdeck.cards('a', []);")
    (tmp_path / "secret.txt").write_text("secret")
    (folder / "out").symlink_to(tmp_path / "secret.txt")
    (folder / "in").symlink_to(folder / "index.html")
    server = PreviewServer(folder, 0)
    assert server.server_address[0] == "127.0.0.1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:

        def status(path: str) -> int:
            try:
                with urllib.request.urlopen(server.url.rstrip("/") + path, timeout=5) as response:
                    return response.status
            except urllib.error.HTTPError as exc:
                return exc.code

        assert [status(p) for p in ("/", "/index.html", "/cards/a.js", "/in")] == [200, 200, 200, 200]
        refused = ["/../secret.txt", "/%2e%2e/secret.txt", "/cards/%2E%2E/%2E%2E/secret.txt", "/out", "/cards"]
        assert [status(p) for p in refused] == [404] * len(refused)
        with urllib.request.urlopen(server.url + "_tierdeck/poll?since=-1", timeout=5) as response:
            assert response.read() == b'{"epoch": 0, "version": "", "errors": []}'
    finally:
        server.close()


def test_watch__ctrl_c_ends_it_cleanly_with_exit_130(mini):
    mini.write("cards/a.yaml", CARDS)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "tierdeck", "preview", "--watch", "--port", "0"],
        cwd=mini.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    stdout, stderr = Lines(process.stdout), Lines(process.stderr)
    try:
        first = stdout.next()
        assert first.startswith("serving the preview on http://127.0.0.1:") and first.endswith("(Ctrl-C to stop)\n")
        assert stdout.next().startswith("preview of 2 cards updated in ")
        process.send_signal(signal.SIGINT)
        process.wait(timeout=15)
        out, err = stdout.rest(), stderr.rest()
    finally:
        process.kill()
    assert process.returncode == 130
    assert out.endswith("stopped\n")
    assert "Traceback" not in err and err == ""
    assert (Path(mini.root) / "preview" / "index.html").is_file()


def test_check_watch__checks_again_after_each_save_until_ctrl_c(mini):
    mini.write("cards/a.yaml", CARDS)
    process = subprocess.Popen(
        [sys.executable, "-m", "tierdeck", "check", "--watch"],
        cwd=mini.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    stdout, stderr = Lines(process.stdout), Lines(process.stderr)
    try:
        assert stdout.next() == "mini: 2 cards (one 2, two 0)\n"
        assert stdout.next() == "ok: 1 deck checked, 0 warnings\n"
        mini.edit("cards/a.yaml", "back: They build bone.", "bak: They build bone.")
        assert stderr.next() == "cards/a.yaml:5: cards[1].bak: unknown key 'bak'; did you mean 'back'?\n"
        assert stderr.next() == "1 error; watching\n"
        process.send_signal(signal.SIGINT)
        process.wait(timeout=15)
        out, err = stdout.rest(), stderr.rest()
    finally:
        process.kill()
    assert process.returncode == 130 and out == "stopped\n" and err == ""
