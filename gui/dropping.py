"""Dropping a folder anywhere on the window: the highlight while it hovers, then its path.

An event filter on the window rather than handlers in it, so the window keeps only the flow:
it says when a drop is welcome (not while receiving) and what a dropped path means.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QWidget

from .widgets import DropOverlay


class FolderDrop(QObject):
    """Drops of a local file or folder on ``target``; the overlay covers ``area`` meanwhile.

    ``welcome()`` says whether a drop is taken now; ``dropped`` carries the path (a file's
    meaning is the receiver of the signal's business)."""

    dropped = Signal(str)

    def __init__(
        self,
        target: QWidget,
        overlay: DropOverlay,
        area: Callable[[], QWidget],
        welcome: Callable[[], bool],
    ) -> None:
        super().__init__(target)
        self._overlay = overlay
        self._area = area
        self._welcome = welcome
        target.setAcceptDrops(True)
        target.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.DragEnter:
            if self._welcome() and dropped_path(event):
                event.acceptProposedAction()
                self._cover()
            else:
                event.ignore()
            return True
        if kind == QEvent.Type.DragMove:
            if self._welcome() and dropped_path(event):
                event.acceptProposedAction()
            else:
                event.ignore()
            return True
        if kind == QEvent.Type.DragLeave:
            self._overlay.hide()
            return True
        if kind == QEvent.Type.Drop:
            self._overlay.hide()
            path = dropped_path(event)
            if path is None or not self._welcome():
                event.ignore()
            else:
                event.acceptProposedAction()
                self.dropped.emit(path)
            return True
        if kind == QEvent.Type.Resize and self._overlay.isVisible():
            self._overlay.setGeometry(self._area().rect())
        return False

    def _cover(self) -> None:
        self._overlay.setGeometry(self._area().rect())
        self._overlay.raise_()
        self._overlay.show()


def dropped_path(event: QDropEvent | QDragEnterEvent | QDragMoveEvent) -> str | None:
    """The first local file or folder the drag carries (None: nothing Inlet can use)."""
    mime = event.mimeData()
    if not mime.hasUrls():
        return None
    for url in mime.urls():
        if url.isLocalFile():
            return url.toLocalFile()
    return None
