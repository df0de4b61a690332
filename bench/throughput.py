"""Receive throughput, receiver CPU per GiB against the machine's limit, and peak memory.

In one run on this machine:

1. the *limit*: CPU seconds per GiB for what a receiver cannot avoid — ChaCha20-Poly1305
   decryption of 1 MiB messages, SHA-256 of the plaintext, and writing it to a file;
2. a real transfer over loopback: ``inlet send --no-ext`` (the ftransfer-compatible stream) or
   ``inlet send`` to ``inlet receive``, each a separate process; the receiver's CPU seconds and
   peak RSS come from ``wait4``;
3. the receiver's idle size: the same interpreter with the receiver imported, doing nothing.

Prints throughput, CPU per GiB, the ratio to the limit (aim: within 1.3x, later 1.15x), and
peak RSS minus idle RSS for a 10 MB and a large transfer (aim: within 30 MB).

Run: ``python bench/throughput.py`` (1 GiB, about a minute), ``--size-mb 2048`` for 2 GB,
``--mode ext`` for Inlet to Inlet.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

MiB = 1 << 20
GiB = 1 << 30
INLET = [sys.executable, "-m", "inlet.core"]


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def machine_limit(folder: Path, total: int = 256 * MiB) -> float:
    """CPU seconds per GiB to decrypt, hash and write ``total`` bytes in 1 MiB messages."""
    key = os.urandom(32)
    aead = ChaCha20Poly1305(key)
    nonce = os.urandom(12)
    sealed = aead.encrypt(nonce, os.urandom(MiB), None)
    path = folder / "limit.bin"
    before = cpu_seconds()
    hasher = hashlib.sha256()
    with open(path, "wb") as out:
        for _ in range(total // MiB):
            plain = aead.decrypt(nonce, sealed, None)
            hasher.update(plain)
            out.write(plain)
    spent = cpu_seconds() - before
    path.unlink()
    return spent * GiB / total


def make_file(path: Path, size: int) -> None:
    block = os.urandom(MiB)
    with open(path, "wb") as out:
        left = size
        while left:
            n = min(left, MiB)
            out.write(block[:n] if n < MiB else block)
            left -= n
            block = hashlib.sha256(block[:32]).digest() + block[32:]  # differ per MiB, cheaply


def idle_rss_kib() -> int:
    """Peak RSS of an interpreter that imported the receiver and did nothing else."""
    code = (
        "import resource, inlet.core.receiver, inlet.core.cli; "
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    return int(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
    )


def transfer(folder: Path, size: int, mode: str) -> dict[str, float]:
    """One loopback transfer of a ``size``-byte file; the receiver's wall, CPU and peak RSS."""
    src = folder / "src" / "payload.bin"
    src.parent.mkdir(exist_ok=True)
    make_file(src, size)
    dest = folder / f"dest-{mode}-{size}"
    flags = ["--no-ext"] if mode == "legacy" else []
    sender = subprocess.Popen(
        [*INLET, "send", str(src), "--bind", "127.0.0.1", "--port", "0", *flags],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        code = sender.stdout.readline().split()[-1]
        started = time.perf_counter()
        receiver = subprocess.Popen(
            [*INLET, "receive", code, "-o", str(dest), "--json"], stdout=subprocess.DEVNULL
        )
        _, status, usage = os.wait4(receiver.pid, 0)
        wall = time.perf_counter() - started
        receiver.returncode = os.waitstatus_to_exitcode(status)
        if receiver.returncode != 0:
            raise SystemExit(f"inlet receive failed with exit code {receiver.returncode}")
    finally:
        sender.kill()
        sender.wait()
    result = {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "peak_rss_kib": usage.ru_maxrss,
    }
    for path in dest.rglob("*"):
        if path.is_file():
            path.unlink()
    src.unlink()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024, help="size of the large transfer")
    parser.add_argument(
        "--mode",
        choices=["legacy", "ext"],
        default="legacy",
        help="legacy: from 'inlet send --no-ext'; ext: Inlet to Inlet",
    )
    args = parser.parse_args()
    size = args.size_mb * MiB
    with tempfile.TemporaryDirectory(dir=os.environ.get("INLET_BENCH_DIR")) as tmp:
        folder = Path(tmp)
        limit = machine_limit(folder)
        idle = idle_rss_kib()
        small = transfer(folder, 10 * MiB, args.mode)
        large = transfer(folder, size, args.mode)
    gib = size / GiB
    cpu_per_gib = large["cpu"] / gib
    print(f"mode: {args.mode} ({'inlet send --no-ext' if args.mode == 'legacy' else 'inlet send'})")
    print(f"machine limit (decrypt + SHA-256 + write): {limit:.2f} CPU s/GiB")
    print(
        f"receive {args.size_mb} MiB: {large['wall']:.2f} s wall, "
        f"{size / MiB / large['wall']:.0f} MiB/s, receiver {cpu_per_gib:.2f} CPU s/GiB"
    )
    print(f"ratio receiver CPU / limit: {cpu_per_gib / limit:.2f}x (aim <= 1.30x)")
    print(f"idle receiver RSS: {idle / 1024:.1f} MiB")
    for label, run in (("10 MiB", small), (f"{args.size_mb} MiB", large)):
        growth = (run["peak_rss_kib"] - idle) / 1024
        print(
            f"peak RSS receiving {label}: {run['peak_rss_kib'] / 1024:.1f} MiB "
            f"(+{growth:.1f} MiB over idle; aim <= 30 MiB)"
        )


if __name__ == "__main__":
    main()
