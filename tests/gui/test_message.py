"""Text messages (issue 12): no destination folder needed, the banner keeps a Show message
button, no 0 % bar. The real window offscreen against a real ``inlet send --message``."""

from __future__ import annotations

import os

import pytest
from PySide6.QtCore import Qt

from inlet.gui.widgets import BannerKind

from .test_e2e import press_receive, write

TEXT = "Hello from the laptop.\nThe keys are under the mat."


def paste_code(qtbot, window, code: str) -> None:
    qtbot.mouseClick(window.code_edit, Qt.MouseButton.LeftButton)
    window.code_edit.clear()
    window.code_edit.insert(code)


@pytest.mark.timeout(120)
def test_a_message_needs_no_folder_and_can_be_shown_again(qtbot, window, senders):
    assert window.dest_edit.text() == ""  # no folder chosen, ever
    paste_code(qtbot, window, senders("--message", TEXT).code)
    finished = press_receive(qtbot, window)
    assert finished.ok, finished.error
    assert finished.message_text == TEXT
    qtbot.waitUntil(lambda: window.message_dialog is not None and window.message_dialog.isVisible())
    assert window.message_dialog.view.toPlainText() == TEXT
    assert not window.dest_hint.isVisibleTo(window)  # nobody was asked for a folder
    banner = window.banner
    assert banner.kind == BannerKind.INFO and banner.text() == "A text message arrived."
    assert not window.overall_bar.isVisibleTo(window)  # no 0 % bar for a message
    assert window.model.rowCount() == 0

    window.message_dialog.close()
    assert banner.message_button.isVisibleTo(window)
    qtbot.mouseClick(banner.message_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(window.message_dialog.isVisible)
    assert window.message_dialog.view.toPlainText() == TEXT


@pytest.mark.timeout(120)
def test_files_without_a_folder_ask_for_one_and_the_sender_waits(qtbot, window, senders, tmp_path):
    data = os.urandom(10_000)
    write(tmp_path / "set" / "a.bin", data)
    sender = senders(tmp_path / "set")
    paste_code(qtbot, window, sender.code)
    finished = press_receive(qtbot, window)
    assert not finished.ok and finished.needs_folder
    assert window.dest_hint.isVisibleTo(window)
    assert window.banner.text() == (
        "The sender is sending 1 file (10.0 KB), not a text message: they need a folder. Choose "
        "one (or drop it on this window), then press Receive: the sender keeps waiting."
    )
    assert sender.proc.poll() is None  # it waits: nothing was taken

    dest = tmp_path / "dest"
    dest.mkdir()
    window.set_destination(str(dest))
    qtbot.waitUntil(lambda: window.destination == dest, timeout=10_000)
    finished = press_receive(qtbot, window)
    assert finished.ok, finished.error
    assert (dest / "set" / "a.bin").read_bytes() == data
