"""Run the reliability tests and write their figures into docs/RELIABILITY.md.

    python bench/reliability_report.py            # run the tests, then write the table
    python bench/reliability_report.py --no-run   # only re-render from the last run's figures

Every row of the table is recorded by a test (tests/reliability.py: ``record``) during the run:
the tests append one JSON line each to ``bench/results/reliability.jsonl``. The rows, the run's
date, command, outcome and durations go to ``bench/results/reliability.json``; the table
replaces what stands between the markers in docs/RELIABILITY.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
LINES = RESULTS / "reliability.jsonl"
SUMMARY = RESULTS / "reliability.json"
DOC = ROOT / "docs" / "RELIABILITY.md"
BEGIN, END = "<!-- reliability-table:begin -->", "<!-- reliability-table:end -->"

TESTS = [
    "tests/core/test_hostile.py",
    "tests/core/test_wire_fuzz.py",
    "tests/core/test_network_faults.py",
    "tests/core/test_kill_resume.py",
    "tests/gui/test_worker_kill.py",
    "tests/core/test_disk_full.py",
    "tests/core/test_peers.py",
    "tests/core/test_edges.py",
]
GROUPS = [
    ("hostile", "Hostile sender (invariants 1, 2, 5, 6)"),
    ("memory", "Memory (invariant 5)"),
    ("fuzz", "The wire parser under random input (invariant 5)"),
    ("network", "Dropped, damaged and stalled connections (invariants 2, 4, 6)"),
    ("crash", "Crashes (invariants 2, 4)"),
    ("disk", "Full disk and denied writes (invariants 4, 6)"),
    ("peers", "Wrong peers (invariant 6)"),
    ("edges", "Local attackers and awkward folders: the destination's gatekeeper (1, 2, 4, 6)"),
]


def run_tests() -> dict:
    RESULTS.mkdir(parents=True, exist_ok=True)
    LINES.unlink(missing_ok=True)
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--durations=0"]
    env = {**os.environ, "INLET_RELIABILITY_REPORT": str(LINES), "QT_QPA_PLATFORM": "offscreen"}
    started = time.monotonic()
    done = subprocess.run(
        [*command, *TESTS], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    seconds = time.monotonic() - started
    tail = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    durations = re.findall(r"^([\d.]+)s (call|setup|teardown)\s+(\S+)", done.stdout, re.M)
    return {
        "command": "python bench/reliability_report.py",
        "pytest": " ".join(["pytest", *TESTS]),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}",
        "returncode": done.returncode,
        "summary": tail,
        "seconds": round(seconds, 1),
        "test_seconds": round(sum(float(d[0]) for d in durations), 1),
    }


def cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render(rows: list[dict], run: dict) -> str:
    out = [
        f"Run {run.get('date', '?')} on {run.get('machine', '?')}: {run.get('summary', '?')} "
        f"({run.get('test_seconds', '?')} s in tests). Regenerate with "
        "`python bench/reliability_report.py`.",
        "",
    ]
    for group, title in GROUPS:
        mine = [r for r in rows if r.get("group") == group]
        if not mine:
            continue
        out += [
            f"### {title}",
            "",
            "| case | what was tried | times | outcome |",
            "|---|---|---|---|",
        ]
        for r in mine:
            case = r["case"].removeprefix("hostile sender: ")
            out.append(
                f"| {cell(case)} | {cell(r['tried'])} | {r['times']} | {cell(r['outcome'])} |"
            )
        if group == "hostile":
            buffered = max(r.get("max_buffered", 0) for r in mine)
            peak = max(r.get("peak", 0) for r in mine)
            out += [
                "",
                f"Across all {len(mine)} hostile cases: the parent folder's listing and the "
                "targets of planted symlinks were unchanged, `/etc/x` was not created, no file "
                "stood under a final name unless verified, and every message was one printable "
                f"line. The wire machine never held more than {buffered / 2**20:.2f} MiB unparsed "
                f"(`ReceiverConnection.buffered_bytes`); tracemalloc's peak for a whole session "
                f"was at most {peak / 2**20:.1f} MiB.",
            ]
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-run", action="store_true", help="re-render the last figures")
    args = parser.parse_args()
    if args.no_run:
        run = json.loads(SUMMARY.read_text())["run"] if SUMMARY.exists() else {}
    else:
        run = run_tests()
    rows = [json.loads(line) for line in LINES.read_text().splitlines() if line.strip()]
    SUMMARY.write_text(json.dumps({"run": run, "rows": rows}, indent=1) + "\n")
    doc = DOC.read_text()
    start, end = doc.index(BEGIN) + len(BEGIN), doc.index(END)
    DOC.write_text(doc[:start] + "\n" + render(rows, run) + doc[end:])
    print(f"{len(rows)} rows; {run.get('summary')}; wrote {DOC.relative_to(ROOT)}")
    return 0 if run.get("returncode", 0) == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
