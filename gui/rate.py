"""The window's numbers: one rounding rule for every percentage, and a speed and time left
from a rolling window of samples.

Every bar and text in the window (a row's bar, its status, the overall bar, the title) goes
through `percent`, so two of them never disagree by a point; 100 % means every byte is here.
"""

from __future__ import annotations

import math
from collections import deque

from inlet.core.progress import format_duration, format_size


def percent(held: int, size: int) -> int:
    """``held`` of ``size`` in whole percent, rounded down (99 % until the last byte)."""
    if size <= 0:
        return 100 if held >= size else 0
    return max(0, min(100, held * 100 // size))


def percent_text(held: int, size: int) -> str:
    return f"{percent(held, size)} %"


class RateWindow:
    """Bytes held over the last ``seconds``: the speed, and the time left at that speed.

    A rolling window rather than the average since the start, so a pause or a burst shows
    within seconds; no estimate until the window spans a second, and never "0 s left" while
    bytes are missing.
    """

    def __init__(self, seconds: float = 10.0) -> None:
        self.seconds = seconds
        self._samples: deque[tuple[float, int]] = deque()

    def clear(self) -> None:
        self._samples.clear()

    def add(self, now: float, held: int) -> None:
        samples = self._samples
        if samples and held < samples[-1][1]:
            samples.clear()  # bytes went away (a retry starts over): old samples mislead
        samples.append((now, held))
        while len(samples) > 2 and now - samples[1][0] >= self.seconds:
            samples.popleft()

    @property
    def speed(self) -> float:
        """Bytes per second over the window (0 until it spans a second)."""
        if len(self._samples) < 2:
            return 0.0
        (t0, b0), (t1, b1) = self._samples[0], self._samples[-1]
        return (b1 - b0) / (t1 - t0) if t1 - t0 >= 1.0 else 0.0

    def eta_seconds(self, total: int) -> int | None:
        """Whole seconds left (at least 1 while bytes are missing), or None when unknown."""
        if not self._samples:
            return None
        missing = total - self._samples[-1][1]
        speed = self.speed
        if missing <= 0 or speed <= 0:
            return None
        return max(1, math.ceil(missing / speed))

    def eta_text(self, total: int) -> str | None:
        eta = self.eta_seconds(total)
        return None if eta is None else f"{format_duration(eta)} left"

    def speed_text(self) -> str | None:
        speed = self.speed
        return f"{format_size(speed)}/s" if speed > 0 else None
