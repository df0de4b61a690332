"""``inlet install-launcher``: the desktop entry and icon land under XDG_DATA_HOME."""

import configparser
import sys
from pathlib import Path

import pytest

from inlet.core import launcher
from inlet.core.cli import main


def read_entry(path: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str
    parser.read(path, encoding="utf-8")
    return dict(parser["Desktop Entry"])


@pytest.mark.timeout(30)
def test_install_respects_xdg_data_home(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert main(["install-launcher"]) == 0
    entry_path = tmp_path / "data" / "applications" / "inlet.desktop"
    assert str(entry_path) in capsys.readouterr().out
    entry = read_entry(entry_path)
    assert entry["Type"] == "Application" and entry["Name"] == "Inlet"
    assert entry["Terminal"] == "false"
    icon = Path(entry["Icon"])
    assert icon == tmp_path / "data" / "icons" / "hicolor" / "scalable" / "apps" / "inlet.svg"
    assert icon.read_text().lstrip().startswith("<svg")
    assert (icon.parents[2] / "256x256" / "apps" / "inlet.png").is_file()
    assert not (tmp_path / "home" / ".local").exists()


@pytest.mark.timeout(30)
def test_without_xdg_data_home_it_goes_to_local_share(tmp_path, monkeypatch):
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    path = launcher.install_launcher()
    assert path == tmp_path / ".local" / "share" / "applications" / "inlet.desktop"


@pytest.mark.timeout(30)
def test_exec_is_the_script_beside_python_or_python_dash_m(tmp_path, monkeypatch):
    bindir = tmp_path / "my env" / "bin"
    bindir.mkdir(parents=True)
    python = bindir / "python"
    python.write_text("")
    monkeypatch.setattr(sys, "executable", str(python))
    assert launcher.launch_command() == [str(python), "-m", "inlet.app"]
    script = bindir / "inlet"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    assert launcher.launch_command() == [str(script)]
    entry = read_entry(launcher.install_launcher(tmp_path / "data"))
    # a path with a space is quoted, as the Desktop Entry spec asks
    assert entry["Exec"] == f'"{script}"'


@pytest.mark.timeout(30)
def test_exec_quoting():
    assert launcher.quote_exec_arg("/usr/bin/inlet") == "/usr/bin/inlet"
    assert launcher.quote_exec_arg("/a b/inlet") == '"/a b/inlet"'
    assert launcher.quote_exec_arg('/a"b') == '"/a\\\\"b"'
    assert launcher.quote_exec_arg("/100%/x") == "/100%%/x"


@pytest.mark.timeout(30)
def test_the_template_is_a_valid_desktop_entry_once_filled():
    text = launcher.render_desktop_entry(["/usr/bin/inlet"], "/icons/inlet.svg")
    assert "@" not in text
    assert "Exec=/usr/bin/inlet\n" in text and "Icon=/icons/inlet.svg\n" in text


@pytest.mark.timeout(30)
def test_the_built_app_starts_itself(tmp_path, monkeypatch):
    """In the built app ``sys.executable`` is Inlet: the launcher and the demo's sender run it."""
    app = tmp_path / "Inlet" / "inlet"
    monkeypatch.setattr(sys, "executable", str(app))
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert launcher.launch_command() == [str(app)]
    assert launcher.cli_command() == [str(app)]
    entry = read_entry(launcher.install_launcher(tmp_path / "data"))
    assert entry["Exec"] == str(app)
