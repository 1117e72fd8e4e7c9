"""The `tierdeck` command line: parse options, call the core, print its report, map errors to exit codes.

Exit codes: 0 success, 1 bad input (every problem listed as `file:line: ...`), 2 bad usage,
3 an internal error (a bug in tierdeck: one line on screen, the traceback in a log file).
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

import click

from tierdeck import __version__, files
from tierdeck.errors import Diagnostic, InputError, OutputError, UsageError, relative

if TYPE_CHECKING:
    from tierdeck.project.report import DeckSummary


class _Later:
    """A module imported when first used: `tierdeck --version` and `--help` start without the core."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attribute: str):
        import importlib

        return getattr(importlib.import_module(self._name), attribute)


core = _Later("tierdeck.release.build")  # the core: check and build
project = _Later("tierdeck.project.load")  # reading a project, for the commands that only read

ISSUES_URL = "https://github.com/tierdeck/tierdeck/issues"
DOCS_URL = "https://github.com/tierdeck/tierdeck/tree/main/docs"
EXIT_INPUT, EXIT_USAGE, EXIT_BUG = 1, 2, 3


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _print_diagnostics(diagnostics: list[Diagnostic], root: Path | None) -> None:
    for d in diagnostics:
        click.echo(d.render(root), err=True)


def _crash(exc: BaseException) -> None:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    # TIERDECK_CRASH_DIR: where crash logs go instead of the system temp folder (tests use their own); in a
    # folder of its own only this user may enter, under a name nobody can plant a link at beforehand
    import tempfile

    folder = Path(os.environ.get("TIERDECK_CRASH_DIR") or tempfile.gettempdir())
    try:
        log = files.private_file(folder, f"crash-{stamp}-", ".log")
        log.write_text(
            f"tierdeck {__version__}, Python {sys.version.split()[0]}\n"
            f"command: {' '.join(sys.argv)}\n\n" + "".join(traceback.format_exception(exc))
        )
        where = f"the traceback is in {log}"
    except OSError:
        where = "the traceback could not be saved"
    click.echo(
        f"tierdeck: internal error: {type(exc).__name__}: {exc}\n"
        f"This is a bug in tierdeck, not a problem with your cards. Please report it at {ISSUES_URL} "
        f"({where}).",
        err=True,
    )


class _Group(click.Group):
    """Turns tierdeck's errors into messages and exit codes; never shows a traceback."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Each command with its whole first sentence, wrapped, never cut off with '...'."""
        rows = [(name, command.get_short_help_str(limit=1000)) for name, command in self.commands.items()]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except InputError as exc:
            root = ctx.meta.get("tierdeck.root")
            _print_diagnostics(exc.diagnostics, root)
            errors = sum(d.level == "error" for d in exc.diagnostics)
            warnings = len(exc.diagnostics) - errors
            summary = _plural(errors, "error") + (f", {_plural(warnings, 'warning')}" if warnings else "")
            click.echo(f"{summary}; nothing was written", err=True)
            ctx.exit(EXIT_INPUT)
        except UsageError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(EXIT_USAGE)
        except OutputError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(EXIT_INPUT)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except KeyboardInterrupt:
            click.echo("interrupted; nothing was written", err=True)
            ctx.exit(130)
        except BrokenPipeError:  # the reader went away (`tierdeck docs | head`): stop quietly, as other tools do
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())  # Python's own flush at exit must not fail again
            ctx.exit(141)
        except Exception as exc:  # noqa: BLE001 - the one place that turns a bug into a report
            refused = files.user_condition(exc)  # a full disk, a name too long, ...: the machine's, not a bug
            if refused is not None:
                click.echo(f"Error: {refused}", err=True)
                ctx.exit(EXIT_INPUT)
            _crash(exc)
            ctx.exit(EXIT_BUG)


