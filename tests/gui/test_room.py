"""Free space is checked before any byte moves: the window says so with both numbers and
offers Receive anyway and Choose another folder (the real window offscreen, a real sender; the
disk's free space comes through the core's seam, so the test bites as root too)."""

from __future__ import annotations

import os

import pytest
from PySide6.QtCore import Qt

from inlet.core import space
from inlet.gui.widgets import BannerKind

from .test_e2e import prepare, press_receive, write


@pytest.mark.timeout(120)
def test_files_that_do_not_fit_are_said_before_receiving(
    qtbot, window, senders, tmp_path, monkeypatch
):
    data = os.urandom(300_000)
    write(tmp_path / "set" / "big.bin", data)
    dest = tmp_path / "dest"
    dest.mkdir()
    monkeypatch.setattr(space, "free_bytes", lambda folder, statvfs=None: 900)  # a full disk
    prepare(qtbot, window, senders(tmp_path / "set").code, dest)
    finished = press_receive(qtbot, window)
    assert not finished.ok and finished.space == (300_000, 900)
    banner = window.banner
    assert banner.kind == BannerKind.WARNING
    assert banner.text() == (
        f"Not enough space in {dest}: these files need 300.0 KB more, and its disk has "
        "900 B free. Nothing was received yet."
    )
    assert banner.anyway_button.isVisibleTo(window)
    assert banner.choose_button.isVisibleTo(window)
    assert not banner.resume_button.isVisibleTo(window)
    assert window.model.rowCount() == 0  # no rows with a 0 % bar for a receive that never began
    # The status bar agrees with the banner (it said "Ready: paste a code…" under it).
    assert window.status.summary_label.text() == "Not enough space: nothing was received."
    assert sorted(p.name for p in dest.iterdir()) == []  # nothing written, no lock

    # Receive anyway: the check is skipped (the disk still says 900 B free).
    with qtbot.waitSignal(window.transferDone, timeout=60_000) as blocker:
        qtbot.mouseClick(banner.anyway_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0].ok, blocker.args[0].error
    assert (dest / "set" / "big.bin").read_bytes() == data
