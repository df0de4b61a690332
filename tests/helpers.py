"""Shared test helpers: real `inlet send` / `inlet receive` processes on loopback."""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

INLET = [sys.executable, "-m", "inlet.core"]


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def write_random(path: Path, size: int, seed: int = 0) -> Path:
    """A file of ``size`` pseudo-random (incompressible) bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    with open(path, "wb") as handle:
        remaining = size
        while remaining:
            n = min(remaining, 1 << 20)
            handle.write(rng.randbytes(n))
            remaining -= n
    return path


def tree_hashes(root: Path) -> dict[str, str]:
    """``{relative/name: sha256}`` of every regular file under ``root``."""
    return {
        p.relative_to(root).as_posix(): sha256_file(p)
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``condition`` until it holds; fail the test with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.005)


@dataclass
class SenderProcess:
    """A running ``inlet send`` subprocess and the code it printed."""

    proc: subprocess.Popen
    code: str

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream:
                stream.close()

    def wait(self, timeout: float = 30) -> int:
        return self.proc.wait(timeout=timeout)


def start_sender(*args: str | Path, timeout: float = 20, announce: bool = False) -> SenderProcess:
    """Start ``inlet send ARGS --bind 127.0.0.1 --port 0`` and read its code line; it announces
    itself to nearby receivers (on loopback) only with ``announce``."""
    cmd = [*INLET, "send", *map(str, args), "--bind", "127.0.0.1", "--port", "0"]
    if not announce:
        cmd.append("--no-announce")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + timeout
    line = proc.stdout.readline()  # the sender prints its code line right after binding
    if not line.startswith("inlet receive ") or time.monotonic() > deadline:
        proc.kill()
        err = proc.stderr.read()
        raise AssertionError(f"inlet send did not print a code: {line!r} {err!r}")
    return SenderProcess(proc, line.split()[-1])


@dataclass
class ReceiveOutcome:
    returncode: int
    result: dict | None
    stderr: str


def run_receiver(code: str, dest: Path, *extra: str, timeout: float = 120) -> ReceiveOutcome:
    """Run ``inlet receive CODE -o DEST --json`` to the end."""
    cmd = [*INLET, "receive", code, "-o", str(dest), "--json", *extra]
    done = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    result = json.loads(done.stdout) if done.stdout.strip() else None
    return ReceiveOutcome(done.returncode, result, done.stderr)
