"""Compression on a compressible folder: throughput with ``--compress`` on and off.

The folder is generated source-code-like text (indented lines of identifiers, calls, comments
and conditions; blosc/lz4 shrinks it to about a quarter). Each run is ``inlet send [--compress]``
-> ``inlet receive`` over loopback, in alternation, ``--rounds`` times; printed are the medians
of the throughput (MiB of files per second of the receiver's wall time), the bytes on the wire
and both processes' CPU seconds.

On loopback the wire is nearly free, so compression can only cost here; it pays on a link slower
than what the receiver can decompress and verify.

Run: ``python bench/compression.py`` (``--size-mb``, ``--rounds``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import (
    MiB,
    fresh_dir,
    make_source_tree,
    measure,
    median,
    receive,
    start_sender,
)

VARIANTS = {
    "off": (),
    "on": ("--compress",),
    "off, --no-ext": ("--no-ext",),
    "on, --no-ext": ("--compress", "--no-ext"),
}


def one(src: Path, dest: Path, flags: tuple[str, ...]) -> dict:
    sender = start_sender([src], *flags)
    try:
        got = receive(sender.code, dest)
        deadline = time.monotonic() + 10
        sender_cpu = float("nan")
        while time.monotonic() < deadline:
            pid, _, usage = os.wait4(sender.proc.pid, os.WNOHANG)
            if pid:
                sender.proc.returncode = 0
                sender_cpu = usage.ru_utime + usage.ru_stime
                break
            time.sleep(0.01)
    finally:
        sender.stop()
    if not got.report.get("ok"):
        raise SystemExit(f"the transfer failed: {got.report}")
    return {
        "wall": got.wall,
        "bytes_on_wire": got.report["bytes_on_wire"],
        "receiver_cpu": got.cpu,
        "sender_cpu": sender_cpu,
    }


def run(size_mb: int = 256, rounds: int = 3) -> dict:
    src = fresh_dir("src-text")
    total = make_source_tree(src, size_mb * MiB)
    files = sum(1 for _ in src.rglob("*.py"))
    runs: dict[str, list[dict]] = {v: [] for v in VARIANTS}
    for _ in range(rounds):
        for variant, flags in VARIANTS.items():
            r = one(src, fresh_dir("dest-text"), flags)
            runs[variant].append(r)
            print(
                f"  compress {variant:14}: {total / MiB / r['wall']:6.1f} MiB/s, "
                f"{r['bytes_on_wire'] / MiB:6.1f} MiB on the wire, receiver CPU "
                f"{r['receiver_cpu']:.2f} s, sender CPU {r['sender_cpu']:.2f} s",
                flush=True,
            )
    out: dict = {"bytes": total, "files": files}
    for variant, rs in runs.items():
        out[variant] = {
            "mib_per_s": median(total / MiB / r["wall"] for r in rs),
            "wire_mib": median(r["bytes_on_wire"] / MiB for r in rs),
            "receiver_cpu_s": median(r["receiver_cpu"] for r in rs),
            "sender_cpu_s": median(r["sender_cpu"] for r in rs),
        }
    return out


def report(res: dict) -> None:
    print(f"compressible folder: {res['files']} files, {res['bytes'] / MiB:.0f} MiB")
    for variant in VARIANTS:
        m = res[variant]
        print(
            f"--compress {variant}: {m['mib_per_s']:.0f} MiB/s, {m['wire_mib']:.0f} MiB on the "
            f"wire, receiver {m['receiver_cpu_s']:.2f} CPU s, sender {m['sender_cpu_s']:.2f} CPU s"
        )


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", metavar="FILE", help="also write the results here")
    args = parser.parse_args(argv)
    return measure(lambda: run(args.size_mb, args.rounds), report, args.json)


if __name__ == "__main__":
    main()
