"""`tierdeck preview --watch`: the preview served on the loopback address and rebuilt whenever a file is saved.

`run` builds the preview, serves its folder on 127.0.0.1, then watches the project (watchfiles) and rebuilds
after every change: `tierdeck.build.load` recompiles only the edited card files (its unit cache) and
`write_site` rewrites only their data scripts (the chunks are also kept in memory between rebuilds). The open
page learns about it as mkdocs' live reload does, without a websocket: it long-polls `/_tierdeck/poll?since=N`,
answered when the epoch (one per rebuild) passes N with the index version and the current errors. A new
version makes the page load the new index.js and the changed data scripts in place; errors are shown at the top
of the page, and in the terminal, while the last good preview stays on screen.

The server answers only on the loopback address and serves only files inside the preview folder: no `..`,
no symbolic link leading out of it. Other web pages the author visits must not read the cards: every path
starts with a random token made per run (`http://127.0.0.1:PORT/<token>/`, printed in the terminal), so a page
cannot include `index.js` as a script without knowing it; a request whose `Host` is not `127.0.0.1:PORT` or
`localhost:PORT` (DNS rebinding) or that a browser marks as cross-site is refused; answers say
`Cross-Origin-Resource-Policy: same-origin`. Connections time out and their number is capped.
"""

from __future__ import annotations

import json
import mimetypes
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import watchfiles

from tierdeck import files
from tierdeck.cache import CACHE_DIR
from tierdeck.errors import Diagnostic, InputError, TierdeckError, UsageError
from tierdeck.preview.cards import Chunk
from tierdeck.preview.site import Site, write_site
from tierdeck.project import load as core

HOST = "127.0.0.1"
POLL_SECONDS = 20.0  # a long poll is answered after this long even when nothing changed
POLL_PATH = "/_tierdeck/poll"
CONNECTION_SECONDS = 30.0  # a connection that sends nothing for this long is closed (no slowloris)
MAX_CONNECTIONS = 64  # open at once: a few pages' polls and script loads; more are closed at once
MAX_SINCE_DIGITS = 18


@dataclass
class Outcome:
    """One build of the preview: the site written, or the problems that kept it from being written."""

    seconds: float
    site: Site | None = None
    problems: list[Diagnostic] = field(default_factory=list)  # errors (and warnings) when the build failed
    warnings: list[Diagnostic] = field(default_factory=list)  # warnings of a build that succeeded
    message: str = ""  # a problem without a location (a manifest removed, a folder that cannot be written)

    def errors(self, root: Path) -> list[str]:
        """The problems as the page shows them: `file:line: what; how to fix it`."""
        return [d.render(root) for d in self.problems if d.level == "error"] + ([self.message] if self.message else [])


class PreviewServer(ThreadingHTTPServer):
    """Serves one preview folder on the loopback address, and the epoch the open pages long-poll."""

    daemon_threads = True  # a page's pending poll never keeps Ctrl-C waiting

    def __init__(self, folder: Path, port: int = 0):
        try:
            super().__init__((HOST, port), _Handler)
        except OSError as exc:
            raise UsageError(
                f"cannot serve on {HOST}:{port}: {exc.strerror}; choose another port with --port"
            ) from None
        self.folder = folder.resolve()
        self.token = secrets.token_urlsafe(16)
        self.hosts = {f"{HOST}:{self.server_address[1]}", f"localhost:{self.server_address[1]}"}
        self.slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self.changed = threading.Condition()
        self.epoch = 0
        self.version = ""
        self.errors: list[str] = []
        self.closing = False

    @property
    def url(self) -> str:
        """Where the preview is: http://127.0.0.1:PORT/TOKEN/."""
        return f"http://{HOST}:{self.server_address[1]}/{self.token}/"

    def process_request(self, request, client_address) -> None:
        """A thread per connection, up to MAX_CONNECTIONS at once; beyond that the connection is closed."""
        if not self.slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def publish(self, version: str | None, errors: list[str]) -> None:
        """A rebuild finished: a new index version (None: the old one stays) and the current errors."""
        with self.changed:
            self.epoch += 1
            if version is not None:
                self.version = version
            self.errors = errors
            self.changed.notify_all()

    def state_after(self, since: int, timeout: float = POLL_SECONDS) -> dict:
        """The state once the epoch is no longer `since` (or after `timeout` seconds, or on closing)."""
        with self.changed:
            self.changed.wait_for(lambda: self.epoch != since or self.closing, timeout)
            return {"epoch": self.epoch, "version": self.version, "errors": self.errors}

    def file_for(self, url_path: str) -> Path | None:
        """The file a URL path names inside the folder; None for anything else (`..`, a link out, a folder)."""
        parts = [part for part in unquote(url_path).split("/") if part]
        if any(part in (".", "..") or "\\" in part or "\0" in part for part in parts):
            return None
        candidate = self.folder.joinpath(*parts) if parts else self.folder / "index.html"
        try:
            resolved = candidate.resolve(strict=True)  # follows symbolic links: they must stay inside too
        except (OSError, RuntimeError):
            return None
        if not resolved.is_relative_to(self.folder) or not resolved.is_file():
            return None
        return resolved

    def close(self) -> None:
        """Stop serving and answer the pages' pending polls."""
        with self.changed:
            self.closing = True
            self.changed.notify_all()
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    server: PreviewServer
    timeout = CONNECTION_SECONDS  # on the socket: a client that stops sending is dropped

    def do_GET(self) -> None:
        if self.headers.get("Host", "").lower() not in self.server.hosts:
            self._send(421, b"wrong host: open the address tierdeck printed\n", "text/plain; charset=utf-8")
            return
        if self.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
            self._send(403, b"cross-site requests are refused\n", "text/plain; charset=utf-8")
            return
        url = urlsplit(self.path)
        prefix = f"/{self.server.token}/"
        if not url.path.startswith(prefix):
            self._send(404, b"not found: open the address tierdeck printed\n", "text/plain; charset=utf-8")
            return
        path_in_site = url.path[len(prefix) - 1 :]
        if path_in_site == POLL_PATH:
            since = parse_qs(url.query).get("since", ["-1"])[0]
            digits = since.removeprefix("-")
            if not (digits.isascii() and digits.isdigit() and len(digits) <= MAX_SINCE_DIGITS):
                self._send(400, b"since= must be a whole number\n", "text/plain; charset=utf-8")
                return
            state = self.server.state_after(int(since))
            self._send(200, json.dumps(state).encode(), "application/json")
            return
        path = self.server.file_for(path_in_site)
        if path is None:
            self._send(404, b"not found\n", "text/plain; charset=utf-8")
            return
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if kind.startswith("text/") or kind in ("application/javascript", "text/javascript"):
            kind += "; charset=utf-8"
        self._send(200, path.read_bytes(), kind)

    def _send(self, status: int, body: bytes, kind: str) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")  # a rebuilt index.js must never come from a cache
            self.send_header("Cross-Origin-Resource-Policy", "same-origin")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.end_headers()
            self.wfile.write(body)
        except (ConnectionError, TimeoutError):
            pass  # the page went away

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the terminal is for the cards' problems."""


