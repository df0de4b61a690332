"""The main window driven with scripted receivers: what a person sees and can do."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication
from PySide6.QtWidgets import QApplication, QPushButton

from inlet.core.events import FileProgress, FileStatus, FileStatusChanged, TransferFinished
from inlet.core.lock import TransferLockManager
from inlet.core.paths import LOCK_FILENAME
from inlet.gui.model import Column, RowAction
from inlet.gui.qtcompat import emit
from inlet.gui.widgets import BannerKind
from inlet.gui.window import SETTINGS_DESTINATION, MainWindow

from .conftest import (
    ReceiverFactory,
    RecordingNotifier,
    ScriptedReceiver,
    block_until_cancelled,
    complete_all,
    record_opened,
    started,
)

CODE = "127.0.0.1:4242:ocean-tiger-piano-ruby"
FILES = [("photos/a.jpg", 1000), ("photos/b.jpg", 3000), ("notes/todo.txt", 10)]


@pytest.fixture
def make_window(make_window):
    """The suite's windows (tests/gui/conftest.py) receiving FILES, with the folders they
    open recorded instead of opened."""

    def make(script=None, **kwargs) -> tuple[MainWindow, ReceiverFactory]:
        window, factory = make_window(script or complete_all(FILES), **kwargs)
        record_opened(window)
        return window, factory

    return make


def wait_for_folder(qtbot, window: MainWindow, folder: Path) -> None:
    qtbot.waitUntil(lambda: window.destination == folder, timeout=10_000)


def drop(window: MainWindow, path: Path) -> None:
    """A synthesized drag of ``path`` entering the window, then dropped on it."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    center = window.rect().center()
    buttons, modifiers = Qt.MouseButton.LeftButton, Qt.KeyboardModifier(0)
    enter = QDragEnterEvent(center, Qt.DropAction.CopyAction, mime, buttons, modifiers)
    QApplication.sendEvent(window, enter)
    window.drag_was_highlighted = window.overlay.isVisibleTo(window)
    dropped = QDropEvent(QPointF(center), Qt.DropAction.CopyAction, mime, buttons, modifiers)
    QApplication.sendEvent(window, dropped)


def receive(qtbot, window: MainWindow) -> TransferFinished:
    with qtbot.waitSignal(window.transferDone, timeout=20_000) as blocker:
        assert window.start_receive()
    return blocker.args[0]


@pytest.mark.timeout(30)
def test_the_code_is_checked_as_you_type(make_window):
    window, _ = make_window()
    window.code_edit.setText("no-colon-here")
    assert window.code_hint.isVisibleTo(window)
    assert "has no ':'" in window.code_hint.text()
    assert "Copy the whole code" in window.code_hint.text()  # the CodeError's advice too
    window.code_edit.setText("inlet receive 127.0.0.1:ocean-tiger")  # the whole line pasted
    assert not window.code_hint.isVisibleTo(window)
    window.code_edit.setText("")
    assert not window.code_hint.isVisibleTo(window)


@pytest.mark.timeout(30)
def test_enter_in_the_code_field_starts_receiving(qtbot, make_window, tmp_path):
    window, factory = make_window(code=CODE, destination=str(tmp_path))
    wait_for_folder(qtbot, window, tmp_path)
    assert window.code_edit.text() == CODE  # `inlet CODE` opens with it filled in
    with qtbot.waitSignal(window.transferDone, timeout=20_000) as blocker:
        window.code_edit.setFocus()
        qtbot.keyClick(window.code_edit, Qt.Key.Key_Return)
    assert blocker.args[0].ok
    receiver = factory.created[0]
    assert str(receiver.code) == CODE and receiver.dest == tmp_path
    assert [window.model.row(i).status for i in range(3)] == [FileStatus.COMPLETED] * 3
    assert window.summary_label.text().startswith("3 of 3 files")
    assert window.banner.kind == BannerKind.SUCCESS
    assert window.overall_bar.text() == "100 %"


@pytest.mark.timeout(30)
def test_a_malformed_code_does_not_start(make_window, tmp_path):
    window, factory = make_window(code="host:bad token!", destination=str(tmp_path))
    assert not window.start_receive()
    assert window.code_hint.isVisibleTo(window) and not factory.created
    window.code_edit.setText("")
    assert not window.start_receive()
    assert "Paste the code" in window.code_hint.text()


@pytest.mark.timeout(30)
def test_no_destination_starts_without_one(qtbot, make_window):
    """A text message needs no folder; files stop at their list and ask for one (the real
    receiver: tests/gui/test_message.py)."""
    window, factory = make_window(lambda r: r.emit(TransferFinished(ok=True)), code=CODE)
    with qtbot.waitSignal(window.transferDone, timeout=10_000):
        assert window.start_receive()
    assert factory.created[0].dest is None


