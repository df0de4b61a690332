"""Many small files end to end: ``inlet send`` -> ``inlet receive`` over loopback.

Cases (the targets of issue 6): 10,000 files of 0.1-8 KB (under 2 s) and 100,000 files of
0.1-2 KB (under 20 s). Each is received from ``inlet send`` (the Inlet extension: a hash after
every file) and from ``inlet send --no-ext`` (the ftransfer stream: all hashes at the end), in
alternation, ``--rounds`` times; the receiver's wall time (process start to exit, as a person
waits for it), CPU time and peak RSS are printed per run and as medians.

Beside each round runs the naive baseline issue 10 measures against: a Python process that
only writes the same files (read from the source, ``open``/``write``/``close`` each, no
network, no hashing, no sync) into a fresh folder of the same file system. The ratio of the
medians (Inlet / naive) is printed; the target for 10,000 files is 2.5x or less. Run on tmpfs
(``INLET_BENCH_DIR=/dev/shm``) to keep ext4's slow inode allocation after deletions out.

Run: ``python bench/many_files.py`` (``--quick``: 10,000 files only; ``--rounds N``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import cleanup, fresh_dir, median, small_tree, transfer, wait_for_healthy_fs

CASES = {
    "10k": (10_000, 100, 8 * 1024, 2.0),
    "100k": (100_000, 100, 2 * 1024, 20.0),
}
MODES = {"ext": (), "legacy": ("--no-ext",)}


NAIVE = """
import os, sys
src, dest = sys.argv[1], sys.argv[2]
for folder, _, names in os.walk(src):
    out = os.path.join(dest, os.path.relpath(folder, src))
    os.makedirs(out, exist_ok=True)
    for name in names:
        with open(os.path.join(folder, name), "rb") as f:
            data = f.read()
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
"""


def naive_copy(src: Path, dest: Path) -> float:
    """Wall seconds of the naive baseline: a process that only writes the same files."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", NAIVE, str(src), str(dest / src.name)], check=True)
    return time.perf_counter() - started


def run_case(key: str, rounds: int, modes: list[str]) -> dict:
    count, low, high, target = CASES[key]
    src, total = small_tree(count, low, high)
    create_us = wait_for_healthy_fs()
    runs: dict[str, list] = {m: [] for m in modes}
    naive: list[float] = []
    for _ in range(rounds):
        naive.append(naive_copy(src, fresh_dir(f"dest-{key}-naive")))
        print(f"  {key} naive : {naive[-1]:6.2f} s wall (only writes the files)", flush=True)
        for mode in modes:
            r = transfer([src], fresh_dir(f"dest-{key}-{mode}"), MODES[mode])
            if not r.report.get("ok") or len(r.report.get("files", [])) != count:
                raise SystemExit(f"{key} {mode}: the transfer did not complete: {r.report}")
            runs[mode].append(r)
            print(
                f"  {key} {mode:6}: {r.wall:6.2f} s wall ({r.report['seconds']:.2f} s inside), "
                f"{count / r.wall:8.0f} files/s, CPU {r.cpu:.2f} s, "
                f"peak RSS {r.peak_rss_kib / 1024:.0f} MiB",
                flush=True,
            )
    out = {
        "files": count,
        "bytes": total,
        "sizes": [low, high],
        "target_s": target,
        "create_us_before": create_us,
        "naive_s": median(naive),
    }
    for mode, rs in runs.items():
        wall = median(r.wall for r in rs)
        out[mode] = {
            "wall_s": wall,
            "inside_s": median(r.report["seconds"] for r in rs),
            "files_per_s": count / wall,
            "cpu_s": median(r.cpu for r in rs),
            "peak_rss_mib": median(r.peak_rss_kib for r in rs) / 1024,
            "runs": [round(r.wall, 3) for r in rs],
            "vs_naive": wall / out["naive_s"],
        }
    return out


def run(
    quick: bool = False,
    rounds: int = 3,
    modes: tuple[str, ...] = ("ext", "legacy"),
    cases: tuple[str, ...] = ("10k", "100k"),
) -> dict:
    results = {}
    for key in ["10k"] if quick else cases:
        results[key] = res = run_case(key, rounds, list(modes))
        for mode in modes:
            m = res[mode]
            print(
                f"{key} files ({res['sizes'][0]}-{res['sizes'][1]} B), {mode}: median "
                f"{m['wall_s']:.2f} s, {m['files_per_s']:.0f} files/s "
                f"(target < {res['target_s']:.0f} s); {m['vs_naive']:.2f}x the naive loop "
                f"({res['naive_s']:.2f} s)",
                flush=True,
            )
    return results


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 files only")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--modes", default="ext,legacy", help="comma-separated: ext,legacy")
    parser.add_argument("--cases", default="10k,100k", help="comma-separated: 10k,100k")
    parser.add_argument("--json", metavar="FILE", help="also write the results here")
    args = parser.parse_args(argv)
    try:
        results = run(
            args.quick, args.rounds, tuple(args.modes.split(",")), tuple(args.cases.split(","))
        )
    finally:
        cleanup()
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
