"""The worker in its own QThread, with scripted receivers: signals, coalescing, commands."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, QThread, Signal, Slot

from inlet.core.codes import parse_code
from inlet.core.events import (
    FileProgress,
    FileStatus,
    FileStatusChanged,
    TransferFinished,
)
from inlet.core.lock import TransferLockManager
from inlet.core.paths import LOCK_FILENAME
from inlet.gui.qtcompat import emit
from inlet.gui.worker import TICK_SECONDS, ReceiveRequest, ReceiveWorker, inspect_folder

from .conftest import ReceiverFactory, ScriptedReceiver, block_until_cancelled, started

CODE = parse_code("127.0.0.1:1234:ocean-tiger")


class Harness(QObject):
    """Owns the thread; requests reach the worker queued, as from the window."""

    request = Signal(object)

    def __init__(self, factory) -> None:
        super().__init__()
        self.thread_of_gui = QThread.currentThread()
        self.thread = QThread()
        self.worker = ReceiveWorker(factory, options_factory=lambda r: r)
        self.worker.moveToThread(self.thread)
        self.request.connect(self.worker.receive)
        self.thread.start()
        self.events: list[tuple[str, object, float]] = []
        # Slots of an object in the GUI thread, as the window's are: the signals arrive queued,
        # in the GUI thread, in the order they were emitted.
        self.worker.transferStarted.connect(self.on_started)
        self.worker.updates.connect(self.on_updates)
        self.worker.transferFinished.connect(self.on_finished)

    def _log(self, kind: str, payload: object) -> None:
        assert QThread.currentThread() is self.thread_of_gui
        self.events.append((kind, payload, time.monotonic()))

    @Slot(object)
    def on_started(self, event: object) -> None:
        self._log("started", event)

    @Slot(object)
    def on_updates(self, batch: object) -> None:
        self._log("updates", batch)

    @Slot(object)
    def on_finished(self, event: object) -> None:
        self._log("finished", event)

    def stop(self) -> None:
        self.worker.cancel()
        self.thread.quit()
        self.thread.wait(10_000)


@pytest.fixture
def harness_for(qtbot):
    made: list[Harness] = []

    def make(script) -> tuple[Harness, ReceiverFactory]:
        factory = ReceiverFactory(script)
        harness = Harness(factory)
        made.append(harness)
        return harness, factory

    yield make
    for harness in made:
        harness.stop()


def run(qtbot, harness: Harness, dest: Path, **kw) -> TransferFinished:
    harness.worker.prepare()
    emit(harness.request, ReceiveRequest(CODE, dest, **kw))
    qtbot.waitUntil(lambda: any(k == "finished" for k, _, _ in harness.events), timeout=20_000)
    return harness.events[-1][1]


@pytest.mark.timeout(30)
def test_rows_arrive_before_their_statuses_and_the_end_comes_last(qtbot, harness_for, tmp_path):
    def script(r: ScriptedReceiver) -> None:
        r.emit(FileStatusChanged("a", FileStatus.PENDING))  # the lock speaks before the list
        r.emit(started(("a", 10)))
        r.emit(FileProgress("a", 10, 10))
        r.emit(FileStatusChanged("a", FileStatus.COMPLETED, FileStatus.PENDING))
        r.emit(TransferFinished(ok=True))

    harness, factory = harness_for(script)
    finished = run(qtbot, harness, tmp_path)
    assert finished.ok
    kinds = [k for k, _, _ in harness.events]
    assert kinds[0] == "started" and kinds[-1] == "finished"
    statuses = [s.status for k, b, _ in harness.events if k == "updates" for s in b.statuses]
    assert statuses == [FileStatus.PENDING, FileStatus.COMPLETED]
    receiver = factory.created[0]
    assert receiver.run_thread not in (None, threading.main_thread().name)
    assert receiver.dest == tmp_path and receiver.code == CODE


@pytest.mark.timeout(30)
def test_progress_is_coalesced_to_about_twenty_updates_a_second(qtbot, harness_for, tmp_path):
    files = [(f"f{i}", 1000) for i in range(50)]

    def script(r: ScriptedReceiver) -> None:
        r.emit(started(*files))
        deadline = time.monotonic() + 1.0
        n = 0
        while time.monotonic() < deadline:  # a flood of events for one second
            name, size = files[n % len(files)]
            r.emit(FileProgress(name, n % size, size))
            n += 1
        r.emit(TransferFinished(ok=True))

    harness, _ = harness_for(script)
    run(qtbot, harness, tmp_path)
    batches = [t for k, _, t in harness.events if k == "updates"]
    # hundreds of thousands of events, yet one batch per tick (plus the final flush)
    assert 5 <= len(batches) <= 1.0 / TICK_SECONDS + 3


@pytest.mark.timeout(30)
def test_cancel_reaches_a_blocked_receiver_off_the_gui_thread(qtbot, harness_for, tmp_path):
    harness, factory = harness_for(block_until_cancelled([("a", 100)]))
    with qtbot.waitSignal(harness.worker.transferStarted, timeout=10_000):
        harness.worker.prepare()
        emit(harness.request, ReceiveRequest(CODE, tmp_path))
    with qtbot.waitSignal(harness.worker.transferFinished, timeout=10_000) as blocker:
        harness.worker.cancel()  # from the GUI thread, while run() blocks the worker thread
    assert blocker.args[0].resumable
    receiver = factory.created[0]
    assert receiver.cancel_thread == "inlet-pump"  # the GUI thread never touched the socket


@pytest.mark.timeout(30)
def test_a_cancel_before_the_receive_starts_is_not_lost(qtbot, harness_for, tmp_path):
    harness, factory = harness_for(block_until_cancelled([("a", 100)]))
    harness.worker.prepare()
    harness.worker.cancel()
    with qtbot.waitSignal(harness.worker.transferFinished, timeout=10_000):
        emit(harness.request, ReceiveRequest(CODE, tmp_path))
    assert factory.created[0].cancelled.is_set()


@pytest.mark.timeout(30)
def test_overwrite_choices_reach_the_receiver_before_and_during_the_run(
    qtbot, harness_for, tmp_path
):
    seen_during: dict[str, bool] = {}

    def script(r: ScriptedReceiver) -> None:
        r.emit(started(("a", 1), ("b", 1)))
        assert r.cancelled.wait(10)
        seen_during.update(r.overwrite)
        r.emit(TransferFinished(ok=False, error="cancelled", resumable=True))

    harness, _ = harness_for(script)
    with qtbot.waitSignal(harness.worker.transferStarted, timeout=10_000):
        harness.worker.prepare()
        emit(harness.request, ReceiveRequest(CODE, tmp_path, overwrite={"a": True}))
    harness.worker.set_overwrite("b", True)
    with qtbot.waitSignal(harness.worker.transferFinished, timeout=10_000):
        harness.worker.cancel()
    assert seen_during == {"a": True, "b": True}


@pytest.mark.timeout(30)
def test_a_crash_in_the_receiver_still_ends_the_session_in_words(qtbot, harness_for, tmp_path):
    def script(r: ScriptedReceiver) -> None:
        raise RuntimeError("boom")

    harness, _ = harness_for(script)
    finished = run(qtbot, harness, tmp_path)
    assert not finished.ok and "boom" in finished.error and finished.resumable


@pytest.mark.timeout(30)
def test_rows_follow_the_engines_verdict_on_conflicts(qtbot, harness_for, tmp_path, monkeypatch):
    """The engine resolved conflicts against the destination: the worker does not look again
    (100,000 more looks at the disk, and a second opinion that can differ)."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "exists.txt").write_text("old")
    looked: list[str] = []
    lexists = os.path.lexists
    monkeypatch.setattr(os.path, "lexists", lambda p: looked.append(p) or lexists(p))

    def script(r: ScriptedReceiver) -> None:
        r.emit(started(("docs/exists.txt", 3), ("docs/new.txt", 3), resumed={"docs/exists.txt": 1}))
        r.emit(TransferFinished(ok=True))

    harness, _ = harness_for(script)
    run(qtbot, harness, tmp_path)
    start = next(p for k, p, _ in harness.events if k == "started")
    assert start.event.conflicts == frozenset()
    assert [row.conflict for row in start.rows.rows] == [False, False]
    assert looked == []


