"""``inlet``: the core's command line, with the window plugged in for ``inlet [CODE]``/``demo``.

The core's CLI parses every command and runs the headless ones itself; for the window it checks
that there is a screen and then calls `open_window`, which checks Qt's X11 libraries, imports
the window and starts it.
"""

from __future__ import annotations

import os
import sys

from inlet.core.cli import EXIT_FAILED
from inlet.core.cli import main as cli_main

from .xlibs import display_answers, missing_x_library, needs_xcb

#: Set only by CI's smoke run and ``bench/app_build.py``: the window reports on stderr when it is
#: first visible and quits by itself this many seconds later (0: at once).
QUIT_AFTER_ENV = "INLET_QUIT_AFTER"


def main(argv: list[str] | None = None) -> int:
    return cli_main(argv, window=open_window)


def open_window(code: str | None, demo: bool) -> int:
    """Start the window (or the demo), or say in one line why it cannot start here."""
    if needs_xcb() and (library := missing_x_library()):
        print(
            f"inlet: the window cannot start: the X11 library {library} that Qt needs is "
            "missing. Install Qt's X11 libraries (Debian/Ubuntu: sudo apt install "
            "libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxkbcommon-x11-0), or receive in "
            "this terminal with 'inlet receive CODE'.",
            file=sys.stderr,
        )
        return EXIT_FAILED
    if needs_xcb() and not display_answers():
        print(
            f"inlet: there is no screen to open the window on (the X display "
            f"{os.environ.get('DISPLAY', '')!r} in DISPLAY does not answer). Start it from a "
            "desktop session, or receive in this terminal with 'inlet receive CODE'.",
            file=sys.stderr,
        )
        return EXIT_FAILED
    try:
        from inlet.gui.app import make_application, run_app
    except ImportError as err:  # a broken Qt install must still say what to do
        print(
            f"inlet: the window cannot start ({err}). Reinstall with 'pip install inlet' "
            "or use 'inlet receive CODE'.",
            file=sys.stderr,
        )
        return EXIT_FAILED
    quit_after = os.environ.get(QUIT_AFTER_ENV)
    if quit_after is not None:
        from .smoke import quit_when_seen

        quit_when_seen(make_application(), float(quit_after))
    return run_app(code=code, demo=demo)
