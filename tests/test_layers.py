"""The layer rules of DESIGN.md, checked by importing each module in a fresh interpreter.

Every module of the console core and of ``commands`` is imported alone and ``sys.modules`` is
inspected: the core must never pull in Textual, ``widgets`` or ``commands``; commands never Textual
or ``widgets``; widgets never httpx, the clients or ``commands``. Modules are discovered, so a new
module is checked without editing this test.
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# the shell (DESIGN.md): may import everything
SHELL_PACKAGES = ("console.cli", "console.tui", "console.__main__")

FORBIDDEN = {
    "console": ("textual", "widgets", "commands"),
    "commands": ("textual", "widgets"),
    "widgets": (
        "httpx",
        "commands",
        "console.mlflow",
        "console.lineage",
        "console.embedded",
        "console.iceberg",
        "console.gitinfo",
        "console.provenance.collect",
    ),
}


def _modules(package: str) -> list[str]:
    names = [package]
    for info in pkgutil.walk_packages([str(ROOT / package)], prefix=f"{package}."):
        names.append(info.name)
    return sorted(n for n in names if not n.startswith(SHELL_PACKAGES) and ".__main__" not in n)


def _imports_of(module: str) -> set[str]:
    code = (
        "import importlib, json, sys; importlib.import_module(sys.argv[1]); "
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, module],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return set(json.loads(out.stdout))


def _run_python(code: str) -> object:
    """The JSON that ``code``, run in a fresh interpreter from the repository root, prints last."""
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.splitlines()[-1])


CASES = [(pkg, mod) for pkg in FORBIDDEN for mod in _modules(pkg)]


@pytest.mark.parametrize(("package", "module"), CASES, ids=[m for _, m in CASES])
def test_layer_rules(package: str, module: str) -> None:
    loaded = _imports_of(module)
    broken = sorted(
        name
        for name in loaded
        for banned in FORBIDDEN[package]
        if name == banned or name.startswith(banned + ".")
    )
    assert not broken, f"{module} imports {broken[:5]}"


def test_startup_path_has_no_heavy_imports() -> None:
    """`mlops-console --help` imports no library beyond argparse (no pydantic: budget 0.3 s)."""
    code = (
        "import sys, contextlib, io\n"
        "from console import cli\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try: cli.run(['--help'])\n"
        "    except SystemExit: pass\n"
        "import json; print(json.dumps(sorted(sys.modules)))"
    )
    loaded = set(_run_python(code))
    heavy = (
        "mlflow",
        "pandas",
        "pyiceberg",
        "datahub",
        "textual",
        "sklearn",
        "pyarrow",
        "httpx",
        "pydantic",
        "asyncio",
    )
    assert not [m for m in loaded if m.split(".")[0] in heavy]


# the TUI's feature controllers: each gets a typed ``Shell`` handle and never imports another
# feature (or the app), so the shell has no import circle; only ``console.tui.app`` wires them
TUI_FEATURES = {
    "browse",
    "connect",
    "demo",
    "deployments",
    "history",
    "lineage",
    "promotion",
    "provenance",
    "runbooks",
}
# ``verbs``: the operator verbs' declarations (pure data), read by the app and the ``:`` parser
TUI_BASE = {"shell", "jobs", "commands", "data", "crash", "verbs"}


def _tui_imports(path: Path) -> set[str]:
    """The ``console.tui`` modules ``path`` imports, anywhere (also inside functions)."""
    import ast

    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[:2] == ["console", "tui"] and len(parts) > 2:
                found.add(parts[2])
    return found


@pytest.mark.parametrize("module", sorted(TUI_FEATURES | TUI_BASE))
def test_tui_features_do_not_import_each_other(module: str) -> None:
    imported = _tui_imports(ROOT / "console" / "tui" / f"{module}.py")
    allowed = TUI_BASE - {"crash"} if module in TUI_FEATURES else TUI_BASE - {module}
    assert imported <= allowed | {module}, f"console.tui.{module} imports {sorted(imported)}"


def test_every_tui_module_is_classified() -> None:
    modules = {p.stem for p in (ROOT / "console" / "tui").glob("*.py")} - {"__init__", "app"}
    assert modules == TUI_FEATURES | TUI_BASE, "classify new console/tui modules in this test"


def test_no_attr_defined_ignores_in_the_shell() -> None:
    """Features hold a typed handle: nothing needs ``type: ignore[attr-defined]``."""
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "console" / "tui").glob("*.py")
        if "ignore[attr-defined]" in p.read_text(encoding="utf-8")
    ]
    assert not offenders


def test_first_frame_path_has_no_pydantic() -> None:
    """What the console imports before its first frame: no pydantic (settings load after it)."""
    code = (
        "import sys, json\n"
        "import console.cli, console.cli.tui, console.overrides, console.prefetch\n"
        "import console.tui.app\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    loaded = {m.split(".")[0] for m in _run_python(code)}
    assert not loaded & {"pydantic", "httpx", "mlflow", "pandas", "pyiceberg", "datahub"}


def test_the_first_page_helper_needs_only_the_standard_library() -> None:
    """``console.prefetch`` runs before Textual is imported and forks: the standard library only
    (plus ``certifi`` for https, imported in the helper), and the console's own light modules."""
    code = (
        "import sys, json\n"
        "import console.prefetch, console.prefetch_views, console.settings_files\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    outside = {
        name
        for name in _run_python(code)
        if name.split(".")[0] not in sys.stdlib_module_names
        and name.split(".")[0] not in {"__main__", "console", "_distutils_hack", "sitecustomize"}
    }
    assert not outside, sorted(outside)[:5]


def test_opening_the_console_builds_no_subcommand_parser() -> None:
    """No subcommand: the global options are parsed alone (every subcommand module's import
    costs a fifth of a bare Textual app's start), to the same values the full parser gives."""
    code = (
        "import sys, json\n"
        "import console.cli.tui as tui\n"
        "seen = []\n"
        "tui.open_console = lambda overrides: seen.append(overrides) or 0\n"
        "from console import cli\n"
        "argv = ['--read-only', '--tracking-uri', 'http://127.0.0.1:1', '--home=h']\n"
        "argv += ['--prof', 'p']\n"
        "cli.run(argv)\n"
        "loaded = sorted(sys.modules)\n"
        "full = cli._overrides(cli.build_parser().parse_args(argv))\n"
        "print(json.dumps([seen[0] == full, loaded]))"
    )
    same, loaded = _run_python(code)
    assert same is True
    subcommands = [m for m in loaded if m.startswith("console.cli.") and m != "console.cli.tui"]
    assert subcommands in ([], ["console.cli._common"])


def test_an_ambiguous_abbreviation_is_refused_as_by_the_full_parser() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "console", "--h", "x"], cwd=ROOT, capture_output=True, text=True
    )
    assert out.returncode == 2
    assert "ambiguous option: --h could match --help, --home" in out.stderr
