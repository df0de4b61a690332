"""The rows of a transfer: the table, the overwrite default above it, and what rows offer.

The view shows the model and turns clicks, keys and context menus into `actionRequested`; what
an action does (open a file, receive again) is the window's business. Column widths follow the
view's width, so at 640 px the name keeps most of the room and nothing scrolls off.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QModelIndex, QPoint, Qt, Signal
from PySide6.QtGui import QKeyEvent, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QMenu,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from .delegate import StatusDelegate, TransferDelegate
from .model import Column, Role, RowAction, RowState, TransferModel
from .qtcompat import emit
from .widgets import Button

#: the columns' widths when there is room; below that they shrink together, the name last
PREFERRED_WIDTHS = {
    Column.SIZE: 80,
    Column.PROGRESS: 120,
    Column.STATUS: 220,
    Column.OVERWRITE: 90,
    Column.ACTION: 190,
}
MINIMUM_WIDTHS = {
    Column.SIZE: 66,  # "820.0 KB" whole
    Column.PROGRESS: 56,
    Column.STATUS: 96,
    Column.OVERWRITE: 82,  # the box and "Replace"
    Column.ACTION: 64,  # one button; the rest are in the context menu
}
NAME_SHARE = 0.35  # the name keeps at least this share of the width


def column_widths(available: int, preferred: dict[Column, int] | None = None) -> dict[Column, int]:
    """Widths of the columns other than the name (which stretches into what is left), from
    the ``preferred`` ones (a person's, else `PREFERRED_WIDTHS`)."""
    wanted = {c: max(MINIMUM_WIDTHS[c], w) for c, w in (preferred or PREFERRED_WIDTHS).items()}
    total = sum(wanted.values())
    least = sum(MINIMUM_WIDTHS.values())
    room = int(available * (1 - NAME_SHARE))
    # each column gives up the same share of what it has above its minimum
    t = max(0.0, min(1.0, (room - least) / (total - least))) if total > least else 1.0
    return {c: MINIMUM_WIDTHS[c] + int((w - MINIMUM_WIDTHS[c]) * t) for c, w in wanted.items()}


class _Table(QTableView):
    """The table: columns that fit its width (a column a person widened keeps that as its
    preferred width), and Space that flips the current row's box."""

    spacePressed = Signal()
    #: a person resized a column: its preferred width changed (the window remembers them)
    widthsChanged = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.preferred: dict[Column, int] = dict(PREFERRED_WIDTHS)
        self._fitting = False

    def set_preferred(self, widths: dict[Column, int]) -> None:
        self.preferred.update({c: w for c, w in widths.items() if c in PREFERRED_WIDTHS})
        self.fit()

    def fit(self) -> None:
        header = self.horizontalHeader()
        self._fitting = True
        try:
            for column, width in column_widths(self.viewport().width(), self.preferred).items():
                header.resizeSection(column, width)
        finally:
            self._fitting = False

    def on_section_resized(self, column: int, old: int, new: int) -> None:
        if self._fitting or column not in PREFERRED_WIDTHS or old == new:
            return
        self.preferred[Column(column)] = new
        self.widthsChanged.emit()

    def dataChanged(
        self,
        top_left: QModelIndex,
        bottom_right: QModelIndex,
        roles: Sequence[int] = (),
    ) -> None:
        """Pass on only the part of a changed span that is on screen: for a span of rows out of
        sight Qt repaints the whole viewport, and while 100,000 files stream almost every span
        is out of sight (rows scrolled to later are painted from the model then)."""
        first, last = self.rowAt(0), self.rowAt(self.viewport().height() - 1)
        if first < 0 or not top_left.isValid() or not bottom_right.isValid():
            super().dataChanged(top_left, bottom_right, roles)
            return
        if last < 0:  # the rows end above the viewport's bottom
            last = self.model().rowCount() - 1
        top, bottom = max(top_left.row(), first), min(bottom_right.row(), last)
        if top > bottom:
            return
        if top != top_left.row():
            top_left = top_left.siblingAtRow(top)
        if bottom != bottom_right.row():
            bottom_right = bottom_right.siblingAtRow(bottom)
        super().dataChanged(top_left, bottom_right, roles)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.modifiers():
            self.spacePressed.emit()
            return
        super().keyPressEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.fit()


class TransferView(QWidget):
    """The overwrite default, Receive failed files again, Clear finished, and the table."""

    #: (row, RowAction): a row's button, its context menu, Enter or a double click
    actionRequested = Signal(int, object)
    #: Receive failed files again was pressed
    retryAllRequested = Signal()

    def __init__(self, model: TransferModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self._busy = False
        self.overwrite_default = QCheckBox("Replace e&xisting files", self)
        self.overwrite_default.setAccessibleName("Replace existing files by default")
        self.overwrite_default.setToolTip(
            "The default for every row. Unchecked: a file that already exists here is kept and "
            "the new one is saved as name_1.ext. Each row's Replace box can differ (Space on a "
            "row flips it)."
        )
        self.retry_all_button = Button(
            "Receive &failed files again", "Receive the failed files again", self
        )
        self.retry_all_button.setToolTip(
            "Connect to the sender again (with the code above) and receive every file that is "
            "not here yet; verified files are kept."
        )
        self.retry_all_button.hide()
        self.clear_button = Button("C&lear finished", "Clear finished rows", self)
        self.clear_button.setToolTip("Remove the rows of files that are done from the list")
        self.clear_button.hide()
        for button in (self.retry_all_button, self.clear_button):
            policy = button.sizePolicy()
            policy.setRetainSizeWhenHidden(True)  # a button that comes moves no row
            button.setSizePolicy(policy)
        self.tools = tools = QHBoxLayout()
        tools.setContentsMargins(0, 0, 0, 0)
        tools.addWidget(self.overwrite_default)
        tools.addStretch(1)
        tools.addWidget(self.clear_button)
        tools.addWidget(self.retry_all_button)

        self.table = _Table(self)
        table = self.table
        table.setModel(model)
        # Only the painted columns (and the Status column's cut) go through Python; the other
        # text and the check boxes stay in C++.
        self.delegate = TransferDelegate(table)
        table.setItemDelegateForColumn(Column.PROGRESS, self.delegate)
        table.setItemDelegateForColumn(Column.ACTION, self.delegate)
        self.status_delegate = StatusDelegate(table)
        table.setItemDelegateForColumn(Column.STATUS, self.status_delegate)
        table.setAccessibleName("Incoming files")
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        table.setAlternatingRowColors(True)
        table.setWordWrap(False)
        table.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # "src/…/report.pdf"
        table.setShowGrid(False)
        table.verticalHeader().hide()
        table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 14)
        table.setMouseTracking(True)
        table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        header = table.horizontalHeader()
        header.setSectionResizeMode(Column.NAME, QHeaderView.ResizeMode.Stretch)
        for column in PREFERRED_WIDTHS:  # a person may drag them; the name takes what is left
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
        header.sectionResized.connect(table.on_section_resized)
        header.setHighlightSections(False)
        table.spacePressed.connect(self._toggle_current)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(tools)
        layout.addWidget(table, 1)

        self.overwrite_default.toggled.connect(model.set_default_overwrite)
        self.retry_all_button.clicked.connect(self.retryAllRequested)
        self.clear_button.clicked.connect(self._clear_finished)
        self.delegate.actionTriggered.connect(
            lambda row, action: emit(self.actionRequested, row, RowAction(action))
        )
        table.customContextMenuRequested.connect(self._context_menu)
        table.activated.connect(self._on_activated)
        model.countsChanged.connect(self.update_tools)

    # -- state -------------------------------------------------------------------------------------

    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.model.set_busy(busy)
        self.update_tools()

    def update_tools(self) -> None:
        done, failed, _ = self.model.counts()
        # With a sender that cannot send some files alone, each failed row's Receive again
        # does what this would: one button is enough.
        self.retry_all_button.setVisible(failed > 1 and not self._busy and self.model.selectable)
        self.clear_button.setVisible(done > 0 and not self._busy and not self.model.has_saved)

    def _clear_finished(self) -> None:
        if not self._busy:
            self.model.clear_finished()

    # -- keys, clicks, menus -----------------------------------------------------------------------

    def _toggle_current(self) -> bool:
        """Space flips the current row's Replace box, wherever the cursor is in the row."""
        current = self.table.currentIndex()
        if not current.isValid():
            return False
        cell = self.model.index(current.row(), Column.OVERWRITE)
        state = cell.data(Qt.ItemDataRole.CheckStateRole)
        if state is None:
            return False
        flipped = (
            Qt.CheckState.Unchecked
            if Qt.CheckState(state) == Qt.CheckState.Checked
            else Qt.CheckState.Checked
        )
        return self.model.setData(cell, flipped, Qt.ItemDataRole.CheckStateRole)

    def current_row(self) -> int | None:
        index = self.table.currentIndex()
        return index.row() if index.isValid() else None

    def _on_activated(self, index: QModelIndex) -> None:
        """Enter or double-click: the row's first action (Open, or Retry)."""
        actions = index.data(Role.ACTIONS) or ()
        if actions:
            emit(self.actionRequested, index.row(), actions[0])

    def menu_actions(self, row: int) -> tuple[RowAction, ...]:
        """What a row's context menu offers: its buttons, and Copy path once it has one."""
        index = self.model.index(row, Column.ACTION)
        actions = tuple(index.data(Role.ACTIONS) or ())
        if self.model.row(row).state in (RowState.DONE, RowState.ALREADY_HERE):
            actions += (RowAction.COPY_PATH,)
        return actions

    def _context_menu(self, pos: QPoint) -> None:
        index = self.table.indexAt(pos)
        if not index.isValid():
            return
        row = index.row()
        actions = self.menu_actions(row)
        if not actions:
            return
        menu = QMenu(self)
        for action in actions:
            item = menu.addAction(action.value)
            item.triggered.connect(lambda _=False, a=action: emit(self.actionRequested, row, a))
        menu.popup(self.table.viewport().mapToGlobal(pos))
