"""Where the receiver's CPU goes, beside the limit's: a ``perf`` profile sorted into parts.

``bench/throughput.py`` gives one number, the ratio of the receiver's CPU per GiB to the limit's.
This benchmark says what the difference is made of. ``perf record`` samples (software clock,
call graphs) one 1 GiB receive from ``inlet send --no-ext``, one from ``inlet send``, and the
limit's loop (``throughput.py --limit-child``), each its own process. Every sample is put in the
first part its call chain matches:

- write to the page cache (``write``; the kernel copies each byte into a fresh page),
- socket receive (``recvfrom``: the copy out of the socket and TCP's bookkeeping),
- fsync, poll/select, other kernel work (page faults, process start and exit),
- SHA-256 (OpenSSL's ``libcrypto``, used by ``hashlib``),
- ChaCha20-Poly1305 (the ``cryptography`` wheel's own OpenSSL),
- the Python interpreter, and everything else.

Needs ``perf`` (Debian: ``apt-get install linux-perf``) and permission to profile (root, or
``kernel.perf_event_paranoid`` <= 1). Without it the benchmark says so and exits.

Run: ``python bench/cpu_profile.py`` (1 GiB; ``--size-mb``, ``--rounds``, ``--json FILE``).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import GiB, MiB, drop_tree, fresh_dir, make_big_file, measure, median, receive
from _common import start_sender as _start_sender

FREQUENCY = 2000  # samples per CPU second
PARTS = (
    "write to page cache",
    "socket receive",
    "fsync",
    "poll/select",
    "other kernel",
    "SHA-256",
    "ChaCha20-Poly1305",
    "Python interpreter",
    "other user space",
)
#: Kernel entry points, most specific first; the first found in a sample's chain names its part.
_KERNEL_MARKS = (
    ("ksys_write", "write to page cache"),
    ("vfs_write", "write to page cache"),
    ("__sys_recvfrom", "socket receive"),
    ("tcp_recvmsg", "socket receive"),
    ("do_fsync", "fsync"),
    ("do_sys_poll", "poll/select"),
    ("do_select", "poll/select"),
    ("core_sys_select", "poll/select"),
)
MODES = {"legacy": ("--no-ext",), "ext": ()}


def perf_available() -> str | None:
    """Why ``perf`` cannot be used here, or None when it can."""
    if shutil.which("perf") is None:
        return "perf is not installed (Debian: apt-get install linux-perf)"
    probe = subprocess.run(
        ["perf", "stat", "-e", "cpu-clock", "true"], capture_output=True, text=True
    )
    if probe.returncode != 0:
        return f"perf cannot profile here: {probe.stderr.strip().splitlines()[-1:]}"
    return None


def record_command(data: Path) -> list[str]:
    return ["perf", "record", "-q", "-e", "cpu-clock", "-F", str(FREQUENCY), "-g", "-o", str(data)]


def classify(data: Path) -> Counter:
    """Samples per part, from ``perf script`` of one recording."""
    out = subprocess.run(
        ["perf", "script", "-i", str(data), "-F", "comm,ip,sym,dso"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    parts: Counter = Counter()
    for sample in out.split("\n\n"):
        frames = [line.strip() for line in sample.splitlines()[1:] if line.strip()]
        if frames:
            parts[_part_of(frames)] += 1
    return parts


def _part_of(frames: list[str]) -> str:
    """The part one sample belongs to (``frames``: innermost first, "addr sym (dso)")."""
    leaf = frames[0]
    if "[kernel" in leaf:
        chain = " ".join(frames)
        for mark, part in _KERNEL_MARKS:
            if mark in chain:
                return part
        return "other kernel"
    if "libcrypto" in leaf:
        return "SHA-256"
    if "_rust" in leaf:
        return "ChaCha20-Poly1305"
    if "libpython" in leaf:
        return "Python interpreter"
    return "other user space"


def profile_limit(folder: Path, size: int) -> Counter:
    data = folder / "limit.perf"
    throughput = Path(__file__).with_name("throughput.py")
    command = [sys.executable, str(throughput), "--limit-child", str(size), str(folder)]
    subprocess.run([*record_command(data), "--", *command], check=True)
    return classify(data)


def profile_receive(src: Path, folder: Path, mode: str) -> Counter:
    data = folder / f"{mode}.perf"
    dest = folder / "dest"
    drop_tree(dest)
    sender = _start_sender([src], *MODES[mode])
    try:
        got = receive(sender.code, dest, wrapper=[*record_command(data), "--"])
        if not got.report.get("ok"):
            raise SystemExit(f"the {mode} transfer failed: {got.report}")
    finally:
        sender.stop()
    drop_tree(dest)
    return classify(data)


def run(size_mb: int = 1024, rounds: int = 1) -> dict:
    size = size_mb * MiB
    root = fresh_dir("profile")
    samples: dict[str, list[Counter]] = {"limit": [], "legacy": [], "ext": []}
    try:
        src = root / "src" / "payload.bin"
        make_big_file(src, size)
        for k in range(rounds):
            samples["limit"].append(profile_limit(root, size))
            for mode in MODES:
                samples[mode].append(profile_receive(src, root, mode))
            print(f"  round {k + 1} of {rounds} recorded", flush=True)
    finally:
        drop_tree(root)
    per_gib = GiB / size / FREQUENCY  # samples -> CPU seconds per GiB
    out: dict = {"size_mib": size_mb, "rounds": rounds}
    for who, counters in samples.items():
        out[who] = {part: median(c[part] * per_gib for c in counters) for part in PARTS}
        out[who]["total"] = median(sum(c.values()) * per_gib for c in counters)
    return out


def report(res: dict) -> None:
    print(f"CPU seconds per GiB by part (perf, {res['rounds']} round(s), median)")
    print(f"{'part':22} {'limit':>8} {'--no-ext':>9} {'ext':>8}   extra over the limit")
    for part in (*PARTS, "total"):
        lim, old, new = res["limit"][part], res["legacy"][part], res["ext"][part]
        print(f"{part:22} {lim:8.2f} {old:9.2f} {new:8.2f}   {old - lim:+6.2f} {new - lim:+6.2f}")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024, help="size of the file (MiB)")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--json", metavar="FILE", help="also write the results here")
    args = parser.parse_args(argv)
    why_not = perf_available()
    if why_not:
        print(f"bench/cpu_profile.py: {why_not}; nothing measured.")
        return {}
    return measure(lambda: run(args.size_mb, args.rounds), report, args.json)


if __name__ == "__main__":
    main()
