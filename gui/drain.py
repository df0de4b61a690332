"""Apply the worker's batches to the model in slices, so no turn of the event loop stalls.

A batch from 10,000 small files can hold tens of thousands of events; applied at once it would
freeze the window for a few hundred milliseconds. `BatchDrain` applies at most ``SLICE`` events
(or byte counts) at a time and looks at the clock between slices; past ``BUDGET`` it lets the
event loop paint and handle input before it goes on.

Applying and announcing are apart: slices are *staged* into the model, which is published (its
``dataChanged``, so a repaint of the visible rows) when the backlog is empty, or at most every
``PUBLISH_INTERVAL`` while it drains. With a repaint per turn, a slower turn would mean more
turns per batch, so more repaints, so slower turns (the table repaints only rows in sight:
`transfer_view._Table.dataChanged`).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from .coalesce import UpdateBatch
from .qtcompat import emit

BUDGET = 0.012  # seconds of model updates per turn of the event loop
SLICE = 250  # events (or byte counts) applied between two looks at the clock
PUBLISH_INTERVAL = 0.1  # seconds between two announcements while a backlog drains


class _Queued:
    """One batch being applied: its events first, then its latest byte counts."""

    __slots__ = ("events", "offset", "progress")

    def __init__(self, batch: UpdateBatch) -> None:
        self.events = batch.events
        self.progress = list(batch.progress.items())
        self.offset = 0  # over events, then progress

    def next_slice(self) -> UpdateBatch | None:
        n_events = len(self.events)
        start = self.offset
        if start < n_events:
            self.offset = min(n_events, start + SLICE)
            return UpdateBatch(self.events[start : self.offset])
        start -= n_events
        if start < len(self.progress):
            end = min(len(self.progress), start + SLICE)
            self.offset = n_events + end
            return UpdateBatch(progress=dict(self.progress[start:end]))
        return None


class BatchDrain(QObject):
    """A backlog of batches staged through ``stage`` a slice at a time and announced through
    ``publish``."""

    #: the staged slices were published (the status bar follows)
    applied = Signal()
    #: the backlog is empty again
    drained = Signal()

    def __init__(
        self,
        stage: Callable[[UpdateBatch], None],
        publish: Callable[[], None],
        parent: QObject | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ):
        super().__init__(parent)
        self._stage = stage
        self._publish = publish
        self._clock = clock
        self._published = -PUBLISH_INTERVAL  # the clock's reading at the last publish
        self._backlog: deque[_Queued] = deque()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._drain)

    @property
    def pending(self) -> bool:
        return bool(self._backlog)

    def add(self, batch: UpdateBatch) -> None:
        self._backlog.append(_Queued(batch))
        if not self._timer.isActive():
            self._timer.start()

    def _drain(self) -> None:
        deadline = self._clock() + BUDGET
        while self._backlog and self._clock() < deadline:
            piece = self._backlog[0].next_slice()
            if piece is None:
                self._backlog.popleft()
            else:
                self._stage(piece)
        now = self._clock()
        if not self._backlog or now - self._published >= PUBLISH_INTERVAL:
            self._published = now
            self._publish()
            emit(self.applied)
        if self._backlog:
            self._timer.start()
        else:
            emit(self.drained)
