"""How much of a many-small-files transfer goes into lock bookkeeping (target: under 10 %).

Simulates the receiver's disk path with real files in a temporary folder: one FileWriter per
file (open, write the file's bytes, verify against the sender's SHA-256, rename) plus the
TransferLockManager (create the lock, status changes, batched progress, final removal). Time
inside the lock manager is measured with ``time.perf_counter`` around each of its public
calls (outermost call only, so a flush inside ``update_progress`` is counted once). The CPU
share (``--cpu``, ``time.thread_time``) does not move when other processes compete for the
machine, the wall share does.

ftransfer 1.0.1 rewrote its whole JSON lock per batch and stalled on 10,000 files; the share
printed here must stay flat as the file count grows tenfold.

Run: ``python bench/lock_share.py``. By default the writers skip their per-file fsync before
the final rename (``FileWriter(fsync=False)``): that makes the run quick and is the harder case
for the lock's share. ``--fsync`` measures the writer's default (safer, slower); ``--quick`` runs
1,000 and 10,000 files only.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import random
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from inlet.core.lock import TransferLockManager
from inlet.core.writer import FileWriter

_TIMED = (
    "start",
    "create",
    "load",
    "plan_resume",
    "set_status",
    "update_progress",
    "flush",
    "entry",
    "record",
    "remove",
    "__contains__",
)


class TimedLockManager(TransferLockManager):
    """A lock manager that adds up the wall and CPU time spent inside its public methods."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.lock_seconds = 0.0
        self.lock_cpu = 0.0
        self.lock_calls = 0
        self._depth = 0
        super().__init__(*args, **kwargs)


def _no_cpu_clock() -> float:
    return 0.0


_cpu_clock: Callable[[], float] = _no_cpu_clock  # time.thread_time with --cpu


def _timed(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(self: TimedLockManager, *args: Any, **kwargs: Any) -> Any:
        if self._depth:
            return method(self, *args, **kwargs)
        self._depth = 1
        cpu = _cpu_clock()
        start = time.perf_counter()
        try:
            return method(self, *args, **kwargs)
        finally:
            self.lock_seconds += time.perf_counter() - start
            self.lock_cpu += _cpu_clock() - cpu
            self.lock_calls += 1
            self._depth = 0

    return wrapper


for _name in _TIMED:
    setattr(TimedLockManager, _name, _timed(getattr(TransferLockManager, _name)))


def timer_overhead(calls: int = 200_000) -> float:
    """Seconds one timed call adds by itself (two perf_counter reads and the bookkeeping)."""

    class Probe(TimedLockManager):
        pass

    def noop(self: TimedLockManager) -> None:
        return None

    Probe.noop = _timed(noop)  # type: ignore[attr-defined]
    probe = Probe(tempfile.gettempdir())
    start = time.perf_counter()
    for _ in range(calls):
        probe.noop()  # type: ignore[attr-defined]
    wrapped = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(calls):
        noop(probe)
    plain = time.perf_counter() - start
    return max(0.0, (wrapped - plain) / calls)


def make_files(count: int, low: int, high: int, seed: int) -> list[tuple[str, int]]:
    rng = random.Random(seed)
    return [(f"d{i // 100:04d}/f{i:06d}.bin", rng.randint(low, high)) for i in range(count)]


def run(count: int, low: int, high: int, fsync: bool, seed: int = 1) -> dict[str, float]:
    files = make_files(count, low, high, seed)
    pool = random.Random(seed).randbytes(1 << 20)
    # The "sender": contents and their hashes, prepared outside the timed region.
    payload = []
    for i, (_, size) in enumerate(files):
        start = (i * 7919) % (len(pool) - size)
        data = pool[start : start + size]
        payload.append((data, hashlib.sha256(data).hexdigest()))
    root = Path(tempfile.mkdtemp(prefix="inlet-bench-"))
    try:
        dest = root / "dest"
        dest.mkdir()
        lock = TimedLockManager(dest, listener=lambda event: None)
        began, began_cpu = time.perf_counter(), _cpu_clock()
        lock.start(files, "127.0.0.1")
        offset = 0
        for (name, size), (data, digest) in zip(files, payload, strict=True):
            writer = FileWriter(dest / name, size, offset, lock, lock_key=name, fsync=fsync)
            writer.open_for_writing()
            writer.write_chunk(data)
            if not writer.complete_file(digest):
                raise SystemExit(f"benchmark broke: {name} did not verify")
            offset += size
        lock.flush()
        lock.remove()
        wall = time.perf_counter() - began
        cpu = _cpu_clock() - began_cpu
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return {
        "files": count,
        "bytes": offset,
        "wall": wall,
        "lock": lock.lock_seconds,
        "calls": lock.lock_calls,
        "share": 100.0 * lock.lock_seconds / wall,
        "cpu_share": 100.0 * lock.lock_cpu / cpu if cpu else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fsync", action="store_true", help="fsync each file before its rename")
    parser.add_argument("--quick", action="store_true", help="1,000 and 10,000 files only")
    parser.add_argument(
        "--cpu", action="store_true", help="also measure CPU time (costs ~1 us more per call)"
    )
    args = parser.parse_args()
    global _cpu_clock
    if args.cpu:
        _cpu_clock = time.thread_time
    cases = [(10_000, 100, 8 * 1024), (100_000, 100, 2 * 1024)]
    if args.quick:
        cases = [(1_000, 100, 8 * 1024), (10_000, 100, 2 * 1024)]
    fsync = args.fsync
    overhead = timer_overhead()
    print(f"FileWriter fsync before rename: {'on' if fsync else 'off'}")
    print(f"timer overhead {overhead * 1e6:.2f} us per lock call (counted as lock time below)")
    print(
        f"{'files':>8} {'size range':>13} {'MB':>7} {'wall s':>8} {'lock s':>8} {'calls':>8} "
        f"{'share':>7} {'net of timer':>13}" + (f" {'CPU share':>10}" if args.cpu else "")
    )
    worst = 0.0
    for count, low, high in cases:
        r = run(count, low, high, fsync)
        worst = max(worst, r["share"])
        net = 100.0 * max(0.0, r["lock"] - r["calls"] * overhead) / r["wall"]
        print(
            f"{count:>8} {f'{low}-{high} B':>13} {r['bytes'] / 1e6:>7.1f} {r['wall']:>8.2f} "
            f"{r['lock']:>8.3f} {r['calls']:>8} {r['share']:>6.1f}% {net:>12.1f}%"
            + (f" {r['cpu_share']:>9.1f}%" if args.cpu else "")
        )
    print(f"worst share {worst:.1f}% of wall time, timer included (target < 10%)")
    if args.cpu:
        print("CPU share: the lock's CPU time over this thread's (other busy processes do not")
        print("inflate it, unlike the wall share)")


if __name__ == "__main__":
    main()
