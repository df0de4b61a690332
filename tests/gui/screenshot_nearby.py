"""The nearby-senders screenshot in docs/: ``python -m tests.gui.screenshot_nearby [OUT]``.

Three real ``inlet send`` processes announce themselves on loopback (their files are sparse, so
"3.4 GB" costs no disk), the real window lists them with zeroconf's real browser, and one is
picked: the code field then holds its address and the hint asks for the words. Under a real X server
(``DISPLAY`` set, e.g. Xvfb with a window manager) the window is a real X window; without one
it renders offscreen. Writes ``window-light-nearby.png`` in OUT (default ``docs/``).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from inlet.core.nearby import NearbyBrowser
from inlet.gui.demo import SenderProcess
from inlet.gui.window import MainWindow

SENDERS = {
    "Alice's laptop": [(f"holiday/IMG_{i:04d}.jpg", 283_000_000) for i in range(12)],
    "Studio iMac": [("mix/final.wav", 612_000_000), ("mix/stems.zip", 1_900_000_000)],
    "Build server": [("release/inlet-0.1.0.tar.gz", 4_800_000)],
}


def sparse(root: Path, files: list[tuple[str, int]]) -> Path:
    for name, size in files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as out:
            out.truncate(size)
    return root / files[0][0].split("/")[0]


def wait(app: QApplication, condition, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("timed out waiting for the nearby senders")
        app.processEvents()
        time.sleep(0.02)


def main(out: Path) -> None:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as tmp:
        senders = []
        try:
            for name, files in SENDERS.items():
                folder = sparse(Path(tmp) / name.replace("'", ""), files)
                sender = SenderProcess(folder, "--name", name)
                sender.args.remove("--no-announce")  # this screenshot is of announcing
                sender.start()
                senders.append(sender)
            window = MainWindow(
                settings=QSettings(str(Path(tmp) / "inlet.ini"), QSettings.Format.IniFormat),
                destination=tmp,
                nearby=lambda listener: NearbyBrowser(listener, interfaces=["127.0.0.1"]),
            )
            window.resize(1100, 520)
            window.show()
            wait(app, lambda: window.nearby.list.count() >= len(SENDERS))
            nearby = window.nearby.list
            first = next(
                nearby.item(i) for i in range(nearby.count())
                if nearby.item(i).text().startswith("Alice")
            )  # fmt: skip
            QTest.mouseClick(
                nearby.viewport(),
                Qt.MouseButton.LeftButton,
                pos=nearby.visualItemRect(first).center(),
            )
            for _ in range(30):
                app.processEvents()
                time.sleep(0.02)
            out.mkdir(parents=True, exist_ok=True)
            path = out / "window-light-nearby.png"
            window.grab().save(str(path))
            print(path)
            window.shutdown()
        finally:
            for sender in senders:
                sender.stop()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs"))
