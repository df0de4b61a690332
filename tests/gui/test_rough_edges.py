"""The window's rough edges (issue 12): narrow windows, keys, still targets, small comforts."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog, QStyleOptionViewItem

from inlet.core.events import FileStatus, FileStatusChanged, TransferFinished
from inlet.gui import history
from inlet.gui.coalesce import UpdateBatch
from inlet.gui.model import Column, RowAction
from inlet.gui.transfer_view import NAME_SHARE
from inlet.gui.window import MainWindow

from .conftest import ScriptedReceiver, complete_all, record_opened, started
from .test_what_it_shows import CODE, FILES, wait_for_folder


def receive(qtbot, window: MainWindow) -> None:
    with qtbot.waitSignal(window.transferDone, timeout=10_000):
        assert window.start_receive()


@pytest.mark.timeout(30)
def test_at_640_px_the_name_keeps_its_room_and_nothing_scrolls_off(qtbot, make_window, tmp_path):
    window, _ = make_window(code=CODE, destination=str(tmp_path))
    window.resize(640, 400)
    window.show()
    qtbot.waitExposed(window)
    wait_for_folder(qtbot, window, tmp_path)
    receive(qtbot, window)
    assert window.width() == 640
    table = window.table
    header = table.horizontalHeader()
    assert header.sectionSize(Column.NAME) >= NAME_SHARE * table.viewport().width() - 1
    assert sum(header.sectionSize(c) for c in Column) <= table.viewport().width()
    for widget in (window.receive_button, window.choose_button, window.cancel_button):
        right = widget.mapTo(window, widget.rect().topRight()).x()
        assert right <= window.width(), widget.accessibleName()
    assert table.textElideMode() == Qt.TextElideMode.ElideMiddle


@pytest.mark.timeout(30)
def test_a_cut_status_keeps_its_first_words_and_says_all_in_its_tooltip(
    qtbot, make_window, tmp_path
):
    """At 640 px "Stopped at 31 % — can resume" was cut in its middle ("Stopped at … can
    resume"): the number a person looks for went first."""
    window, _ = make_window(code=CODE, destination=str(tmp_path))
    window.model.start(started(("video.bin", 10_000_000)))
    window.model.apply(UpdateBatch(progress={"video.bin": 3_145_728}))
    window.model.stop(resumable=True)
    index = window.model.index(0, Column.STATUS)
    assert window.model.data(index) == "Stopped at 31 % — can resume"
    option = QStyleOptionViewItem()
    window.table.itemDelegateForColumn(Column.STATUS).initStyleOption(option, index)
    assert option.textElideMode == Qt.TextElideMode.ElideRight
    assert option.text == "Stopped at 31 % — can resume"
    tip = window.model.data(index, Qt.ItemDataRole.ToolTipRole)
    assert "Stopped at 31 % — can resume" in tip


@pytest.mark.timeout(30)
def test_a_banner_does_not_move_the_rows(qtbot, make_window, tmp_path):
    window, _ = make_window(code=CODE, destination=str(tmp_path))
    window.show()
    qtbot.waitExposed(window)
    wait_for_folder(qtbot, window, tmp_path)
    top = window.table.mapTo(window, window.table.rect().topLeft()).y()
    receive(qtbot, window)  # a success banner appears
    assert window.banner.isVisible()
    assert window.table.mapTo(window, window.table.rect().topLeft()).y() == top
    window.code_edit.setText("no colon")  # a hint appears under the code
    assert window.code_hint.isVisible()
    assert window.table.mapTo(window, window.table.rect().topLeft()).y() == top


@pytest.mark.timeout(30)
def test_keys_ctrl_o_enter_on_a_button_and_space_on_a_row(
    qtbot, make_window, tmp_path, monkeypatch
):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("old")

    def script(r: ScriptedReceiver) -> None:
        r.emit(started(*FILES, conflicts=frozenset({"notes/todo.txt"})))
        assert r.cancelled.wait(20)
        r.emit(TransferFinished(ok=False, error="cancelled", resumable=True))

    window, factory = make_window(script, code=CODE, destination=str(tmp_path))
    window.show()
    window.activateWindow()
    qtbot.waitActive(window)
    wait_for_folder(qtbot, window, tmp_path)
    chosen: list[bool] = []
    dialog = staticmethod(lambda *args: chosen.append(True) or "")  # no real file dialog
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", dialog)
    window.table.setFocus()
    qtbot.keyClick(window.table, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    assert chosen == [True]  # Ctrl+O is Choose…, wherever the focus is
    window.choose_button.setFocus()
    qtbot.keyClick(window.choose_button, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(chosen) == 2, timeout=5000)  # Enter presses a focused button
    assert window.receive_button.text() != window.banner.resume_button.text()
    assert "&R" in window.receive_button.text() and "&R" not in window.banner.resume_button.text()

    window.start_receive()
    model = window.model
    qtbot.waitUntil(lambda: model.rowCount() == 3, timeout=10_000)
    row = model.find("notes/todo.txt")
    window.table.setCurrentIndex(model.index(row, Column.NAME))  # the cursor on the name
    qtbot.keyClick(window.table, Qt.Key.Key_Space)
    assert factory.created[0].overwrite == {"notes/todo.txt": True}
    with qtbot.waitSignal(window.transferDone, timeout=10_000):
        window.cancel()


@pytest.mark.timeout(30)
def test_clear_finished_and_copy_path(qtbot, make_window, tmp_path):
    def script(r: ScriptedReceiver) -> None:
        r.emit(started(*FILES))
        r.emit(FileStatusChanged("photos/a.jpg", FileStatus.COMPLETED, FileStatus.PENDING))
        r.emit(FileStatusChanged("photos/b.jpg", FileStatus.FAILED, FileStatus.PENDING, "x"))
        r.emit(TransferFinished(ok=False, error="1 file failed.", resumable=True))

    window, _ = make_window(script, code=CODE, destination=str(tmp_path))
    wait_for_folder(qtbot, window, tmp_path)
    receive(qtbot, window)
    assert window.view.menu_actions(0) == (RowAction.OPEN, RowAction.SHOW, RowAction.COPY_PATH)
    window.run_action(0, RowAction.COPY_PATH)
    assert QGuiApplication.clipboard().text() == str(tmp_path / "photos" / "a.jpg")
    assert window.view.menu_actions(1) == (RowAction.RECEIVE_AGAIN,)  # a legacy sender's
    assert RowAction.RECEIVE_AGAIN.value == "Receive again"  # says what it does
    assert window.view.clear_button.isVisibleTo(window)
    window.view.clear_button.click()
    assert [r.name for r in window.model.rows()] == ["photos/b.jpg", "notes/todo.txt"]


@pytest.mark.timeout(30)
def test_the_window_geometry_is_remembered(qtbot, make_window, tmp_path, settings: QSettings):
    window, _ = make_window(complete_all(FILES))
    window.resize(777, 455)
    window.show()
    qtbot.waitExposed(window)
    assert window.close()
    again, _ = make_window()
    assert (again.width(), again.height()) == (777, 455)


def test_status_colours_follow_a_dark_palette(qapp):
    from PySide6.QtGui import QColor, QPalette

    from inlet.gui.colors import status_colors

    light, dark = QPalette(), QPalette()
    light.setColor(QPalette.ColorRole.Window, QColor("#f0f0f0"))
    dark.setColor(QPalette.ColorRole.Window, QColor("#2b2b2b"))
    for palette in (light, dark):
        window = palette.color(QPalette.ColorRole.Window)
        text = status_colors(palette)
        for color in (text.done, text.failed):  # readable: far from the window's lightness
            assert abs(color.lightness() - window.lightness()) > 60


@pytest.mark.timeout(30)
def test_past_transfers_are_listed_with_open_folder(qtbot, make_window, tmp_path):
    window, _ = make_window(code=CODE, destination=str(tmp_path))
    record_opened(window)
    wait_for_folder(qtbot, window, tmp_path)
    receive(qtbot, window)
    # The entry, not just the file: the worker creates the file before it writes the line.
    qtbot.waitUntil(lambda: bool(history.read(window.history_path)), timeout=10_000)
    qtbot.mouseClick(window.history_button, Qt.MouseButton.LeftButton)
    dialog = window.history_dialog
    assert dialog is not None and dialog.isVisible()
    item = dialog.tree.topLevelItem(0)
    assert [item.text(c) for c in (1, 2, 3, 4, 5)] == [
        "127.0.0.1", "3", "4.0 KB", str(tmp_path), "Received",
    ]  # fmt: skip
    qtbot.mouseClick(dialog.open_button, Qt.MouseButton.LeftButton)
    assert [u.toLocalFile() for u in window.opened] == [str(tmp_path)]
    dialog.close()


def test_the_error_example_is_a_code_of_the_placeholder_form(qtbot):
    """The example a malformed code's error gives is the window's placeholder example: an
    Inlet code, a number and four words (it once showed two words beside the placeholder's
    four)."""
    from inlet.core.codes import parse_code
    from inlet.core.errors import CODE_EXAMPLE, CodeError
    from inlet.gui.form import TransferForm

    example = parse_code(CODE_EXAMPLE)
    assert example.pake and len(example.token.split("-")) == 5
    assert CODE_EXAMPLE in CodeError.hint
    form = TransferForm()
    qtbot.addWidget(form)
    assert form.code_edit.placeholderText().endswith(CODE_EXAMPLE)


def _button(style, *, focus: bool, default: bool):
    """A push button as ``style`` paints it: focused by the keyboard, or the default one."""
    from PySide6.QtCore import QRect
    from PySide6.QtGui import QColor, QImage, QPainter
    from PySide6.QtWidgets import QApplication, QStyle, QStyleOptionButton

    option = QStyleOptionButton()
    option.rect = QRect(0, 0, 120, 32)
    option.text = "Receive"
    option.palette = QApplication.palette()
    flags = QStyle.StateFlag
    option.state = flags.State_Enabled | flags.State_Raised | flags.State_Active
    if focus:
        option.state |= flags.State_HasFocus | flags.State_KeyboardFocusChange
    if default:
        option.features = QStyleOptionButton.ButtonFeature.DefaultButton
    image = QImage(120, 32, QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    style.drawControl(QStyle.ControlElement.CE_PushButton, option, painter)
    painter.end()
    return image


def _ring_share(image, inset: int = 4) -> float:
    """The share of the pixels ``inset`` px inside the button's edge in the highlight colour."""
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QApplication

    want = QApplication.palette().color(QPalette.ColorRole.Highlight)
    points = [(x, inset) for x in range(10, image.width() - 10)]
    points += [(inset, y) for y in range(10, image.height() - 10)]
    near = 0
    for x, y in points:
        got = image.pixelColor(x, y)
        distance = abs(got.red() - want.red()) + abs(got.green() - want.green())
        near += distance + abs(got.blue() - want.blue()) < 90
    return near / len(points)


def test_the_focus_ring_is_not_the_default_buttons_frame(qtbot):
    """Fusion gives the focused button the default button's blue frame; with Inlet's style a
    focused button has a ring inside its frame that the default button (Receive) has not."""
    from PySide6.QtWidgets import QApplication

    from inlet.gui import focusring

    style = focusring.FocusRingStyle("fusion")
    assert _ring_share(_button(style, focus=True, default=False)) > 0.8
    assert _ring_share(_button(style, focus=False, default=True)) < 0.2
    app = QApplication.instance()
    before = app.style().name()
    focusring.install(app)  # what make_application does
    try:
        assert isinstance(app.style(), focusring.FocusRingStyle)
    finally:
        app.setStyle(before)


@pytest.mark.timeout(30)
def test_column_widths_a_person_drags_are_remembered(qtbot, make_window):
    window, _ = make_window()
    window.resize(1400, 600)
    window.show()
    qtbot.waitExposed(window)
    header = window.table.horizontalHeader()
    assert header.sectionResizeMode(Column.STATUS) == header.ResizeMode.Interactive
    header.resizeSection(Column.STATUS, 333)  # what dragging the column's border does
    assert window.close()

    again, _ = make_window()
    again.resize(1400, 600)
    again.show()
    qtbot.waitExposed(again)
    assert again.table.horizontalHeader().sectionSize(Column.STATUS) == 333
    # a narrow window still fits: the remembered width is what the column gives up from
    again.resize(640, 400)
    qtbot.waitUntil(lambda: again.table.horizontalHeader().sectionSize(Column.STATUS) < 333)
