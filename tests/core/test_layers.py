"""The core is pure Python: no module of it imports the window or Qt, not even lazily."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import inlet.core

CORE = Path(inlet.core.__file__).parent
FORBIDDEN = ("inlet.gui", "inlet.app", "PySide6", "shiboken6")


def _forbidden(name: str) -> bool:
    return any(name == f or name.startswith(f + ".") for f in FORBIDDEN)


def test_no_core_source_names_the_window_or_qt():
    """Every import statement, at any depth (a lazy import inside a function counts too)."""
    found = []
    for path in sorted(CORE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            found += [f"{path.name}:{node.lineno} {n}" for n in names if _forbidden(n)]
    assert found == []


@pytest.mark.timeout(60)
def test_importing_every_core_module_loads_no_window_and_no_qt():
    script = (
        "import importlib, json, pkgutil, sys\n"
        "import inlet.core\n"
        "names = [m.name for m in pkgutil.walk_packages(inlet.core.__path__, 'inlet.core.')]\n"
        "for name in names:\n"
        "    if name != 'inlet.core.__main__':\n"
        "        importlib.import_module(name)\n"
        "print(json.dumps({'imported': names, 'loaded': sorted(sys.modules)}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=50, check=True
    )
    report = json.loads(done.stdout)
    assert "inlet.core.cli" in report["imported"] and "inlet.core.receiver" in report["imported"]
    assert [name for name in report["loaded"] if _forbidden(name)] == []


@pytest.mark.timeout(60)
def test_the_receive_path_imports_only_what_a_plain_receive_needs():
    """Start-up is part of every small transfer's time: the wormhole (Twisted), the nearby
    browser (zeroconf), compression (blosc) and SPAKE2's group tables load when a receive
    needs them, not with the receiver."""
    script = (
        "import json, sys\n"
        "import inlet.core.cli, inlet.core.receiver\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=50, check=True
    )
    loaded = {name.split(".")[0] for name in json.loads(done.stdout)}
    assert loaded & {"twisted", "wormhole", "zeroconf", "blosc", "spake2", "PySide6"} == set()


@pytest.mark.timeout(60)
def test_a_socket_receive_from_the_command_line_loads_no_wormhole_module(tmp_path):
    """``inlet receive HOST:PORT:WORDS`` once loaded the wormhole receiver to build its flags
    (about 45 ms of every small transfer's start)."""
    script = (
        "import json, sys\n"
        "from inlet.app.main import main\n"
        f"code = main(['receive', '127.0.0.1:1:ocean-tiger-seven', '-o', {str(tmp_path)!r},"
        " '--json'])\n"
        "print(json.dumps([code, sorted(sys.modules)]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=50, check=True
    )
    code, modules = json.loads(done.stdout.splitlines()[-1])
    assert code != 0  # nothing listens at port 1: the receive ran and failed cleanly
    wormhole = {name for name in modules if name.startswith("inlet.core.wormhole.")}
    assert wormhole <= {"inlet.core.wormhole.cli", "inlet.core.wormhole.servers"}, wormhole
