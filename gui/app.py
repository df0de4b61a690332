"""Start the window: ``inlet``, ``inlet CODE`` and ``inlet demo`` end up here (see core/cli.py)."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication, QMessageBox

from .demo import SenderStartError, start_demo
from .widgets import BannerKind, app_icon
from .window import MainWindow

ORGANIZATION = "Inlet"
APPLICATION = "Inlet"


#: How often a busy Python thread hands the interpreter over (seconds; Python's default is 5 ms).
#: The GUI thread re-enters Python for every painted cell; while the receiver thread is busy each
#: re-entry can wait a whole interval, so a shorter one keeps painting smooth during a transfer.
SWITCH_INTERVAL = 0.001


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
    tune_interpreter()
    return app  # type: ignore[return-value]


def run_app(code: str | None = None, demo: bool = False) -> int:
    """Open the window (with ``code`` filled in), or the demo; return the exit status."""
    app = make_application()
    if demo:
        try:
            session = start_demo()
        except (SenderStartError, OSError) as err:
            QMessageBox.critical(
                None,
                "Inlet demo",
                f"The demo could not start its local sender: {err} Try 'inlet send FOLDER' in "
                "a terminal to see what goes wrong.",
            )
            return 1
        app.aboutToQuit.connect(session.stop)
        window = MainWindow(code=session.code, destination=str(session.dest))
        window.banner.show_message(
            BannerKind.INFO,
            "Demo: a sender on this computer offers a sample folder. Press Receive. "
            "One file already exists here, so its row shows an Overwrite box.",
        )
        print(f"inlet demo: receiving into {session.dest}", file=sys.stderr)
    else:
        window = MainWindow(code=code)
    window.show()
    window.raise_()
    status = app.exec()
    window.shutdown()
    return status
