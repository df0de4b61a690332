"""Paints the Progress and Action columns; the other columns are plain text and check boxes.

Like Transmission's ``TorrentDelegate``, progress bars are *drawn* with
`QStyleOptionProgressBar`, and so are the per-row buttons, instead of one widget per row: a
widget per row costs memory and layout time for every one of 10,000 rows, a painted bar costs
nothing until it is visible. Clicks on a painted button are hit-tested in `editorEvent` and
reported with `actionTriggered`; the same actions are in the row's context menu and on Enter,
for keyboards and screen readers.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QModelIndex, QObject, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtCore import Signal as _Signal
from PySide6.QtGui import QFontMetrics, QMouseEvent, QPainter, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionButton,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
)

from .colors import status_colors
from .model import Column, Role, RowAction, RowState
from .qtcompat import emit

Index = QModelIndex | QPersistentModelIndex

BUTTON_PADDING = 10  # horizontal, each side of a painted button's text
BUTTON_SPACING = 4
BAR_MARGIN = 3


def button_rects(
    cell: QRect, actions: tuple[RowAction, ...], metrics: QFontMetrics
) -> list[tuple[RowAction, QRect]]:
    """Where each action's button sits in a cell: left to right, vertically centred.

    Shared by painting and hit-testing so a click lands on exactly the button that was drawn.
    Only buttons that fit are placed (a narrow window keeps the rest in the context menu).
    """
    rects = []
    x = cell.left() + BUTTON_SPACING
    height = min(cell.height() - 4, metrics.height() + 8)
    top = cell.top() + (cell.height() - height) // 2
    for action in actions:
        width = metrics.horizontalAdvance(action.value) + 2 * BUTTON_PADDING
        if x + width > cell.right() + 1:
            break
        rects.append((action, QRect(x, top, width, height)))
        x += width + BUTTON_SPACING
    return rects


class TransferDelegate(QStyledItemDelegate):
    """Draws progress bars and row buttons; reports button clicks."""

    #: (row, action) — a painted button was clicked
    actionTriggered = _Signal(int, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pressed: tuple[int, RowAction] | None = None

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        column = index.column()
        if column == Column.PROGRESS:
            self._paint_progress(painter, option, index)
        elif column == Column.ACTION:
            self._paint_actions(painter, option, index)
        else:  # the window installs this delegate on those two columns only; be safe anyway
            super().paint(painter, option, index)

    def _background(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> QStyle:
        """Selection and hover background, as the other columns get it."""
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        style = opt.widget.style() if opt.widget else QApplication.style()
        style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, opt, painter, opt.widget)
        return style

    def _paint_progress(
        self, painter: QPainter, option: QStyleOptionViewItem, index: Index
    ) -> None:
        style = self._background(painter, option, index)
        fraction = float(index.data(Role.FRACTION) or 0.0)
        bar = QStyleOptionProgressBar()
        bar.rect = option.rect.adjusted(BAR_MARGIN, BAR_MARGIN, -BAR_MARGIN, -BAR_MARGIN)
        bar.state = QStyle.StateFlag.State_Enabled | QStyle.StateFlag.State_Horizontal
        bar.direction = option.direction
        bar.fontMetrics = option.fontMetrics
        bar.palette = QPalette(option.palette)
        bar.minimum, bar.maximum = 0, 1000
        bar.progress = int(fraction * 1000)
        bar.text = index.data(Qt.ItemDataRole.DisplayRole) or ""  # the model's rounding
        bar.textVisible = True
        bar.textAlignment = Qt.AlignmentFlag.AlignCenter
        state = index.data(Role.STATE)
        colors = status_colors(bar.palette)
        if state == RowState.FAILED:
            bar.palette.setColor(QPalette.ColorRole.Highlight, colors.failed_bar)
        elif state in (RowState.DONE, RowState.ALREADY_HERE):
            bar.palette.setColor(QPalette.ColorRole.Highlight, colors.done_bar)
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter, option.widget)

    def _paint_actions(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        style = self._background(painter, option, index)
        actions = index.data(Role.ACTIONS) or ()
        for action, rect in button_rects(option.rect, actions, option.fontMetrics):
            button = QStyleOptionButton()
            button.rect = rect
            button.text = action.value
            button.fontMetrics = option.fontMetrics
            button.palette = option.palette
            button.state = QStyle.StateFlag.State_Enabled | QStyle.StateFlag.State_Raised
            if self._pressed == (index.row(), action):
                button.state |= QStyle.StateFlag.State_Sunken
            style.drawControl(QStyle.ControlElement.CE_PushButton, button, painter, option.widget)

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        hint = super().sizeHint(option, index)
        metrics = option.fontMetrics
        height = max(hint.height(), metrics.height() + 12)
        if index.column() == Column.ACTION:
            widest = (RowAction.OPEN, RowAction.SHOW)
            rects = button_rects(QRect(0, 0, 10_000, height), widest, metrics)
            return QSize(rects[-1][1].right() + BUTTON_SPACING, height)
        if index.column() == Column.PROGRESS:
            return QSize(max(hint.width(), 140), height)
        return QSize(hint.width(), height)

    def action_at(self, option: QStyleOptionViewItem, index: Index, pos) -> RowAction | None:
        """The action whose painted button is at ``pos`` (viewport coordinates), if any."""
        if index.column() != Column.ACTION:
            return None
        actions = index.data(Role.ACTIONS) or ()
        for action, rect in button_rects(option.rect, actions, option.fontMetrics):
            if rect.contains(pos):
                return action
        return None

    def editorEvent(self, event: QEvent, model, option: QStyleOptionViewItem, index: Index) -> bool:
        if index.column() != Column.ACTION or not isinstance(event, QMouseEvent):
            return super().editorEvent(event, model, option, index)
        if event.button() != Qt.MouseButton.LeftButton:
            return False
        action = self.action_at(option, index, event.position().toPoint())
        if event.type() == QEvent.Type.MouseButtonPress:
            self._pressed = (index.row(), action) if action else None
            return action is not None
        if event.type() == QEvent.Type.MouseButtonRelease:
            pressed, self._pressed = self._pressed, None
            if action is not None and pressed == (index.row(), action):
                emit(self.actionTriggered, index.row(), action.value)
                return True
        return False


class StatusDelegate(QStyledItemDelegate):
    """The Status column, cut at its end ("Stopped at 31 % — can…") where the table cuts names
    in the middle ("src/…/report.pdf"): a status's first words say what happened. Text only;
    the whole sentence is the cell's tooltip."""

    def initStyleOption(self, option: QStyleOptionViewItem, index: Index) -> None:
        super().initStyleOption(option, index)
        option.textElideMode = Qt.TextElideMode.ElideRight
