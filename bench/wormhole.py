"""Receiving from a stock ``wormhole send``: Inlet's receiver against ``wormhole receive``.

magic-wormhole's real mailbox server and transit relay run on loopback (the test fixtures'
`tests/wormhole_servers.py`); the sender is the stock ``wormhole send``. In one run, with the
two receivers alternating round by round (absolute times drift on this machine, so the figures
are medians and the comparison is taken within the run):

1. a 1 GiB file through the relay (both ends ``--no-listen``, so no direct connection exists):
   ``inlet receive CODE --no-listen`` against ``wormhole receive --accept-file --no-listen``;
2. a folder of 1,000 small files (1-8 KiB), direct.

For each receiver: wall time from its start to its exit (the key exchange included), the
throughput that gives, its CPU seconds (``wait4``) and its peak RSS (its own VmHWM at exit).
The stock receiver spools a folder's zip into a temporary file and unpacks it at the end;
Inlet unpacks the stream as it arrives.

Run: ``python bench/wormhole.py`` (``--size-mb``, ``--files``, ``--rounds``, ``--json``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))
from _common import (
    MiB,
    bench_root,
    fresh_dir,
    make_big_file,
    make_small_files,
    measure,
    median,
)

from tests.wormhole_servers import local_servers

_HWM = "BENCH_VMHWM_KIB"
_PRELUDE = (
    "import atexit, sys\n"
    "def _hwm():\n"
    "    for line in open('/proc/self/status'):\n"
    "        if line.startswith('VmHWM:'):\n"
    f"            sys.stderr.write('{_HWM} ' + line.split()[1] + '\\n')\n"
    "atexit.register(_hwm)\n"
)
INLET_RECEIVE = [sys.executable, "-c", _PRELUDE + "from inlet.core.cli import main\n"
                 "sys.exit(main(sys.argv[1:]))\n"]  # fmt: skip
WORMHOLE = [sys.executable, "-c", _PRELUDE + "from wormhole.cli.cli import wormhole\n"
            "sys.argv[0] = 'wormhole'\nwormhole()\n"]  # fmt: skip


def run_measured(argv: list[str], env: dict | None = None) -> dict:
    """Run a receiver to its end: wall seconds, peak RSS (MiB), its output."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    out, err = proc.communicate()
    wall = time.perf_counter() - started
    if proc.returncode:
        raise SystemExit(f"{argv[-4:]} failed ({proc.returncode}): {err.decode()[-500:]}")
    hwm = next(
        (int(line.split()[1]) for line in err.decode().splitlines() if line.startswith(_HWM)), 0
    )
    return {"wall": wall, "cpu": None, "rss_mib": hwm / 1024, "out": out.decode()}


def receive_once(servers, which: str, code: str, what: Path, dest: Path, relay: bool) -> dict:
    """One transfer of ``what`` from a fresh ``wormhole send`` to the receiver ``which``."""
    listen = ("--no-listen",) if relay else ()
    sender = subprocess.Popen(
        servers.cli("send", "--no-qr", "--hide-progress", *listen, "--code", code, what),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    try:
        if which == "inlet":
            argv = [*INLET_RECEIVE, "receive", code, "-o", str(dest), "--json"]
            argv += ["--mailbox", servers.mailbox_url, "--relay", servers.relay_hint, *listen]
        else:
            argv = [*WORMHOLE, "--relay-url", servers.mailbox_url, "--transit-helper",
                    servers.relay_hint, "receive", "--accept-file", "--hide-progress",
                    *listen, "-o", str(dest / what.name), code]  # fmt: skip
        before = os.times()
        result = run_measured(argv)
        after = os.times()
        result["cpu"] = (after.children_user - before.children_user) + (
            after.children_system - before.children_system
        )
        if which == "inlet":
            report = json.loads(result.pop("out"))
            assert report["ok"], report
        else:
            result.pop("out")
        sender.wait(timeout=120)
        result["sender_ok"] = sender.returncode == 0
        return result
    finally:
        if sender.poll() is None:
            sender.kill()
            sender.wait()
        sender.stderr.close()


def run(size_mb: int, files: int, rounds: int) -> dict:
    big = fresh_dir("wormhole-src") / "big.bin"
    make_big_file(big, size_mb * MiB)
    folder = fresh_dir("wormhole-tree") / "tree"
    folder_bytes = make_small_files(folder, files, 1024, 8192)
    results: dict = {"size_mb": size_mb, "files": files, "folder_bytes": folder_bytes}
    codes = iter(range(100, 10_000))
    with local_servers(bench_root() / "servers") as servers:
        for case, what, relay in (("big_via_relay", big, True), ("small_files", folder, False)):
            runs: dict[str, list[dict]] = {"inlet": [], "wormhole": []}
            for _ in range(rounds):
                for which in ("inlet", "wormhole"):
                    dest = fresh_dir(f"wormhole-{which}")
                    code = f"{next(codes)}-bench-run"
                    runs[which].append(receive_once(servers, which, code, what, dest, relay))
            total = size_mb * MiB if case == "big_via_relay" else folder_bytes
            results[case] = {
                which: {
                    "wall_s": median(r["wall"] for r in rs),
                    "mib_per_s": median(total / MiB / r["wall"] for r in rs),
                    "cpu_s": median(r["cpu"] for r in rs),
                    "peak_rss_mib": median(r["rss_mib"] for r in rs),
                    "sender_ok": all(r["sender_ok"] for r in rs),
                }
                for which, rs in runs.items()
            }
        usage = servers.relay_usage()
        results["relay_bytes"] = max((u["total_bytes"] or 0 for u in usage), default=0)
    return results


def report(res: dict) -> None:
    for case, title in (
        ("big_via_relay", f"{res['size_mb']} MiB through the local transit relay"),
        ("small_files", f"{res['files']:,} small files ({res['folder_bytes'] / MiB:.1f} MiB)"),
    ):
        print(title)
        for which, label in (("inlet", "inlet receive  "), ("wormhole", "wormhole receive")):
            r = res[case][which]
            print(
                f"  {label}  {r['wall_s']:6.2f} s  {r['mib_per_s']:7.1f} MiB/s  "
                f"CPU {r['cpu_s']:6.2f} s  peak RSS {r['peak_rss_mib']:6.1f} MiB"
                f"{'' if r['sender_ok'] else '  (sender failed)'}"
            )
        a, b = res[case]["inlet"], res[case]["wormhole"]
        memory = a["peak_rss_mib"] / b["peak_rss_mib"]
        print(
            f"  Inlet / wormhole: time {a['wall_s'] / b['wall_s']:.2f}x, "
            f"CPU {a['cpu_s'] / b['cpu_s']:.2f}x, memory {memory:.2f}x"
        )
    print(f"the relay carried {res['relay_bytes']:,} bytes in its largest pairing")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()
    measure(lambda: run(args.size_mb, args.files, args.rounds), report, args.json)


if __name__ == "__main__":
    main()
