"""The event buffer between the receiver's thread and the window (no Qt involved)."""

import threading

import pytest

from inlet.core.events import FileProgress, FileStatus, FileStatusChanged, TransferStarted
from inlet.gui.coalesce import EventCoalescer, UpdateBatch


@pytest.mark.timeout(10)
def test_keeps_every_status_and_only_the_latest_progress():
    c = EventCoalescer()
    c.add(FileStatusChanged("a", FileStatus.IN_PROGRESS, FileStatus.PENDING))
    for held in range(0, 1001, 100):
        c.add(FileProgress("a", held, 1000))
    c.add(FileProgress("b", 5, 10))
    batch = c.take()
    assert [s.status for s in batch.statuses] == [FileStatus.IN_PROGRESS]
    assert batch.progress == {"a": 1000, "b": 5}
    assert not c.take()  # emptied


@pytest.mark.timeout(10)
def test_progress_before_a_status_change_stays_in_order_before_it():
    """A failed file shows how far it got; a file reset for a retry starts again from zero."""
    c = EventCoalescer()
    c.add(FileProgress("a", 500, 1000))
    c.add(FileProgress("a", 900, 1000))
    c.add(FileStatusChanged("a", FileStatus.FAILED, FileStatus.IN_PROGRESS, reason="hash"))
    c.add(FileStatusChanged("a", FileStatus.PENDING, FileStatus.FAILED))
    c.add(FileProgress("a", 10, 1000))
    batch = c.take()
    assert batch.events == (
        FileProgress("a", 900, 1000),
        FileStatusChanged("a", FileStatus.FAILED, FileStatus.IN_PROGRESS, reason="hash"),
        FileStatusChanged("a", FileStatus.PENDING, FileStatus.FAILED),
    )
    assert [s.status for s in batch.statuses] == [FileStatus.FAILED, FileStatus.PENDING]
    assert batch.progress == {"a": 10}


@pytest.mark.timeout(10)
def test_other_events_are_left_to_the_caller():
    c = EventCoalescer()
    assert not c.add(TransferStarted(files=(), total_size=0))
    assert not UpdateBatch()


@pytest.mark.timeout(30)
def test_concurrent_adds_and_takes_lose_nothing():
    c = EventCoalescer()
    total = 20_000
    seen: list[FileStatusChanged] = []
    done = threading.Event()

    def producer():
        for i in range(total):
            c.add(FileStatusChanged(f"f{i}", FileStatus.COMPLETED, FileStatus.IN_PROGRESS))
        done.set()

    thread = threading.Thread(target=producer)
    thread.start()
    while not done.is_set():
        seen.extend(c.take().statuses)
    thread.join()
    seen.extend(c.take().statuses)
    assert [s.name for s in seen] == [f"f{i}" for i in range(total)]
