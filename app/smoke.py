"""A window that ends itself: for CI's smoke run of the built app and the start-up benchmark.

Neither can close a window by hand, and killing the process would skip the demo's clean-up.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QWindow
from PySide6.QtWidgets import QApplication


class _FirstExposure(QObject):
    """Waits for the first top-level window that is really on screen (exposed), then reports
    it and schedules the quit. It watches every event, so it removes itself at once."""

    def __init__(self, app: QApplication, seconds: float) -> None:
        super().__init__(app)
        self._app = app
        self._seconds = seconds

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.Expose
            and isinstance(watched, QWindow)
            and watched.isExposed()
        ):
            self._app.removeEventFilter(self)
            print("inlet: the window is visible", file=sys.stderr, flush=True)
            QTimer.singleShot(int(self._seconds * 1000), self._app.quit)
        return False


def quit_when_seen(app: QApplication, seconds: float) -> None:
    app.installEventFilter(_FirstExposure(app, seconds))
