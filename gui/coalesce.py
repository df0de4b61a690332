"""Collect the receiver's events between two screen updates, so the window redraws in bursts.

The receiver reports a `FileProgress` for every chunk and a `FileStatusChanged` for every lock
transition: tens of thousands of events for 10,000 small files. Posting each one to the GUI
thread would flood its event queue and stall it. The worker thread adds events here instead, and
a pump hands the whole buffer over at most ~20 times a second as one `UpdateBatch`.

Pure Python and thread-safe, so it is tested without Qt.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from inlet.core.events import FileProgress, FileStatusChanged


@dataclass(frozen=True)
class UpdateBatch:
    """Everything that changed since the last batch.

    ``statuses`` keeps every lock transition in order (none may be lost: each moves a counter);
    ``progress`` keeps only the latest byte count per file, and only counts reported *after* that
    file's last status change in this batch, so applying statuses first and progress second
    replays the events faithfully.
    """

    statuses: tuple[FileStatusChanged, ...] = ()
    progress: dict[str, int] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.statuses or self.progress)


class EventCoalescer:
    """A thread-safe buffer of status changes and the latest progress per file."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._statuses: list[FileStatusChanged] = []
        self._progress: dict[str, int] = {}

    def add(self, event: object) -> bool:
        """Buffer ``event``; False when it is not a per-file event (the caller handles it)."""
        if isinstance(event, FileProgress):
            with self._lock:
                self._progress[event.name] = event.held
            return True
        if isinstance(event, FileStatusChanged):
            with self._lock:
                # Progress reported before this transition is superseded by it (a completed file
                # is full, a reset one starts again from zero).
                self._progress.pop(event.name, None)
                self._statuses.append(event)
            return True
        return False

    def take(self) -> UpdateBatch:
        """Everything buffered so far, leaving the buffer empty."""
        with self._lock:
            batch = UpdateBatch(tuple(self._statuses), self._progress)
            self._statuses = []
            self._progress = {}
        return batch
