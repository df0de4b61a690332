"""The delegate paints progress bars and buttons, and hit-tests clicks on them."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QStyleOptionViewItem, QTableView

from inlet.core.events import FileStatus, FileStatusChanged
from inlet.gui.coalesce import UpdateBatch
from inlet.gui.delegate import TransferDelegate, button_rects
from inlet.gui.model import Column, RowAction, TransferModel

from .conftest import started


@pytest.fixture
def view(qtbot):
    model = TransferModel()
    model.start(started(("half", 100), ("done", 100), ("failed", 100), ("zero", 100)))
    model.apply(
        UpdateBatch(
            (
                FileStatusChanged("done", FileStatus.COMPLETED, FileStatus.PENDING),
                FileStatusChanged("failed", FileStatus.FAILED, FileStatus.PENDING, reason="x"),
            ),
            {"half": 50},
        )
    )
    table = QTableView()
    table.setModel(model)
    delegate = TransferDelegate(table)
    table.setItemDelegate(delegate)
    table.resize(900, 300)
    qtbot.addWidget(table)
    return table, model, delegate


CELL = QSize(160, 28)


def paint_cell(table, delegate, row: int, column: int, size: QSize = CELL) -> QImage:
    image = QImage(size, QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    option = QStyleOptionViewItem()
    option.initFrom(table)
    option.rect = QRect(QPoint(0, 0), size)
    option.widget = table
    painter = QPainter(image)
    delegate.paint(painter, option, table.model().index(row, column))
    painter.end()
    return image


def coloured_columns(image: QImage) -> int:
    """How many pixel columns along the middle row are not white-ish (the bar's fill)."""
    y = image.height() // 2
    count = 0
    for x in range(image.width()):
        c = image.pixelColor(x, y)
        if c.saturation() > 60:
            count += 1
    return count


@pytest.mark.timeout(30)
def test_progress_bars_are_painted_in_proportion(view):
    table, _, delegate = view
    zero = coloured_columns(paint_cell(table, delegate, 3, Column.PROGRESS))
    half = coloured_columns(paint_cell(table, delegate, 0, Column.PROGRESS))
    full = coloured_columns(paint_cell(table, delegate, 1, Column.PROGRESS))
    assert zero < half < full
    assert 0.3 < half / full < 0.7


@pytest.mark.timeout(30)
def test_every_cell_of_every_state_paints(view):
    table, model, delegate = view
    for row in range(model.rowCount()):
        for column in Column:
            assert not paint_cell(table, delegate, row, column).isNull()


@pytest.mark.timeout(30)
def test_buttons_sit_side_by_side_and_are_hit_tested(view, qtbot):
    table, model, delegate = view
    metrics = table.fontMetrics()
    rects = button_rects(QRect(0, 0, 300, 30), (RowAction.OPEN, RowAction.SHOW), metrics)
    (a, ra), (b, rb) = rects
    assert (a, b) == (RowAction.OPEN, RowAction.SHOW)
    assert ra.right() < rb.left() and ra.height() > metrics.height()
    table.show()
    qtbot.waitExposed(table)
    table.horizontalHeader().resizeSection(Column.ACTION, 260)
    clicks = []
    delegate.actionTriggered.connect(lambda row, action: clicks.append((row, action)))
    cell = table.visualRect(model.index(1, Column.ACTION))
    option = QStyleOptionViewItem()
    option.initFrom(table)
    option.rect = cell
    show_rect = button_rects(cell, (RowAction.OPEN, RowAction.SHOW), option.fontMetrics)[1][1]
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=show_rect.center())
    retry = table.visualRect(model.index(2, Column.ACTION))
    qtbot.mouseClick(
        table.viewport(),
        Qt.MouseButton.LeftButton,
        pos=QPoint(retry.left() + 10, retry.center().y()),
    )
    empty = table.visualRect(model.index(0, Column.ACTION))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=empty.center())
    assert clicks == [(1, "Show in folder"), (2, "Receive again")]


@pytest.mark.timeout(30)
def test_the_action_column_is_wide_enough_for_both_buttons(view):
    table, model, delegate = view
    option = QStyleOptionViewItem()
    option.initFrom(table)
    hint = delegate.sizeHint(option, model.index(1, Column.ACTION))
    rects = button_rects(QRect(0, 0, 10_000, 30), (RowAction.OPEN, RowAction.SHOW),
                         option.fontMetrics)  # fmt: skip
    assert hint.width() > rects[-1][1].right()
