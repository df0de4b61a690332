"""Overall progress of a transfer from the receiver's events: totals, speed, ETA, and words.

Shared by the terminal progress line and the window's status bar, so both say the same thing.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import TextIO

from .events import FileProgress, FilesAdded, FileStatus, FileStatusChanged, TransferStarted


def format_size(n: float) -> str:
    """Bytes in the units a person reads: ``0 B``, ``1.1 KB``, ``4.2 MB``, ``1.2 GB``."""
    if n < 1000:
        return f"{int(n)} B"
    for unit in ("KB", "MB", "GB", "TB"):
        n /= 1000
        if n < 1000 or unit == "TB":
            return f"{n:.1f} {unit}"
    raise AssertionError("unreachable")


def plural(n: int, noun: str) -> str:
    """``1 file``, ``3 files``, ``1,000 files``: never "file(s)"."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def format_sizes_apart(a: int, b: int) -> tuple[str, str]:
    """Two sizes a person can tell apart: "needs 2.5 MB, has 2.5 MB" would read as enough, so
    sizes that round alike are given in bytes."""
    shown = format_size(a), format_size(b)
    return shown if shown[0] != shown[1] else (f"{a:,} bytes", f"{b:,} bytes")


def format_duration(seconds: float) -> str:
    """``9 s``, ``4 min 10 s``, ``2 h 5 min``."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


class TransferTotals:
    """Running totals of one transfer, fed with core events; speed over a sliding window."""

    WINDOW_SECONDS = 3.0

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.total_bytes = 0
        self.total_files = 0
        self._expected_files = self._added = 0  # a folder whose rows come as it streams
        self.done_files = 0
        self.failed_files = 0
        self._held: dict[str, int] = {}
        self.held_bytes = 0
        self._samples: deque[tuple[float, int]] = deque()

    def handle(self, event: object) -> None:
        if isinstance(event, TransferStarted):
            self.total_bytes = event.total_size
            self._added, self._expected_files = len(event.files), event.expected_files
            self.total_files = max(self._added, self._expected_files)
            self._held = {f.name: event.resumed.get(f.name, 0) for f in event.files}
            self.held_bytes = sum(self._held.values())
            self.done_files = self.failed_files = 0
            self._samples.clear()
            self._sample()
        elif isinstance(event, FilesAdded):  # a wormhole folder's files, as they stream
            self._added += len(event.files)
            self.total_files = max(self._added, self._expected_files)
        elif isinstance(event, FileProgress):
            before = self._held.get(event.name, 0)
            self._held[event.name] = event.held
            self.held_bytes += event.held - before
            self._sample()
        elif isinstance(event, FileStatusChanged):
            if event.status == FileStatus.COMPLETED:
                self.done_files += 1
            elif event.status == FileStatus.FAILED:
                self.failed_files += 1
            if event.previous == FileStatus.COMPLETED:
                self.done_files -= 1
            elif event.previous == FileStatus.FAILED:
                self.failed_files -= 1

    def _sample(self) -> None:
        now = self._clock()
        self._samples.append((now, self.held_bytes))
        while len(self._samples) > 2 and now - self._samples[0][0] > self.WINDOW_SECONDS:
            self._samples.popleft()

    @property
    def fraction(self) -> float:
        return 1.0 if self.total_bytes == 0 else min(1.0, self.held_bytes / self.total_bytes)

    @property
    def speed(self) -> float:
        """Bytes per second over the last few seconds (0 until two samples exist)."""
        if len(self._samples) < 2:
            return 0.0
        (t0, b0), (t1, b1) = self._samples[0], self._samples[-1]
        return (b1 - b0) / (t1 - t0) if t1 > t0 else 0.0

    @property
    def eta_seconds(self) -> float | None:
        speed = self.speed
        if speed <= 0:
            return None
        return max(0.0, (self.total_bytes - self.held_bytes) / speed)

    def summary(self) -> str:
        """``37 of 120 files - 1.4 of 3.2 GB - 210 MB/s - 9 s left``."""
        return summary_text(
            self.done_files, self.total_files, self.held_bytes, self.total_bytes,
            failed=self.failed_files, speed=self.speed, eta=self.eta_seconds,
        )  # fmt: skip


def summary_text(
    done: int,
    total_files: int,
    held: int,
    total_bytes: int,
    *,
    failed: int = 0,
    speed: float = 0.0,
    eta: float | None = None,
) -> str:
    """The one-line summary the terminal and the window's status bar both show."""
    counted = f"{done:,} of {plural(total_files, 'file')}"
    parts = [counted, f"{format_size(held)} of {format_size(total_bytes)}"]
    if speed > 0:
        parts.append(f"{format_size(speed)}/s")
    if eta is not None and held < total_bytes:
        parts.append(f"{format_duration(eta)} left")
    if failed:
        parts.append(f"{failed} failed")
    return " - ".join(parts)


class TerminalProgress:
    """One self-overwriting progress line on a terminal, redrawn at most 10 times a second."""

    def __init__(self, stream: TextIO, clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.totals = TransferTotals(clock)
        self._clock = clock
        self._last_draw = float("-inf")
        self._width = 0
        self._message = False

    def handle(self, event: object) -> None:
        if isinstance(event, TransferStarted) and event.is_message:
            self._message = True  # a text message is printed, not counted: no line for it
        if self._message:
            return
        self.totals.handle(event)
        now = self._clock()
        if now - self._last_draw >= 0.1 or isinstance(event, TransferStarted):
            self._draw()
            self._last_draw = now

    def _draw(self) -> None:
        line = f"{self.totals.fraction * 100:5.1f}%  {self.totals.summary()}"
        self.stream.write("\r" + line.ljust(self._width))
        self.stream.flush()
        self._width = len(line)

    def finish(self) -> None:
        if self._width:
            self._draw()
            self.stream.write("\n")
            self.stream.flush()