def _set_verbosity(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    """-q or -v, before or after the command name: the last one given wins, both at once is a usage error."""
    if not value:
        return
    level = -1 if param.name == "quiet" else 1
    if ctx.meta.get("tierdeck.verbosity", 0) == -level:
        raise click.UsageError("-q/--quiet and -v/--verbose cannot be used together")
    ctx.meta["tierdeck.verbosity"] = level


def _verbosity_options() -> list[click.Option]:
    return [
        click.Option(
            ["-q", "--quiet"],
            is_flag=True,
            expose_value=False,
            callback=_set_verbosity,
            help="Print only problems and the output a command is asked for.",
        ),
        click.Option(
            ["-v", "--verbose"],
            is_flag=True,
            expose_value=False,
            callback=_set_verbosity,
            help="Also print what is read and written, and how long it took.",
        ),
    ]


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]}, params=_verbosity_options())
@click.version_option(__version__, prog_name="tierdeck")
def cli() -> None:
    """Build tiered Anki decks from YAML flashcards.

    The documentation (the card format, every message and its fix, migrating from Anki) is installed with
    tierdeck: 'tierdeck docs' says where, and it is online at https://github.com/tierdeck/tierdeck/tree/main/docs.

    \b
    Example:
      tierdeck check                 # validate every deck under decks/
      tierdeck build                 # write dist/<deck id>.apkg for each deck
      tierdeck build -q              # print nothing but problems
      tierdeck docs format           # where the card format reference is
    """


def _say(message: str, level: int = 0) -> None:
    """Print a status line unless --quiet; `level=1` lines only with --verbose."""
    ctx = click.get_current_context(silent=True)
    if (ctx.meta.get("tierdeck.verbosity", 0) if ctx else 0) >= level:
        click.echo(message)


def _on_terminal() -> bool:
    return sys.stderr.isatty()


@contextlib.contextmanager
def _progress(label: str):
    """A progress callback `(done, total)` drawing click's bar on a terminal; hidden in CI logs and with -q."""
    ctx = click.get_current_context(silent=True)
    hidden = not _on_terminal() or (ctx is not None and ctx.meta.get("tierdeck.verbosity", 0) < 0)
    state: dict = {}

    def update(done: int, total: int) -> None:
        if "bar" not in state:
            state["bar"] = click.progressbar(length=max(total, 1), label=label, hidden=hidden, file=sys.stderr)
            state["bar"].__enter__()
        state["bar"].update(done - state["bar"].pos)

    try:
        yield update
    finally:
        if "bar" in state:
            state["bar"].__exit__(None, None, None)


_manifests = click.argument("manifests", nargs=-1, type=click.Path(path_type=Path, dir_okay=False))


def _root(ctx: click.Context, manifests: tuple[Path, ...]) -> tuple[Path, list[Path] | None]:
    from tierdeck.format.layout import find_root, root_of

    root = root_of(manifests[0]) if manifests else find_root(Path.cwd())
    ctx.meta["tierdeck.root"] = root
    return root, list(manifests) or None


def _tier_summary(summary: DeckSummary) -> str:
    tiers = ", ".join(f"{tier} {count}" for tier, count in summary.cards_per_tier.items())
    return f"{summary.id}: {_plural(summary.card_count, 'card')} ({tiers})"


@cli.command()
@_manifests
@click.option("--strict", is_flag=True, help="Treat lint warnings as errors (exit 1), e.g. in CI.")
@click.option("--watch", is_flag=True, help="Check again whenever a file of the project is saved; Ctrl-C stops.")
@click.option(
    "--tag",
    metavar="TAG",
    help="Only check that the release tag TAG (e.g. v1.2.0) is every deck's version: (CI runs it on a tag).",
)
@click.pass_context
def check(ctx: click.Context, manifests: tuple[Path, ...], strict: bool, watch: bool, tag: str | None) -> None:
    """Validate decks and cards without writing anything; list every problem.

    With no MANIFESTS, checks every manifest under decks/. Lint warnings (a duplicated front, a front
    over 40 words, a cloze hiding most of its text, a mechanism of 1 or over 10 steps, an empty table
    cell, a card without a source) are listed too; with --strict they fail the check.

    \b
    Example:
      tierdeck check
      tierdeck check --strict decks/renal.yaml
      tierdeck check --watch
      tierdeck check --tag v1.2.0     # fails unless every manifest says version: 1.2.0
    """
    root, named = _root(ctx, manifests)
    if tag is not None:
        ids = core.check_tag(root, named, tag)
        _say(f"ok: the tag {tag} is the version of {', '.join(ids)}")
        return
    if watch:
        _watch_check(root, named, strict)
        return
    _check_once(root, named, strict)


def _watch_check(root: Path, named: list[Path] | None, strict: bool) -> None:
    from tierdeck.preview.serve import project_changes

    gc.enable()  # main() turns the collector off for short commands; this one runs until Ctrl-C
    try:
        for _ in project_changes(root):  # once when the watcher runs, then after every change
            try:
                _check_once(root, named, strict)
            except InputError as exc:
                _print_diagnostics(exc.diagnostics, root)
                click.echo(f"{_plural(sum(d.level == 'error' for d in exc.diagnostics), 'error')}; watching", err=True)
            except UsageError as exc:
                click.echo(f"Error: {exc}", err=True)
    except KeyboardInterrupt:
        _say("stopped")
        click.get_current_context().exit(130)


