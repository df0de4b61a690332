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

Run: ``python bench/lock_share.py``. By default the disk path is the receiver's (crash safe):
each fresh ``.part`` made by its first chunk, files verified, then named in groups after one
shared sync (``GroupCommit``), the lock syncing unsynced progress past two groups. ``--nosync``
skips every sync (the harder case for the lock's share); ``--fsync`` is the old path, an fsync
per file before its rename; ``--quick`` runs 1,000 and 10,000 files only. Nothing is deleted
between runs (see ``_common.bench_root``).
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from inlet.core.lock import TransferLockManager
from inlet.core.writer import FileWriter

sys.path.insert(0, str(Path(__file__).parent))
from _common import cleanup, fresh_dir, small_tree, start_sender

try:  # the receiver's disk path since issue 6
    from inlet.core.store.groupcommit import GroupCommit
except ImportError:  # an older tree (a "before" measurement)
    GroupCommit = None

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


def run(count: int, low: int, high: int, mode: str, seed: int = 1) -> dict[str, float]:
    """``mode``: "group" (the receiver's path), "fsync" (an fsync per file), "nosync"."""
    files = make_files(count, low, high, seed)
    pool = random.Random(seed).randbytes(1 << 20)
    # The "sender": contents and their hashes, prepared outside the timed region.
    payload = []
    for i, (_, size) in enumerate(files):
        start = (i * 7919) % (len(pool) - size)
        data = pool[start : start + size]
        payload.append((data, hashlib.sha256(data).hexdigest()))
    dest = fresh_dir("lock-share")
    group = mode == "group" and GroupCommit is not None
    if group:
        lock = TimedLockManager(dest, listener=lambda event: None, sync_batch=2000)
        commits = GroupCommit(lock.sync_clock)
    else:
        lock = TimedLockManager(dest, listener=lambda event: None, durable=mode != "nosync")
    began, began_cpu = time.perf_counter(), _cpu_clock()
    lock.start(files, "127.0.0.1")
    offset = 0
    for (name, size), (data, digest) in zip(files, payload, strict=True):
        writer = FileWriter(dest / name, size, offset, lock, lock_key=name, fsync=mode != "nosync")
        if group:
            writer.open_for_writing(defer_create=True)
            writer.write_chunk(data)
            if not writer.verify(digest):
                raise SystemExit(f"benchmark broke: {name} did not verify")
            commits.add(writer, _check_named)
            if commits.due():
                commits.commit()
        else:
            writer.open_for_writing()
            writer.write_chunk(data)
            if not writer.complete_file(digest):
                raise SystemExit(f"benchmark broke: {name} did not verify")
        offset += size
    if group:
        commits.commit()
    lock.flush()
    lock.remove()
    wall = time.perf_counter() - began
    cpu = _cpu_clock() - began_cpu
    return {
        "files": count,
        "bytes": offset,
        "wall": wall,
        "lock": lock.lock_seconds,
        "calls": lock.lock_calls,
        "share": 100.0 * lock.lock_seconds / wall,
        "cpu_share": 100.0 * lock.lock_cpu / cpu if cpu else float("nan"),
    }


def run_e2e(count: int, low: int, high: int, extension: bool = True) -> dict[str, float]:
    """The lock's share of a real receive: ``inlet send`` in its own process, the receiver in
    this one with the timed lock manager in place of the real one."""
    import inlet.core.receive.session as session_module
    import inlet.core.receiver as receiver_module
    from inlet.core.codes import parse_code

    src, total = small_tree(count, low, high)
    dest = fresh_dir("lock-share-e2e")
    sender = start_sender([src], *(() if extension else ("--no-ext",)))
    made: list[TimedLockManager] = []

    class Recorded(TimedLockManager):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    real = session_module.TransferLockManager
    session_module.TransferLockManager = Recorded
    try:
        receiver = receiver_module.Receiver(parse_code(sender.code), dest)
        began, began_cpu = time.perf_counter(), _cpu_clock()
        result = receiver.run()
        wall = time.perf_counter() - began
        cpu = _cpu_clock() - began_cpu
    finally:
        session_module.TransferLockManager = real
        sender.stop()
    if not result.ok:
        raise SystemExit(f"benchmark broke: {result.error}")
    lock_s = sum(m.lock_seconds for m in made)
    return {
        "files": count,
        "bytes": total,
        "wall": wall,
        "lock": lock_s,
        "calls": sum(m.lock_calls for m in made),
        "share": 100.0 * lock_s / wall,
        "cpu_share": 100.0 * sum(m.lock_cpu for m in made) / cpu if cpu else float("nan"),
    }


def _check_named(writer: FileWriter, named: bool) -> None:
    if not named:
        raise SystemExit(f"benchmark broke: {writer.lock_key} was not named")


def main(argv: list[str] | None = None) -> list[dict[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fsync", action="store_true", help="fsync each file before its rename")
    parser.add_argument("--nosync", action="store_true", help="no syncs at all")
    parser.add_argument("--quick", action="store_true", help="1,000 and 10,000 files only")
    parser.add_argument(
        "--e2e", action="store_true", help="a real receive from inlet send (this process)"
    )
    parser.add_argument(
        "--cpu", action="store_true", help="also measure CPU time (costs ~1 us more per call)"
    )
    args = parser.parse_args(argv)
    try:
        return _main(args)
    finally:
        cleanup()


def _main(args: argparse.Namespace) -> list[dict[str, float]]:
    global _cpu_clock
    if args.cpu:
        _cpu_clock = time.thread_time
    cases = [(10_000, 100, 8 * 1024), (100_000, 100, 2 * 1024)]
    if args.quick:
        cases = [(1_000, 100, 8 * 1024), (10_000, 100, 2 * 1024)]
    mode = "fsync" if args.fsync else "nosync" if args.nosync else "group"
    if mode == "group" and GroupCommit is None:
        mode = "fsync"  # this tree has no group commit: its receiver fsyncs every file
    overhead = timer_overhead()
    print(
        {
            "group": "disk path: the receiver's (group commit, one sync per group of files)",
            "fsync": "disk path: an fsync per file before its rename",
            "nosync": "disk path: no syncs at all",
        }[mode]
    )
    print(f"timer overhead {overhead * 1e6:.2f} us per lock call (counted as lock time below)")
    print(
        f"{'files':>8} {'size range':>13} {'MB':>7} {'wall s':>8} {'lock s':>8} {'calls':>8} "
        f"{'share':>7} {'net of timer':>13}" + (f" {'CPU share':>10}" if args.cpu else "")
    )
    if args.e2e:
        print("a real receive from 'inlet send' (the receiver in this process, end to end)")
    worst = 0.0
    results = []
    for count, low, high in cases:
        r = run_e2e(count, low, high) if args.e2e else run(count, low, high, mode)
        r["mode"] = "e2e" if args.e2e else mode
        results.append(r)
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
    return results


if __name__ == "__main__":
    main()
