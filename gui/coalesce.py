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

    ``events`` keeps every lock transition in order (none may be lost: each moves a counter),
    each preceded by the last byte count its file reported before it (a failed file keeps
    showing how far it got). ``progress`` keeps only the latest byte count per file reported
    *after* that file's last transition, so applying ``events`` first and ``progress`` second
    replays the receiver faithfully with at most one progress entry per transition.
    """

    events: tuple[FileStatusChanged | FileProgress, ...] = ()
    progress: dict[str, int] = field(default_factory=dict)

    @property
    def statuses(self) -> list[FileStatusChanged]:
        return [e for e in self.events if isinstance(e, FileStatusChanged)]

    def __bool__(self) -> bool:
        return bool(self.events or self.progress)


class EventCoalescer:
    """A thread-safe buffer of status changes and the latest progress per file."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: list[FileStatusChanged | FileProgress] = []
        self._progress: dict[str, FileProgress] = {}

    def add(self, event: object) -> bool:
        """Buffer ``event``; False when it is not a per-file event (the caller handles it)."""
        if isinstance(event, FileProgress):
            with self._lock:
                self._progress[event.name] = event
            return True
        if isinstance(event, FileStatusChanged):
            with self._lock:
                before = self._progress.pop(event.name, None)
                if before is not None:
                    self._events.append(before)
                self._events.append(event)
            return True
        return False

    def take(self) -> UpdateBatch:
        """Everything buffered so far, leaving the buffer empty."""
        with self._lock:
            events, progress = self._events, self._progress
            self._events, self._progress = [], {}
        return UpdateBatch(tuple(events), {name: p.held for name, p in progress.items()})
