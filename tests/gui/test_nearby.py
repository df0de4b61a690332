"""The window's nearby senders: a real ``inlet send`` announcing on loopback, zeroconf's real
browser in the window, offscreen. Picking a sender fills in its address; the words finish the
code and the files arrive. Where mDNS cannot start, the window says so and a typed code works."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from inlet.core.codes import parse_code
from inlet.core.nearby import NearbyBrowser
from inlet.gui.colors import hint_style
from inlet.gui.window import MainWindow

from ..helpers import tree_hashes, write_random
from .conftest import RecordingNotifier
from .test_window import drop

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def open_window(qtbot, settings):
    """A real window whose nearby browser listens on the given addresses."""
    windows: list[MainWindow] = []

    def make(interfaces: list[str]) -> MainWindow:
        window = MainWindow(
            settings=settings,
            notifier=RecordingNotifier(),
            nearby=lambda listener: NearbyBrowser(listener, interfaces=interfaces),
        )
        window._confirm = lambda *args: True
        qtbot.addWidget(window)
        window.resize(1000, 500)
        window.show()
        qtbot.waitExposed(window)
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.shutdown()


def item_named(window: MainWindow, name: str):
    nearby = window.nearby
    return next(
        (nearby.list.item(i) for i in range(nearby.list.count())
         if nearby.list.item(i).text().startswith(name)),
        None,
    )  # fmt: skip


def receive(qtbot, window: MainWindow, dest: Path) -> None:
    drop(window, dest)
    qtbot.waitUntil(lambda: window.destination == dest, timeout=10_000)
    with qtbot.waitSignal(window.transferDone, timeout=60_000) as done:
        qtbot.keyClick(window.code_edit, Qt.Key.Key_Return)
    assert done.args[0].ok, done.args[0].error


def test_pick_a_nearby_sender_type_the_words_and_receive(
    qtbot, tmp_path, senders, mdns_loopback, open_window
):
    source = tmp_path / "send" / "photos"
    write_random(source / "a.jpg", 3000)
    write_random(source / "b.jpg", 1000, seed=1)
    dest = tmp_path / "dest"
    dest.mkdir()
    window = open_window([mdns_loopback])
    assert window.nearby.isVisibleTo(window)
    name = f"Alice's laptop {secrets.token_hex(3)}"
    sender = senders(source, "--name", name, announce=True)
    code = parse_code(sender.code)

    qtbot.waitUntil(lambda: item_named(window, name) is not None, timeout=30_000)
    item = item_named(window, name)
    assert item.text() == f"{name} — 2 files, 4.0 KB"
    assert window.nearby.stack.currentWidget() is window.nearby.list
    rect = window.nearby.list.visualItemRect(item)
    qtbot.mouseClick(window.nearby.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())

    # Only the address is filled in; the words are what the person types.
    assert window.code_edit.text() == f"127.0.0.1:{code.port}:"
    assert window.code_edit.hasFocus()
    assert window.code_hint.isVisibleTo(window)
    assert window.code_hint.text() == f"Now type the words {name} shows after its address."
    assert window.code_hint.styleSheet() != hint_style()  # guidance, not shown as a problem
    qtbot.keyClicks(window.code_edit, code.token)
    assert parse_code(window.code_edit.text()) == code
    assert not window.code_hint.isVisibleTo(window)

    receive(qtbot, window, dest)
    assert tree_hashes(dest / "photos") == tree_hashes(source)
    # The sender ends once everything is verified, and its announcement goes with it.
    assert sender.wait(30) == 0
    qtbot.waitUntil(lambda: item_named(window, name) is None, timeout=30_000)


def test_where_mdns_cannot_start_the_window_says_so_and_a_typed_code_works(
    qtbot, tmp_path, senders, open_window
):
    write_random(tmp_path / "send" / "report.pdf", 2000)
    dest = tmp_path / "dest"
    dest.mkdir()
    window = open_window(["198.51.100.7"])  # an address no interface of this machine has
    status = window.nearby.status
    qtbot.waitUntil(lambda: "cannot be found here" in status.text(), timeout=30_000)
    assert window.nearby.stack.currentWidget() is status and status.isVisibleTo(window)
    assert "Type the sender's whole code" in status.text()
    assert status.textFormat() == Qt.TextFormat.PlainText

    sender = senders(tmp_path / "send" / "report.pdf")
    window.code_edit.setFocus()
    qtbot.keyClicks(window.code_edit, sender.code)
    receive(qtbot, window, dest)
    assert tree_hashes(dest) == tree_hashes(tmp_path / "send")


def test_a_window_without_a_browser_shows_no_nearby_strip(make_window):
    window, _ = make_window()
    assert not window.nearby.isVisibleTo(window)
