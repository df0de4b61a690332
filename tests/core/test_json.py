"""``inlet receive --json``: every outcome prints the one object README.md documents.

Each test runs the real command (``python -m inlet.core receive ... --json``) against a real
sender, a scripted one, or nothing at all, and reads its stdout: always one JSON object with
exactly the documented keys, whatever happened; a failure also says it in one line on stderr.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
from pathlib import Path

import pytest

from inlet.core import wire

from ..fake_sender import FakeFile, FakeSender, flush
from ..helpers import INLET, start_sender, wait_until, write_random

pytestmark = pytest.mark.timeout(120)

#: The keys README.md lists for the object and for each file.
KEYS = {
    "ok",
    "files",
    "bytes_on_wire",
    "bytes_written",
    "bytes_reused",
    "seconds",
    "resumed",
    "message",
    "error",
}
FILE_KEYS = {"name", "path", "size", "sha256", "status"}


def receive_json(code: str, dest: Path, *extra: str) -> tuple[int, dict, str]:
    """Run ``inlet receive CODE -o DEST --json``: (exit code, the object, stderr)."""
    done = subprocess.run(
        [*INLET, "receive", code, "-o", str(dest), "--json", *extra],
        capture_output=True,
        text=True,
        timeout=90,
    )
    return done.returncode, documented(done.stdout), done.stderr


def documented(stdout: str) -> dict:
    """The one object on stdout, checked against the documented keys."""
    lines = stdout.splitlines()
    assert len(lines) == 1, stdout
    result = json.loads(lines[0])
    assert set(result) == KEYS
    for file in result["files"]:
        assert set(file) == FILE_KEYS
    assert (result["error"] is None) == result["ok"]
    return result


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("inlet: ")
    return lines[0]


def test_a_transfer_that_went_well(tmp_path: Path) -> None:
    write_random(tmp_path / "src" / "a.bin", 50_000)
    (tmp_path / "src" / "b.txt").write_text("b\n")
    sender = start_sender(tmp_path / "src")
    try:
        rc, result, _ = receive_json(sender.code, tmp_path / "dest")
    finally:
        sender.stop()
    assert rc == 0 and result["ok"] and result["message"] is None
    assert {f["name"]: f["status"] for f in result["files"]} == {
        "src/a.bin": "completed",
        "src/b.txt": "completed",
    }
    assert result["bytes_written"] == 50_002


def test_a_text_message(tmp_path: Path) -> None:
    sender = start_sender("--message", "hello there")
    try:
        rc, result, _ = receive_json(sender.code, tmp_path / "dest")
    finally:
        sender.stop()
    assert rc == 0 and result["ok"]
    assert result["message"] == "hello there"


def test_a_malformed_code(tmp_path: Path) -> None:
    rc, result, stderr = receive_json("not a code", tmp_path / "dest")
    assert rc == 1 and not result["ok"] and result["files"] == []
    assert result["error"] == one_line(stderr).removeprefix("inlet: ")


def test_nothing_listening(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    rc, result, stderr = receive_json(f"127.0.0.1:{port}:7-amber-ocean-tiger-river", tmp_path)
    assert rc == 1 and not result["ok"]
    assert result["error"] == one_line(stderr).removeprefix("inlet: ")


def test_a_wrong_code(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.txt").write_text("a")
    sender = start_sender(tmp_path / "src")
    try:
        host_port = sender.code.rsplit(":", 1)[0]
        rc, result, stderr = receive_json(f"{host_port}:1-amber-ocean-tiger-river", tmp_path / "d")
    finally:
        sender.stop()
    assert rc == 1 and not result["ok"] and "code" in result["error"]
    one_line(stderr)


def test_files_that_failed(tmp_path: Path) -> None:
    fake = FakeSender([FakeFile("../escape.txt", b"no"), FakeFile("fine.txt", b"yes")])
    rc, result, stderr = receive_json(fake.code, tmp_path / "dest")
    fake.join()
    assert rc == 1 and not result["ok"]
    assert {f["name"]: f["status"] for f in result["files"]} == {
        "../escape.txt": "failed",
        "fine.txt": "completed",
    }
    assert "refused" in result["error"]
    one_line(stderr)


def test_a_destination_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "dest").write_text("a file")
    rc, result, stderr = receive_json("127.0.0.1:9:7-amber-ocean-tiger-river", tmp_path / "dest")
    assert rc == 1 and not result["ok"] and "not a folder" in result["error"]
    one_line(stderr)


@pytest.mark.skipif(os.name != "posix", reason="SIGINT to a child process")
def test_interrupted_with_ctrl_c(tmp_path: Path) -> None:
    """Ctrl-C in the middle: the object still comes, saying what was kept."""
    resume = threading.Event()

    def half_then_wait(conn: wire.SenderConnection, sock: socket.socket) -> None:
        conn.send_stream_slice(b"x" * 1000)
        flush(conn, sock)
        resume.wait(60)

    fake = FakeSender([FakeFile("big.bin", b"x" * 100_000)], script=half_then_wait)
    dest = tmp_path / "dest"
    proc = subprocess.Popen(
        [*INLET, "receive", fake.code, "-o", str(dest), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(
            lambda: (
                (dest / "big.bin.part").exists() and (dest / "big.bin.part").stat().st_size == 1000
            ),
            60,
            "the first bytes on disk",
        )
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        resume.set()
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        fake.join()
    result = documented(stdout)
    assert proc.returncode == 130 and not result["ok"]
    assert "kept" in result["error"]
    assert result["bytes_on_wire"] > 1000 and result["files"][0]["status"] != "completed"
    one_line(stderr)
