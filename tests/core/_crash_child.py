"""A receiver's disk path, run as a child process that the crash test kills with SIGKILL.

It acts like Inlet receiving from an ftransfer 1.0.1 sender: the whole unified stream is sent
from byte 0 every time and the writers drop what they already hold (``needs_data``). After every
chunk it actually wrote it prints one byte, so the parent can kill it after N writes.

Usage: ``python _crash_child.py DEST MODE`` with MODE ``per-file`` (each file is verified and
named right after its last byte, as with Inlet's extension) or ``at-end`` (hashes after the
stream, as ftransfer does).
"""

from __future__ import annotations

import hashlib
import itertools
import os
import random
import sys
from pathlib import Path

from inlet.core.lock import TransferLockManager
from inlet.core.receive.resume import ResumeAction
from inlet.core.writer import FileWriter

FILES = [
    ("empty.txt", 0),
    ("tiny.txt", 1),
    ("a/b/one.bin", 100_000),
    ("a/two.bin", 700_000),
    ("c/three.bin", 1_500_000),
    ("four.bin", 65_536),
    ("a/b/five.bin", 900_000),
    ("six.bin", 33_333),
]
CHUNK = 16 * 1024


def file_bytes(index: int, size: int) -> bytes:
    return random.Random(index).randbytes(size)


def expected() -> dict[str, bytes]:
    return {name: file_bytes(i, size) for i, (name, size) in enumerate(FILES)}


def main() -> None:
    dest, mode = Path(sys.argv[1]), sys.argv[2]
    contents = expected()
    digests = {name: hashlib.sha256(data).hexdigest() for name, data in contents.items()}
    stream = b"".join(contents[name] for name, _ in FILES)
    # A clock that ticks once per lock call: the lock writes a batch every 3 calls, however
    # fast this machine is, and compacts often (tiny snapshot), so kills hit every step.
    ticks = itertools.count()
    lock = TransferLockManager(
        dest, batch_size=4, flush_interval=3, clock=lambda: next(ticks), compact_min_bytes=0
    )
    plan = lock.start(FILES, "127.0.0.1")
    writers: list[FileWriter] = []
    offset = 0
    for name, size in FILES:
        planned = plan[name]
        if planned.action is not ResumeAction.SKIP:
            w = FileWriter(dest / name, size, offset, lock, lock_key=name)
            w.open_for_writing(resume_bytes=planned.held_bytes)
            w.verify_prefix()
            writers.append(w)
        offset += size

    def finish(w: FileWriter) -> None:
        if not w.complete_file(digests[w.lock_key]):
            raise SystemExit(f"{w.lock_key} failed: {w.failed_reason}")

    for start in range(0, len(stream), CHUNK):
        end = min(start + CHUNK, len(stream))
        wrote = False
        for w in writers:
            lo, hi = max(start, w.offset), min(end, w.offset + w.size)
            if lo >= hi:
                continue
            first = max(lo, w.offset + w.written)
            if first < hi and w.needs_data(first):
                wrote |= w.write_chunk(stream[first:hi]) > 0
            if mode == "per-file" and w.all_bytes_held and not w.is_complete:
                finish(w)
        if wrote:
            os.write(1, b".")
    for w in writers:
        if not w.is_complete:
            finish(w)
    lock.flush()
    lock.remove()
    os.write(1, b"DONE")


if __name__ == "__main__":
    main()
