"""Start the window: ``inlet``, ``inlet CODE`` and ``inlet demo`` end up here (see core/cli.py)."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication, QMessageBox

from inlet.core.nearby import NearbyBrowser

from . import focusring
from .demo import SenderStartError, start_demo
from .widgets import BannerKind, app_icon
from .window import MainWindow

ORGANIZATION = "Inlet"
APPLICATION = "Inlet"


#: How often a busy Python thread hands the interpreter over (seconds; Python's default is 5 ms).
#: The GUI thread re-enters Python hundreds of times a repaint (each cell's data, each delegate);
#: while the receiver thread is busy in Python each re-entry can wait a whole interval. With
#: 1 ms the repaint after 100,000 rows are listed froze the window 110-112 ms, with 0.2 ms 58-63
#: ms (`bench/window.py`); a command-line receive has no second thread and keeps the default.
SWITCH_INTERVAL = 0.0002


def tune_interpreter() -> None:
    """Make the interpreter share itself fairly between the receiver and the window."""
    sys.setswitchinterval(SWITCH_INTERVAL)


def make_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication, named so QSettings and the desktop find Inlet's settings and launcher."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(argv if argv is not None else sys.argv[:1])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName(APPLICATION)
    app.setDesktopFileName("inlet")
    app.setWindowIcon(app_icon())
    focusring.install(app)  # the focused button must not look like the default one
    tune_interpreter()
    return app  # type: ignore[return-value]


def open_window(code: str | None = None, demo: bool = False) -> MainWindow | None:
    """The window ``run_app`` shows (None when the demo cannot start; it said why)."""
    if not demo:
        return MainWindow(code=code, nearby=NearbyBrowser)
    try:
        session = start_demo()
    except (SenderStartError, OSError) as err:
        QMessageBox.critical(
            None,
            "Inlet demo",
            f"The demo could not start its local sender: {err} Try 'inlet send FOLDER' in "
            "a terminal to see what goes wrong.",
        )
        return None
    window = MainWindow(
        code=session.code,
        destination=str(session.dest),
        remember_destination=False,
        nearby=NearbyBrowser,
    )
    window.demo_session = session
    window.banner.show_message(
        BannerKind.INFO,
        "Demo: a sender on this computer offers a sample folder. Press Receive. "
        "One file already exists here, so its row shows a Replace box.",
    )
    print(f"inlet demo: receiving into {session.dest}", file=sys.stderr)
    return window


def run_app(code: str | None = None, demo: bool = False) -> int:
    """Open the window (with ``code`` filled in), or the demo; return the exit status."""
    app = make_application()
    window = open_window(code, demo)
    if window is None:
        return 1
    window.show()
    window.raise_()
    status = app.exec()
    window.shutdown()
    session = getattr(window, "demo_session", None)
    if session is not None:  # the local sender never outlives the window
        session.stop()
    return status