def _check_once(root: Path, named: list[Path] | None, strict: bool) -> None:
    started = time.perf_counter()
    report = core.check(root, named, strict=strict)
    _print_diagnostics(report.warnings, report.root)
    summaries = report.summaries
    for summary in summaries:
        _say(_tier_summary(summary))
        _say(f"  {relative(summary.manifest_path, root)}: {_plural(summary.card_files, 'card file')}", 1)
        if summary.unlinted:
            _say(
                f"  {_plural(summary.unlinted, 'imported card')} (format: anki) not linted yet: add 'legacy_lint: true' "
                f"to {relative(summary.manifest_path, root)} to lint them, or edit a card as markdown or html"
            )
    _say(f"ok: {_plural(len(summaries), 'deck')} checked, {_plural(len(report.warnings), 'warning')}")
    _say(f"checked in {time.perf_counter() - started:.2f}s", 1)


@cli.command()
@_manifests
@click.option(
    "-o", "--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), help="Output folder [default: dist/]."
)
@click.option(
    "--tier",
    "tiers",
    multiple=True,
    help="Build only this tier, as <deck id>.<tier id>.apkg; repeat it for several tiers (one package each).",
)
@click.option(
    "--locked",
    is_flag=True,
    help="Fail if a lock file would change (for CI and releases); identical sources give identical files.",
)
@click.pass_context
def build(
    ctx: click.Context, manifests: tuple[Path, ...], out_dir: Path | None, tiers: tuple[str, ...], locked: bool
) -> None:
    """Build one .apkg per deck into dist/ (or --out), and dist/manifest.json.

    With no MANIFESTS, builds every manifest under decks/. Each deck's lock file (decks/<id>.lock)
    keeps the modification time of unchanged notes, so students' Anki updates exactly the notes that
    changed; commit it with the cards. A failed build writes nothing and leaves earlier packages as
    they were.

    \b
    Example:
      tierdeck build
      tierdeck build decks/renal.yaml -o release/ --tier core --tier clinical
      SOURCE_DATE_EPOCH=$(git log -1 --format=%ct) tierdeck build --locked
    """
    root, named = _root(ctx, manifests)
    started = time.perf_counter()
    with _progress("Building") as progress:
        report = core.build(root, named, out_dir=out_dir, tiers=tiers, locked=locked, progress=progress)
    _print_diagnostics(report.warnings, report.root)
    for summary in report.summaries:
        outputs = ", ".join(relative(o.path, Path.cwd()) for o in summary.outputs)
        _say(f"{_tier_summary(summary)} -> {outputs}{_changes(summary)}")
        if summary.renamed_from:
            click.echo(
                f"note: deck '{summary.id}' was '{summary.renamed_from}': its notes keep their identity (students "
                f"get no duplicates); the lock file is now decks/{summary.id}.lock",
                err=True,
            )
        for card_id, origin in summary.moved_in:
            click.echo(
                f"note: '{card_id}' moved here from deck '{origin}' and keeps its identity: students who have it "
                "keep its history (their copy stays in the old deck)",
                err=True,
            )
        for card_id, old_tier, new_tier in summary.moved:
            click.echo(
                f"note: '{card_id}' moved from tier {old_tier} to {new_tier}; students who have it keep its "
                f"cards in the old subdeck (its tier:: tag updates)",
                err=True,
            )
    if report.cached is not None:
        _say("(nothing changed since the last build; the packages are up to date)", 1)
    _say(f"built in {time.perf_counter() - started:.2f}s", 1)


def _changes(summary: DeckSummary) -> str:
    parts = [f"{cards} {word}" for word, cards, _ in summary.changes if cards]
    notes = sum(n for *_, n in summary.changes)
    if notes == sum(cards for _, cards, _ in summary.changes):
        return f" ({', '.join(parts)} since the lock file)" if parts else ""
    # a table's cells are one note each (and each holds the whole table): say why Anki reports more updates
    return f" ({', '.join(parts)} since the lock file; {_plural(notes, 'note')} in Anki: each table cell is a note)"


