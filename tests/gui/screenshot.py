"""Render the window in the middle of a (scripted) transfer: ``python -m tests.gui.screenshot OUT``.

It makes ``docs/screenshot.png`` and lets a person check that every row and button reads well.
The events go through the real worker thread, coalescer and model; only the network is scripted.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QCoreApplication, QSettings
from PySide6.QtWidgets import QApplication

from inlet.core.events import (
    FileInfo,
    FileProgress,
    FileStatus,
    FileStatusChanged,
    TransferFinished,
    TransferStarted,
)
from inlet.gui.window import MainWindow

MB = 1_000_000
FILES = [
    ("photos/IMG_0001.jpg", 4_200_000),
    ("photos/IMG_0002.jpg", 3_900_000),
    ("photos/IMG_0003.jpg", 4_100_000),
    ("notes/todo.txt", 1_100),
    ("notes/report.pdf", 820_000),
    ("video.mp4", 120 * MB),
    ("music/track01.flac", 31 * MB),
    ("music/track02.flac", 28 * MB),
    ("empty.txt", 0),
]


def mid_transfer(release: threading.Event):
    """A receiver script that leaves rows in every state, then waits."""

    def script(r) -> None:
        dest = r.dest
        r.emit(
            TransferStarted(
                files=tuple(FileInfo(n, s) for n, s in FILES),
                total_size=sum(s for _, s in FILES),
                conflicts=frozenset({"notes/todo.txt", "notes/report.pdf"}),
                already_done=frozenset({"empty.txt"}),
            )
        )

        def status(name, new, old, **kw):
            r.emit(FileStatusChanged(name, new, old, **kw))

        ip, pend = FileStatus.IN_PROGRESS, FileStatus.PENDING
        for name, size in FILES[:2]:
            status(name, ip, pend)
            r.emit(FileProgress(name, size, size))
            status(name, FileStatus.COMPLETED, ip, final_path=str(dest / name))
        status("notes/report.pdf", ip, pend)
        r.emit(FileProgress("notes/report.pdf", 820_000, 820_000))
        status(
            "notes/report.pdf",
            FileStatus.COMPLETED,
            ip,
            final_path=str(dest / "notes" / "report_1.pdf"),
        )
        status("photos/IMG_0003.jpg", ip, pend)
        r.emit(FileProgress("photos/IMG_0003.jpg", 4_100_000, 4_100_000))  # verifying
        status("video.mp4", ip, pend)
        r.emit(FileProgress("video.mp4", 73 * MB, 120 * MB))
        status("music/track01.flac", ip, pend)
        r.emit(FileProgress("music/track01.flac", 9 * MB, 31 * MB))
        status("music/track01.flac", FileStatus.FAILED, ip, reason="hash mismatch")
        release.wait(30)
        r.emit(TransferFinished(ok=False, error="cancelled", resumable=True))

    return script


class _Receiver:
    def __init__(self, script, code, dest, options, on_event) -> None:
        self.script, self.dest, self.on_event = script, Path(dest), on_event

    def emit(self, event) -> None:
        self.on_event(event)

    def cancel(self) -> None:
        pass

    def set_overwrite(self, name, value) -> None:
        pass

    def run(self) -> None:
        self.script(self)


def render(path: Path) -> Path:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    QCoreApplication.setOrganizationName("InletScreenshot")
    release = threading.Event()
    script = mid_transfer(release)
    with tempfile.TemporaryDirectory() as tmp:
        settings = QSettings(str(Path(tmp) / "s.ini"), QSettings.Format.IniFormat)
        dest = Path(tmp) / "from-laptop"
        dest.mkdir()
        window = MainWindow(
            settings=settings,
            code="100.64.1.123:ocean-tiger-piano-ruby",
            destination=str(dest),
            receiver_factory=lambda *a, **k: _Receiver(script, *a, **k),
        )
        window.resize(1040, 480)
        window.show()
        _wait(app, lambda: window.destination == dest)
        window.start_receive()
        _wait(app, lambda: window.model.rowCount() == len(FILES) and window.model.counts()[1])
        # make the status bar read like a real transfer: a steady speed over a few seconds
        totals = window.totals
        totals._samples.clear()
        totals._samples.append((0.0, totals.held_bytes - 630 * MB // 10))
        totals._samples.append((3.0, totals.held_bytes))
        window._refresh_status()
        app.processEvents()
        window.grab().save(str(path))
        release.set()
        _wait(app, lambda: not window.running)
        window.shutdown()
        window.deleteLater()
    return path


def _wait(app: QCoreApplication, condition, timeout: float = 10.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not get there")
        app.processEvents()
        time.sleep(0.01)


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshot.png")
    out.parent.mkdir(parents=True, exist_ok=True)
    print(render(out))
