"""Many small files end to end: ``inlet send`` -> ``inlet receive`` over loopback.

Cases (the targets of issue 6): 10,000 files of 0.1-8 KB (under 2 s) and 100,000 files of
0.1-2 KB (under 20 s). Each is received from ``inlet send`` (the Inlet extension: a hash after
every file) and from ``inlet send --no-ext`` (the ftransfer stream: all hashes at the end), in
alternation, ``--rounds`` times; the receiver's wall time (process start to exit, as a person
waits for it), CPU time and peak RSS are printed per run and as medians.

Run: ``python bench/many_files.py`` (``--quick``: 10,000 files only; ``--rounds N``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import cleanup, fresh_dir, median, small_tree, transfer, wait_for_healthy_fs

CASES = {
    "10k": (10_000, 100, 8 * 1024, 2.0),
    "100k": (100_000, 100, 2 * 1024, 20.0),
}
MODES = {"ext": (), "legacy": ("--no-ext",)}


def run_case(key: str, rounds: int, modes: list[str]) -> dict:
    count, low, high, target = CASES[key]
    src, total = small_tree(count, low, high)
    create_us = wait_for_healthy_fs()
    runs: dict[str, list] = {m: [] for m in modes}
    for _ in range(rounds):
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
                f"(target < {res['target_s']:.0f} s)",
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
