"""``inlet`` as installed: the core's CLI with the window plugged in above both layers."""

from __future__ import annotations

import shutil
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from inlet.app import main as app_main
from inlet.app import xlibs
from inlet.core.cli import main as core_main

APP = [sys.executable, "-m", "inlet.app"]

pytestmark = pytest.mark.timeout(60)


def test_the_inlet_script_is_the_app_layer():
    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "inlet"]
    assert script.value == "inlet.app.main:main"


def test_headless_commands_are_the_cores(capsys):
    with pytest.raises(SystemExit) as info:
        app_main.main(["--version"])
    assert info.value.code == 0 and capsys.readouterr().out.startswith("inlet ")
    with pytest.raises(SystemExit):
        app_main.main(["--help"])
    assert "install-launcher" in capsys.readouterr().out


def test_python_dash_m_core_says_where_the_window_is(monkeypatch, capsys):
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert core_main(["demo"]) == 2
    err = capsys.readouterr().err
    assert "'inlet'" in err and "python -m inlet.app" in err and err.count("\n") == 1


def test_the_window_is_opened_by_the_app_with_the_code(monkeypatch):
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    calls = []
    assert core_main(["127.0.0.1:1:tok"], window=lambda *a: calls.append(a) or 7) == 7
    assert core_main(["demo"], window=lambda *a: calls.append(a) or 0) == 0
    assert calls == [("127.0.0.1:1:tok", False), (None, True)]


@pytest.mark.timeout(90)
def test_demo_window_shows_and_ends_by_itself(tmp_path: Path):
    """The real demo, offscreen, as CI's smoke run of the built app runs it."""
    env = {
        **_env_without_display(),
        "QT_QPA_PLATFORM": "offscreen",
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        app_main.QUIT_AFTER_ENV: "0.5",
    }
    done = subprocess.run([*APP, "demo"], env=env, capture_output=True, text=True, timeout=80)
    assert done.returncode == 0, done.stderr
    assert "inlet: the window is visible" in done.stderr


def test_missing_x_library_is_one_clear_line(monkeypatch, capsys, tmp_path):
    """A real xcb plugin whose libraries cannot be found (a copy outside its Qt), as on a
    desktop without libxcb-cursor0: one line saying what to install, no Qt abort."""
    plugin = xlibs.xcb_plugin()
    if plugin is None:
        pytest.skip("this PySide6 has no xcb plugin")
    lonely = tmp_path / "platforms" / plugin.name
    lonely.parent.mkdir()
    shutil.copyfile(plugin, lonely)
    monkeypatch.setattr(xlibs, "xcb_plugin", lambda: lonely)
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.setattr("sys.platform", "linux")
    assert app_main.main([]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("inlet: the window cannot start")
    assert "libxcb-cursor0" in err and "inlet receive CODE" in err
    assert ".so" in err


def _env_without_display() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}


@pytest.mark.timeout(60)
def test_a_display_nobody_answers_is_one_clear_line(tmp_path: Path):
    """DISPLAY names an X server that is not there (a closed ssh -X session, a stale variable):
    Qt would abort (exit 134); the app says there is no screen. Where Qt's X11 libraries are
    missing, that is what it says instead, also in one line."""
    free = next(n for n in range(990, 1100) if not Path(f"/tmp/.X11-unix/X{n}").exists())
    env = {**_env_without_display(), "DISPLAY": f":{free}", "HOME": str(tmp_path)}
    env.pop("QT_QPA_PLATFORM", None)
    done = subprocess.run(APP, env=env, capture_output=True, text=True, timeout=50)
    assert done.returncode == 1, done.stderr
    assert done.stderr.count("\n") == 1 and "inlet receive CODE" in done.stderr
    assert f"':{free}'" in done.stderr or "X11 library" in done.stderr
