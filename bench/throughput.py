"""Receive throughput and the receiver's CPU per GiB against the machine's limit.

In one run on this machine, ``--rounds`` times in alternation (absolute times drift here, so
every figure is a median and the ratio is taken within the run):

1. the *limit*: CPU seconds per GiB for what a receiver cannot avoid — a Python process that
   starts, decrypts 1 MiB ChaCha20-Poly1305 messages (into a reused buffer), hashes the
   plaintext with SHA-256 and writes it to a new file (then one fsync), the same size as the
   transfer. It runs as its own process, started like the receiver and at the same moment of
   the round, because on this machine the kernel's cost of filling fresh page-cache pages
   varies several-fold with how recently memory was freed (a virtual machine that hands free
   memory back to its host): an in-process loop started right after a deletion looks cheaper;
2. a real transfer over loopback from ``inlet send --no-ext`` (the ftransfer-compatible stream)
   to ``inlet receive``, each a separate process; the receiver's and the sender's CPU seconds
   come from ``wait4``;
3. the same from ``inlet send`` (the Inlet extension).

Prints throughput, CPU per GiB and the ratio of the receiver's CPU per GiB to the limit
(target: within 1.15x).

Run: ``python bench/throughput.py`` (1 GiB, 3 rounds; ``--size-mb``, ``--rounds``).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

sys.path.insert(0, str(Path(__file__).parent))
from _common import (
    GiB,
    MiB,
    drop_tree,
    fresh_dir,
    make_big_file,
    measure,
    median,
    receive,
    start_sender,
)

MODES = {"legacy": ("--no-ext",), "ext": ()}
LABELS = {"legacy": "inlet send --no-ext", "ext": "inlet send"}


def machine_limit(folder: Path, total: int) -> dict[str, float]:
    """CPU seconds of a process that decrypts, hashes and writes ``total`` bytes, then fsyncs."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, __file__, "--limit-child", str(total), str(folder)])
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit("the limit's loop failed")
    return {"wall": wall, "user": usage.ru_utime, "system": usage.ru_stime}


def startup_cpu(code: str, runs: int = 5) -> float:
    """CPU seconds of a Python process that runs ``code`` (imports) and exits: a fixed cost."""
    spent = []
    for _ in range(runs):
        proc = subprocess.Popen([sys.executable, "-c", code])
        _, _, usage = os.wait4(proc.pid, 0)
        spent.append(usage.ru_utime + usage.ru_stime)
    return median(spent)


RECEIVER_IMPORTS = "import inlet.core.cli, inlet.core.receiver, inlet.core.progress"
LIMIT_IMPORTS = (
    "import hashlib; from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305"
)


def limit_child(total: int, folder: Path) -> None:
    """The limit's loop (run in its own process by `machine_limit`)."""
    aead = ChaCha20Poly1305(os.urandom(32))
    nonce = os.urandom(12)
    sealed = aead.encrypt(nonce, os.urandom(MiB), None)
    plain = bytearray(MiB)
    path = folder / "limit.bin"
    hasher = hashlib.sha256()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        left = total
        while left:
            aead.decrypt_into(nonce, sealed, None, plain)
            n = min(left, MiB)
            view = memoryview(plain)[:n]
            hasher.update(view)
            while view:
                view = view[os.write(fd, view) :]
            left -= n
        os.fsync(fd)
    finally:
        os.close(fd)
    path.unlink()


def one_transfer(src: Path, dest: Path, mode: str) -> dict[str, float]:
    """Receive ``src`` into a fresh ``dest``; the receiver's and the sender's costs."""
    drop_tree(dest)
    sender = start_sender([src], *MODES[mode])
    try:
        got = receive(sender.code, dest)
        if not got.report.get("ok"):
            raise SystemExit(f"the {mode} transfer failed: {got.report}")
        # The sender exits by itself once the receiver reported every file verified.
        deadline = time.monotonic() + 10
        usage = None
        while time.monotonic() < deadline:
            pid, _, usage = os.wait4(sender.proc.pid, os.WNOHANG)
            if pid:
                sender.proc.returncode = 0
                break
            usage = None
            time.sleep(0.01)
    finally:
        sender.stop()
    drop_tree(dest)
    return {
        "wall": got.wall,
        "inside": got.report["seconds"],
        "user": got.user,
        "system": got.system,
        "sender_cpu": (usage.ru_utime + usage.ru_stime) if usage else float("nan"),
        "peak_rss_mib": got.peak_rss_kib / 1024,
    }