class Preview:
    """The preview of one project, rebuilt on demand; chunks of unchanged files are kept between builds."""

    def __init__(self, root: Path, manifests: list[Path] | None, out_dir: Path):
        self.root, self.manifests, self.out_dir = root, manifests, out_dir
        self.memo: dict[str, list[Chunk]] = {}

    def build(self) -> Outcome:
        """Load the project and write the preview; on errors leave the folder as it was."""
        started = time.perf_counter()
        try:
            report = core.load(self.root, self.manifests)
            site = write_site(report, self.out_dir, self.memo)
        except InputError as exc:
            return Outcome(time.perf_counter() - started, problems=exc.diagnostics)
        except TierdeckError as exc:
            return Outcome(time.perf_counter() - started, message=str(exc))
        except OSError as exc:
            message = f"cannot write {exc.filename or self.out_dir}: {exc.strerror or exc}; check the folder"
            return Outcome(time.perf_counter() - started, message=message)
        return Outcome(time.perf_counter() - started, site=site, warnings=report.warnings)


class _Relevant:
    """Whether a changed file can change what tierdeck reads: not its cache, lock files or the `ignored` folders."""

    def __init__(self, root: Path, ignored: tuple[Path, ...]):
        self.ignored = (root / CACHE_DIR, *ignored)
        self.default = watchfiles.DefaultFilter()  # version control, editors' swap and backup files

    def __call__(self, change: watchfiles.Change, path: str) -> bool:
        if not self.default(change, path):
            return False
        changed = Path(path)
        if changed.suffix == ".lock" or changed.name.startswith(files.TEMP_PREFIX):
            return False
        return not any(changed.is_relative_to(folder) for folder in self.ignored)


def project_changes(
    root: Path, ignored: tuple[Path, ...] = (), stop: threading.Event | None = None
) -> Iterator[set[tuple[watchfiles.Change, str]]]:
    """An empty batch once the watcher runs (read the project then: no save can slip in before), then each batch
    of changes to the project's files, 50 ms after the last, until `stop` is set or Ctrl-C."""
    started = False
    for changes in watchfiles.watch(
        root,
        watch_filter=_Relevant(root, ignored),
        stop_event=stop,
        step=50,
        rust_timeout=100,  # yields an empty batch when nothing changed for this long: the first says it runs
        yield_on_timeout=True,
        raise_interrupt=True,
    ):
        if changes or not started:
            started = True
            yield changes


def run(
    preview: Preview,
    port: int,
    on_ready: Callable[[str], None],
    on_build: Callable[[Outcome], None],
    stop: threading.Event | None = None,
) -> None:
    """Build, serve on 127.0.0.1:`port` (0: any free port) and rebuild after every change until `stop` is set.

    Ctrl-C raises KeyboardInterrupt here, after the server has been closed.
    """
    server = PreviewServer(preview.out_dir, port)  # the port is taken first: a busy one fails before any work
    thread = threading.Thread(target=server.serve_forever, name="tierdeck-preview-server", daemon=True)
    try:
        for _ in project_changes(preview.root, (preview.out_dir,), stop):
            outcome = preview.build()
            server.publish(outcome.site.version if outcome.site else None, outcome.errors(preview.root))
            if not thread.is_alive():  # the first build ran without the server's thread: it could fork workers
                if outcome.site is None and not (preview.out_dir / "index.js").is_file():
                    write_site(core.Report(preview.root), preview.out_dir)  # an empty page that can show the errors
                thread.start()
                on_ready(server.url)
            on_build(outcome)
    finally:
        if thread.is_alive():
            server.close()
            thread.join(timeout=5)
        else:
            server.server_close()  # never served: nothing to shut down
