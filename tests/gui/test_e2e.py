"""The real window against a real ``inlet send`` subprocess on loopback.

Each test pastes a code, picks the destination by dropping a folder, presses Receive and checks
rows, statuses and the bytes on disk. Every sender started here is stopped at teardown.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from inlet.core.events import TransferFinished
from inlet.gui.demo import SenderProcess, start_demo
from inlet.gui.model import Column, RowState
from inlet.gui.widgets import BannerKind
from inlet.gui.window import MainWindow

from .conftest import RecordingNotifier
from .test_responsive import COUNT, GuiWork
from .test_window import drop


@pytest.fixture
def senders():
    """Real ``inlet send`` processes (``senders(PATH, *flags)`` returns the code), started
    the way the demo starts its own; every one is stopped when the test ends."""
    started: list[SenderProcess] = []

    def start(*args: str | Path) -> str:
        sender = SenderProcess(*args)
        started.append(sender)
        return sender.start()

    start.processes = started
    yield start
    for sender in started:
        sender.stop()


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith(".transfer_lock")
    }


def prepare(qtbot, window: MainWindow, code: str, dest: Path) -> None:
    """Paste the code and drop the destination folder on the window, as a person would."""
    qtbot.mouseClick(window.code_edit, Qt.MouseButton.LeftButton)
    window.code_edit.clear()
    window.code_edit.insert(code)  # what a paste does
    assert not window.code_hint.isVisibleTo(window)
    drop(window, dest)
    folder = dest if dest.is_dir() else dest.parent  # a dropped file means its folder
    qtbot.waitUntil(lambda: window.destination == folder, timeout=10_000)


def press_receive(qtbot, window: MainWindow, timeout_ms: int = 60_000) -> TransferFinished:
    with qtbot.waitSignal(window.transferDone, timeout=timeout_ms) as blocker:
        qtbot.mouseClick(window.receive_button, Qt.MouseButton.LeftButton)
    return blocker.args[0]


def statuses(window: MainWindow) -> dict[str, str]:
    model = window.model
    return {
        model.row(i).name: model.data(model.index(i, Column.STATUS))
        for i in range(model.rowCount())
    }


@pytest.mark.timeout(120)
def test_receive_a_folder_with_subfolders(qtbot, window, senders, tmp_path):
    src = tmp_path / "album"
    files = {
        "album/readme.txt": b"hello\n",
        "album/photos/one.jpg": os.urandom(300_000),
        "album/photos/2024/two.jpg": os.urandom(1_200_000),
        "album/empty.dat": b"",
        "album/docs/a..b.txt": b"two dots are fine",
    }
    for name, data in files.items():
        write(tmp_path / name, data)
    dest = tmp_path / "received"
    dest.mkdir()
    code = senders(src)
    prepare(qtbot, window, code, dest)
    finished = press_receive(qtbot, window)
    assert finished.ok, finished.error
    assert tree(dest) == files
    assert statuses(window) == dict.fromkeys(files, "Done")
    assert window.model.counts() == (5, 0, 5)
    assert window.summary_label.text().startswith("5 of 5 files")
    assert window.banner.kind == BannerKind.SUCCESS
    # Open a received file through the desktop
    row = window.model.find("album/photos/2024/two.jpg")
    window.run_action(row, window.model.row(row).actions()[0])
    assert window.opened[-1].toLocalFile() == str(dest / "album" / "photos" / "2024" / "two.jpg")


def conflict_setup(tmp_path: Path) -> tuple[Path, Path, bytes]:
    """A sender folder whose last file already exists in the destination.

    A large first file gives the test time to flip the toggle after the rows appear.
    """
    new = b"the new notes\n"
    write(tmp_path / "share" / "a_big.bin", os.urandom(1 << 20) * 40)
    write(tmp_path / "share" / "z_notes.txt", new)
    dest = tmp_path / "dest"
    write(dest / "share" / "z_notes.txt", b"my old notes\n")
    return tmp_path / "share", dest, new


@pytest.mark.timeout(120)
def test_overwrite_toggle_on_replaces_the_existing_file(qtbot, window, senders, tmp_path):
    src, dest, new = conflict_setup(tmp_path)
    prepare(qtbot, window, senders(src), dest)
    qtbot.mouseClick(window.receive_button, Qt.MouseButton.LeftButton)
    model = window.model
    qtbot.waitUntil(lambda: model.find("share/z_notes.txt") is not None, timeout=30_000)
    row = model.find("share/z_notes.txt")
    assert model.row(row).conflict
    assert model.data(model.index(row, Column.STATUS)) == "Waiting (exists)"
    toggle = model.index(row, Column.OVERWRITE)
    with qtbot.waitSignal(window.transferDone, timeout=60_000) as blocker:
        assert model.setData(toggle, Qt.CheckState.Checked, Qt.ItemDataRole.CheckStateRole)
    assert blocker.args[0].ok, blocker.args[0].error
    assert (dest / "share" / "z_notes.txt").read_bytes() == new
    assert not (dest / "share" / "z_notes_1.txt").exists()
    assert model.data(model.index(row, Column.OVERWRITE)) == "Replaced"


@pytest.mark.timeout(120)
def test_overwrite_toggle_off_keeps_both(qtbot, window, senders, tmp_path):
    src, dest, new = conflict_setup(tmp_path)
    prepare(qtbot, window, senders(src), dest)
    finished = press_receive(qtbot, window)
    assert finished.ok, finished.error
    assert (dest / "share" / "z_notes.txt").read_bytes() == b"my old notes\n"
    assert (dest / "share" / "z_notes_1.txt").read_bytes() == new
    assert statuses(window)["share/z_notes.txt"] == "Saved as z_notes_1.txt"


@pytest.mark.timeout(180)
def test_cancel_then_resume_with_the_same_code(qtbot, window, senders, tmp_path):
    block = os.urandom(1 << 20)
    big = write(tmp_path / "movie" / "film.bin", block * 300)
    write(tmp_path / "movie" / "poster.jpg", os.urandom(50_000))
    dest = tmp_path / "dest"
    dest.mkdir()
    code = senders(tmp_path / "movie")
    prepare(qtbot, window, code, dest)
    qtbot.mouseClick(window.receive_button, Qt.MouseButton.LeftButton)
    model = window.model
    qtbot.waitUntil(
        lambda: (i := model.find("movie/film.bin")) is not None and model.row(i).held > 0,
        timeout=60_000,
    )
    with qtbot.waitSignal(window.transferDone, timeout=60_000) as blocker:
        qtbot.mouseClick(window.cancel_button, Qt.MouseButton.LeftButton)
    assert not blocker.args[0].ok and blocker.args[0].resumable
    film = model.row(model.find("movie/film.bin"))
    assert film.state != RowState.DONE, "the transfer ended before the cancel"
    assert window.banner.resume_button.isVisibleTo(window)
    assert "kept" in window.banner.text()
    assert (dest / ".transfer_lock.json").exists()
    # Resume: a new receive with the same code into the same folder
    resumed: list[dict[str, int]] = []
    window.worker.transferStarted.connect(lambda start: resumed.append(start.event.resumed))
    with qtbot.waitSignal(window.transferDone, timeout=120_000) as blocker:
        qtbot.mouseClick(window.banner.resume_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0].ok, blocker.args[0].error
    assert hashlib.sha256((dest / "movie" / "film.bin").read_bytes()).digest() == (
        hashlib.sha256(big.read_bytes()).digest()
    )
    assert (dest / "movie" / "poster.jpg").exists()
    assert statuses(window)["movie/film.bin"] == "Done"
    assert not (dest / ".transfer_lock.json").exists()


@pytest.mark.timeout(120)
def test_an_interrupted_transfer_is_listed_and_resumed_after_a_restart(
    qtbot, window, senders, settings, tmp_path
):
    """The sender is killed mid-transfer; a restarted sender has a new code; drop, edit, resume."""
    block = os.urandom(1 << 20)
    write(tmp_path / "data" / "big.bin", block * 300)
    dest = tmp_path / "dest"
    dest.mkdir()
    prepare(qtbot, window, senders(tmp_path / "data"), dest)
    qtbot.mouseClick(window.receive_button, Qt.MouseButton.LeftButton)
    model = window.model
    qtbot.waitUntil(
        lambda: (i := model.find("data/big.bin")) is not None and model.row(i).held > 0,
        timeout=60_000,
    )
    with qtbot.waitSignal(window.transferDone, timeout=60_000) as blocker:
        senders.processes[0].process.kill()  # the connection drops
    finished = blocker.args[0]
    assert not finished.ok and finished.resumable
    assert window.banner.kind == BannerKind.ERROR and window.banner.text()
    assert window.banner.resume_button.isVisibleTo(window)
    # a fresh window (as after a restart) finds the interrupted transfer in the folder
    again = MainWindow(settings=settings, notifier=RecordingNotifier())
    qtbot.addWidget(again)
    try:
        qtbot.waitUntil(lambda: again.banner.resume_button.isVisibleTo(again), timeout=10_000)
        assert "Interrupted transfer found here" in again.banner.text()
        assert again.model.rowCount() == 1
        new_code = senders(tmp_path / "data")
        again.code_edit.setText(new_code)
        with qtbot.waitSignal(again.transferDone, timeout=120_000) as blocker:
            qtbot.mouseClick(again.banner.resume_button, Qt.MouseButton.LeftButton)
        assert blocker.args[0].ok, blocker.args[0].error
        assert (dest / "data" / "big.bin").read_bytes() == block * 300
    finally:
        again.shutdown()


@pytest.mark.timeout(60)
def test_a_text_message_arrives_in_a_dialog(qtbot, window, senders, tmp_path):
    text = "The door code is 4711 — see you at eight."
    code = senders("--message", text)
    dest = tmp_path / "dest"
    dest.mkdir()
    prepare(qtbot, window, code, dest)
    finished = press_receive(qtbot, window)
    assert finished.ok, finished.error
    dialog = window.message_dialog
    assert dialog is not None and dialog.view.toPlainText() == text
    qtbot.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
    assert dialog.copy_button.text() == "Copied"
    dialog.close()
    assert not any(dest.iterdir())  # a message is shown, not saved


@pytest.mark.timeout(60)
def test_a_wrong_code_is_explained_in_the_window(qtbot, window, senders, tmp_path):
    code = senders(write(tmp_path / "f.txt", b"x"))
    host, port, _ = code.split(":")
    prepare(qtbot, window, f"{host}:{port}:wrong-token-here", tmp_path / "f.txt")
    finished = press_receive(qtbot, window)
    assert not finished.ok
    assert window.banner.kind == BannerKind.ERROR
    assert finished.error and finished.error in window.banner.text()


@pytest.mark.timeout(120)
def test_the_demo_end_to_end(qtbot, settings, tmp_path):
    session = start_demo(tmp_path, large=2_000_000)
    window = MainWindow(
        settings=settings, code=session.code, destination=str(session.dest),
        notifier=RecordingNotifier(),
    )  # fmt: skip
    qtbot.addWidget(window)
    try:
        qtbot.waitUntil(lambda: window.destination == session.dest, timeout=10_000)
        finished = press_receive(qtbot, window)
        assert finished.ok, finished.error
        readme = window.model.find("inlet-sample/README.txt")
        assert window.model.row(readme).conflict
        assert (session.dest / "inlet-sample" / "README_1.txt").exists()
        assert (session.dest / "inlet-sample" / "docs" / "empty.txt").stat().st_size == 0
        assert window.model.counts()[0] == window.model.rowCount() == 8
    finally:
        window.shutdown()
        session.stop()
    assert not session.sender.running


@pytest.mark.timeout(600)
def test_ten_thousand_real_files_in_bounded_gui_work(qtbot, window, senders, tmp_path, monkeypatch):
    """10,000 small files from a real sender: every one lands and its row says Done, and the GUI
    thread's model work comes in bounded slices (see test_responsive; the stall figure itself is
    ``python bench/window.py --files 10000``)."""
    src = tmp_path / "many"
    for i in range(COUNT):
        write(src / f"d{i // 100:03}" / f"f{i:05}.txt", os.urandom(600))
    dest = tmp_path / "dest"
    dest.mkdir()
    work = GuiWork(window, monkeypatch)
    prepare(qtbot, window, senders(src), dest)
    finished = press_receive(qtbot, window, timeout_ms=500_000)
    assert finished.ok, finished.error
    assert window.model.counts() == (COUNT, 0, COUNT)
    assert len(list(dest.rglob("*.txt"))) == COUNT
    work.check()


@pytest.mark.timeout(180)
def test_a_corrupted_file_fails_and_its_retry_button_gets_it_verified(
    qtbot, window, senders, tmp_path, monkeypatch
):
    """A file damaged on its way to disk (a bad disk or RAM, simulated by flipping a bit of
    every chunk written for it) fails verification after the engine's 3 attempts; the row says
    so and offers Retry; with the fault gone, a click on Retry gets it verified."""
    from PySide6.QtCore import QPoint

    from inlet.core.writer import FileWriter
    from inlet.gui.model import RowAction

    files = {"set/good.txt": b"fine\n" * 1000, "set/bad.bin": os.urandom(200_000)}
    for name, data in files.items():
        write(tmp_path / name, data)
    dest = tmp_path / "dest"
    dest.mkdir()
    damaged: list[int] = []
    original = FileWriter.write_chunk

    def faulty_write(self: FileWriter, data) -> int:
        if self.lock_key == "set/bad.bin" and len(data):
            damaged.append(len(data))
            data = bytes([data[0] ^ 0x01]) + bytes(data[1:])
        return original(self, data)

    monkeypatch.setattr(FileWriter, "write_chunk", faulty_write)
    prepare(qtbot, window, senders(tmp_path / "set"), dest)
    finished = press_receive(qtbot, window)
    assert not finished.ok
    assert "failed verification after 3 attempts: set/bad.bin" in finished.error
    assert len(damaged) >= 3  # each attempt was damaged
    row = window.model.find("set/bad.bin")
    assert statuses(window)["set/bad.bin"] == "Failed: hash mismatch"
    assert window.model.row(row).actions() == (RowAction.RETRY,)
    assert not (dest / "set" / "bad.bin").exists()
    assert (dest / "set" / "good.txt").read_bytes() == files["set/good.txt"]

    monkeypatch.setattr(FileWriter, "write_chunk", original)  # the fault is gone
    rect = window.table.visualRect(window.model.index(row, Column.ACTION))
    with qtbot.waitSignal(window.transferDone, timeout=60_000) as blocker:
        qtbot.mouseClick(
            window.table.viewport(),
            Qt.MouseButton.LeftButton,
            pos=QPoint(rect.left() + 12, rect.center().y()),
        )
    assert blocker.args[0].ok, blocker.args[0].error
    assert (dest / "set" / "bad.bin").read_bytes() == files["set/bad.bin"]
    assert statuses(window)["set/bad.bin"] == "Done"
    assert not (dest / "set" / "good_1.txt").exists()  # the verified file was not sent again
