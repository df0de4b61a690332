"""A row's Retry receives that one file (issue 12, item 6): the real window, offscreen, against a
real ``inlet send`` on loopback.

Two files fail verification (a bad disk or RAM, simulated by flipping a bit of every chunk
written for them); the good one is done. With an Inlet sender, a row's Retry brings that file
alone and every other row keeps what it said; "Receive failed files again" brings the failed
ones. An ftransfer-compatible sender (``--no-ext``) cannot send one file alone: the row's
button says "Receive again", its tooltip says why, and it brings every file not yet here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt

from inlet.core.writer import FileWriter
from inlet.gui.model import RECEIVE_AGAIN_WHY, Column, RowAction
from inlet.gui.window import MainWindow

from .test_e2e import prepare, press_receive, statuses, write

GOOD, BAD1, BAD2 = "set/good.txt", "set/bad1.bin", "set/bad2.bin"
FILES = {
    GOOD: b"fine\n" * 1000,
    BAD1: bytes(range(256)) * 800,
    BAD2: bytes(range(255, -1, -1)) * 900,
}
FAILED = "Failed: hash mismatch"


def _damage(monkeypatch, names: set[str]) -> None:
    original = FileWriter.write_chunk

    def write_chunk(self: FileWriter, data) -> int:
        if self.lock_key in names and len(data):
            data = bytes([data[0] ^ 0x01]) + bytes(data[1:])
        return original(self, data)

    monkeypatch.setattr(FileWriter, "write_chunk", write_chunk)


def _two_failed(qtbot, window: MainWindow, senders, tmp_path: Path, monkeypatch, *flags):
    for name, data in FILES.items():
        write(tmp_path / name, data)
    dest = tmp_path / "dest"
    dest.mkdir()
    sender = senders(tmp_path / "set", *flags)
    prepare(qtbot, window, sender.code, dest)
    with monkeypatch.context() as patch:
        _damage(patch, {BAD1, BAD2})
        finished = press_receive(qtbot, window)
    assert not finished.ok
    assert statuses(window) == {GOOD: "Done", BAD1: FAILED, BAD2: FAILED}
    return dest, sender


def _click_action(qtbot, window: MainWindow, name: str):
    """Click the row's painted button, as a person would; the receive it starts, to its end."""
    row = window.model.find(name)
    rect = window.table.visualRect(window.model.index(row, Column.ACTION))
    with qtbot.waitSignal(window.transferDone, timeout=60_000) as blocker:
        qtbot.mouseClick(
            window.table.viewport(),
            Qt.MouseButton.LeftButton,
            pos=QPoint(rect.left() + 12, rect.center().y()),
        )
    return blocker.args[0]


@pytest.mark.timeout(180)
def test_a_rows_retry_receives_that_one_file(qtbot, window, senders, tmp_path, monkeypatch):
    dest, sender = _two_failed(qtbot, window, senders, tmp_path, monkeypatch)
    model = window.model
    row = model.find(BAD1)
    assert window.view.menu_actions(row) == (RowAction.RETRY,)
    assert window.retry_all_button.isVisibleTo(window)
    # Every unfinished file failed: the rows' buttons say what to do, the banner has no Resume
    # doing the same thing a third time.
    assert not window.banner.resume_button.isVisibleTo(window)

    finished = _click_action(qtbot, window, BAD1)
    assert finished.ok, finished.error
    assert (dest / BAD1).read_bytes() == FILES[BAD1]
    assert not (dest / BAD2).exists()  # not asked for: not received
    assert statuses(window) == {GOOD: "Done", BAD1: "Done", BAD2: FAILED}
    assert window.banner.label.text() == f"{BAD1} was received into {dest}."
    assert sender.proc.poll() is None  # the sender waits for the receiver to want bad2

    with qtbot.waitSignal(window.transferDone, timeout=60_000) as blocker:
        qtbot.mouseClick(window.retry_all_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0].ok, blocker.args[0].error
    assert statuses(window) == {GOOD: "Done", BAD1: "Done", BAD2: "Done"}
    assert (dest / BAD2).read_bytes() == FILES[BAD2]
    assert sender.wait() == 0  # the receiver has every file: the sender is done
    assert sorted(p.name for p in (dest / "set").iterdir()) == ["bad1.bin", "bad2.bin", "good.txt"]


@pytest.mark.timeout(180)
def test_a_legacy_senders_rows_say_receive_again_and_why(
    qtbot, window, senders, tmp_path, monkeypatch
):
    dest, _ = _two_failed(qtbot, window, senders, tmp_path, monkeypatch, "--no-ext")
    model = window.model
    row = model.find(BAD1)
    assert window.view.menu_actions(row) == (RowAction.RECEIVE_AGAIN,)
    tip = model.data(model.index(row, Column.ACTION), Qt.ItemDataRole.ToolTipRole)
    assert RECEIVE_AGAIN_WHY in tip
    assert not window.retry_all_button.isVisibleTo(window)  # it would do the same

    finished = _click_action(qtbot, window, BAD1)
    assert finished.ok, finished.error
    assert (dest / BAD1).read_bytes() == FILES[BAD1]
    assert (dest / BAD2).read_bytes() == FILES[BAD2]  # every file not yet here came
    assert statuses(window) == {GOOD: "Done", BAD1: "Done", BAD2: "Done"}  # not "Already here"
