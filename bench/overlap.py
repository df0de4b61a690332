"""What overlapping decryption with hashing + writing could win: the limit's loop two ways.

1. *sequential*: decrypt a 1 MiB ChaCha20-Poly1305 message into a buffer, hash it, write it;
2. *overlapped*: the main thread decrypts into one of four buffers while a second thread hashes
   and writes the previous ones (``cryptography`` and ``hashlib`` release the GIL on large
   buffers, ``os.write`` always does).

Both write ``--size-mb`` to a new file and fsync it; wall time and this process's CPU time are
printed per round. Overlap can only cut wall time, and only when a core is free: in an
end-to-end transfer on a 2-core machine the sender holds the other one.

Run: ``python bench/overlap.py`` (1 GiB, 3 rounds; ``--size-mb``, ``--rounds``).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import queue
import resource
import sys
import threading
import time
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

sys.path.insert(0, str(Path(__file__).parent))
from _common import MiB, cleanup, fresh_dir, median

AEAD = ChaCha20Poly1305(os.urandom(32))
NONCE = os.urandom(12)
SEALED = AEAD.encrypt(NONCE, os.urandom(MiB), None)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def sequential(messages: int, fd: int) -> None:
    hasher, buf = hashlib.sha256(), bytearray(MiB)
    for _ in range(messages):
        AEAD.decrypt_into(NONCE, SEALED, None, buf)
        hasher.update(buf)
        os.write(fd, buf)


def overlapped(messages: int, fd: int) -> None:
    hasher = hashlib.sha256()
    free: queue.Queue[bytearray] = queue.Queue()
    full: queue.Queue[bytearray | None] = queue.Queue()
    for _ in range(4):
        free.put(bytearray(MiB))

    def hash_and_write() -> None:
        while (buf := full.get()) is not None:
            hasher.update(buf)
            os.write(fd, buf)
            free.put(buf)

    worker = threading.Thread(target=hash_and_write)
    worker.start()
    for _ in range(messages):
        buf = free.get()
        AEAD.decrypt_into(NONCE, SEALED, None, buf)
        full.put(buf)
    full.put(None)
    worker.join()


def run(size_mb: int = 1024, rounds: int = 3) -> dict:
    folder = fresh_dir("overlap")
    runs: dict[str, list[tuple[float, float]]] = {"sequential": [], "overlapped": []}
    for k in range(rounds):
        for name, loop in (("sequential", sequential), ("overlapped", overlapped)):
            path = folder / f"{name}-{k}.bin"
            cpu, wall = _cpu(), time.perf_counter()
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                loop(size_mb, fd)
                os.fsync(fd)
            finally:
                os.close(fd)
            runs[name].append((time.perf_counter() - wall, _cpu() - cpu))
            print(
                f"  round {k + 1}: {name:10} wall {runs[name][-1][0]:.2f} s, "
                f"CPU {runs[name][-1][1]:.2f} s",
                flush=True,
            )
    return {
        name: {"wall_s": median(w for w, _ in rs), "cpu_s": median(c for _, c in rs)}
        for name, rs in runs.items()
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    try:
        res = run(args.size_mb, args.rounds)
    finally:
        cleanup()
    for name, m in res.items():
        print(f"{name}: median wall {m['wall_s']:.2f} s, CPU {m['cpu_s']:.2f} s")
    return res


if __name__ == "__main__":
    main()
