"""The screenshots in docs/, from real transfers: ``python -m tests.gui.screenshot [--dark] [OUT]``.

A real ``inlet send`` on loopback offers a sample folder; the real window receives it into a
folder that already holds one of the files (so its overwrite toggle shows). Under a real X
server (``DISPLAY`` set, e.g. Xvfb with a window manager) the window is a real X window; without
one it renders offscreen. It makes, in OUT (default ``docs/``), for the light or (``--dark``,
Fusion's dark scheme) the dark palette:

- ``window-THEME-1400.png`` and ``window-THEME-640.png``: mid-transfer, 1400 and 640 px wide;
- ``window-THEME-failed.png``: a file that failed verification three times (its chunks are
  damaged on their way to disk, as a bad disk would) next to the verified ones;
- ``window-THEME-interrupted.png``: the sender was killed mid-transfer; a new window on that
  folder offers the interrupted transfer for Resume or Discard;
- ``window-THEME-history.png``: the past transfers, those three among them.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from inlet.gui import focusring
from inlet.gui.demo import SenderProcess
from inlet.gui.window import MainWindow

MB = 1_000_000
VIDEO = "from-laptop/videos/holiday.mp4"


def write(path: Path, size: int, chunk: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as out:
        for _ in range(size // len(chunk)):
            out.write(chunk)
        out.write(chunk[: size % len(chunk)])


def make_sample(root: Path) -> Path:
    """Photos, notes, an empty file, a large video and a trailer."""
    chunk = os.urandom(MB)
    folder = root / "from-laptop"
    for i, size in enumerate((4_200_000, 3_900_000, 4_100_000), start=1):
        write(folder / f"photos/IMG_000{i}.jpg", size, chunk)
    write(folder / "notes/todo.txt", 1_100, chunk)
    write(folder / "notes/report.pdf", 820_000, chunk)
    write(folder / "notes/empty.txt", 0, chunk)
    write(folder / "videos/holiday.mp4", 2_000 * MB, chunk)
    write(folder / "videos/trailer.mp4", 30 * MB, chunk)
    return folder


def wait(app: QApplication, condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not get there in time")
        app.processEvents()
        time.sleep(0.01)


def settle(app: QApplication, seconds: float = 0.4) -> None:
    """Let the window paint (and the status bar's speed settle on live figures)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.02)


def fraction(window: MainWindow, name: str) -> float:
    i = window.model.find(name)
    if i is None:
        return 0.0
    row = window.model.row(i)
    return row.held / row.size if row.size else 0.0


def shoot(app: QApplication, window: MainWindow, out: Path, width: int, height: int) -> None:
    window.resize(width, height)
    settle(app)
    window.grab().save(str(out))
    print(out)


class Session:
    """One window and one sender in a temporary folder."""

    def __init__(self, app: QApplication, tmp: Path, sample: Path, dest: Path) -> None:
        self.app = app
        self.sender = SenderProcess(sample)
        code = self.sender.start()
        settings = QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat)
        self.window = MainWindow(
            settings=settings,
            code=code,
            destination=str(dest),
            history_path=tmp / "history.jsonl",
        )
        self.window._confirm = lambda *args: True
        self.window.resize(1000, 520)
        self.window.show()
        wait(app, lambda: self.window.destination == dest)

    def close(self) -> None:
        window = self.window
        if window.running:
            window.cancel()
            wait(self.app, lambda: not window.running)
        window.shutdown()
        window.deleteLater()
        self.sender.stop()


def mid_transfer(app: QApplication, tmp: Path, sample: Path, out: Path, theme: str) -> None:
    dest = tmp / "Downloads"
    (dest / "from-laptop" / "videos").mkdir(parents=True)
    (dest / "from-laptop" / "videos" / "trailer.mp4").write_bytes(b"an older cut")
    session = Session(app, tmp, sample, dest)
    try:
        assert session.window.start_receive()
        wait(app, lambda: fraction(session.window, VIDEO) >= 0.3, timeout=180)
        settle(app, 1.0)
        shoot(app, session.window, out / f"window-{theme}-1400.png", 1400, 560)
        shoot(app, session.window, out / f"window-{theme}-640.png", 640, 420)
    finally:
        session.close()


