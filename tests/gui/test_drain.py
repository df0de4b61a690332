"""The drain stages slices every turn but announces them (a repaint) a few times a second.

The drain is given a clock that moves a fixed step per look, so how many turns a backlog takes
does not depend on the machine.
"""

from __future__ import annotations

import itertools

import pytest

from inlet.core.events import FileStatus, FileStatusChanged
from inlet.gui.coalesce import UpdateBatch
from inlet.gui.drain import BUDGET, PUBLISH_INTERVAL, SLICE, BatchDrain


class SteppingClock:
    """``perf_counter`` that moves ``step`` seconds each time it is read."""

    def __init__(self, step: float) -> None:
        self.now, self.step = 1000.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def batch_of(count: int) -> UpdateBatch:
    return UpdateBatch(
        [
            FileStatusChanged(f"f{i}", FileStatus.IN_PROGRESS, FileStatus.PENDING)
            for i in range(count)
        ]
    )


@pytest.mark.timeout(60)
def test_a_long_backlog_is_published_a_few_times_not_once_a_turn(qtbot):
    clock = SteppingClock(BUDGET / 3)  # each turn stages a few slices, then yields
    log: list[tuple[str, float]] = []
    drain = BatchDrain(
        lambda piece: log.append(("stage", clock.now)),
        lambda: log.append(("publish", clock.now)),
        clock=clock,
    )
    turns: list[float] = []
    drain.applied.connect(lambda: turns.append(clock.now))
    with qtbot.waitSignal(drain.drained, timeout=30_000):
        drain.add(batch_of(200 * SLICE))
    staged = [t for kind, t in log if kind == "stage"]
    published = [t for kind, t in log if kind == "publish"]
    assert len(staged) == 200
    assert log[-1][0] == "publish", "the last slice was never announced"
    # many turns, few announcements: each at least PUBLISH_INTERVAL after the one before
    assert 3 <= len(published) < len(staged) / 4
    gaps = [b - a for a, b in itertools.pairwise(published[:-1])]  # the last may come sooner
    assert min(gaps) >= PUBLISH_INTERVAL
    assert turns == published  # the status bar follows each announcement, not each turn


@pytest.mark.timeout(60)
def test_a_batch_drained_in_one_turn_is_published_at_once(qtbot):
    clock = SteppingClock(0.0)  # a clock that stands still: every batch fits in one turn
    log: list[str] = []
    drain = BatchDrain(
        lambda piece: log.append("stage"), lambda: log.append("publish"), clock=clock
    )
    for _ in range(3):
        with qtbot.waitSignal(drain.drained, timeout=10_000):
            drain.add(batch_of(10))
    assert log == ["stage", "publish"] * 3
