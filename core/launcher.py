"""``inlet install-launcher``: a desktop entry so Inlet starts with a double-click (Linux, BSD).

It writes ``$XDG_DATA_HOME/applications/inlet.desktop`` (``~/.local/share`` by default) from the
template in ``inlet.resources`` and installs the icon beside the user's other icons. No Qt here:
the core stays importable without it.
"""

from __future__ import annotations

import os
import shutil
import sys
from importlib import resources
from pathlib import Path

DESKTOP_NAME = "inlet.desktop"
ICON_NAME = "inlet"


def data_home() -> Path:
    """``$XDG_DATA_HOME`` when it is set to an absolute path, else ``~/.local/share``."""
    value = os.environ.get("XDG_DATA_HOME", "")
    if value and Path(value).is_absolute():
        return Path(value)
    return Path.home() / ".local" / "share"


def frozen() -> bool:
    """Whether this is the built app (PyInstaller), where ``sys.executable`` is Inlet itself."""
    return bool(getattr(sys, "frozen", False))


def launch_command() -> list[str]:
    """How to start the window: the built app itself, the ``inlet`` script beside this Python,
    else ``python -m inlet.app``.

    The script found on PATH may belong to another environment, so the one installed with this
    interpreter wins; ``sys.executable -m inlet.app`` works wherever the package is importable.
    """
    if frozen():
        return [str(Path(sys.executable).absolute())]
    bindir = Path(sys.executable).parent
    for name in ("inlet", "inlet.exe"):
        script = bindir / name
        if script.is_file() and os.access(script, os.X_OK):
            return [str(script.absolute())]
    return [str(Path(sys.executable).absolute()), "-m", "inlet.app"]


def cli_command() -> list[str]:
    """How a child process runs a headless ``inlet`` command (the demo's sender): the built app
    itself, else this Python with ``-m inlet.core``."""
    if frozen():
        return [sys.executable]
    return [sys.executable, "-m", "inlet.core"]


def quote_exec_arg(arg: str) -> str:
    """Quote one argument for a desktop entry's ``Exec`` key (Desktop Entry spec, "Exec key").

    Arguments with reserved characters go in double quotes with ``"`, `` ` ``, ``$`` and ``\\``
    escaped; ``%`` is doubled (it starts a field code). Then, because ``Exec`` is a string value,
    each backslash is escaped once more.
    """
    arg = arg.replace("%", "%%")
    reserved = set(" \t\n\"'\\><~|&;$*?#()`")
    if any(c in reserved for c in arg):
        inner = "".join("\\" + c if c in '"`$\\' else c for c in arg)
        arg = f'"{inner}"'
    return arg.replace("\\", "\\\\")


def render_desktop_entry(command: list[str], icon: str) -> str:
    template = resources.files("inlet.resources").joinpath(DESKTOP_NAME).read_text("utf-8")
    exec_line = " ".join(quote_exec_arg(a) for a in command)
    return template.replace("@EXEC@", exec_line).replace("@ICON@", icon)


def install_launcher(home: Path | None = None) -> Path:
    """Install the icon and the desktop entry for this user; return the entry's path."""
    base = Path(home) if home is not None else data_home()
    package = resources.files("inlet.resources")
    icon_dir = base / "icons" / "hicolor" / "scalable" / "apps"
    icon_dir.mkdir(parents=True, exist_ok=True)
    icon_path = icon_dir / f"{ICON_NAME}.svg"
    with resources.as_file(package.joinpath("inlet.svg")) as source:
        shutil.copyfile(source, icon_path)
    png = package.joinpath("inlet.png")
    if png.is_file():
        png_dir = base / "icons" / "hicolor" / "256x256" / "apps"
        png_dir.mkdir(parents=True, exist_ok=True)
        with resources.as_file(png) as source:
            shutil.copyfile(source, png_dir / f"{ICON_NAME}.png")
    apps = base / "applications"
    apps.mkdir(parents=True, exist_ok=True)
    entry = apps / DESKTOP_NAME
    tmp = entry.with_name(DESKTOP_NAME + ".tmp")
    # An absolute icon path works on every desktop, with or without an icon-cache refresh.
    tmp.write_text(render_desktop_entry(launch_command(), str(icon_path)), encoding="utf-8")
    os.replace(tmp, entry)
    return entry