@cli.command()
@click.argument("old")
@click.argument("new", default=".")
@click.option("--format", "fmt", type=click.Choice(["markdown", "json"]), default="markdown", show_default=True)
@click.option("-o", "--out", type=click.Path(path_type=Path, dir_okay=False), help="Write to a file, not stdout.")
@click.pass_context
def diff(ctx: click.Context, old: str, new: str, fmt: str, out: Path | None) -> None:
    """Changelog between two versions: cards added, changed, removed and moved tier, per deck and tier.

    OLD and NEW are each a git revision (tag, branch, commit), '.' for the working tree (the default
    NEW), or a built .apkg file; OLD 'none' lists every card, for a first release's notes. Cards are
    matched by id, so edited text shows as a change.

    \b
    Example:
      tierdeck diff v1.0.0                # since the tag, up to the working tree
      tierdeck diff none v1.0.0           # the first release: every card, per tier
      tierdeck diff v1.0.0 v1.1.0 --format json
      tierdeck diff old/renal.apkg dist/renal.apkg
    """
    from tierdeck.format.layout import find_root
    from tierdeck.tools import diff as changelog

    root = find_root(Path.cwd()) if not (old.endswith(".apkg") and new.endswith(".apkg")) else Path.cwd()
    ctx.meta["tierdeck.root"] = root
    decks = changelog.compare(changelog.read_side(old, root), changelog.read_side(new, root))
    labels = ("nothing (the first release)" if old == changelog.NOTHING else old, "the working tree" if new == "." else new)
    text = changelog.to_json(decks, *labels) if fmt == "json" else changelog.to_markdown(decks, *labels)
    if out is None:
        click.echo(text, nl=False)
    else:
        files.write(out, text)


@cli.command()
@_manifests
@click.option(
    "-o",
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Output folder [default: preview/].",
)
@click.option("--open", "open_browser", is_flag=True, help="Open the preview in the web browser.")
@click.option(
    "--watch",
    is_flag=True,
    help="Serve the preview on 127.0.0.1 and update the open page whenever a file is saved; Ctrl-C stops.",
)
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="The port --watch serves on (0: any)."
)
@click.pass_context
def preview(
    ctx: click.Context, manifests: tuple[Path, ...], out_dir: Path | None, open_browser: bool, watch: bool, port: int
) -> None:
    """Write an HTML preview of every card, front and back, as Anki will show them.

    The preview uses the decks' own card templates and CSS. Open preview/index.html from disk (no
    server): cards are grouped by tier and card type, with each card's id, tags, source, evidence level,
    file:line and lint warnings; search, filter by tier, type, tag, evidence level or the cards flagged
    for overflowing a phone, small text or low contrast, and switch night mode or the phone view on and off.
    With --watch it is served on http://127.0.0.1:PORT/ and the open page follows every saved edit.

    \b
    Example:
      tierdeck preview --open
      tierdeck preview decks/renal.yaml -o /tmp/review
      tierdeck preview --watch --open
    """
    from tierdeck.preview.site import preview

    root, named = _root(ctx, manifests)
    if watch:
        _watch_preview(root, named, out_dir, port, open_browser)
        return
    site, report = preview(root, named, out_dir)
    _print_diagnostics(report.warnings, report.root)
    _say(f"preview of {_plural(site.cards, 'card')} -> {relative(site.index, Path.cwd())}")
    if open_browser:
        _open_in_browser(site.index.as_uri())


def _open_in_browser(url: str) -> None:
    """Open `url`, or say that no browser could be (a server, a container, SSH): the author opens it."""
    import webbrowser

    try:
        opened = webbrowser.open(url)
    except webbrowser.Error:
        opened = False
    if not opened:
        click.echo(f"no web browser could be opened here; open {url} in a browser yourself", err=True)


def _watch_preview(root: Path, named: list[Path] | None, out_dir: Path | None, port: int, open_browser: bool) -> None:
    from tierdeck.preview.serve import Outcome, Preview, run
    from tierdeck.preview.site import preview_folder

    gc.enable()  # main() turns the collector off for short commands; this one runs until Ctrl-C

    def ready(url: str) -> None:
        _say(f"serving the preview on {url} (Ctrl-C to stop)")
        if open_browser:
            _open_in_browser(url)

    def built(outcome: Outcome) -> None:
        if outcome.site is None:
            _print_diagnostics(outcome.problems, root)
            if outcome.message:
                click.echo(f"Error: {outcome.message}", err=True)
            click.echo("the page keeps the last preview without errors", err=True)
            return
        _print_diagnostics(outcome.warnings, root)
        _say(f"preview of {_plural(outcome.site.cards, 'card')} updated in {outcome.seconds:.2f}s")

    try:
        run(Preview(root.resolve(), named, preview_folder(root, out_dir)), port, ready, built)
    except KeyboardInterrupt:
        _say("stopped")
        click.get_current_context().exit(130)


