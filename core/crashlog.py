"""What happens when Inlet itself has a bug: one clear sentence for the person, the traceback
in a log file in the user's state folder (``$XDG_STATE_HOME/inlet``, ``~/.local/state/inlet``
by default; ``%LOCALAPPDATA%\\inlet`` on Windows), never a traceback on the terminal."""

from __future__ import annotations

import os
import sys
import traceback
from datetime import datetime
from pathlib import Path


def state_folder() -> Path:
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = str(Path.home() / "Library" / "Logs")
    else:
        base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "inlet"


def log_exception(err: BaseException) -> Path | None:
    """Append ``err``'s traceback to ``inlet.log`` in the state folder; None if it cannot."""
    path = state_folder() / "inlet.log"
    text = "".join(traceback.format_exception(type(err), err, err.__traceback__))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8", errors="backslashreplace") as log:
            log.write(f"--- {datetime.now().isoformat(timespec='seconds')}\n{text}\n")
    except OSError:
        return None
    return path


def unexpected_error(err: BaseException) -> str:
    """The one sentence a person sees for an error Inlet did not foresee (its traceback is
    logged); what was received is kept for resume."""
    where = log_exception(err)
    detail = f" The details are in {where}." if where else ""
    return (
        f"Inlet hit an unexpected problem ({type(err).__name__}) and stopped; everything "
        f"received so far is kept: receive again into the same folder to resume.{detail}"
    )
