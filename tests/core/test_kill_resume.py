"""SIGKILL the ``inlet receive`` CLI at many seeded moments of a multi-file transfer, resume
each time (invariants 2 and 4 end to end, with a real ``inlet send``).

A counting proxy sits between the two (no faults), so the bytes that crossed the wire are known
for the killed runs too; the last run's ``--json`` gives ``bytes_reused``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from inlet.core.codes import parse_code

from ..crash import check_disk, kill_and_resume, popen
from ..helpers import INLET, start_sender, tree_hashes, write_random
from ..proxy import NO_FAULT, FaultyProxy
from ..reliability import record

pytestmark = pytest.mark.timeout(120)

KILLS = 20
RATE = 40e6  # bytes/s through the proxy: a run lasts long enough to be killed anywhere


def make_source(root: Path) -> Path:
    """Eight files, 0 B to 5 MB, about 12 MB in all."""
    sizes = [5_000_000, 3_000_000, 2_000_000, 1_500_000, 700_000, 65_536, 1, 0]
    for i, size in enumerate(sizes):
        write_random(root / ("sub" if i % 2 else "") / f"f{i}.bin", size, seed=100 + i)
    return root


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_sigkill_the_cli_receiver_at_random_moments(tmp_path: Path) -> None:
    source = make_source(tmp_path / "src" / "set")
    want = {f"set/{k}": v for k, v in tree_hashes(source).items()}
    size = sum(p.stat().st_size for p in source.rglob("*") if p.is_file())
    dest = tmp_path / "dest"
    sender = start_sender(source)
    try:
        with FaultyProxy(
            ("127.0.0.1", parse_code(sender.code).port), lambda k: NO_FAULT, rate=RATE
        ) as proxy:
            code = proxy.code_for(sender.code)
            report = kill_and_resume(
                lambda: popen([*INLET, "receive", code, "-o", str(dest), "--json"]),
                dest,
                want,
                size,
                kills=KILLS,
                seed=4242,
                proxy=proxy,
            )
            assert sender.wait(30) == 0
            down = proxy.bytes_down
    finally:
        sender.stop()
    check_disk(dest, want)
    final = {k: v for k, v in tree_hashes(dest).items() if k.startswith("set/")}
    assert final == want
    assert report.kills >= KILLS - 3, report  # a run may end before a late moment
    assert report.final["ok"] is True
    # What a kill may cost: the bytes in flight (socket buffers, a few MiB on loopback) and
    # the one data message the receiver was reading (1 MiB, it cannot be authenticated half).
    resent = down - size
    assert resent <= report.kills * 9 * 1024 * 1024, "a kill cost more than the bytes in flight"
    record(
        "`inlet receive` killed with SIGKILL at random moments",
        f"{len(want)} files, {size / 1e6:.1f} MB, Inlet extension, {RATE / 1e6:.0f} MB/s link; "
        "seeded moments (bytes received in the run), resume after each",
        report.kills,
        f"every final file byte-identical, nothing unverified under a final name, the lock "
        f"never claimed unheld bytes; {down / 1e6:.1f} MB crossed the wire in "
        f"{report.kills + report.busy + 1} runs ({resent / 1e6:.1f} MB re-sent, "
        f"{resent / report.kills / 1e6:.2f} MB per kill); last run reused "
        f"{report.final['bytes_reused'] / 1e6:.1f} MB"
        + (f"; {report.busy} reconnect(s) told “busy” first" if report.busy else ""),
        group="crash",
        kills=report.kills,
        moments=report.moments,
        bytes_down=down,
        size=size,
        busy=report.busy,
        final=report.final,
    )


KILL_AFTER_RENAME = """
import os, signal, sys
from inlet.core.writer import FileWriter
original = FileWriter.finalize  # names a verified file (alone, or after a group's sync)
def finalize(self, **kw):
    done = original(self, **kw)
    if done and self.size >= 4_000_000:  # named, but the lock has not recorded it yet
        os.kill(os.getpid(), signal.SIGKILL)
    return done
FileWriter.finalize = finalize
from inlet.core.cli import main
sys.exit(main())
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_killed_between_rename_and_lock_record_does_not_resend_the_file(tmp_path: Path) -> None:
    """The lock records "completed" in batches; a kill right after the rename used to make the
    resume receive the whole file again (its .part is gone). Now the named file is offered whole
    and the sender vouches for it."""
    source = make_source(tmp_path / "src" / "set")
    want = {f"set/{k}": v for k, v in tree_hashes(source).items()}
    dest = tmp_path / "dest"
    sender = start_sender(source)
    try:
        killed = popen([INLET[0], "-c", KILL_AFTER_RENAME, "receive", sender.code, "-o", str(dest)])
        killed.communicate(timeout=60)
        assert killed.returncode == -9
        check_disk(dest, want)
        assert (dest / "set" / "f0.bin").exists()  # named before the kill
        resumed = popen([*INLET, "receive", sender.code, "-o", str(dest), "--json"])
        out, err = resumed.communicate(timeout=60)
        assert resumed.returncode == 0, err
    finally:
        sender.stop()
    result = json.loads(out)
    assert {k: v for k, v in tree_hashes(dest).items() if k.startswith("set/")} == want
    assert result["bytes_reused"] >= 5_000_000
    size = sum(p.stat().st_size for p in source.rglob("*") if p.is_file())
    assert result["bytes_on_wire"] < size - 5_000_000 + 100_000, "the named file travelled again"
    assert not list(dest.rglob("*_1.bin"))