@cli.command()
@_manifests
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_context
def stats(ctx: click.Context, manifests: tuple[Path, ...], fmt: str) -> None:
    """Cards per tier and card type, cards per tag, and the lint warnings.

    \b
    Example:
      tierdeck stats
      tierdeck stats decks/renal.yaml --format json
    """
    from tierdeck.tools import stats as deck_stats

    root, named = _root(ctx, manifests)
    data = deck_stats.collect(project.load(root, named))
    click.echo(deck_stats.to_json(data) if fmt == "json" else deck_stats.to_text(data), nl=False)


@cli.command()
@click.option(
    "-o",
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Output folder [default: schemas/].",
)
@click.pass_context
def schema(ctx: click.Context, out_dir: Path | None) -> None:
    """Write JSON Schemas of manifests and card files, for editors that validate YAML.

    Writes manifest.schema.json and cards.schema.json, generated from the models tierdeck validates
    with. A card file whose first line is
    '# yaml-language-server: $schema=../../schemas/cards.schema.json' is then checked and completed as
    you type (VS Code's YAML extension and other editors using the YAML language server; see
    docs/editor.md).

    \b
    Example:
      tierdeck schema
      tierdeck schema -o /tmp/schemas
    """
    from tierdeck.format.jsonschemas import write_schemas
    from tierdeck.format.layout import find_root

    if out_dir is None:
        try:
            root = find_root(Path.cwd())
            out_dir = files.inside(root, root / "schemas")  # the project's own: never through a link out of it
        except UsageError:
            out_dir = Path("schemas")
    for path in write_schemas(out_dir):
        _say(f"wrote {relative(path.resolve(), Path.cwd())}")


@cli.group()
def addon() -> None:
    """The students' Anki add-on: follow a deck's releases and get each one in place (docs/addon.md)."""


@addon.command("build")
@click.option(
    "-o",
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("tierdeck-follow.ankiaddon"),
    show_default=True,
    help="The .ankiaddon file to write.",
)
def addon_build(out: Path) -> None:
    """Write the Anki add-on as one .ankiaddon file, to install in Anki with Tools > Add-ons > Install from file.

    It needs no project: it is the same for every deck (students give it a deck's manifest URL).

    \b
    Example:
      tierdeck addon build -o dist/tierdeck-follow.ankiaddon
    """
    from tierdeck.tools.addon import build_addon

    path = build_addon(out)
    _say(f"wrote {relative(path.resolve(), Path.cwd())}")


@cli.command()
@click.argument("directory", default=".", type=click.Path(path_type=Path, file_okay=False))
@click.option("--deck", "deck_id", help="The first deck's id [default: from DIRECTORY's name].")
@click.option("--name", help="The first deck's name in Anki [default: from its id, e.g. 'Bone Health'].")
@click.pass_context
def init(ctx: click.Context, directory: Path, deck_id: str | None, name: str | None) -> None:
    """Start a deck project of your own in DIRECTORY (default: here), ready for git and CI.

    Writes a first deck (decks/, cards/ with one example card of each type), the JSON Schemas editors
    validate with, a .gitignore, a README for the deck's authors, and a GitHub Actions workflow that
    checks, builds as locked and publishes releases with the tierdeck version that created it. Existing
    files are never overwritten.

    \b
    Example:
      tierdeck init course && cd course && tierdeck check --strict && tierdeck build
      tierdeck init renal --deck acid-base --name "Acid-Base Physiology"
    """
    from tierdeck.tools.scaffold import init_project

    root = directory.resolve()
    ctx.meta["tierdeck.root"] = Path.cwd().resolve()  # paths shown as the author typed them
    created, warnings = init_project(root, deck_id, name)
    for path in created:
        _say(f"created {relative(path, Path.cwd())}")
    _print_diagnostics(warnings, Path.cwd().resolve())
    where = "" if root == Path.cwd().resolve() else f"cd {relative(root, Path.cwd())} && "
    _say(f"next: {where}tierdeck check && tierdeck preview --open (see README.md)")


