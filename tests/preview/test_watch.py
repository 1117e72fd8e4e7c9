"""`tierdeck preview --watch`: the open page follows saved edits, shows errors at file:line while keeping the last
good cards, the server serves only the preview folder on the loopback address, and Ctrl-C ends it cleanly."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
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


@pytest.fixture
def served(tmp_path):
    folder = tmp_path / "preview"
    (folder / "cards").mkdir(parents=True)
    (folder / "index.html").write_text("<p>page</p>")
    (folder / "index.js").write_text("tierdeck.index({});")
    server = PreviewServer(folder, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.close()


def raw(server: PreviewServer, request: bytes, timeout: float = 5) -> bytes:
    """The raw answer to a raw HTTP request."""
    with socket.create_connection(server.server_address, timeout=timeout) as conn:
        conn.sendall(request)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def get(server: PreviewServer, path: str, **headers: str) -> tuple[int, dict, bytes]:
    port = server.server_address[1]
    fields = {"Host": f"127.0.0.1:{port}", "Connection": "close", **{k.replace("_", "-"): v for k, v in headers.items()}}
    request = f"GET {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields.items()) + "\r\n"
    answer = raw(server, request.encode())
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    return int(lines[0].split()[1]), dict(line.split(": ", 1) for line in lines[1:]), body


def test_watch_server__cards_only_behind_the_runs_token_and_never_to_other_sites(served):
    token = f"/{served.token}"
    assert len(served.token) >= 20 and served.url.endswith(f"{token}/")
    status, headers, body = get(served, f"{token}/index.js")
    assert (status, body) == (200, b"tierdeck.index({});")
    assert headers["Cross-Origin-Resource-Policy"] == "same-origin" and headers["X-Content-Type-Options"] == "nosniff"
    # another web page cannot guess the token: <script src="http://127.0.0.1:PORT/index.js"> gets nothing
    assert get(served, "/index.js")[0] == 404 and get(served, "/")[0] == 404
    assert get(served, f"/{'x' * 22}/index.js")[0] == 404
    # a browser's own word that the request comes from another site
    assert get(served, f"{token}/index.js", Sec_Fetch_Site="cross-site")[0] == 403
    assert get(served, f"{token}/index.js", Sec_Fetch_Site="same-site")[0] == 403
    # DNS rebinding: the page's origin is then evil.example:PORT, and its Host header says so
    port = served.server_address[1]
    for host in ("attacker.example", f"attacker.example:{port}", f"127.0.0.1:{port + 1}", ""):
        assert get(served, f"{token}/index.js", Host=host)[0] == 421, host
    assert get(served, f"{token}/index.js", Host=f"localhost:{port}")[0] == 200


@pytest.mark.parametrize("since", ["%C2%B2", "1" * 5000, "abc", "--1", "1.5"])
def test_watch_server__a_bad_since_is_400_without_a_traceback(served, since, capfd):
    status, _, body = get(served, f"/{served.token}/_tierdeck/poll?since={since}")
    assert (status, body) == (400, b"since= must be a whole number\n")
    assert "Traceback" not in capfd.readouterr().err


def test_watch_server__idle_connections_time_out_and_their_number_is_capped(served, monkeypatch):
    from tierdeck.preview import serve

    assert serve._Handler.timeout == serve.CONNECTION_SECONDS <= 60
    idle = [socket.create_connection(served.server_address) for _ in range(serve.MAX_CONNECTIONS)]
    try:
        for conn in idle:
            conn.sendall(b"GET / HTTP/1.1\r\n")  # and never the rest: a slowloris
        time.sleep(0.5)
        # one more is closed at once instead of getting a thread of its own
        with socket.create_connection(served.server_address, timeout=5) as extra:
            extra.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert extra.recv(100) == b""
    finally:
        for conn in idle:
            conn.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the slots come back once those connections are gone
        if get(served, f"/{served.token}/index.js")[0] == 200:
            break
        time.sleep(0.1)
    else:
        pytest.fail("the server did not recover its connection slots")


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
        assert stdout.next() == "mini: 2 cards (one 2)\n"
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


def test_watch__the_open_page_says_when_the_server_stopped_and_asks_for_no_favicon(browser, mini):  # noqa: F811
    mini.write("cards/a.yaml", CARDS)
    stop, ready, urls = threading.Event(), threading.Event(), []

    def on_ready(url: str) -> None:
        urls.append(url)
        ready.set()

    preview = Preview(mini.root, None, mini.root / "preview")
    thread = threading.Thread(target=serve.run, args=(preview, 0, on_ready, lambda outcome: None, stop), daemon=True)
    thread.start()
    assert ready.wait(30)
    page = browser.new_page()
    missing: list[str] = []
    page.on("response", lambda response: missing.append(response.url) if response.status == 404 else None)
    page.goto(urls[0])
    page.wait_for_function("document.body.dataset.ready")
    assert page.locator("#pv-errors").is_hidden()
    stop.set()  # Ctrl-C
    thread.join(10)
    page.wait_for_function("!document.querySelector('#pv-errors').hidden", timeout=15000)
    assert page.inner_text("#pv-errors").startswith("The preview server stopped ('tierdeck preview --watch' ended)")
    assert missing == []  # no /favicon.ico request, so no console error
    page.close()
