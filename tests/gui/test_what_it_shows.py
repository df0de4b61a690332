"""What the window shows is what happens (issue 12, "Wrong or silent").

Each test drives the real window with a scripted receiver, the way a person would: typing into
fields, clicking buttons, reading what rows, banners and the status bar say.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QApplication, QLabel

from inlet.core.events import FileProgress, FileStatus, FileStatusChanged, TransferFinished
from inlet.core.lock import TransferLockManager
from inlet.core.paths import LOCK_FILENAME
from inlet.gui.model import Column, FileRow, RowAction, RowSet
from inlet.gui.window import MainWindow

from .conftest import SAMPLE_FILES, ScriptedReceiver, started

CODE = "127.0.0.1:4242:ocean-tiger-piano-ruby"
FILES = SAMPLE_FILES


def wait_for_folder(qtbot, window: MainWindow, folder: Path) -> None:
    qtbot.waitUntil(lambda: window.destination == folder, timeout=10_000)


def type_into(qtbot, field, text: str) -> None:
    """Click into ``field``, select what is there and type ``text`` over it."""
    qtbot.mouseClick(field, Qt.MouseButton.LeftButton)
    field.selectAll()
    qtbot.keyClicks(field, text)


def wait_until_cancelled(files, held: dict[str, int]):
    """Start, report ``held`` bytes for some files, then wait for a cancel."""

    def script(r: ScriptedReceiver) -> None:
        r.emit(started(*files))
        for name, n in held.items():
            r.emit(FileStatusChanged(name, FileStatus.IN_PROGRESS, FileStatus.PENDING))
            r.emit(FileProgress(name, n, dict(files)[name]))
        assert r.cancelled.wait(20), "never cancelled"
        r.emit(TransferFinished(ok=False, error="The transfer was cancelled.", resumable=True))

    return script


def worker_round_trip(qtbot, window: MainWindow, tmp_path: Path) -> None:
    """Wait until the worker has handled everything the window asked before this call (its
    answers come in order; the window ignores an answer about a path its field does not show)."""
    marker = str(tmp_path / "round-trip")
    with qtbot.waitSignal(
        window.worker.folderInspected,
        timeout=10_000,
        check_params_cb=lambda i: i.requested == marker,
    ):
        window.inspectRequested.emit(marker)


# -- 1. the Save to field is the truth -------------------------------------------------------------


@pytest.mark.timeout(30)
def test_receive_uses_the_folder_the_field_shows(qtbot, make_window, tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    new.mkdir()
    window, factory = make_window(code=CODE, destination=str(old))
    window.show()
    qtbot.waitExposed(window)
    wait_for_folder(qtbot, window, old)
    type_into(qtbot, window.dest_edit, str(new))
    with qtbot.waitSignal(window.transferDone, timeout=10_000):
        qtbot.mouseClick(window.receive_button, Qt.MouseButton.LeftButton)  # no Enter first
    assert factory.created[0].dest == new
    assert str(new) in window.banner.text() and str(old) not in window.banner.text()
    assert window.dest_edit.text() == str(new)


@pytest.mark.timeout(30)
def test_a_missing_folder_is_offered_for_creation_and_nothing_starts(qtbot, make_window, tmp_path):
    old, missing = tmp_path / "old", tmp_path / "not" / "yet"
    old.mkdir()
    window, factory = make_window(code=CODE, destination=str(old))
    window.show()
    qtbot.waitExposed(window)
    wait_for_folder(qtbot, window, old)
    type_into(qtbot, window.dest_edit, str(missing))
    qtbot.keyClick(window.dest_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.dest_hint.isVisibleTo(window), timeout=10_000)
    assert "does not exist" in window.dest_hint.text()
    assert window.create_folder_button.isVisibleTo(window)
    qtbot.mouseClick(window.receive_button, Qt.MouseButton.LeftButton)
    worker_round_trip(qtbot, window, tmp_path)
    assert not factory.created and not window.running  # nothing started into the old folder
    assert window.dest_hint.isVisibleTo(window)
    qtbot.mouseClick(window.create_folder_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.destination == missing, timeout=10_000)
    assert missing.is_dir() and not window.dest_hint.isVisibleTo(window)
    with qtbot.waitSignal(window.transferDone, timeout=10_000):
        qtbot.mouseClick(window.receive_button, Qt.MouseButton.LeftButton)
    assert factory.created[0].dest == missing


# -- 2. Open, Show in folder and Show folder say when the desktop cannot ---------------------------


@pytest.mark.timeout(30)
def test_open_and_show_say_so_when_the_desktop_has_no_opener(
    qtbot, make_window, tmp_path, monkeypatch
):
    asked: list[str] = []

    def no_opener(url: QUrl) -> bool:
        asked.append(url.toLocalFile())
        return False

    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(no_opener))
    window, _ = make_window(code=CODE, destination=str(tmp_path))
    wait_for_folder(qtbot, window, tmp_path)
    window.desktop.file_manager = None  # no FileManager1 service either
    with qtbot.waitSignal(window.transferDone, timeout=10_000):
        window.start_receive()
    file = tmp_path / "photos" / "a.jpg"
    window.run_action(0, RowAction.OPEN)
    qtbot.waitUntil(lambda: str(file) in window.banner.text(), timeout=5000)
    assert "Could not open" in window.banner.text()
    assert window.banner.copy_button.isVisibleTo(window)
    qtbot.mouseClick(window.banner.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == str(file)
    window.banner.hide()
    window.run_action(0, RowAction.SHOW)
    qtbot.waitUntil(lambda: window.banner.isVisibleTo(window), timeout=5000)
    assert str(file.parent) in window.banner.text()
    assert asked == [str(file), str(file.parent)]


@pytest.mark.timeout(30)
def test_show_in_folder_asks_the_file_manager_to_select_the_file(qtbot, make_window, tmp_path):
    window, _ = make_window(code=CODE, destination=str(tmp_path))
    wait_for_folder(qtbot, window, tmp_path)
    shown: list[list[str]] = []
    window.desktop.file_manager = lambda uris: shown.append(uris) or True
    window.desktop.opener = lambda url: pytest.fail(f"opened {url} instead of selecting")
    with qtbot.waitSignal(window.transferDone, timeout=10_000):
        window.start_receive()
    window.run_action(0, RowAction.SHOW)
    qtbot.waitUntil(lambda: bool(shown), timeout=5000)
    assert shown == [[QUrl.fromLocalFile(str(tmp_path / "photos" / "a.jpg")).toString()]]
    assert "Could not open" not in window.banner.text()


# -- 3. rows say what their file is now ---------------------------------------------------------


@pytest.mark.timeout(30)
def test_rows_say_stopped_after_cancel(qtbot, make_window, tmp_path):
    script = wait_until_cancelled(FILES, {"photos/a.jpg": 220})
    window, _ = make_window(script, code=CODE, destination=str(tmp_path))
    wait_for_folder(qtbot, window, tmp_path)
    window.start_receive()
    model = window.model
    qtbot.waitUntil(lambda: model.rowCount() == 3 and model.row(0).held == 220, timeout=10_000)
    assert model.data(model.index(0, Column.STATUS)) == "Receiving"
    with qtbot.waitSignal(window.transferDone, timeout=10_000):
        window.cancel()
    assert model.data(model.index(0, Column.STATUS)) == "Stopped at 22 % — can resume"
    assert model.data(model.index(1, Column.STATUS)) == "Not received — can resume"


@pytest.mark.timeout(30)
def test_rows_say_stopped_when_the_sender_is_lost(qtbot, make_window, tmp_path):
    def script(r: ScriptedReceiver) -> None:
        r.emit(started(*FILES))
        r.emit(FileStatusChanged("photos/b.jpg", FileStatus.IN_PROGRESS, FileStatus.PENDING))
        r.emit(FileProgress("photos/b.jpg", 3000, 3000))  # every byte, not yet verified
        r.emit(FileStatusChanged("notes/todo.txt", FileStatus.IN_PROGRESS, FileStatus.PENDING))
        r.emit(FileProgress("notes/todo.txt", 5, 10))
        r.emit(TransferFinished(ok=False, error="The sender closed the connection."))

    window, _ = make_window(script, code=CODE, destination=str(tmp_path))
    wait_for_folder(qtbot, window, tmp_path)
    with qtbot.waitSignal(window.transferDone, timeout=10_000):
        window.start_receive()
    texts = [window.model.data(window.model.index(i, Column.STATUS)) for i in range(3)]
    assert texts == ["Not received", "Stopped at 100 % (not verified)", "Stopped at 50 %"]


# -- 4. a notification without a system tray ----------------------------------------------------


@pytest.mark.timeout(30)
def test_progress_shows_in_the_title_and_the_end_alerts(qtbot, make_window, tmp_path, monkeypatch):
    alerted: list[object] = []
    monkeypatch.setattr(QApplication, "alert", staticmethod(lambda w, ms=0: alerted.append(w)))
    script = wait_until_cancelled([("big.bin", 1000)], {"big.bin": 420})
    window, _ = make_window(script, code=CODE, destination=str(tmp_path))
    wait_for_folder(qtbot, window, tmp_path)
    window.start_receive()
    qtbot.waitUntil(lambda: window.windowTitle() == "42 % — Inlet", timeout=10_000)
    with qtbot.waitSignal(window.transferDone, timeout=10_000):
        window.cancel()
    assert window.windowTitle() == "Inlet"
    assert alerted == [window]  # in the background: the taskbar entry asks for attention


def test_without_a_tray_the_desktop_notification_service_is_used(qtbot):
    from inlet.gui.desktop import Notifier
    from inlet.gui.widgets import app_icon

    sent: list[tuple[str, str]] = []
    notifier = Notifier(app_icon(), tray=False, service=lambda t, b: sent.append((t, b)) or True)
    notifier.notify("Inlet: transfer complete", "All 3 files <b>received</b>.")
    assert sent == [("Inlet: transfer complete", "All 3 files &lt;b&gt;received&lt;/b&gt;.")]


# -- 5. data does not go with one click ---------------------------------------------------------


def interrupted_folder(folder: Path) -> None:
    manager = TransferLockManager(folder)
    manager.start([("a.txt", 10), ("big.bin", 2_000_000)], sender_ip="127.0.0.1")
    manager.mark_completed("a.txt", "0" * 64)
    manager.flush()
    (folder / "a.txt").write_text("0123456789")


@pytest.mark.timeout(30)
def test_discard_asks_first_and_says_what_is_lost(qtbot, make_window, tmp_path):
    interrupted_folder(tmp_path)
    window, _ = make_window(destination=str(tmp_path))
    qtbot.waitUntil(lambda: window.banner.discard_button.isVisibleTo(window), timeout=10_000)
    asked: list[str] = []
    window._confirm = lambda title, text, yes: asked.append(text) or False
    qtbot.mouseClick(window.banner.discard_button, Qt.MouseButton.LeftButton)
    worker_round_trip(qtbot, window, tmp_path)
    assert asked and (tmp_path / LOCK_FILENAME).exists()
    assert "1 unfinished file" in asked[0] and "deleted" in asked[0]
    assert "1 completed file stays" in asked[0]
    window._confirm = lambda title, text, yes: True
    qtbot.mouseClick(window.banner.discard_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not (tmp_path / LOCK_FILENAME).exists(), timeout=10_000)


@pytest.mark.timeout(30)
def test_closing_mid_transfer_asks_first(qtbot, make_window, tmp_path):
    script = wait_until_cancelled(FILES, {"photos/a.jpg": 500})
    window, factory = make_window(script, code=CODE, destination=str(tmp_path))
    window.show()
    qtbot.waitExposed(window)
    wait_for_folder(qtbot, window, tmp_path)
    window.start_receive()
    qtbot.waitUntil(lambda: window.model.rowCount() == 3, timeout=10_000)
    asked: list[str] = []
    window._confirm = lambda title, text, yes: asked.append(text) or False
    assert not window.close()
    assert window.isVisible() and window.running and not factory.created[0].cancelled.is_set()
    assert "kept" in asked[0] and "resume" in asked[0]
    window._confirm = lambda title, text, yes: True
    assert window.close()
    assert factory.created[0].cancelled.is_set()


# -- 7. one source of numbers, one rounding rule -------------------------------------------------


@pytest.mark.timeout(30)
def test_a_saved_rows_status_and_bar_round_alike(make_window):
    window, _ = make_window()
    row = FileRow("big.bin", 1000, 146, FileStatus.IN_PROGRESS, saved=True)
    window.model.show_saved(None, RowSet(rows=[row], index={"big.bin": 0}))
    model = window.model
    assert model.data(model.index(0, Column.STATUS)) == "Interrupted at 14 %"
    assert model.data(model.index(0, Column.PROGRESS)) == "14 %"


@pytest.mark.timeout(30)
def test_the_row_the_overall_bar_and_the_counts_agree(qtbot, make_window, tmp_path):
    files = [("only.bin", 1000)]
    window, _ = make_window(wait_until_cancelled(files, {"only.bin": 149}), code=CODE)
    window.set_destination(str(tmp_path))
    wait_for_folder(qtbot, window, tmp_path)
    window.start_receive()
    model = window.model
    qtbot.waitUntil(lambda: model.rowCount() == 1 and model.row(0).held == 149, timeout=10_000)
    assert model.data(model.index(0, Column.PROGRESS)) == "14 %"
    assert window.overall_bar.text() == "14 %"
    assert window.windowTitle().startswith("14 %")
    with qtbot.waitSignal(window.transferDone, timeout=10_000):
        window.cancel()


@pytest.mark.timeout(30)
def test_the_file_count_follows_the_rows_at_once(qtbot, make_window, tmp_path):
    files = [(f"f{i}.txt", 10) for i in range(5)]

    def script(r: ScriptedReceiver) -> None:
        r.emit(started(*files))
        for name, size in files[:3]:
            r.emit(FileProgress(name, size, size))
            r.emit(FileStatusChanged(name, FileStatus.COMPLETED, FileStatus.IN_PROGRESS))
        assert r.cancelled.wait(20)
        r.emit(TransferFinished(ok=False, error="cancelled", resumable=True))

    window, _ = make_window(script, code=CODE, destination=str(tmp_path))
    wait_for_folder(qtbot, window, tmp_path)
    window.start_receive()
    qtbot.waitUntil(lambda: window.model.counts()[0] == 3, timeout=10_000)
    assert window.summary_label.text().startswith("3 of 5 files")
    with qtbot.waitSignal(window.transferDone, timeout=10_000):
        window.cancel()


def test_no_zero_seconds_left_before_the_end():
    from inlet.gui.rate import RateWindow

    rate = RateWindow(seconds=10)
    for t in range(20):  # 97 % done at 100 KB/s: 0.3 s left
        rate.add(t / 10, 970_000 - (19 - t) * 10_000)
    assert rate.eta_text(total=1_000_000) == "1 s left"
    assert rate.eta_text(total=970_000) is None  # whole: nothing left to estimate


# -- peer text is plain text --------------------------------------------------------------------


@pytest.mark.timeout(30)
def test_peer_text_is_shown_as_plain_text(qtbot, make_window, tmp_path):
    name = "<img src=x>.txt"
    error = f"1 file could not be written: {name}: <b>disk</b> full."

    def script(r: ScriptedReceiver) -> None:
        r.emit(started((name, 10)))
        r.emit(FileStatusChanged(name, FileStatus.FAILED, FileStatus.PENDING, reason="<i>x</i>"))
        r.emit(TransferFinished(ok=False, error=error, resumable=True))

    window, _ = make_window(script, code=CODE, destination=str(tmp_path))
    wait_for_folder(qtbot, window, tmp_path)
    with qtbot.waitSignal(window.transferDone, timeout=10_000):
        window.start_receive()
    assert error in window.banner.text()
    for label in window.findChildren(QLabel):
        assert label.textFormat() == Qt.TextFormat.PlainText, label.accessibleName()
    model = window.model
    tooltip = model.data(model.index(0, Column.NAME), Qt.ItemDataRole.ToolTipRole)
    assert "<img" not in tooltip and "&lt;img src=x&gt;" in tooltip