@cli.command()
@click.argument("deck_id")
@click.option("--name", help="The deck's name in Anki [default: from DECK_ID, e.g. 'Bone Health'].")
@click.pass_context
def new(ctx: click.Context, deck_id: str, name: str | None) -> None:
    """Add a deck to this project: decks/DECK_ID.yaml and cards/DECK_ID/ with one example card of each type.

    The new deck builds as it is; replace the example cards with your own. Existing files are never
    overwritten. To start a project, use 'tierdeck init'.

    \b
    Example:
      tierdeck new bone-health
      tierdeck new cardio-basics --name "Cardiology Basics"
    """
    from tierdeck.format.layout import find_root
    from tierdeck.tools.scaffold import new_deck

    try:
        root = find_root(Path.cwd())
    except UsageError:
        raise UsageError(
            f"no tierdeck project here (no decks/ folder in {Path.cwd()} or above); start one with "
            "'tierdeck init', which also writes a .gitignore, a README and CI for it"
        ) from None
    ctx.meta["tierdeck.root"] = root
    created, warnings = new_deck(root, deck_id, name)
    for path in created:
        _say(f"created {relative(path, Path.cwd())}")
    _print_diagnostics(warnings, root)
    _say("next: replace the example cards, then run 'tierdeck check' and 'tierdeck preview'")


@cli.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    help="The project folder to write or extend [default: the project here, else the current folder].",
)
@click.option("--strict", is_flag=True, help="Refuse the import (write nothing) if any note is left out or changed.")
@click.pass_context
def import_(ctx: click.Context, file: Path, out_dir: Path | None, strict: bool) -> None:
    """Bring an existing Anki deck into a project, keeping every student's review history.

    FILE is an Anki package (.apkg, from any Anki version) or a 'Notes in Plain Text' export (.txt).
    Subdecks become tiers; every note keeps its GUID and its note type (with Anki's id), so students
    who have the deck get no duplicates and lose no history. Importing a newer export of the same deck
    again updates the cards whose notes changed; nothing is renumbered or removed. A plain-text export
    needs the note types (and media) already in the project, from an earlier .apkg import. A note that
    cannot be carried over (a duplicate GUID, a note that makes no card) is left out and listed with
    what to do in Anki; --strict refuses the import instead. If anything fails, the project is left as
    it was. See docs/migrating.md.

    \b
    Example:
      tierdeck import Pharmacology.apkg -o pharmacology/
      cd pharmacology && tierdeck check --strict && tierdeck build
      tierdeck import notes.txt           # update this project from a newer text export
    """
    from tierdeck.format.layout import find_root
    from tierdeck.importing.importer import import_deck

    if out_dir is None:
        try:
            out_dir = find_root(Path.cwd())
        except UsageError:
            out_dir = Path.cwd()
    ctx.meta["tierdeck.root"] = out_dir.resolve()
    report = import_deck(file, out_dir, strict=strict)
    _print_diagnostics(report.warnings, report.root)
    for deck in report.decks:
        counts = ", ".join(
            f"{deck.counts[word]} {word}" for word in ("new", "updated", "unchanged", "kept") if deck.counts[word]
        )
        verb = "created" if deck.created else "extended"
        _say(f"{deck.id}: {verb} {relative(report.root / deck.manifest, Path.cwd())} ({counts or 'no notes'})")
    _say(
        f"imported {relative(file.resolve(), Path.cwd())}: {_plural(len(report.notetypes), 'note type file')} and "
        f"{_plural(report.media, 'media file')} written, {_plural(len(report.warnings), 'warning')}"
    )
    _say("next: 'tierdeck check --strict', then 'tierdeck build' (see 'tierdeck docs migrating')")


@cli.command()
@click.argument("topic", required=False)
def docs(topic: str | None) -> None:
    """Where tierdeck's documentation is: the files installed with it, and online.

    TOPIC names one document (format, errors, migrating, notetypes, preview, editor): its path is printed
    alone, ready for an editor or a pager. Without TOPIC, every document is listed with what it covers.

    \b
    Example:
      tierdeck docs
      tierdeck docs format           # the YAML card format, with an example of every card type
      less "$(tierdeck docs errors)"  # every message and its fix
    """
    from tierdeck.tools.docs import document, documents

    if topic is not None:
        click.echo(document(topic))
        return
    for path, title in documents():
        click.echo(f"{path}  {title}")
    _say(f"online: {DOCS_URL}")


for _command in cli.commands.values():  # -q and -v after the command name too: `tierdeck build -q`
    _command.params.extend(_verbosity_options())


def main() -> None:
    """Console-script entry point."""
    # One short-lived command: its objects live until it ends, so the cyclic collector would only walk
    # them over and over (the core pauses it during its own work; this also spares the sweep after it).
    gc.disable()
    cli(prog_name="tierdeck")
