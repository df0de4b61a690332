"""The GUI thread's share of 10,000 small files is bounded, whatever the machine's load.

How long the event loop stalls depends on the machine (other processes on a shared CI runner
stall any run); that figure is a benchmark: ``python bench/window.py --files 10000`` reports
the longest stall against its limit. The suite checks what does not depend on load: the rows
are built off the GUI thread and swapped in once, and every piece of model work the GUI thread
does in one go is a bounded slice, never a pass over every file.
"""

from __future__ import annotations

import threading
import time

import pytest

from inlet.core.events import FileProgress, FileStatus, FileStatusChanged, TransferFinished
from inlet.gui.drain import SLICE
from inlet.gui.model import RowSet
from inlet.gui.window import MainWindow

from .conftest import ReceiverFactory, ScriptedReceiver, started

COUNT = 10_000


def ten_thousand_files(r: ScriptedReceiver) -> None:
    """The events of 10,000 small files, as fast as Python can make them (progress reported
    for every file before any completes, so one batch holds thousands of byte counts)."""
    files = [(f"batch/{i // 100:03}/file{i:05}.txt", 5_900) for i in range(COUNT)]
    for name, _ in files:  # the lock registers every file before the list is accepted
        r.emit(FileStatusChanged(name, FileStatus.PENDING))
    r.emit(started(*files))
    for name, size in files:
        r.emit(FileProgress(name, size // 2, size))
    for name, size in files:
        r.emit(FileStatusChanged(name, FileStatus.IN_PROGRESS, FileStatus.PENDING))
        r.emit(FileProgress(name, size, size))
        r.emit(FileStatusChanged(name, FileStatus.COMPLETED, FileStatus.IN_PROGRESS))
        time.sleep(0)
    r.emit(TransferFinished(ok=True))


class GuiWork:
    """Records what the window's model does in the GUI thread."""

    def __init__(self, window: MainWindow, monkeypatch) -> None:
        self.slices: list[int] = []
        self.starts: list[bool] = []
        self.built_in: list[str] = []
        model = window.model
        apply, start, build = model.apply, model.start, RowSet.for_transfer

        def counted_apply(batch) -> None:
            assert threading.current_thread() is threading.main_thread()
            self.slices.append(len(batch.events) + len(batch.progress))
            apply(batch)

        def counted_start(event, rowset=None) -> None:
            self.starts.append(rowset is not None)
            start(event, rowset)

        def recorded_build(event):
            self.built_in.append(threading.current_thread().name)
            return build(event)

        monkeypatch.setattr(model, "apply", counted_apply)
        monkeypatch.setattr(model, "start", counted_start)
        monkeypatch.setattr(RowSet, "for_transfer", recorded_build)

    def check(self) -> None:
        assert self.starts == [True], "the rows were not built off the GUI thread"
        assert self.built_in and "MainThread" not in self.built_in
        assert self.slices and max(self.slices) <= SLICE, max(self.slices)


@pytest.mark.timeout(180)
def test_ten_thousand_files_reach_the_rows_in_bounded_slices(
    qtbot, settings, tmp_path, monkeypatch
):
    window = MainWindow(
        settings=settings,
        code="127.0.0.1:4242:ocean-tiger",
        destination=str(tmp_path),
        receiver_factory=ReceiverFactory(ten_thousand_files),
    )
    qtbot.addWidget(window)
    work = GuiWork(window, monkeypatch)
    qtbot.waitUntil(lambda: window.destination == tmp_path, timeout=10_000)
    with qtbot.waitSignal(window.transferDone, timeout=120_000) as blocker:
        assert window.start_receive()
    window.shutdown()
    assert blocker.args[0].ok
    assert window.model.counts() == (COUNT, 0, COUNT)
    assert window.summary_label.text().startswith(f"{COUNT:,} of {COUNT:,} files")
    work.check()
    assert sum(work.slices) >= 2 * COUNT  # every status change reached the rows
