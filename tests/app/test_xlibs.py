"""Qt's X11 libraries are checked before Qt starts (without one, Qt aborts with exit 134)."""

from __future__ import annotations

from pathlib import Path

import pytest

from inlet.app.xlibs import display_answers, missing_x_library, needs_xcb

PLUGIN = Path("/opt/qt/plugins/platforms/libqxcb.so")


def _fails_with(message: str):
    def load(path: Path) -> None:
        raise OSError(message)

    return load


def test_the_missing_library_is_named():
    load = _fails_with("libxcb-cursor.so.0: cannot open shared object file: No such file")
    assert missing_x_library(PLUGIN, load) == "libxcb-cursor.so.0"


def test_nothing_to_say_when_the_plugin_loads_or_fails_otherwise():
    assert missing_x_library(PLUGIN, lambda path: None) is None
    assert missing_x_library(PLUGIN, _fails_with(f"{PLUGIN}: invalid ELF header")) is None
    own = f"{PLUGIN.name}: cannot open shared object file: No such file or directory"
    assert missing_x_library(PLUGIN, _fails_with(own)) is None


@pytest.mark.parametrize(
    ("env", "platform", "expected"),
    [
        ({"DISPLAY": ":0"}, "linux", True),
        ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"}, "linux", False),
        ({"QT_QPA_PLATFORM": "xcb:display=:1"}, "linux", True),
        ({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}, "linux", False),
        ({"DISPLAY": ":0"}, "darwin", False),
        ({"DISPLAY": ":0"}, "win32", False),
    ],
)
def test_only_where_qt_will_use_xcb(env, platform, expected):
    assert needs_xcb(env, platform) is expected


def test_the_display_is_asked_only_when_there_is_one():
    asked = []
    assert display_answers({"DISPLAY": ":5"}, lambda d: asked.append(d) or False) is False
    assert display_answers({}, lambda d: asked.append(d) or False) is True
    assert asked == [":5"]


def test_no_libxcb_to_ask_with_leaves_it_to_qt():
    def missing(display: str) -> bool:
        raise OSError("libxcb.so.1: cannot open shared object file")

    assert display_answers({"DISPLAY": ":5"}, missing) is True
