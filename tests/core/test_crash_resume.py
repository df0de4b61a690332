"""kill -9 at many moments, resume each time: byte-identical files, nothing unverified named.

Invariants 2 and 4 of DESIGN.md. A child process (``_crash_child.py``) receives a multi-file
transfer and prints a byte per chunk written; the parent kills it with SIGKILL after a number of
writes drawn from a seeded RNG, checks what is on disk, and starts it again until it finishes.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from inlet.core.errors import LockFileError
from inlet.core.events import FileStatus
from inlet.core.lock import TransferLockManager
from inlet.core.paths import RESERVED_NAMES, WARNINGS_LOG

sys.path.insert(0, str(Path(__file__).parent))
import _crash_child

CHILD = Path(__file__).with_name("_crash_child.py")
BOOKKEEPING = RESERVED_NAMES | {WARNINGS_LOG}  # Inlet's own files in a destination
EXPECTED = _crash_child.expected()


def run_child(dest: Path, mode: str, kill_after: int | None) -> bool:
    """Run one receiver; SIGKILL it after ``kill_after`` writes. True if it finished."""
    proc = subprocess.Popen(
        [sys.executable, str(CHILD), str(dest), mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    seen = b""
    try:
        while kill_after is None or seen.count(b".") < kill_after:
            more = os.read(proc.stdout.fileno(), 4096)
            if not more:
                break
            seen += more
        if kill_after is not None and proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        err = proc.stderr.read().decode(errors="replace")
        proc.stderr.close()
    finished = seen.endswith(b"DONE")
    if proc.returncode not in (0, -signal.SIGKILL) or (kill_after is None and not finished):
        raise AssertionError(f"child failed ({proc.returncode}): {err}")
    return finished


def check_disk(dest: Path) -> None:
    """Nothing unverified under a final name; the lock claims only bytes the .part holds."""
    for path in dest.rglob("*"):
        if path.is_dir() or path.name in BOOKKEEPING:
            continue
        name = path.relative_to(dest).as_posix()
        if name.endswith(".part"):
            assert name[: -len(".part")] in EXPECTED, name
            continue
        assert name in EXPECTED, f"unexpected file {name}"
        assert path.read_bytes() == EXPECTED[name], f"{name} is under its final name but wrong"
    lock = TransferLockManager(dest)
    try:
        if not lock.load():
            return
    except LockFileError as err:  # a lock must never be left unreadable
        raise AssertionError(err) from err
    for name in lock.names():
        e = lock.entry(name)
        if e.status is FileStatus.COMPLETED:
            assert (dest / (e.final_path or name)).read_bytes() == EXPECTED[name]
        elif e.transferred_bytes:
            part = dest / (name + ".part")
            if part.exists():
                prefix = part.read_bytes()[: e.transferred_bytes]
                assert len(prefix) == e.transferred_bytes, f"{name}: lock claims unheld bytes"
                assert hashlib.sha256(prefix).hexdigest() == e.partial_hash, name
            else:  # renamed after verification, the "completed" not yet recorded
                assert (dest / name).read_bytes() == EXPECTED[name]


@pytest.mark.timeout(120)
@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
@pytest.mark.parametrize("mode", ["per-file", "at-end"])
def test_sigkill_at_many_moments_then_resume(tmp_path: Path, mode: str) -> None:
    rng = random.Random(20240501 if mode == "per-file" else 7)
    kills = 0
    finished = False
    while kills < 30 and not finished:
        finished = run_child(tmp_path, mode, kill_after=rng.randint(1, 20))
        kills += not finished
        check_disk(tmp_path)
    assert kills >= 10, "the child finished too early to test much"
    if not finished:
        assert run_child(tmp_path, mode, kill_after=None)
    check_disk(tmp_path)
    names = {
        p.relative_to(tmp_path).as_posix()
        for p in tmp_path.rglob("*")
        if p.is_file() and p.name != WARNINGS_LOG
    }
    assert names == set(EXPECTED)
    for name, data in EXPECTED.items():
        assert (tmp_path / name).read_bytes() == data
