"""What the window asks before a step that loses data: what is kept and what is lost, in
numbers (DESIGN: data never goes with one click). Pure functions of what the rows show."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from inlet.core.progress import format_size, plural

from .model import FileRow, RowState


def discard_question(rows: Sequence[FileRow], folder: Path | None) -> str:
    """Discard deletes the unfinished files of an interrupted transfer in ``folder``."""
    if not rows:  # a lock file that cannot be read: nothing listed
        return (
            f"The unfinished (.part) files and the resume state in {folder} will be "
            "deleted; completed files stay."
        )
    unfinished = [r for r in rows if r.state not in (RowState.DONE, RowState.ALREADY_HERE)]
    held = sum(r.held for r in unfinished)
    got = f"{format_size(held)} received so far" if held else "nothing received yet"
    done = len(rows) - len(unfinished)
    stays = "stays" if done == 1 else "stay"
    return (
        f"{plural(len(unfinished), 'unfinished file')} ({got}) will be deleted from "
        f"{folder}; receiving them again starts from the beginning. "
        f"{plural(done, 'completed file')} {stays}."
    )


def quit_question(done: int, total: int, folder: Path | None) -> str:
    """Quitting stops a running receive into ``folder`` (``done`` of ``total`` files in)."""
    return (
        f"A transfer is still running ({done} of {plural(total, 'file')} received). If you "
        f"quit, everything received so far is kept in {folder}: receive again into that "
        "folder with the sender's code to resume. The files still missing arrive only then."
    )
