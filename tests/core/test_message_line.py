"""A text message on a terminal (issue 12): the text and nothing else, no "0.0 % 0 of 1 files"
progress line before it. The real ``inlet receive`` with its stderr on a pseudo-terminal."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ..helpers import INLET, start_sender

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal"),
]


def _read_all(fd: int) -> str:
    out = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the other side is closed
            break
        if not chunk:
            break
        out += chunk
    return out.decode("utf-8", "replace")


def test_a_message_on_a_terminal_is_only_its_text(tmp_path: Path) -> None:
    import pty

    sender = start_sender("--message", "the keys are under the mat")
    master, terminal = pty.openpty()
    try:
        done = subprocess.run(
            [*INLET, "receive", sender.code, "-o", str(tmp_path / "nowhere")],
            stdout=subprocess.PIPE,
            stderr=terminal,
            text=True,
            timeout=50,
        )
    finally:
        os.close(terminal)
        sender.stop()
    shown = _read_all(master)
    os.close(master)
    assert done.returncode == 0
    assert done.stdout == "the keys are under the mat\n"
    assert shown.strip() == "", shown  # no progress line, no "0 of 1 files"
    assert not (tmp_path / "nowhere").exists()  # a message needs no folder
