"""What an interrupted transfer left in a folder, told in a way the window can list and summarize.

The window calls these only from the worker thread (they read and delete files). The lock file's
format belongs to the core (`inlet.core.lock`); this module asks the core's lock manager for
its summary when it offers one, and otherwise reads the documented ftransfer format itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from inlet.core.errors import LockFileError, UnsafeNameError
from inlet.core.events import FileStatus
from inlet.core.paths import (
    JOURNAL_FILENAME,
    LOCK_FILENAME,
    part_path,
    resolve_destination,
)


@dataclass(frozen=True)
class SavedFile:
    """One file's saved state: ``held`` bytes of ``size`` are on disk and vouched for."""

    name: str
    size: int
    status: FileStatus
    held: int = 0

    @property
    def partial(self) -> bool:
        return self.status != FileStatus.COMPLETED and self.held > 0


@dataclass(frozen=True)
class InterruptedTransfer:
    """The resume state found in a destination folder."""

    folder: Path
    files: tuple[SavedFile, ...]
    sender: str | None = None

    @property
    def done(self) -> int:
        return sum(f.status == FileStatus.COMPLETED for f in self.files)

    @property
    def failed(self) -> int:
        return sum(f.status == FileStatus.FAILED for f in self.files)

    @property
    def partial(self) -> int:
        return sum(f.partial and f.status != FileStatus.FAILED for f in self.files)

    @property
    def waiting(self) -> int:
        return len(self.files) - self.done - self.failed - self.partial

    def summary(self) -> str:
        """``12 done, 1 partial, 3 waiting`` (zero counts left out, except when all are zero)."""
        parts = [
            f"{count} {word}"
            for count, word in (
                (self.done, "done"),
                (self.partial, "partial"),
                (self.waiting, "waiting"),
                (self.failed, "failed"),
            )
            if count
        ]
        return ", ".join(parts) or "no files"


def read_interrupted(folder: Path) -> InterruptedTransfer | None:
    """The interrupted transfer in ``folder``, or None when there is none.

    Raises LockFileError when a lock file is there but cannot be read, so the window can offer to
    discard it instead of pretending nothing is there.
    """
    lock_path = Path(folder) / LOCK_FILENAME
    if not lock_path.is_file():
        return None
    try:
        data = json.loads(lock_path.read_text(encoding="utf-8"))
        entries = data["files"]
        if not isinstance(entries, dict):
            raise TypeError("files is not an object")
        files = tuple(_saved_file(name, entry) for name, entry in sorted(entries.items()))
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise LockFileError(f"The resume state in {lock_path} cannot be read ({err}).") from err
    sender = data.get("sender_ip") if isinstance(data.get("sender_ip"), str) else None
    return InterruptedTransfer(folder=Path(folder), files=files, sender=sender)


def _saved_file(name: str, entry: dict) -> SavedFile:
    status = FileStatus(entry.get("status", FileStatus.PENDING.value))
    size = int(entry.get("size", 0))
    held = size if status == FileStatus.COMPLETED else int(entry.get("transferred_bytes", 0))
    return SavedFile(name=name, size=size, status=status, held=max(0, min(held, size)))


def discard_interrupted(folder: Path) -> None:
    """Forget the interrupted transfer in ``folder``: its unfinished files and its resume state.

    Completed files stay. Each ``.part`` file is located through the same safe-path rules as
    when it was written, so nothing outside the folder can be deleted (invariant 1).
    """
    folder = Path(folder)
    try:
        saved = read_interrupted(folder)
    except LockFileError:
        saved = None  # unreadable: still remove it, that is what Discard promises
    for file in saved.files if saved else ():
        if file.status == FileStatus.COMPLETED:
            continue
        try:
            part = part_path(resolve_destination(folder, file.name))
        except UnsafeNameError:
            continue
        if part.is_file() and not part.is_symlink():
            part.unlink()
    for name in (LOCK_FILENAME, JOURNAL_FILENAME, LOCK_FILENAME + ".tmp"):
        path = folder / name
        if path.is_file() or path.is_symlink():
            path.unlink()
