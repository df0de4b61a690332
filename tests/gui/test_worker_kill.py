"""SIGKILL the window's worker at many seeded moments of a multi-file transfer, resume each time.

The worker (`inlet.gui.worker.ReceiveWorker`, with the real core `Receiver`) runs in a child
process (`_worker_child.py`, offscreen Qt) because SIGKILL has to hit a whole process: killing
the test's own process is not an option, and the worker's state lives in the core and on disk,
which is what a crash of the window leaves behind. Same loop and checks as the CLI test.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from inlet.core.codes import parse_code

from ..core.test_kill_resume import make_source
from ..crash import check_disk, kill_and_resume, popen
from ..helpers import start_sender, tree_hashes
from ..proxy import NO_FAULT, FaultyProxy
from ..reliability import record

CHILD = Path(__file__).with_name("_worker_child.py")
KILLS = 12
RATE = 40e6


@pytest.mark.timeout(120)
@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_sigkill_the_window_worker_at_random_moments(tmp_path: Path) -> None:
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
                lambda: popen(
                    [sys.executable, str(CHILD), code, str(dest)],
                    env={"QT_QPA_PLATFORM": "offscreen"},
                ),
                dest,
                want,
                size,
                kills=KILLS,
                seed=99,
                proxy=proxy,
            )
            assert sender.wait(30) == 0
            down = proxy.bytes_down
    finally:
        sender.stop()
    check_disk(dest, want)
    assert {k: v for k, v in tree_hashes(dest).items() if k.startswith("set/")} == want
    assert report.kills >= KILLS - 3, report  # a run may end before a late moment
    assert report.final["ok"] is True
    resent = down - size
    assert resent <= report.kills * 9 * 1024 * 1024
    record(
        "the window's worker killed with SIGKILL at random moments",
        f"`ReceiveWorker` in an offscreen Qt subprocess; {len(want)} files, {size / 1e6:.1f} MB, "
        f"{RATE / 1e6:.0f} MB/s link; seeded moments, resume after each",
        report.kills,
        f"every final file byte-identical, nothing unverified under a final name; "
        f"{down / 1e6:.1f} MB crossed the wire in {report.kills + report.busy + 1} runs "
        f"({resent / 1e6:.1f} MB re-sent, {resent / report.kills / 1e6:.2f} MB per kill); "
        f"last run reused {report.final['bytes_reused'] / 1e6:.1f} MB",
        group="crash",
        kills=report.kills,
        moments=report.moments,
        bytes_down=down,
        size=size,
        final=report.final,
    )
