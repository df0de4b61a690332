"""A full disk and denied writes (invariants 4 and 6): the transfer stops saying "disk full",
keeps its state, and resumes once there is room.

Two kinds of evidence: a real small file system (a 4 MiB tmpfs, mounted as root; skipped with
the reason where that is not possible) that a real transfer fills, and errors injected into
``os.write`` at seeded random moments (ENOSPC, EDQUOT, EACCES).
"""

from __future__ import annotations

import errno
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from inlet.core.codes import parse_code
from inlet.core.paths import LOCK_FILENAME
from inlet.core.receiver import Receiver, ReceiverOptions, TransferResult

from ..crash import check_disk
from ..helpers import INLET, start_sender, tree_hashes, write_random
from ..reliability import record

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """About 6.5 MB in four files: more than a 4 MiB file system holds."""
    root = tmp_path / "src" / "set"
    write_random(root / "a.bin", 2_500_000, seed=21)
    write_random(root / "b.bin", 2_500_000, seed=22)
    write_random(root / "c" / "d.bin", 1_500_000, seed=23)
    (root / "note.txt").write_text("small\n")
    return root


def expected(root: Path) -> dict[str, str]:
    return {f"{root.name}/{k}": v for k, v in tree_hashes(root).items()}


def received(dest: Path) -> dict[str, str]:
    return {
        k: v
        for k, v in tree_hashes(dest).items()
        if k.startswith("set/") and not k.endswith(".part")
    }


def receive(code: str, dest: Path, **options) -> TransferResult:
    options = ReceiverOptions(idle_timeout=20, connect_timeout=10, **options)
    return Receiver(parse_code(code), dest, options).run()


# -- a real small file system -------------------------------------------------------------------


