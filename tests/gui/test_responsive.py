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
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication

from inlet.core.events import FileProgress, FileStatus, FileStatusChanged, TransferFinished
from inlet.gui.coalesce import UpdateBatch
from inlet.gui.drain import SLICE
from inlet.gui.model import RowSet, TransferModel
from inlet.gui.transfer_view import TransferView
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
        stage, start, build = model.stage, model.start, RowSet.for_transfer

        def counted_stage(batch) -> None:
            assert threading.current_thread() is threading.main_thread()
            self.slices.append(len(batch.events) + len(batch.progress))
            stage(batch)

        def counted_start(event, rowset=None) -> None:
            self.starts.append(rowset is not None)
            start(event, rowset)

        def recorded_build(event):
            self.built_in.append(threading.current_thread().name)
            return build(event)

        monkeypatch.setattr(model, "stage", counted_stage)
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


class ViewportPaints(QObject):
    """Counts the paint events of the table's viewport."""

    def __init__(self, viewport) -> None:
        super().__init__()
        self.count = 0
        viewport.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.count += 1
        return False

    def settle(self) -> None:
        """Let what is pending paint (the reset, the scroll bar it brought) until a few turns of
        the event loop paint nothing, then count from zero."""
        quiet = 0
        for _ in range(200):
            before = self.count
            QApplication.processEvents()
            quiet = quiet + 1 if self.count == before else 0
            if quiet == 5:
                break
        assert quiet == 5, "the view never stopped painting"
        self.count = 0


@pytest.mark.timeout(60)
def test_rows_changing_out_of_sight_do_not_repaint_the_rows_in_sight(qtbot):
    """Qt repaints the whole viewport for a changed span of rows out of sight; while 100,000
    files stream nearly every span is, and repainting what did not change was most of the GUI
    thread's time (bench/window.py)."""
    model = TransferModel()
    view = TransferView(model)
    qtbot.addWidget(view)
    view.resize(900, 400)
    view.show()
    qtbot.waitExposed(view)
    files = [(f"f{i:05}.bin", 1000) for i in range(2000)]
    model.start(started(*files))
    table = view.table
    qtbot.waitUntil(lambda: table.rowAt(0) == 0)
    last_seen = table.rowAt(table.viewport().height() - 1)
    assert 0 < last_seen < 1000
    paints = ViewportPaints(table.viewport())
    paints.settle()

    def receive(first: int, last: int) -> None:
        model.apply(UpdateBatch(progress={name: 500 for name, _ in files[first : last + 1]}))

    receive(1500, 1600)  # out of sight
    QApplication.processEvents()
    QApplication.processEvents()
    assert paints.count == 0
    receive(last_seen - 1, 1700)  # a span that reaches into sight is painted
    qtbot.waitUntil(lambda: paints.count > 0)
    assert model.row(1600).held == 500  # the rows out of sight changed all the same
    table.scrollTo(model.index(1600, 0))
    qtbot.waitUntil(lambda: table.rowAt(0) > 1000)
    cell = table.visualRect(model.index(1600, 0))
    assert cell.isValid() and table.viewport().rect().intersects(cell)
