"""Nearby senders in the window: the ``inlet send``s announced on this network, as they come and go.

Picking one fills in the address part of the code (core/nearby.py says why only that): the
person types the words. The strip keeps one line's height whatever it shows (looking, the
senders, or why it cannot look), so the rows below never move. Peer-supplied names arrive
escaped and cut by the core and are shown as plain text only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QListView,
    QListWidget,
    QListWidgetItem,
    QSizePolicy,
    QStackedWidget,
    QWidget,
)

from inlet.core.nearby import NearbyListener, NearbySender

from .colors import hint_style
from .qtcompat import emit
from .widgets import plain_label

LOOKING = "Looking for senders on this network… (one not listed here still works: type its code)"
_ROLE = Qt.ItemDataRole.UserRole
CHIPS = """
QListWidget { background: transparent; border: none; }
QListWidget::item { border: 1px solid palette(mid); border-radius: 4px; padding: 2px 8px; }
QListWidget::item:selected { background: palette(highlight); color: palette(highlighted-text); }
"""


class Browser(Protocol):
    def start(self) -> None: ...
    def close(self) -> None: ...


#: Builds a browser that tells ``listener`` what it hears (core.nearby.NearbyBrowser's shape).
BrowserFactory = Callable[[NearbyListener], Browser]


class _Bridge(QObject):
    """The core's `NearbyListener`: called on zeroconf's threads, it only emits; Qt queues each
    signal to the GUI thread, where the strip lives."""

    put = Signal(object)
    gone = Signal(str)
    failed = Signal(str)

    def added(self, sender: NearbySender) -> None:
        emit(self.put, sender)

    def updated(self, sender: NearbySender) -> None:
        emit(self.put, sender)

    def removed(self, key: str) -> None:
        emit(self.gone, key)

    def unavailable(self, reason: str) -> None:
        emit(self.failed, reason)


class NearbyList(QWidget):
    """ "Nearby:" and the senders heard, one chip each; a click (or Enter) picks one."""

    #: a sender was picked (its `NearbySender`)
    picked = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._browser: Browser | None = None
        self._bridge = _Bridge(self)
        label = plain_label("Nearby", self)
        self.list = QListWidget(self)
        self.list.setAccessibleName("Nearby senders")
        self.list.setAccessibleDescription(
            "Senders announced on this network; pick one to fill in its address, then type the "
            "words it shows"
        )
        self.list.setFlow(QListView.Flow.LeftToRight)
        self.list.setWrapping(False)
        self.list.setSpacing(2)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list.setSortingEnabled(True)
        # Each sender a chip: a framed name one can aim at, apart from its neighbours.
        self.list.setStyleSheet(CHIPS)
        self.status = plain_label(LOOKING, self)
        self.status.setEnabled(False)  # muted while it only looks; a problem is shown as one
        self.status.setAccessibleName("Nearby senders status")
        self.status.setWordWrap(True)  # two lines in a narrow window, never a wider window
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.status)
        self.stack.addWidget(self.list)
        # One line's height: a chip row and its scroll bar, whether the stack shows the list
        # or a sentence.
        row = self.fontMetrics().height() + 14
        scroll = self.list.horizontalScrollBar().sizeHint().height()
        two_lines = 2 * self.fontMetrics().lineSpacing() + 4
        self.stack.setFixedHeight(max(row + scroll + 2 * self.list.frameWidth(), two_lines))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(label)
        layout.addWidget(self.stack, 1)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

        self._bridge.put.connect(self._put)
        self._bridge.gone.connect(self._remove)
        self._bridge.failed.connect(self._failed)
        self.list.itemClicked.connect(self._pick)
        self.list.itemActivated.connect(self._pick)

    # -- the browser -------------------------------------------------------------------------------

    def start(self, factory: BrowserFactory) -> None:
        """Start looking (the browser works in its own threads)."""
        self.stop()
        self._browser = factory(self._bridge)
        self._browser.start()

    def stop(self) -> None:
        """Stop looking; what is listed stays until the window closes."""
        browser, self._browser = self._browser, None
        if browser is not None:
            browser.close()

    # -- what it hears -----------------------------------------------------------------------------

    def senders(self) -> list[NearbySender]:
        return [self.list.item(i).data(_ROLE) for i in range(self.list.count())]

    def item_for(self, key: str) -> QListWidgetItem | None:
        for i in range(self.list.count()):
            if self.list.item(i).data(_ROLE).key == key:
                return self.list.item(i)
        return None

    def _put(self, sender: NearbySender) -> None:
        if self._browser is None:
            return  # stopped: a signal queued before that is stale
        item = self.item_for(sender.key)
        if item is None:
            item = QListWidgetItem()
            self.list.addItem(item)
        item.setText(sender.describe())  # a list item's text is never rich text
        item.setData(_ROLE, sender)
        item.setToolTip(f"Fill in {sender.address} as the code, then type the words it shows")
        self.stack.setCurrentWidget(self.list)

    def _remove(self, key: str) -> None:
        item = self.item_for(key)
        if item is not None:
            self.list.takeItem(self.list.row(item))
        if not self.list.count() and self.stack.currentWidget() is self.list:
            self.stack.setCurrentWidget(self.status)

    def _failed(self, reason: str) -> None:
        self.status.setText(
            f"Nearby senders cannot be found here: multicast (mDNS) does not work on this "
            f"network ({reason}). Type the sender's whole code."
        )
        self.status.setEnabled(True)
        self.status.setStyleSheet(hint_style())
        self.stack.setCurrentWidget(self.status)

    def _pick(self, item: QListWidgetItem) -> None:
        if self.isEnabled():
            emit(self.picked, item.data(_ROLE))
