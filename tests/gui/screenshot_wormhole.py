"""The window receiving a folder from a stock ``wormhole send``, from a real transfer:
``python -m tests.gui.screenshot_wormhole [OUT]``.

magic-wormhole's real mailbox server and transit relay run on loopback
(`tests.wormhole_servers`); ``wormhole send`` offers a sample folder; the real window receives
it. Under a real X server (``DISPLAY`` set, e.g. Xvfb with openbox) it makes, in OUT (default
``docs/``):

- ``window-light-wormhole-offer.png``: the offer (name, size, file count) with Receive and
  Decline, over the window (the whole screen: the question is a window of its own);
- ``window-light-wormhole.png``: mid-transfer, a row per file of the folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from inlet.gui.window import MainWindow

from ..wormhole_servers import local_servers, start_wormhole
from .screenshot import MB, settle, wait, write


def make_sample(root: Path) -> Path:
    chunk = os.urandom(MB)
    folder = root / "from-phone"
    for i, size in enumerate((3_400_000, 2_900_000, 4_000_000, 3_100_000), start=1):
        write(folder / f"camera/PXL_2024061{i}.jpg", size, chunk)
        write(folder / f"videos/clip-{i}.mp4", 150 * MB, chunk)
    write(folder / "notes/packing list.txt", 900, chunk)
    write(folder / "notes/empty.txt", 0, chunk)
    return folder


def mid_folder(window: MainWindow) -> bool:
    """Some files done and one well on its way: a row of each kind shows."""
    rows = window.model.rows()
    done = sum(row.status == "completed" for row in rows)
    return done >= 3 and any(row.status == "in_progress" and row.held > 40 * MB for row in rows)


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs")
    app = QApplication.instance() or QApplication(sys.argv)
    with tempfile.TemporaryDirectory() as tmp_name, local_servers(Path(tmp_name) / "srv") as srv:
        tmp = Path(tmp_name)
        os.environ["WORMHOLE_RELAY_URL"] = srv.mailbox_url
        os.environ["WORMHOLE_TRANSIT_HELPER"] = srv.relay_hint
        sample = make_sample(tmp)
        code = "7-crossover-clockwork"
        sender = start_wormhole(srv, "send", "--no-qr", "--hide-progress", "--code", code, sample)
        dest = tmp / "Downloads"
        dest.mkdir()
        settings = QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(
            settings=settings, code=code, destination=str(dest), history_path=tmp / "h.jsonl"
        )
        window._confirm = lambda *args: True
        window.resize(1200, 600)
        window.move(40, 40)
        window.show()
        try:
            wait(app, lambda: window.destination == dest)
            assert window.start_receive()
            wait(app, lambda: window.offer_box is not None and window.offer_box.isVisible())
            settle(app, 1.0)
            if os.environ.get("DISPLAY"):
                shot = out / "window-light-wormhole-offer.png"
                subprocess.run(
                    ["import", "-window", "root", "-crop", "1280x640+0+0", str(shot)], check=True
                )
                print(shot)
            box = window.offer_box
            (receive,) = [b for b in box.buttons() if b.text() == "Receive"]
            receive.click()
            wait(app, lambda: mid_folder(window), timeout=300)
            settle(app, 1.0)
            shot = out / "window-light-wormhole.png"
            window.grab().save(str(shot))
            print(shot)
        finally:
            if window.running:
                window.cancel()
                wait(app, lambda: not window.running)
            window.shutdown()
            sender.stop()


if __name__ == "__main__":
    main()