def run(size_mb: int = 1024, rounds: int = 3, modes: tuple[str, ...] = ("legacy", "ext")) -> dict:
    size = size_mb * MiB
    gib = size / GiB
    root = fresh_dir("throughput")
    try:
        src = root / "src" / "payload.bin"
        make_big_file(src, size)
        limits: list[dict] = []
        runs: dict[str, list[dict]] = {m: [] for m in modes}
        for k in range(rounds):
            limits.append(machine_limit(root, size))
            lim = limits[-1]
            print(
                f"  round {k + 1}: limit {(lim['user'] + lim['system']) / gib:.2f} CPU s/GiB "
                f"(user {lim['user'] / gib:.2f}, sys {lim['system'] / gib:.2f})",
                flush=True,
            )
            for mode in modes:
                r = one_transfer(src, root / "dest", mode)
                runs[mode].append(r)
                print(
                    f"  round {k + 1}: {mode:6} {size_mb / r['wall']:5.0f} MiB/s, receiver "
                    f"{(r['user'] + r['system']) / gib:.2f} CPU s/GiB (user {r['user'] / gib:.2f},"
                    f" sys {r['system'] / gib:.2f}), sender {r['sender_cpu'] / gib:.2f}",
                    flush=True,
                )
    finally:
        drop_tree(root)
    limit = median((x["user"] + x["system"]) / gib for x in limits)
    receiver_start = startup_cpu(RECEIVER_IMPORTS)
    limit_start = startup_cpu(LIMIT_IMPORTS)
    out: dict = {
        "receiver_startup_cpu_s": receiver_start,
        "limit_startup_cpu_s": limit_start,
        "size_mib": size_mb,
        "rounds": rounds,
        "limit_cpu_s_per_gib": limit,
        "limit_user_s_per_gib": median(x["user"] / gib for x in limits),
        "limit_sys_s_per_gib": median(x["system"] / gib for x in limits),
        "limit_mib_per_s": median(size_mb / x["wall"] for x in limits),
    }
    for mode, rs in runs.items():
        cpu = median((r["user"] + r["system"]) / gib for r in rs)
        # The ratio per round (limit and transfer measured back to back), then the median.
        ratios = [
            (r["user"] + r["system"]) / (lim["user"] + lim["system"])
            for r, lim in zip(rs, limits, strict=True)
        ]
        out[mode] = {
            "mib_per_s": median(size_mb / r["wall"] for r in rs),
            "wall_s": median(r["wall"] for r in rs),
            "cpu_s_per_gib": cpu,
            "user_s_per_gib": median(r["user"] / gib for r in rs),
            "sys_s_per_gib": median(r["system"] / gib for r in rs),
            "sender_cpu_s_per_gib": median(r["sender_cpu"] / gib for r in rs),
            "ratio_to_limit": median(ratios),
            "ratio_of_medians": cpu / limit,
            # per GiB proper: each side's fixed start-up (interpreter, imports) taken out
            "ratio_net_of_startup": median(
                (r["user"] + r["system"] - receiver_start)
                / (lim["user"] + lim["system"] - limit_start)
                for r, lim in zip(rs, limits, strict=True)
            ),
            "user_ratio": median(
                r["user"] / lim["user"] for r, lim in zip(rs, limits, strict=True)
            ),
            "peak_rss_mib": median(r["peak_rss_mib"] for r in rs),
        }
    return out


def report(res: dict) -> None:
    print(
        f"machine limit (decrypt + SHA-256 + write + fsync): {res['limit_cpu_s_per_gib']:.2f} "
        f"CPU s/GiB (user {res['limit_user_s_per_gib']:.2f}, sys {res['limit_sys_s_per_gib']:.2f})"
    )
    for mode in MODES:
        if mode not in res:
            continue
        m = res[mode]
        print(
            f"from {LABELS[mode]}: {m['mib_per_s']:.0f} MiB/s, receiver {m['cpu_s_per_gib']:.2f} "
            f"CPU s/GiB (user {m['user_s_per_gib']:.2f}, sys {m['sys_s_per_gib']:.2f}), ratio to "
            f"the limit {m['ratio_to_limit']:.2f}x (target <= 1.15x; net of start-up "
            f"{m['ratio_net_of_startup']:.2f}x, user time alone {m['user_ratio']:.2f}x); sender "
            f"{m['sender_cpu_s_per_gib']:.2f} CPU s/GiB"
        )
    print(
        f"fixed start-up CPU: receiver {res['receiver_startup_cpu_s']:.2f} s, limit's loop "
        f"{res['limit_startup_cpu_s']:.2f} s"
    )


def main(argv: list[str] | None = None) -> dict:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--limit-child"]:
        limit_child(int(args[1]), Path(args[2]))
        return {}
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024, help="size of the file (MiB)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--modes", default="legacy,ext", help="comma-separated: legacy,ext")
    parser.add_argument("--json", metavar="FILE", help="also write the results here")
    args = parser.parse_args(args)
    return measure(
        lambda: run(args.size_mb, args.rounds, tuple(args.modes.split(","))), report, args.json
    )


if __name__ == "__main__":
    main()
