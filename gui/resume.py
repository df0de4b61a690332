"""What an interrupted transfer left in a folder, in the shape the window lists and summarizes.

The lock file belongs to the core (`inlet.core.lock.TransferLockManager`); this module only
asks it. The window calls these from the worker thread, since they read and delete files.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from inlet.core.errors import LockFileError
from inlet.core.events import FileStatus
from inlet.core.lock import LockSummary, TransferLockManager


@dataclass(frozen=True)
class SavedFile:
    """One file's saved state: ``held`` bytes of ``size`` are on disk and vouched for."""

    name: str
    size: int
    status: FileStatus
    held: int = 0
    reason: str | None = None
    final_path: str | None = None


@dataclass(frozen=True)
class InterruptedTransfer:
    """The resume state found in a destination folder."""

    folder: Path
    files: tuple[SavedFile, ...]
    summary: LockSummary

    def describe(self) -> str:
        """``12 done, 1 partial, 3 waiting`` (the core's wording)."""
        return self.summary.describe()


def read_interrupted(folder: Path) -> InterruptedTransfer | None:
    """The interrupted transfer in ``folder``; None when there is none (or it is stale).

    Raises LockFileError when a lock file is there but cannot be read, so the window can offer to
    discard it instead of pretending nothing is there.
    """
    manager = TransferLockManager(folder)
    if not manager.load():
        return None
    files = []
    for name in manager.names():
        entry = manager.entry(name)
        assert entry is not None
        # a partial file counts only the prefix the lock can vouch for
        done = entry.status == FileStatus.COMPLETED
        held = entry.size if done else manager.resume_bytes(name)
        files.append(
            SavedFile(
                name=name,
                size=entry.size,
                status=entry.status,
                held=held,
                reason=entry.reason,
                final_path=entry.final_path,
            )
        )
    return InterruptedTransfer(folder=Path(folder), files=tuple(files), summary=manager.summary())


def discard_interrupted(folder: Path) -> list[Path]:
    """Forget the interrupted transfer: its ``.part`` files and resume state (completed files stay).

    The lock manager deletes only regular ``.part`` files of names that are safe inside the
    folder (invariant 1), and copes with a lock it cannot read.
    """
    manager = TransferLockManager(folder)
    with contextlib.suppress(LockFileError):  # a broken lock is exactly what Discard is for
        manager.load()
    return manager.discard()