def failed_row(app: QApplication, tmp: Path, out: Path, theme: str) -> None:
    from inlet.core.writer import FileWriter

    chunk = os.urandom(MB)
    sample = tmp / "failing" / "from-camera"
    for name, size in (("DSC_0101.jpg", 2_400_000), ("DSC_0102.jpg", 3_100_000)):
        write(sample / name, size, chunk)
    write(sample / "DSC_0103.jpg", 2_800_000, chunk)
    original = FileWriter.write_chunk

    def damaging(self: FileWriter, data) -> int:  # a bad disk flips a bit of this file
        if str(self.lock_key).endswith("DSC_0102.jpg") and len(data):
            data = bytes([data[0] ^ 1]) + bytes(data[1:])
        return original(self, data)

    FileWriter.write_chunk = damaging
    dest = tmp / "Camera"
    dest.mkdir()
    session = Session(app, tmp, sample, dest)
    try:
        done: list[object] = []
        session.window.transferDone.connect(done.append)
        assert session.window.start_receive()
        wait(app, lambda: bool(done), timeout=120)
        shoot(app, session.window, out / f"window-{theme}-failed.png", 1000, 420)
    finally:
        FileWriter.write_chunk = original
        session.close()


def interrupted(app: QApplication, tmp: Path, sample: Path, out: Path, theme: str) -> None:
    dest = tmp / "Backup"
    dest.mkdir()
    session = Session(app, tmp, sample, dest)
    try:
        done: list[object] = []
        session.window.transferDone.connect(done.append)
        assert session.window.start_receive()
        wait(app, lambda: fraction(session.window, VIDEO) >= 0.4, timeout=180)
        session.sender.process.kill()  # the sender's laptop went to sleep
        wait(app, lambda: bool(done), timeout=60)
    finally:
        session.close()
    again = Session(app, tmp, sample, dest)  # Inlet opened again on that folder
    try:
        wait(app, lambda: again.window.banner.resume_button.isVisible())
        shoot(app, again.window, out / f"window-{theme}-interrupted.png", 1000, 460)
    finally:
        again.close()


def past_transfers(app: QApplication, tmp: Path, sample: Path, out: Path, theme: str) -> None:
    session = Session(app, tmp, sample, tmp / "Backup")
    try:
        wait(app, lambda: (tmp / "history.jsonl").exists())
        session.window.show_history()
        dialog = session.window.history_dialog
        assert dialog is not None
        dialog.resize(900, 260)
        settle(app)
        dialog.grab().save(str(out / f"window-{theme}-history.png"))
        print(out / f"window-{theme}-history.png")
        dialog.close()
    finally:
        session.close()


def dark_palette() -> QPalette:
    """A dark Fusion palette (the colour-scheme hint is ignored where no desktop theme runs)."""
    palette = QPalette()
    roles = QPalette.ColorRole
    for role, color in (
        (roles.Window, "#2b2b2b"), (roles.WindowText, "#e6e6e6"), (roles.Base, "#1f1f1f"),
        (roles.AlternateBase, "#262626"), (roles.Text, "#e6e6e6"), (roles.Button, "#353535"),
        (roles.ButtonText, "#e6e6e6"), (roles.Highlight, "#3d7ac2"),
        (roles.HighlightedText, "#ffffff"), (roles.ToolTipBase, "#353535"),
        (roles.ToolTipText, "#e6e6e6"), (roles.PlaceholderText, "#8a8a8a"),
    ):  # fmt: skip
        palette.setColor(role, QColor(color))
    for role in (roles.WindowText, roles.Text, roles.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#808080"))
    return palette


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default="docs")
    parser.add_argument("--dark", action="store_true", help="Fusion's dark colour scheme")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    theme = "dark" if args.dark else "light"
    if args.dark:
        app.setStyle("Fusion")
        app.setPalette(dark_palette())
    focusring.install(app)  # as the app does
    with tempfile.TemporaryDirectory() as tmp:
        sample = make_sample(Path(tmp) / "send")
        mid_transfer(app, Path(tmp), sample, out, theme)
        failed_row(app, Path(tmp), out, theme)
        interrupted(app, Path(tmp), sample, out, theme)
        past_transfers(app, Path(tmp), sample, out, theme)


if __name__ == "__main__":
    main()
