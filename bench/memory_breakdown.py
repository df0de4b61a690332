"""What the receiver's memory is made of at its peak, for a list of many small files.

``bench/memory.py`` gives the peak RSS of ``inlet receive``; this says which lines of code own
it. The receiver runs in this process under ``tracemalloc`` (frames of 3), receiving from a real
``inlet send`` over loopback; at each step of the conversation (file list parsed, plan sent,
hash list parsed, end; and right after each large message is parsed, while its text is
still held) the traced total is read, and the snapshot of the largest is kept and
printed by allocation site. ``tracemalloc`` sees Python's allocations only: OpenSSL's hash
contexts, for one, are missing, so RSS is higher than the traced total.

Run: ``python bench/memory_breakdown.py`` (100,000 files of 0.1-2 KB from ``inlet send``;
``--files N``, ``--no-ext``, ``--top N``).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import MiB, cleanup, fresh_dir, small_tree, start_sender

import inlet.core.receive.session as session_module
from inlet.core import cli, messages

STEPS = ("_on_metadata", "_on_accepted", "_on_stream_hashes", "_on_end_of_stream")
PARSERS = ("parse_metadata", "parse_stream_hashes")  # the big messages, while they are held


class PeakSnapshot:
    """Keeps the ``tracemalloc`` snapshot taken where the traced total was largest."""

    def __init__(self) -> None:
        self.traced = 0
        self.snapshot: tracemalloc.Snapshot | None = None
        self.where = ""

    def check(self, where: str) -> None:
        traced, _ = tracemalloc.get_traced_memory()
        if traced > self.traced:
            self.traced, self.where = traced, where
            self.snapshot = tracemalloc.take_snapshot()

    def wrap(self, owner: object, name: str) -> None:
        original = getattr(owner, name)

        def wrapped(*args, **kwargs):
            result = original(*args, **kwargs)
            self.check(f"after {name}")
            return result

        setattr(owner, name, wrapped)


def run(files: int, legacy: bool, top: int) -> dict:
    src, _ = small_tree(files, 100, 2048)
    peak = PeakSnapshot()
    for name in STEPS:
        peak.wrap(session_module.ReceiveSession, name)
    for name in PARSERS:
        peak.wrap(messages, name)
    sender = start_sender([src], *(("--no-ext",) if legacy else ()))
    tracemalloc.start(3)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            code = cli.main(["receive", sender.code, "-o", str(fresh_dir("breakdown")), "--json"])
        peak.check("after the --json report")
        _, traced_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        sender.stop()
    if code != 0:
        raise SystemExit(f"the receive failed (exit {code})")
    sites = [
        {"site": str(stat.traceback[0]), "mib": stat.size / MiB, "count": stat.count}
        for stat in peak.snapshot.statistics("lineno")[:top]
    ]
    return {
        "files": files,
        "mode": "legacy" if legacy else "ext",
        "traced_peak_mib": traced_peak / MiB,
        "largest_step": peak.where,
        "largest_step_mib": peak.traced / MiB,
        "sites": sites,
    }


def report(res: dict) -> None:
    print(
        f"{res['files']:,} files ({res['mode']}): traced peak {res['traced_peak_mib']:.1f} MiB; "
        f"largest between steps {res['largest_step_mib']:.1f} MiB, {res['largest_step']}:"
    )
    for site in res["sites"]:
        print(f"  {site['mib']:6.1f} MiB {site['count']:>8,} blocks  {site['site']}")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--no-ext", action="store_true", help="from inlet send --no-ext")
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args(argv)
    try:
        res = run(args.files, args.no_ext, args.top)
    finally:
        cleanup()
    report(res)
    return res


if __name__ == "__main__":
    main()