@pytest.fixture
def tmpfs(tmp_path: Path):
    """A 4 MiB tmpfs at ``tmp_path/mnt``, unmounted afterwards; skipped where not allowed."""
    if sys.platform != "linux" or os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("a tmpfs can only be mounted by root on Linux")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip() or done.returncode}")
    try:
        yield mnt
    finally:
        if subprocess.run(["umount", str(mnt)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def remount(mnt: Path, size: str) -> None:
    subprocess.run(["mount", "-o", f"remount,size={size}", str(mnt)], check=True)


@pytest.mark.parametrize("make_room", ["grow the file system", "delete a filler file"])
def test_a_real_file_system_fills_up_then_resume(tmpfs: Path, source: Path, make_room: str):
    want = expected(source)
    dest = tmpfs / "dest"
    filler = tmpfs / "filler.bin"
    if make_room == "delete a filler file":
        remount(tmpfs, "8m")
        write_random(filler, 5 * 1024 * 1024, seed=1)
    sender = start_sender(source)
    try:
        full = receive(sender.code, dest, check_space=False)  # started anyway: it fills up
        assert not full.ok
        assert " is full" in full.error, full.error
        assert "Free some space" in full.error and "resume" in full.error
        assert full.resumable and (dest / LOCK_FILENAME).exists()
        check_disk(dest, want)  # nothing unverified under a final name, the lock is readable
        if make_room == "grow the file system":
            remount(tmpfs, "16m")
        else:
            filler.unlink()
        resumed = receive(sender.code, dest)
        assert resumed.ok, resumed.error
        assert sender.wait(20) == 0
    finally:
        sender.stop()
    assert received(dest) == want
    assert resumed.bytes_reused > 0
    record(
        f"a real 4 MiB file system fills up ({make_room} to resume)",
        "tmpfs mounted as root; 6.5 MB transfer from `inlet send`",
        1,
        f"“{_lead([full.error])}”, state kept; after making room the resume reused "
        f"{resumed.bytes_reused / 1e6:.1f} MB and ended byte-identical",
        group="disk",
    )


def test_files_that_do_not_fit_are_refused_before_any_byte_moves(tmpfs: Path, source: Path):
    """The 6.5 MB do not fit on the 4 MiB file system: ``inlet receive`` says so in one line
    with both numbers, before receiving; the folder stays as it was and the sender waits."""
    dest = tmpfs / "dest"
    sender = start_sender(source)
    try:
        done = subprocess.run(
            [*INLET, "receive", sender.code, "-o", str(dest)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 1
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1, done.stderr
        assert lines[0].startswith(f"inlet: Not enough space in {dest}: the files need 6.5 MB ")
        assert "its disk has 4.2 MB free" in lines[0]
        assert "--no-space-check" in lines[0]
        assert not dest.exists() or not any(dest.iterdir())  # no lock, no .part, nothing
        assert sender.proc.poll() is None
    finally:
        sender.stop()
    record(
        "the files do not fit on the destination's disk",
        "6.5 MB from `inlet send` into a 4 MiB tmpfs (mounted as root)",
        1,
        "refused before any byte moved, with both numbers; nothing written",
        group="disk",
    )


class _Statvfs:
    """A file system with ``free`` bytes left (what root and others may use alike)."""

    def __init__(self, free: int) -> None:
        self.f_frsize, self.f_bavail, self.f_bfree = 1, free, free

    def __call__(self, path: str) -> _Statvfs:
        return self


def test_only_what_is_still_missing_must_fit(tmp_path: Path, source: Path, monkeypatch):
    """Files already here need no room: a second receive that misses one file needs room for
    that file only."""
    dest = tmp_path / "dest"
    sender = start_sender(source)
    try:
        with monkeypatch.context() as patch:
            inject_write_errors(patch, dest, [1], errno.EACCES, only="a.bin.part")
            first = receive(sender.code, dest)
        assert not first.ok and "set/a.bin" in first.error
        missing = (source / "a.bin").stat().st_size
        short = receive(sender.code, dest, statvfs=_Statvfs(missing - 1))
        assert not short.ok and short.space == (missing, missing - 1)
        assert (
            "the files need 2,500,000 bytes more, and its disk has 2,499,999 bytes free"
            in short.error
        )
        assert (dest / LOCK_FILENAME).exists()  # the earlier session's state stays
        enough = receive(sender.code, dest, statvfs=_Statvfs(missing))
        assert enough.ok, enough.error
        assert sender.wait(20) == 0
    finally:
        sender.stop()
    assert received(dest) == expected(source)


def _lead(errors: list[str]) -> str:
    """The messages' first words, without the paths that differ from run to run."""
    leads = sorted(
        {e.split(":")[0] if e.startswith("The disk is full") else e.split(" /")[0] for e in errors}
    )
    return " / ".join(f"{lead} …" for lead in leads)


# -- injected errors ----------------------------------------------------------------------------


def inject_write_errors(
    monkeypatch, dest: Path, fail_at: list[int], code: int, only: str = ""
) -> list[int]:
    """Make the ``n``-th ``os.write`` into ``dest`` (for n in ``fail_at``) fail with ``code``;
    with ``only``, count just writes to files whose name ends with it."""
    real_write = os.write
    count = [0]
    hits: list[int] = []
    prefix = str(dest)

    def write(fd: int, data) -> int:
        try:
            path = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            path = ""
        if path.startswith(prefix) and path.endswith(only):
            count[0] += 1
            if count[0] in fail_at:
                hits.append(count[0])
                raise OSError(code, os.strerror(code), path)
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", write)
    return hits


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc/self/fd (Linux)")
@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT], ids=["ENOSPC", "EDQUOT"])
def test_disk_full_at_random_moments_then_resume(tmp_path, source, monkeypatch, code: int):
    rng = random.Random(31 + code)
    want = expected(source)
    dest = tmp_path / "dest"
    stops = 0
    result_errors: list[str] = []
    sender = start_sender(source)
    try:
        while True:
            with monkeypatch.context() as patch:
                if stops < 6:  # six failures at random writes, then a clean run
                    hits = inject_write_errors(patch, dest, [rng.randint(1, 8)], code)
                else:
                    hits = []
                result = receive(sender.code, dest)
            check_disk(dest, want)
            if result.ok:
                break
            assert hits, f"failed without an injected error: {result.error}"
            stops += 1
            assert " is full" in result.error, result.error
            assert "Free some space" in result.error, result.error
            assert result.resumable
            result_errors.append(result.error)
        assert sender.wait(20) == 0
    finally:
        sender.stop()
    assert received(dest) == want
    assert stops >= 3, "the transfer finished before most injected failures"
    name = errno.errorcode[code]
    record(
        f"{name} from a write at a random moment",
        "os.write into the destination fails once per run (seeded), then resume",
        stops,
        f"each run stopped with “{_lead(result_errors)}”, state kept; the last run ended "
        f"byte-identical, reusing {result.bytes_reused / 1e6:.1f} MB",
        group="disk",
    )


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc/self/fd (Linux)")
@pytest.mark.parametrize("where", ["every file", "the files' data"])
def test_permission_denied_says_so_and_receiving_again_completes(
    tmp_path: Path, source: Path, monkeypatch, where: str
):
    """EACCES is not a full disk. Denied everywhere, the resume state cannot be written and the
    transfer stops before any byte; denied for the data only, each file fails on its own."""
    want = expected(source)
    dest = tmp_path / "dest"
    sender = start_sender(source)
    only = "" if where == "every file" else ".part"
    try:
        with monkeypatch.context() as patch:
            inject_write_errors(patch, dest, list(range(1, 10_000)), errno.EACCES, only=only)
            denied = receive(sender.code, dest)
        check_disk(dest, want)
        assert received(dest) == {}
        resumed = receive(sender.code, dest)
    finally:
        sender.stop()
    assert not denied.ok
    if where == "every file":
        assert "could not write its resume state" in denied.error, denied.error
        assert "Permission denied. Check that you can write to the destination folder" in (
            denied.error
        )
    else:
        assert "could not be written" in denied.error and "permission denied" in denied.error
        assert "fix the problem and receive again into the same folder" in denied.error
    assert resumed.ok, resumed.error
    assert received(dest) == want
    record(
        f"permission denied on writes to {where} in the destination",
        "os.write fails with EACCES, then the same receive without the error",
        1,
        f"“{denied.error[:100].rsplit(' ', 1)[0]} …”; no file under a final name; receiving "
        "again completes",
        group="disk",
    )
