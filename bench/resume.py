"""Resume cost: a 1 GiB receive killed at 90 %, then resumed; bytes on the wire and seconds.

The receiver (``inlet receive``) is killed with SIGKILL once its ``.part`` holds 90 % of the
file; a new ``inlet receive`` into the same folder then finishes against the same sender (which
waits for the receiver to come back). The second receiver's ``--json`` report gives
``bytes_on_wire`` (everything read from the socket, handshake included), ``bytes_reused`` (held
bytes kept) and ``seconds``. From ``inlet send`` (the Inlet extension: only missing bytes
travel) and from ``inlet send --no-ext`` (ftransfer's stream: every byte travels again, the
receiver keeps its verified prefix and drops what it holds).

Run: ``python bench/resume.py`` (``--size-mb``, ``--at 0.9``, ``--rounds``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import (
    MiB,
    drop_tree,
    fresh_dir,
    make_big_file,
    measure,
    median,
    receive,
    start_sender,
)

MODES = {"ext": (), "legacy": ("--no-ext",)}


def one(src: Path, dest: Path, mode: str, at: float) -> dict:
    drop_tree(dest)
    size = src.stat().st_size
    part = dest / (src.name + ".part")
    sender = start_sender([src], *MODES[mode])

    def far_enough() -> bool:
        try:
            return part.stat().st_size >= at * size
        except OSError:
            return False

    try:
        first = receive(sender.code, dest, kill_when=far_enough, poll=0.002)
        if first.exit_code == 0:
            raise SystemExit("the receiver finished before it could be killed; use a bigger file")
        held = part.stat().st_size
        t = time.perf_counter()
        second = receive(sender.code, dest)
        wall = time.perf_counter() - t
        if not second.report.get("ok"):
            raise SystemExit(f"the resumed {mode} transfer failed: {second.report}")
    finally:
        sender.stop()
    drop_tree(dest)
    rep = second.report
    return {
        "held_at_kill": held,
        "bytes_on_wire": rep["bytes_on_wire"],
        "bytes_reused": rep["bytes_reused"],
        "bytes_written": rep["bytes_written"],
        "seconds": rep["seconds"],
        "wall": wall,
        "first_seconds": first.wall,
    }


def run(size_mb: int = 1024, at: float = 0.9, rounds: int = 3) -> dict:
    root = fresh_dir("resume")
    out: dict = {"size_mib": size_mb, "killed_at": at}
    try:
        src = root / "src" / "payload.bin"
        make_big_file(src, size_mb * MiB)
        runs: dict[str, list[dict]] = {m: [] for m in MODES}
        for _ in range(rounds):
            for mode in MODES:
                r = one(src, root / "dest", mode, at)
                runs[mode].append(r)
                print(
                    f"  {mode:6}: killed holding {r['held_at_kill'] / MiB:.0f} MiB; resume: "
                    f"{r['bytes_on_wire'] / MiB:.1f} MiB on the wire, "
                    f"{r['bytes_reused'] / MiB:.0f} MiB reused, {r['seconds']:.2f} s",
                    flush=True,
                )
    finally:
        drop_tree(root)
    for mode, rs in runs.items():
        out[mode] = {key: median(r[key] for r in rs) for key in rs[0]}
    return out


def report(res: dict) -> None:
    for mode in MODES:
        m = res[mode]
        print(
            f"resume after kill at {res['killed_at']:.0%} of {res['size_mib']} MiB, {mode}: "
            f"{m['bytes_on_wire'] / MiB:.1f} MiB on the wire, {m['bytes_reused'] / MiB:.0f} MiB "
            f"reused, {m['seconds']:.2f} s to finish"
        )


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--at", type=float, default=0.9, help="fraction held when killed")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", metavar="FILE", help="also write the results here")
    args = parser.parse_args(argv)
    return measure(lambda: run(args.size_mb, args.at, args.rounds), report, args.json)


if __name__ == "__main__":
    main()