@pytest.mark.timeout(30)
def test_dropping_a_folder_sets_and_remembers_the_destination(
    qtbot, make_window, settings, tmp_path
):
    window, _ = make_window()
    drop(window, tmp_path)
    wait_for_folder(qtbot, window, tmp_path)
    assert window.drag_was_highlighted and not window.overlay.isVisibleTo(window)
    assert window.dest_edit.text() == str(tmp_path)
    assert settings.value(SETTINGS_DESTINATION) == str(tmp_path)
    again, _ = make_window()  # the next start remembers it
    wait_for_folder(qtbot, again, tmp_path)


@pytest.mark.timeout(30)
def test_dropping_a_file_means_its_folder(qtbot, make_window, tmp_path):
    (tmp_path / "some.pdf").write_bytes(b"%PDF")
    window, _ = make_window()
    drop(window, tmp_path / "some.pdf")
    wait_for_folder(qtbot, window, tmp_path)


@pytest.mark.timeout(30)
def test_a_drag_without_files_is_refused(make_window):
    window, _ = make_window()
    mime = QMimeData()
    mime.setText("just text")
    enter = QDragEnterEvent(
        QPoint(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier(0),
    )  # fmt: skip
    QApplication.sendEvent(window, enter)
    assert not enter.isAccepted() and not window.overlay.isVisibleTo(window)


@pytest.mark.timeout(30)
def test_a_missing_folder_is_explained(qtbot, make_window, tmp_path):
    window, _ = make_window()
    window.set_destination(str(tmp_path / "gone"))
    qtbot.waitUntil(lambda: window.dest_hint.isVisibleTo(window), timeout=10_000)
    assert "does not exist" in window.dest_hint.text()


@pytest.mark.timeout(30)
def test_rows_show_progress_while_receiving_and_the_status_bar_counts(qtbot, make_window, tmp_path):
    def script(r: ScriptedReceiver) -> None:
        r.emit(started(*FILES))
        r.emit(FileStatusChanged("photos/a.jpg", FileStatus.IN_PROGRESS, FileStatus.PENDING))
        r.emit(FileProgress("photos/a.jpg", 1000, 1000))
        r.emit(FileStatusChanged("photos/a.jpg", FileStatus.COMPLETED, FileStatus.IN_PROGRESS))
        r.emit(FileStatusChanged("photos/b.jpg", FileStatus.IN_PROGRESS, FileStatus.PENDING))
        r.emit(FileProgress("photos/b.jpg", 1500, 3000))
        assert r.cancelled.wait(20)
        r.emit(TransferFinished(ok=False, error="cancelled", resumable=True))

    window, _ = make_window(script, code=CODE, destination=str(tmp_path))
    wait_for_folder(qtbot, window, tmp_path)
    window.start_receive()
    model = window.model
    qtbot.waitUntil(lambda: model.rowCount() == 3 and model.row(1).held == 1500, timeout=10_000)
    assert model.data(model.index(1, Column.PROGRESS)) == "50 %"
    assert model.data(model.index(1, Column.STATUS)) == "Receiving"
    qtbot.waitUntil(lambda: window.summary_label.text().startswith("1 of 3 files"), timeout=5000)
    assert "2.5 KB of 4.0 KB" in window.summary_label.text()
    assert not window.code_edit.isEnabled() and window.cancel_button.isEnabled()
    with qtbot.waitSignal(window.transferDone, timeout=10_000):
        qtbot.mouseClick(window.cancel_button, Qt.MouseButton.LeftButton)
    assert window.banner.kind == BannerKind.INFO
    assert "Everything received so far is kept" in window.banner.text()
    assert window.banner.resume_button.isVisibleTo(window)
    assert window.code_edit.isEnabled()  # editable: a restarted sender has a new code


@pytest.mark.timeout(30)
def test_escape_cancels(qtbot, make_window, tmp_path):
    window, factory = make_window(
        block_until_cancelled(FILES), code=CODE, destination=str(tmp_path)
    )
    wait_for_folder(qtbot, window, tmp_path)
    window.show()
    window.activateWindow()
    qtbot.waitActive(window)
    window.start_receive()
    qtbot.waitUntil(lambda: window.model.rowCount() == 3, timeout=10_000)
    with qtbot.waitSignal(window.transferDone, timeout=10_000):
        qtbot.keyClick(window.table, Qt.Key.Key_Escape)
    assert factory.created[0].cancelled.is_set()


@pytest.mark.timeout(30)
def test_an_error_is_shown_in_the_window_with_resume(qtbot, make_window, tmp_path):
    error = "The sender closed the connection in the middle of the transfer. Start it again."

    def script(r: ScriptedReceiver) -> None:
        r.emit(started(*FILES))
        r.emit(TransferFinished(ok=False, error=error, resumable=True))

    notifier = RecordingNotifier()
    window, factory = make_window(script, code=CODE, destination=str(tmp_path), notifier=notifier)
    wait_for_folder(qtbot, window, tmp_path)
    finished = receive(qtbot, window)
    assert not finished.ok
    assert window.banner.kind == BannerKind.ERROR and error in window.banner.text()
    assert window.banner.resume_button.isVisibleTo(window)
    # the window is in the background here (offscreen, never activated): a notification
    assert notifier.sent and notifier.sent[0][2] is False
    # Resume with an edited code (a restarted sender prints a new one)
    window.code_edit.setText("127.0.0.1:4243:new-code")
    factory.script = complete_all(FILES)
    with qtbot.waitSignal(window.transferDone, timeout=10_000):
        qtbot.mouseClick(window.banner.resume_button, Qt.MouseButton.LeftButton)
    assert str(factory.created[1].code) == "127.0.0.1:4243:new-code"


@pytest.mark.timeout(30)
def test_a_text_message_opens_a_dialog_with_copy(qtbot, make_window, tmp_path):
    def script(r: ScriptedReceiver) -> None:
        r.emit(started(("message.txt", 11), is_message=True))
        r.emit(TransferFinished(ok=True, message_text="hello there"))

    window, _ = make_window(script, code=CODE, destination=str(tmp_path))
    wait_for_folder(qtbot, window, tmp_path)
    receive(qtbot, window)
    dialog = window.message_dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.view.toPlainText() == "hello there"
    qtbot.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == "hello there"
    assert window.model.rowCount() == 0
    dialog.close()


@pytest.mark.timeout(30)
def test_failed_rows_offer_retry_and_retry_all(qtbot, make_window, tmp_path):
    def script(r: ScriptedReceiver) -> None:
        r.emit(started(*FILES, extension=True, selectable=True))
        r.emit(FileStatusChanged("photos/a.jpg", FileStatus.COMPLETED, FileStatus.PENDING))
        for name in ("photos/b.jpg", "notes/todo.txt"):
            r.emit(FileStatusChanged(name, FileStatus.FAILED, FileStatus.PENDING, reason="hash"))
        r.emit(TransferFinished(ok=False, error="2 files failed verification.", resumable=True))

    window, factory = make_window(script, code=CODE, destination=str(tmp_path))
    wait_for_folder(qtbot, window, tmp_path)
    receive(qtbot, window)
    assert window.retry_all_button.isVisibleTo(window)
    assert "1 of 3 files" in window.summary_label.text()
    assert "2 failed" in window.summary_label.text()
    # Retry on one row = a new receive of that file, with the same code into the same folder
    factory.script = complete_all(FILES)
    with qtbot.waitSignal(window.transferDone, timeout=10_000):
        window.run_action(1, RowAction.RETRY)
    assert len(factory.created) == 2 and factory.created[1].dest == tmp_path
    assert factory.created[1].options.only == frozenset({"photos/b.jpg"})
    assert not window.retry_all_button.isVisibleTo(window)


@pytest.mark.timeout(30)
def test_done_rows_open_and_show_in_folder(qtbot, make_window, tmp_path):
    window, _ = make_window(code=CODE, destination=str(tmp_path))
    wait_for_folder(qtbot, window, tmp_path)
    receive(qtbot, window)
    window.run_action(0, RowAction.OPEN)
    window.run_action(0, RowAction.SHOW)
    assert [u.toLocalFile() for u in window.opened] == [
        str(tmp_path / "photos" / "a.jpg"),
        str(tmp_path / "photos"),
    ]
    window.table.setCurrentIndex(window.model.index(2, 0))  # Enter on a row: its first action
    emit(window.table.activated, window.model.index(2, 0))
    assert window.opened[-1].toLocalFile() == str(tmp_path / "notes" / "todo.txt")


@pytest.mark.timeout(30)
def test_clicking_a_painted_button(qtbot, make_window, tmp_path):
    window, _ = make_window(code=CODE, destination=str(tmp_path))
    window.resize(1000, 400)
    window.show()
    qtbot.waitExposed(window)
    wait_for_folder(qtbot, window, tmp_path)
    receive(qtbot, window)
    index = window.model.index(0, Column.ACTION)
    rect = window.table.visualRect(index)
    point = QPoint(rect.left() + 12, rect.center().y())  # inside the first button: Open
    qtbot.mouseClick(window.table.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert [u.toLocalFile() for u in window.opened] == [str(tmp_path / "photos" / "a.jpg")]


@pytest.mark.timeout(30)
def test_overwrite_toggles_reach_the_receiver(qtbot, make_window, tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("old")

    def script(r: ScriptedReceiver) -> None:
        r.emit(started(*FILES, conflicts=frozenset({"notes/todo.txt"})))  # the engine's verdict
        assert r.cancelled.wait(20)
        r.emit(TransferFinished(ok=False, error="cancelled", resumable=True))

    window, factory = make_window(script, code=CODE, destination=str(tmp_path))
    wait_for_folder(qtbot, window, tmp_path)
    window.start_receive()
    model = window.model
    qtbot.waitUntil(lambda: model.rowCount() == 3, timeout=10_000)
    row = model.find("notes/todo.txt")
    assert model.row(row).conflict and not model.row(0).conflict
    assert model.data(model.index(row, Column.STATUS)) == "Waiting (exists)"
    model.setData(
        model.index(row, Column.OVERWRITE), Qt.CheckState.Checked, Qt.ItemDataRole.CheckStateRole
    )
    receiver = factory.created[0]
    assert receiver.overwrite == {"notes/todo.txt": True}
    with qtbot.waitSignal(window.transferDone, timeout=10_000):
        window.cancel()
    # a new session starts with the choice already made
    window.overwrite_default.setChecked(True)
    factory.script = complete_all(FILES)
    receive(qtbot, window)
    assert factory.created[1].options.overwrite is True
    assert factory.created[1].overwrite == {"notes/todo.txt": True}


@pytest.mark.timeout(30)
def test_an_interrupted_transfer_is_offered_for_resume_or_discard(qtbot, make_window, tmp_path):
    manager = TransferLockManager(tmp_path)
    manager.start([("a.txt", 10), ("b.txt", 20)], sender_ip="127.0.0.1")
    manager.mark_completed("a.txt", "0" * 64)
    manager.flush()
    (tmp_path / "a.txt").write_text("0123456789")
    window, factory = make_window()
    drop(window, tmp_path)
    qtbot.waitUntil(lambda: window.banner.resume_button.isVisibleTo(window), timeout=10_000)
    assert "Interrupted transfer found here: 1 done" in window.banner.text()
    assert window.banner.discard_button.isVisibleTo(window)
    assert [window.model.row(i).name for i in range(2)] == ["a.txt", "b.txt"]
    assert window.model.data(window.model.index(0, Column.STATUS)) == "Done"
    # Resume needs a code first
    qtbot.mouseClick(window.banner.resume_button, Qt.MouseButton.LeftButton)
    assert window.code_hint.isVisibleTo(window) and not factory.created
    # Discard deletes the resume state (in the worker thread)
    qtbot.mouseClick(window.banner.discard_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not (tmp_path / LOCK_FILENAME).exists(), timeout=10_000)
    qtbot.waitUntil(lambda: window.model.rowCount() == 0, timeout=10_000)
    assert (tmp_path / "a.txt").exists()


@pytest.mark.timeout(30)
def test_buttons_have_accessible_names_and_a_sensible_tab_order(make_window):
    window, _ = make_window()
    for button in window.findChildren(QPushButton):
        assert button.accessibleName(), button.text()
    for widget in (window.code_edit, window.dest_edit, window.table, window.overall_bar):
        assert widget.accessibleName()
    order = [window.code_edit]
    widget = window.code_edit
    while len(order) < 4:
        widget = widget.nextInFocusChain()
        if widget.focusPolicy() & Qt.FocusPolicy.TabFocus and not widget.isHidden():
            order.append(widget)
    assert order == [
        window.code_edit,
        window.receive_button,
        window.dest_edit,
        window.choose_button,
    ]


@pytest.mark.timeout(30)
def test_dropping_during_a_transfer_is_refused(qtbot, make_window, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    window, _ = make_window(block_until_cancelled(FILES), code=CODE, destination=str(tmp_path))
    wait_for_folder(qtbot, window, tmp_path)
    window.start_receive()
    qtbot.waitUntil(lambda: window.model.rowCount() == 3, timeout=10_000)
    drop(window, other)
    assert not window.drag_was_highlighted and window.destination == tmp_path
    with qtbot.waitSignal(window.transferDone, timeout=10_000):
        window.cancel()


@pytest.mark.timeout(30)
def test_closing_the_window_cancels_and_stops_the_worker(qtbot, make_window, tmp_path):
    window, factory = make_window(
        block_until_cancelled(FILES), code=CODE, destination=str(tmp_path)
    )
    wait_for_folder(qtbot, window, tmp_path)
    window.start_receive()
    qtbot.waitUntil(lambda: window.model.rowCount() == 3, timeout=10_000)
    window.close()
    assert factory.created[0].cancelled.is_set()
    assert window.thread_.isFinished()


@pytest.mark.timeout(30)
def test_no_notification_while_the_window_is_in_front(qtbot, make_window, tmp_path):
    notifier = RecordingNotifier()
    window, _ = make_window(code=CODE, destination=str(tmp_path), notifier=notifier)
    window.show()
    window.activateWindow()
    qtbot.waitActive(window)
    wait_for_folder(qtbot, window, tmp_path)
    receive(qtbot, window)
    assert notifier.sent == []
