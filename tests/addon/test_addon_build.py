"""`tierdeck addon build`: the .ankiaddon holds the add-on and only the part of tierdeck it needs, and that
part runs on the standard library and Anki alone."""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import textwrap
import zipfile

from click.testing import CliRunner

from tierdeck.cli import cli

V1 = "1700000000"


def _build(tmp_path, name="follow.ankiaddon"):
    out = tmp_path / name
    result = CliRunner().invoke(cli, ["addon", "build", "-o", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"wrote {out}\n"
    return out


def test_addon_build__holds_the_addon_and_the_portable_core_nothing_else(tmp_path):
    with zipfile.ZipFile(_build(tmp_path)) as zf:
        names = zf.namelist()
        manifest = json.loads(zf.read("manifest.json"))
        config = json.loads(zf.read("config.json"))
    assert names == [
        "__init__.py",
        "config.json",
        "config.md",
        "config.py",
        "fetch.py",
        "gui.py",
        "manifest.json",
        "report.py",
        "update.py",
        "vendor/tierdeck/__init__.py",
        "vendor/tierdeck/cache.py",  # errors.py's diagnostics are storable in tierdeck's cache (stdlib only)
        "vendor/tierdeck/errors.py",  # portable's problems are Diagnostics
        "vendor/tierdeck/portable/__init__.py",
        "vendor/tierdeck/portable/apkg.py",
        "vendor/tierdeck/portable/collection.py",
        "vendor/tierdeck/portable/model.py",
        "vendor/tierdeck/portable/references.py",
        "vendor/tierdeck/portable/release.py",
        "vendor/tierdeck/portable/safety.py",
    ]
    assert manifest == {
        "package": "tierdeck_follow",
        "name": "tierdeck: follow a deck",
        "human_version": "0.2.0",
        "min_point_version": 231000,
        "homepage": "https://github.com/tierdeck/tierdeck",
    }
    assert config["subscriptions"] == [] and config["apply"] == "ask"


def test_addon_build__the_shipped_config_is_the_default_settings(tmp_path):
    from tierdeck_addon import config

    with zipfile.ZipFile(_build(tmp_path)) as zf:
        assert config.read(json.loads(zf.read("config.json"))) == config.read({})


def test_addon_build__is_reproducible(tmp_path):
    assert _build(tmp_path, "a.ankiaddon").read_bytes() == _build(tmp_path, "b.ankiaddon").read_bytes()


def test_addon_build__an_unwritable_output_is_exit_1_with_the_fix(tmp_path):
    result = CliRunner().invoke(cli, ["addon", "build", "-o", str(tmp_path / "missing" / "x.ankiaddon")])
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: cannot write {tmp_path}/missing/x.ankiaddon: No such file or directory; choose another file with "
        "-o, or check the folder's permissions\n"
    )


def test_addon_build__the_installed_addon_updates_a_collection_with_only_anki_and_the_standard_library(
    sample, tmp_path
):
    """Unzipped as Anki would (addons21/tierdeck_follow/) and run in an interpreter that sees no tierdeck,
    pydantic, genanki or YAML: it follows a release into a fresh collection."""
    with zipfile.ZipFile(_build(tmp_path)) as zf:
        zf.extractall(tmp_path / "addons21" / "tierdeck_follow")
    assert sample.run("build", env={"SOURCE_DATE_EPOCH": V1}).exit_code == 0
    script = textwrap.dedent(
        f"""
        import sys
        sys.path[:0] = [{str(tmp_path / "addons21")!r}, {sysconfig.get_paths()["purelib"]!r}]
        from anki.collection import Collection
        from tierdeck_follow import config, fetch, update
        import tierdeck
        col = Collection({str(tmp_path / "student.anki2")!r})
        rel, at = fetch.read_manifest({str(sample.root / "dist")!r})
        apkg = fetch.download(at, rel.packages[0], __import__("pathlib").Path({str(tmp_path)!r}))
        settings = config.read({{}})
        print(update.apply(col, update.plan(col, rel.packages[0], apkg, settings), settings).summary())
        print(tierdeck.__file__)
        print(sorted(m for m in ("pydantic", "genanki", "yaml", "nh3", "click") if m in sys.modules))
        col.close()
        """
    )
    # -S: no site-packages (so no installed tierdeck); -I: no user site, no PYTHONPATH
    result = subprocess.run([sys.executable, "-S", "-I", "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "Sample Deck 1.0.0: 9 added, 0 changed, 0 removed",
        str(tmp_path / "addons21" / "tierdeck_follow" / "vendor" / "tierdeck" / "__init__.py"),
        "[]",
    ]


def test_addon_build__the_addon_imports_only_the_standard_library_anki_and_the_portable_core():
    """What the add-on may import inside Anki; the vendored closure follows from it."""
    import ast
    from pathlib import Path

    import tierdeck_addon

    allowed = set(sys.stdlib_module_names) | {"anki", "aqt", "__future__"}
    found = {}
    for path in sorted(Path(tierdeck_addon.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            for name in names:
                # tierdeck.errors: the exceptions the portable readers raise
                if name.split(".")[0] not in allowed and not name.startswith(("tierdeck.portable", "tierdeck.errors")):
                    found.setdefault(path.name, []).append(name)
    assert found == {}
