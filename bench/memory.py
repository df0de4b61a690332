"""Peak memory of the receiver: 10 MB, 2 GB, and 100,000 files.

``inlet receive`` runs as its own process; its peak RSS is ``ru_maxrss`` from ``os.wait4``. The
idle figure is the same interpreter with the receiver imported and nothing else done, so the
growth over it is what receiving costs (invariant 5: bounded by a few chunks whatever a file's
size, growing only with the file list's metadata).

Run: ``python bench/memory.py`` (``--quick``: no 2 GB case).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import (
    drop_tree,
    fresh_dir,
    idle_rss_kib,
    make_big_file,
    measure,
    small_tree,
    transfer,
)

MODES = {"ext": (), "legacy": ("--no-ext",)}


def run(quick: bool = False) -> dict:
    out: dict = {"idle_mib": idle_rss_kib() / 1024}
    cases = [("10 MB", 10 * 1000 * 1000, 0), ("2 GB", 2 * 1000 * 1000 * 1000, 0)]
    cases.append(("100,000 files", 0, 100_000))
    if quick:
        cases = [c for c in cases if c[0] != "2 GB"]
    for label, size, count in cases:
        if count:
            sources = [small_tree(count, 100, 2048)[0]]
        else:
            big = fresh_dir("src-big") / "payload.bin"
            make_big_file(big, size)
            sources = [big]
        out[label] = {}
        for mode, flags in MODES.items():
            dest = fresh_dir("dest-memory")
            r = transfer(sources, dest, flags)
            if not count:
                drop_tree(dest)  # one big file: deleting it costs the next runs nothing
            if not r.report.get("ok"):
                raise SystemExit(f"{label} {mode}: the transfer failed: {r.report}")
            peak = r.peak_rss_kib / 1024
            out[label][mode] = {"peak_rss_mib": peak, "growth_mib": peak - out["idle_mib"]}
            print(f"  {label:14} {mode:6}: peak RSS {peak:6.1f} MiB", flush=True)
        if not count:
            drop_tree(sources[0].parent)
    return out


def report(res: dict) -> None:
    print(f"idle receiver (imported, nothing done): {res['idle_mib']:.1f} MiB")
    for label, modes in res.items():
        if label == "idle_mib":
            continue
        parts = [
            f"{mode} {m['peak_rss_mib']:.1f} MiB (+{m['growth_mib']:.1f})"
            for mode, m in modes.items()
        ]
        print(f"peak RSS receiving {label}: " + ", ".join(parts))


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the 2 GB case")
    parser.add_argument("--json", metavar="FILE", help="also write the results here")
    args = parser.parse_args(argv)
    return measure(lambda: run(args.quick), report, args.json)


if __name__ == "__main__":
    main()
