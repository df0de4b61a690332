"""``inlet demo``: a newcomer's first transfer on one machine, with nothing to set up.

A local ``inlet send`` runs as a subprocess on loopback, offering a generated sample folder; the
window opens with its code and a fresh destination filled in. The sample is chosen to show the
window's features: subfolders, a large file that takes long enough to watch (it comes before
the file that already exists, so that row's overwrite toggle can be flipped while it waits), an
empty file, and a file that already exists in the destination. The demo's temporary folder is
never remembered as the destination, and it is removed when the demo ends.
"""

from __future__ import annotations

import queue
import random
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from inlet.core.launcher import cli_command

SAMPLE_FOLDER = "inlet-sample"
CONFLICT_NAME = "README.txt"  # also put into the destination beforehand
CODE_PREFIX = "inlet receive "
#: sent first (names are sent in order: "I" < "R"); written from one repeated random block
LARGE_NAME = "Intro.mp4"
LARGE_SIZE = 400_000_000


class SenderStartError(RuntimeError):
    """The local sender did not print its code."""


def make_sample(root: Path, seed: int = 1, large: int | None = None) -> Path:
    """Write the sample folder under ``root`` and return it (about 4 MB and the large file)."""
    large = LARGE_SIZE if large is None else large
    rng = random.Random(seed)
    folder = Path(root) / SAMPLE_FOLDER
    files = {
        CONFLICT_NAME: (
            b"This folder was sent by 'inlet demo'.\n"
            b"Every file was checked with SHA-256 before it got its final name.\n"
        ),
        "photos/harbor.jpg": rng.randbytes(640_000),
        "photos/meadow.jpg": rng.randbytes(410_000),
        "photos/2024/lighthouse.jpg": rng.randbytes(520_000),
        "docs/notes.txt": b"".join(
            f"Line {i}: resumable transfers keep what has arrived.\n".encode() for i in range(800)
        ),
        "docs/empty.txt": b"",
        "video/clip.mp4": rng.randbytes(2_600_000),
    }
    for name, data in files.items():
        path = folder.joinpath(*name.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    block = rng.randbytes(1 << 20)
    with open(folder / LARGE_NAME, "wb") as out:
        for _ in range(large // len(block)):
            out.write(block)
        out.write(block[: large % len(block)])
    return folder


def seed_destination(dest: Path) -> Path:
    """Put an older ``README.txt`` where the sample will land, so one row shows the toggle."""
    path = Path(dest) / SAMPLE_FOLDER / CONFLICT_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("An older README that was already here.\n")
    return path


class SenderProcess:
    """``inlet send ... PATHS`` on loopback (``python -m inlet.core``, or the built app), and the
    code it prints.

    Used by the demo and by the end-to-end tests. `stop()` ends it (it also exits by itself
    once a receiver has everything).
    """

    def __init__(self, *args: str | Path, bind: str = "127.0.0.1") -> None:
        self.args = [
            *cli_command(), "send", "--bind", bind, "--port", "0", "--no-announce",
            *map(str, args),
        ]  # fmt: skip
        self.process: subprocess.Popen[str] | None = None
        self.code: str | None = None
        # The sender's stderr, to quote when it fails to start; closed in stop().
        self._log = tempfile.TemporaryFile(mode="w+", encoding="utf-8")  # noqa: SIM115

    def start(self, timeout: float = 30.0) -> str:
        """Start the sender and wait for its ``inlet receive CODE`` line; return CODE."""
        self.process = subprocess.Popen(
            self.args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        lines: queue.Queue[str] = queue.Queue()
        stdout = self.process.stdout
        assert stdout is not None
        threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
        try:
            line = lines.get(timeout=timeout)
        except queue.Empty:
            line = ""
        if not line.startswith(CODE_PREFIX):
            self.stop(close_log=False)
            log = self.log().strip()[-300:]
            self._log.close()
            raise SenderStartError(
                f"The local sender did not print its code (it printed {line.strip()!r}; "
                f"its log: {log!r})."
            )
        self.code = line[len(CODE_PREFIX) :].strip()
        return self.code

    def log(self) -> str:
        """What the sender wrote on stderr so far ("" once stopped)."""
        if self._log.closed:
            return ""
        self._log.flush()
        self._log.seek(0)
        return self._log.read()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait(self, timeout: float) -> int | None:
        assert self.process is not None
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, close_log: bool = True) -> None:
        if close_log and not self._log.closed:
            self._log.close()
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if self.process.stdout is not None:
            self.process.stdout.close()


@dataclass
class DemoSession:
    """A running demo: the sender, its code, and where the window saves the files."""

    root: Path
    dest: Path
    sender: SenderProcess
    code: str

    def stop(self) -> None:
        """Stop the sender and remove the demo's temporary folder (sample and received files)."""
        self.sender.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def start_demo(root: Path | None = None, large: int | None = None) -> DemoSession:
    """Make the sample, start the sender on loopback, prepare a fresh destination."""
    root = Path(root) if root else Path(tempfile.mkdtemp(prefix="inlet-demo-"))
    sample = make_sample(root / "send", large=large)
    dest = root / "received"
    seed_destination(dest)
    sender = SenderProcess(sample)
    code = sender.start()
    return DemoSession(root=root, dest=dest, sender=sender, code=code)
