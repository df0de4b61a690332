"""Qt's X11 libraries, checked before Qt starts: without one, Qt aborts the process (exit 134)
with a message that does not say what to install.

The check loads Qt's xcb platform plugin the way Qt will (its own run path first, then the
system's), without starting Qt, and reports the first library the dynamic loader could not find.
It works the same in a virtual environment and in the built app, which carries the plugin too.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path

_NOT_FOUND = re.compile(r"([^\s:/]+\.so[.\d]*): cannot open shared object file")


def needs_xcb(environ: dict[str, str] | None = None, platform: str | None = None) -> bool:
    """Whether Qt will use its xcb (X11) plugin: on Linux and BSD, unless another platform is
    chosen (``QT_QPA_PLATFORM``) or a Wayland session will be tried first."""
    env = os.environ if environ is None else environ
    if not (platform or sys.platform).startswith(("linux", "freebsd", "openbsd")):
        return False
    chosen = env.get("QT_QPA_PLATFORM", "")
    if chosen:
        return chosen.split(":")[0].split(";")[0] == "xcb"
    return not env.get("WAYLAND_DISPLAY")


def xcb_plugin() -> Path | None:
    """The xcb plugin of the PySide6 this Python would import (None when there is none)."""
    spec = importlib.util.find_spec("PySide6")  # finds the package without importing it
    for folder in (spec.submodule_search_locations or []) if spec else []:
        plugin = Path(folder) / "Qt" / "plugins" / "platforms" / "libqxcb.so"
        if plugin.is_file():
            return plugin
    return None


def _dlopen(path: Path) -> None:
    ctypes.CDLL(str(path))


def missing_x_library(
    plugin: Path | None = None, load: Callable[[Path], None] = _dlopen
) -> str | None:
    """The name of a library the xcb plugin needs and the system lacks, or None.

    ``load`` loads a shared library or raises OSError with the loader's message (injected by
    the tests). Without a plugin, or on a failure that names no missing library, there is
    nothing to say here and Qt speaks for itself.
    """
    plugin = plugin or xcb_plugin()
    if plugin is None:
        return None
    try:
        load(plugin)
    except OSError as err:
        found = _NOT_FOUND.search(str(err))
        if found and found.group(1) != plugin.name:
            return found.group(1)
    return None


def _xcb_connects(display: str) -> bool:
    xcb = ctypes.CDLL("libxcb.so.1")
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    connection = xcb.xcb_connect(display.encode(), None)  # never NULL: an error object instead
    try:
        return xcb.xcb_connection_has_error(connection) == 0
    finally:
        xcb.xcb_disconnect(connection)


def display_answers(
    environ: dict[str, str] | None = None, connect: Callable[[str], bool] = _xcb_connects
) -> bool:
    """Whether the X server in ``DISPLAY`` takes a connection; Qt aborts when it does not.

    Asked only once the libraries are known to be there (libxcb is one of them).
    """
    display = (os.environ if environ is None else environ).get("DISPLAY", "")
    if not display:
        return True  # the platform was chosen explicitly; Qt finds its display itself
    try:
        return connect(display)
    except OSError:
        return True  # no libxcb to ask with: nothing to say here, Qt speaks for itself