def make_lock(folder: Path) -> None:
    """An interrupted transfer made through the core's own lock manager."""
    manager = TransferLockManager(folder)
    manager.start([("a.txt", 10), ("sub/b.bin", 100), ("c", 5)], sender_ip="127.0.0.1")
    manager.mark_completed("a.txt", "0" * 64)
    manager.mark_in_progress("sub/b.bin")
    manager.flush()


@pytest.mark.timeout(30)
def test_inspect_a_folder_with_an_interrupted_transfer(tmp_path):
    make_lock(tmp_path)
    info = inspect_folder(str(tmp_path))
    assert info.folder == tmp_path and info.error is None
    saved = {f.name: f.status for f in info.interrupted.files}
    assert saved == {
        "a.txt": FileStatus.COMPLETED,
        "sub/b.bin": FileStatus.IN_PROGRESS,
        "c": FileStatus.PENDING,
    }
    assert "1 done" in info.interrupted.describe()


@pytest.mark.timeout(30)
def test_inspect_a_dropped_file_means_its_folder(tmp_path):
    (tmp_path / "photo.jpg").write_bytes(b"x")
    info = inspect_folder(str(tmp_path / "photo.jpg"))
    assert info.folder == tmp_path and info.interrupted is None


@pytest.mark.timeout(30)
def test_inspect_reports_a_missing_folder_and_a_broken_lock(tmp_path):
    assert inspect_folder(str(tmp_path / "nope")).error.startswith("The folder")
    (tmp_path / LOCK_FILENAME).write_text("{ not json")
    info = inspect_folder(str(tmp_path))
    assert info.folder == tmp_path and info.error and info.interrupted is None


@pytest.mark.timeout(30)
def test_discard_in_the_worker_thread(qtbot, harness_for, tmp_path):
    make_lock(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.bin.part").write_bytes(b"12345")
    (tmp_path / "a.txt").write_text("kept")
    harness, _ = harness_for(lambda r: None)
    done = []
    harness.worker.discarded.connect(lambda folder, error: done.append((folder, error)))

    class Sender(QObject):
        discard = Signal(str)

    sender = Sender()
    sender.discard.connect(harness.worker.discard)
    with qtbot.waitSignal(harness.worker.discarded, timeout=10_000):
        emit(sender.discard, str(tmp_path))
    assert done == [(str(tmp_path), "")]
    assert not (tmp_path / LOCK_FILENAME).exists()
    assert not (tmp_path / "sub" / "b.bin.part").exists()
    assert (tmp_path / "a.txt").read_text() == "kept"
