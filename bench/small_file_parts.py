"""What one small file costs the receiver, part by part, each measured alone in this process.

``bench/many_files.py`` gives the whole receive against a naive loop; this says where a file's
microseconds go, so a change to one part can be measured without the network and the sender
in the way (best of ``--rounds``; process time, and for the wire the time inside the
receiver's own calls):

- *wire*: the receiver's protocol machine (`ReceiverConnection`, extension) pumped in memory
  against a real `SenderConnection`: a data message and the file's hash, decrypted and parsed;
- *disk*: a file's ``.part`` created, written and named through `Destination` (`PartFile`),
  ``--depth`` folders deep, in ``INLET_BENCH_DIR`` (default /tmp; use /dev/shm as
  ``many_files.py`` does);
- *lock*: its progress and its completion recorded (`TransferLockManager`, no syncs: the
  bookkeeping and the journal lines, not the disk's flushes);
- *floor*: the system calls of the disk part alone, without Python around them.

Run: ``python bench/small_file_parts.py`` (``--files``, ``--rounds``, ``--depth``).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import cleanup, fresh_dir

from inlet.core import wire
from inlet.core.lock import TransferLockManager
from inlet.core.store.destination import Destination
from inlet.core.store.partfile import PartFile

TOKEN = "ocean-tiger"


def _contents(count: int) -> list[bytes]:
    rng = random.Random(1)
    pool = rng.randbytes(1 << 20)
    return [pool[: rng.randint(100, 8192)] for _ in range(count)]


def wire_us(count: int) -> float:
    """Microseconds per file in the receiver's `next_event` (a data message and its hash)."""
    contents = _contents(count)
    names = [f"src/d{i // 100:04d}/f{i:06d}.bin" for i in range(count)]
    sender = wire.SenderConnection(TOKEN, extension=True)
    receiver = wire.ReceiverConnection(TOKEN, extension=True)
    spent = 0.0
    sender.start()
    done = False
    while not done:
        out, back = sender.data_to_send(), receiver.data_to_send()
        if out:
            receiver.receive_data(out)
        if back:
            sender.receive_data(back)
        while True:
            started = time.perf_counter()
            event = receiver.next_event()
            spent += time.perf_counter() - started
            if event is wire.NEED_DATA:
                break
            if isinstance(event, wire.Metadata):
                receiver.accept(plan={})
            elif isinstance(event, wire.EndOfStream):
                receiver.complete(f"Received {count} file(s).", time.time())
                done = True
        while (event := sender.next_event()) is not wire.NEED_DATA:
            if isinstance(event, wire.Authenticated):
                sender.send_metadata(list(zip(names, map(len, contents), strict=True)))
            elif isinstance(event, wire.ReceiverReady):
                sender.send_accept([0] * count)
                for index, data in enumerate(contents):
                    sender.send_data(index, 0, data)
                    sender.send_file_hash(index, hashlib.sha256(data).hexdigest())
                sender.send_end()
        if not (out or back) and not done:
            raise SystemExit("the conversation stalled")
    return spent / count * 1e6


def disk_us(count: int, depth: int) -> float:
    """Microseconds per file to create, write and name a 100-byte file through Destination."""
    root = fresh_dir("parts-disk")
    folder = "/".join(f"d{k}" for k in range(depth))
    data = memoryview(b"x" * 100)
    with Destination(root) as destination:
        destination.make_folders(folder)
        started = time.process_time()
        for i in range(count):
            part = PartFile(destination, f"{folder}/f{i}.bin")
            part.write_at(0, data, part.create(replace=False, keep_open=True))
            part.name_file(100, overwrite=False, sync=False, own_sha256=None, log=print)
        return (time.process_time() - started) / count * 1e6


def floor_us(count: int, depth: int) -> float:
    """The same system calls as `disk_us` (walks included), called directly."""
    root = fresh_dir("parts-floor")
    folders = [f"d{k}" for k in range(depth)]
    os.makedirs(root.joinpath(*folders))
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
    create = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    top = os.open(root, flags)

    def walk() -> int:
        fd = top
        for name in folders:
            inner = os.open(name, flags, dir_fd=fd)
            if fd != top:
                os.close(fd)
            fd = inner
        return fd

    data = b"x" * 100
    started = time.process_time()
    for i in range(count):
        name, part = f"f{i}.bin", f"f{i}.bin.part"
        fd = walk()
        out = os.open(part, create, 0o644, dir_fd=fd)
        os.close(fd)
        os.fstat(out)
        os.write(out, data)
        os.close(out)
        fd = walk()
        os.stat(part, dir_fd=fd, follow_symlinks=False)
        os.link(part, name, src_dir_fd=fd, dst_dir_fd=fd, follow_symlinks=False)
        os.unlink(part, dir_fd=fd)
        os.close(fd)
    spent = time.process_time() - started
    os.close(top)
    return spent / count * 1e6


def lock_us(count: int) -> float:
    """Microseconds per file to record its progress and its completion."""
    root = fresh_dir("parts-lock")
    names = [f"src/d{i // 100:04d}/f{i:06d}.bin" for i in range(count)]
    lock = TransferLockManager(root, durable=False)
    lock.start([(n, 100) for n in names], "127.0.0.1")
    digest = hashlib.sha256(b"x" * 100).hexdigest()
    started = time.process_time()
    for k in range(0, count, 1000):  # as the group commit does: a thousand verified, then named
        for name in names[k : k + 1000]:
            lock.update_progress(name, 100, digest, part_file=name + ".part")
        for name in names[k : k + 1000]:
            lock.mark_completed(name, digest, None, proof=[100, 1, 2, 3])
    spent = time.process_time() - started
    lock.close()
    return spent / count * 1e6


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--depth", type=int, default=2, help="folders above each file (disk)")
    args = parser.parse_args(argv)
    parts = {
        "wire": lambda: wire_us(args.files),
        "disk": lambda: disk_us(args.files, args.depth),
        "floor": lambda: floor_us(args.files, args.depth),
        "lock": lambda: lock_us(args.files),
    }
    results = {}
    try:
        for name, measure in parts.items():
            runs = [measure() for _ in range(args.rounds)]
            results[name] = min(runs)
            print(f"{name:6} {min(runs):6.1f} us a file (best of {args.rounds})", flush=True)
    finally:
        cleanup()
    return results


if __name__ == "__main__":
    main()
