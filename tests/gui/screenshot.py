"""Render the window in the middle of a real transfer: ``python -m tests.gui.screenshot [OUT]``.

A real ``inlet send`` on loopback offers a sample folder; the real window receives it into a
folder that already holds one of the files (so its overwrite toggle shows), and the picture is
taken while the large video is about half way. It makes ``docs/screenshot.png``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from inlet.gui.demo import SenderProcess
from inlet.gui.window import MainWindow

MB = 1_000_000


def make_sample(root: Path) -> None:
    """Photos, notes, an empty file, a large video and a trailer."""
    chunk = os.urandom(MB)

    def write(name: str, size: int) -> None:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as out:
            for _ in range(size // MB):
                out.write(chunk)
            out.write(chunk[: size % MB])

    for i, size in enumerate((4_200_000, 3_900_000, 4_100_000), start=1):
        write(f"photos/IMG_000{i}.jpg", size)
    write("notes/todo.txt", 1_100)
    write("notes/report.pdf", 820_000)
    write("empty.txt", 0)
    write("videos/holiday.mp4", 1_500 * MB)
    write("videos/trailer.mp4", 30 * MB)


def render(out: Path) -> Path:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as tmp:
        sample = Path(tmp) / "from-laptop"
        make_sample(sample)
        dest = Path(tmp) / "Downloads"
        (dest / "from-laptop" / "videos").mkdir(parents=True)
        (dest / "from-laptop" / "videos" / "trailer.mp4").write_bytes(b"an older cut")
        sender = SenderProcess(sample)
        code = sender.start()
        settings = QSettings(str(Path(tmp) / "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(settings=settings, code=code, destination=str(dest))
        window.resize(1040, 470)
        window.show()
        try:
            _wait(app, lambda: window.destination == dest)
            assert window.start_receive()
            video = "from-laptop/videos/holiday.mp4"
            _wait(app, lambda: 0.45 <= _fraction(window, video) <= 0.8, timeout=120)
            for _ in range(5):  # let the status bar's speed settle on the live figures
                app.processEvents()
                time.sleep(0.05)
            window.grab().save(str(out))
        finally:
            window.cancel()
            _wait(app, lambda: not window.running, timeout=30)
            window.shutdown()
            sender.stop()
    return out


def _fraction(window: MainWindow, name: str) -> float:
    for row in window.model.rows():
        if row.name == name:
            return row.held / row.size if row.size else 0.0
    return 0.0


def _wait(app: QApplication, condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not get there in time")
        app.processEvents()
        time.sleep(0.01)


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshot.png")
    target.parent.mkdir(parents=True, exist_ok=True)
    print(render(target))
