"""Run every benchmark of issue 6 in one go and keep the results (not part of the test suite).

    python bench/run_all.py                      # everything, about 15 minutes here
    python bench/run_all.py --quick              # 1 round, no 100,000-file and 2 GB cases
    python bench/run_all.py --out results.json   # where the figures go (default below)
    python bench/run_all.py --only throughput,many_files

Order matters on this machine: the big-file benchmarks run first, then those that create tens
of thousands of files; nothing is deleted until the very end (see ``_common.bench_root``).
The results are one JSON document; ``bench/plot.py`` draws the figures of docs/PERFORMANCE.md
from it (and from an earlier run, for before/after).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import _common

ALL = (
    "throughput",
    "profile",
    "resume",
    "compression",
    "many_files",
    "memory",
    "window",
    "lock_share",
)
DEFAULT_OUT = Path(__file__).parent / "results" / "latest.json"
#: Benchmarks that create thousands of files: each waits until creating a file is cheap again.
FILE_HEAVY = {"compression", "memory", "window", "lock_share"}  # many_files waits itself


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=None, help="rounds per comparison")
    parser.add_argument("--only", default=",".join(ALL), help="comma-separated: " + ",".join(ALL))
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--label", default="", help="a name for this run (e.g. 'before')")
    args = parser.parse_args(argv)
    rounds = args.rounds or (1 if args.quick else 3)
    wanted = [b for b in args.only.split(",") if b]
    unknown = set(wanted) - set(ALL)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    results: dict = {
        "label": args.label,
        "started": datetime.now().isoformat(timespec="seconds"),
        "revision": _common.git_revision(),
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {_cpus()} CPUs",
        "rounds": rounds,
        "quick": args.quick,
        "create_us_at_start": _common.create_cost_us(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)

    def step(name: str, fn) -> None:
        if name not in wanted:
            return
        print(f"== {name}", flush=True)
        if name in FILE_HEAVY:
            results[name + "_create_us_before"] = round(_common.wait_for_healthy_fs(), 1)
        began = time.perf_counter()
        results[name] = fn()
        results[name + "_seconds"] = round(time.perf_counter() - began, 1)
        args.out.write_text(json.dumps(results, indent=2))  # keep what is done so far

    try:
        import compression
        import cpu_profile
        import lock_share
        import many_files
        import memory
        import resume
        import throughput

        def throughput_step() -> dict:
            res = throughput.run(512 if args.quick else 1024, rounds)
            throughput.report(res)
            return res

        def profile_step() -> dict:
            why_not = cpu_profile.perf_available()
            if why_not:
                print(f"  skipped: {why_not}")
                return {"skipped": why_not}
            res = cpu_profile.run(512 if args.quick else 1024, 1 if args.quick else 2)
            cpu_profile.report(res)
            return res

        def resume_step() -> dict:
            res = resume.run(512 if args.quick else 1024, 0.9, rounds)
            resume.report(res)
            return res

        def compression_step() -> dict:
            res = compression.run(64 if args.quick else 256, rounds)
            compression.report(res)
            return res

        def many_files_step() -> dict:
            return many_files.run(quick=args.quick, rounds=rounds)

        def memory_step() -> dict:
            res = memory.run(quick=args.quick)
            memory.report(res)
            return res

        def window_step() -> dict:
            import window

            res = window.run(10_000 if args.quick else 100_000)
            window.report(res)
            return res

        def lock_share_step() -> dict:
            flags = ["--cpu", "--quick"] if args.quick else ["--cpu"]
            return {
                "disk_path": lock_share._main(lock_share_args(flags)),
                "end_to_end": lock_share._main(lock_share_args([*flags, "--e2e"])),
            }

        def lock_share_args(flags: list[str]) -> argparse.Namespace:
            return argparse.Namespace(
                fsync=False,
                nosync=False,
                quick="--quick" in flags,
                cpu="--cpu" in flags,
                e2e="--e2e" in flags,
            )

        step("throughput", throughput_step)
        step("profile", profile_step)
        step("resume", resume_step)
        step("compression", compression_step)
        step("many_files", many_files_step)
        step("memory", memory_step)
        step("window", window_step)
        step("lock_share", lock_share_step)
    finally:
        results["finished"] = datetime.now().isoformat(timespec="seconds")
        args.out.write_text(json.dumps(results, indent=2))
        print(f"results: {args.out}")
        _common.cleanup()
    return results


def _cpus() -> int:
    import os

    return os.cpu_count() or 0


if __name__ == "__main__":
    main()
