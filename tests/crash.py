"""Kill a receiving process with SIGKILL at seeded random moments, resume, repeat.

Used for the CLI (``inlet receive``) and for the window's worker driven in a subprocess. A
moment is a number of bytes of the transfer on disk (final files plus ``.part`` files), drawn
from what is still missing; the parent waits for that condition (or for the child to end), then
kills. Between runs it checks invariants 2 and 4 on disk: nothing unverified under a final name,
and the lock never claims a prefix the ``.part`` does not hold with that SHA-256.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from inlet.core.errors import LockFileError
from inlet.core.events import FileStatus
from inlet.core.lock import TransferLockManager
from inlet.core.paths import RESERVED_NAMES, WARNINGS_LOG

from .helpers import sha256_file, wait_until
from .proxy import FaultyProxy

BOOKKEEPING = RESERVED_NAMES | {WARNINGS_LOG}  # Inlet's own files in a destination


def held_bytes(dest: Path) -> int:
    """Bytes of the transfer on disk: final files and ``.part`` files."""
    if not dest.exists():
        return 0
    return sum(
        p.stat().st_size
        for p in dest.rglob("*")
        if p.is_file() and not p.is_symlink() and p.name not in BOOKKEEPING
    )


def check_disk(dest: Path, want: dict[str, str]) -> None:
    """Nothing unverified under a final name; every prefix the lock records is really held."""
    if not dest.exists():
        return
    for path in dest.rglob("*"):
        if path.is_dir() or path.name in BOOKKEEPING:
            continue
        name = path.relative_to(dest).as_posix()
        if name.endswith(".part"):
            assert name[: -len(".part")] in want, f"stray {name}"
            continue
        assert want.get(name) == sha256_file(path), f"{name} is under its final name, unverified"
    lock = TransferLockManager(dest)
    try:
        if not lock.load():
            return
    except LockFileError as err:  # a kill must never leave the lock unreadable
        raise AssertionError(err) from err
    for name in lock.names():
        entry = lock.entry(name)
        if entry.status is FileStatus.COMPLETED:
            assert sha256_file(dest / (entry.final_path or name)) == want[name], name
        elif entry.transferred_bytes:
            part = dest / (name + ".part")
            if part.exists():
                with open(part, "rb") as handle:
                    prefix = handle.read(entry.transferred_bytes)
                assert len(prefix) == entry.transferred_bytes, f"{name}: lock claims unheld bytes"
                assert hashlib.sha256(prefix).hexdigest() == entry.partial_hash, name
            else:  # renamed after verification, "completed" not recorded yet
                assert sha256_file(dest / name) == want[name], name


@dataclass
class KillReport:
    kills: int = 0
    finished_early: int = 0  # a run that ended before its kill moment came
    busy: int = 0  # runs told "busy": the sender had not yet noticed the previous kill
    moments: list[int] = field(default_factory=list)  # bytes the run had received when killed
    final: dict | None = None  # the last run's JSON line


def kill_and_resume(
    spawn: Callable[[], subprocess.Popen],
    dest: Path,
    want: dict[str, str],
    size: int,
    kills: int,
    seed: int,
    proxy: FaultyProxy,
) -> KillReport:
    """SIGKILL ``kills`` runs at random moments, then one run to the end (its JSON parsed).

    A moment is a number of bytes the run has received from the sender (counted by ``proxy``,
    which all runs go through), drawn between 0 and what is still missing, so kills land in the
    handshake, in the middle of files, between files and around the final verification.
    """
    rng = random.Random(seed)
    report = KillReport()
    while report.kills < kills:
        missing = max(size - held_bytes(dest), 0)
        # Once every byte is on disk, what is left is the handshake, the file list and the
        # final verification: kill within the first 600 bytes (a run needs more to finish).
        target = rng.randint(0, missing + 2000) if missing else rng.randint(0, 600)
        links_before = len(proxy.links)

        def received(before: int = links_before) -> int:
            return proxy.links[-1].down if len(proxy.links) > before else 0

        proc = spawn()
        try:
            wait_until(
                lambda: proc.poll() is not None or received() >= target,  # noqa: B023
                60,
                f"{target} bytes received",
            )
            if proc.poll() is None:
                at = received()
                proc.send_signal(signal.SIGKILL)
                proc.wait(10)
                report.kills += 1
                report.moments.append(at)
            else:
                out, err = proc.communicate(timeout=10)
                report.final = json.loads(out.splitlines()[-1]) if out.strip() else None
                if proc.returncode == 0:
                    report.finished_early += 1
                    break
                # Reconnected before the sender noticed the killed connection: told to wait.
                assert b"busy with another receiver" in err + out, err
                report.busy += 1
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            for stream in (proc.stdout, proc.stderr):
                if stream:
                    stream.close()
        check_disk(dest, want)
    else:
        proc = spawn()
        try:
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert proc.returncode == 0, err
        report.final = json.loads(out.splitlines()[-1])
        check_disk(dest, want)
    return report


def popen(cmd: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )
