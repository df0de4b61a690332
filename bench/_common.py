"""Shared pieces of the benchmarks: test data, a real sender, a real receiver, and what it cost.

Every benchmark runs the real commands (``python -m inlet.core send`` / ``receive``) as separate
processes over loopback, so what is measured is what a person runs. The receiver's CPU time and
peak RSS come from ``os.wait4`` (its own rusage, not the benchmark's).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

MiB = 1 << 20
GiB = 1 << 30
INLET = [sys.executable, "-m", "inlet.core"]
#: ``inlet receive`` exactly as ``python -m inlet.core`` runs it, reporting its own peak RSS
#: (VmHWM) at exit. ``ru_maxrss`` from ``wait4`` cannot be used for that: a child started with
#: vfork/exec counts the parent's peak too, which hides anything smaller than the benchmark.
_HWM_MARK = "INLET_BENCH_VMHWM_KIB"
RECEIVE = [
    sys.executable,
    "-c",
    "import atexit, sys\n"
    "def _hwm():\n"
    "    for line in open('/proc/self/status'):\n"
    "        if line.startswith('VmHWM:'):\n"
    f"            sys.stderr.write('{_HWM_MARK} ' + line.split()[1] + '\\n')\n"
    "atexit.register(_hwm)\n"
    "from inlet.core.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n",
]


def _compile_inlet() -> None:
    """Write the bytecode of the installed ``inlet`` now, as ``pip install`` does.

    With ``PYTHONDONTWRITEBYTECODE`` set (as on this machine), every edited module would
    otherwise be compiled again by every receiver the benchmarks start: ~15-35 ms of CPU each,
    counted as the receiver's.
    """
    import compileall
    import importlib.util

    for name in ("inlet", "inlet.core", "inlet.gui"):  # an editable install maps each apart
        spec = importlib.util.find_spec(name)
        for folder in spec.submodule_search_locations if spec else ():
            if os.path.isdir(folder):
                compileall.compile_dir(folder, quiet=1)


_compile_inlet()


_ROOT: Path | None = None


def bench_root() -> Path:
    """The folder every benchmark of this process works in (``INLET_BENCH_DIR``, default /tmp).

    Nothing is deleted between timed runs: on this machine's ext4 (no journal) creating a file
    within a minute or so of deleting many others costs up to 0.6 ms, because the inode
    allocator skips recently deleted inodes one by one. A benchmark that deleted its previous
    run's 100,000 files would time that, not Inlet. ``cleanup()`` removes everything at the end.
    """
    global _ROOT
    if _ROOT is None:
        base = Path(os.environ.get("INLET_BENCH_DIR") or "/tmp")
        _ROOT = base / f"inlet-bench-{os.getpid()}"
        _ROOT.mkdir(parents=True, exist_ok=True)
    return _ROOT


def fresh_dir(label: str) -> Path:
    """A new, empty folder under the bench root (never reused, so never deleted in between)."""
    root = bench_root()
    n = 0
    while (root / f"{label}-{n}").exists():
        n += 1
    path = root / f"{label}-{n}"
    path.mkdir()
    return path


_TREES: dict[tuple[int, int, int], tuple[Path, int]] = {}


def small_tree(count: int, low: int, high: int) -> tuple[Path, int]:
    """A folder of ``count`` small files (made once per process and shared); (folder, bytes)."""
    key = (count, low, high)
    if key not in _TREES:
        folder = fresh_dir(f"src-{count}")
        _TREES[key] = (folder, make_small_files(folder, count, low, high))
    return _TREES[key]


def cleanup() -> None:
    """Delete everything the benchmarks of this process made (``INLET_BENCH_KEEP=1``: keep it,
    so that the next benchmark run does not start on a file system busy forgetting inodes)."""
    global _ROOT
    if _ROOT is not None and not os.environ.get("INLET_BENCH_KEEP"):
        shutil.rmtree(_ROOT, ignore_errors=True)
        _ROOT = None
        _TREES.clear()


def create_cost_us(count: int = 2000) -> float:
    """Microseconds to create one empty file here now (the health of the file system: about
    20-40 us normally, up to 600 us for a minute or more after many files were deleted)."""
    folder = fresh_dir("probe")
    started = time.perf_counter()
    for i in range(count):
        os.close(os.open(folder / f"p{i}", os.O_WRONLY | os.O_CREAT, 0o644))
    return (time.perf_counter() - started) / count * 1e6


def wait_for_healthy_fs(limit_us: float = 60.0, max_wait: float = 420.0) -> float:
    """Wait (up to ``max_wait`` s) until creating a file costs less than ``limit_us`` again.

    After many deletions (a test suite's temporary folders, an earlier run's cleanup) this
    machine's ext4 needs a minute or more before new files are cheap again. Returns the cost
    measured last, which the benchmarks report beside their figures.
    """
    deadline = time.monotonic() + max_wait
    while True:
        cost = create_cost_us(500)
        if cost < limit_us or time.monotonic() > deadline:
            return cost
        print(f"  (creating a file costs {cost:.0f} us here now; waiting for ext4)", flush=True)
        time.sleep(15)


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


# -- test data --------------------------------------------------------------------------------


def make_big_file(path: Path, size: int) -> None:
    """``size`` incompressible bytes; every MiB differs (cheaply) from the one before."""
    path.parent.mkdir(parents=True, exist_ok=True)
    block = os.urandom(MiB)
    with open(path, "wb") as out:
        left = size
        while left:
            n = min(left, MiB)
            out.write(block[:n] if n < MiB else block)
            left -= n
            block = hashlib.sha256(block[:32]).digest() + block[32:]


def make_small_files(root: Path, count: int, low: int, high: int, seed: int = 1) -> int:
    """``count`` files of ``low``..``high`` random bytes in folders of 100; returns total bytes."""
    rng = random.Random(seed)
    pool = rng.randbytes(4 * MiB)
    total = 0
    for i in range(count):
        folder = root / f"d{i // 100:04d}"
        if i % 100 == 0:
            folder.mkdir(parents=True, exist_ok=True)
        size = rng.randint(low, high)
        start = rng.randrange(len(pool) - size)
        (folder / f"f{i:06d}.bin").write_bytes(pool[start : start + size])
        total += size
    return total


_WORDS = (
    "self return def class import from if else elif for while in not and or None True False "
    "value result items index count name path data buffer offset size length error message "
    "writer reader stream chunk frame lock state event file folder hash digest config options"
).split()


def make_source_tree(root: Path, total: int, seed: int = 2) -> int:
    """Source-code-like text (indented lines of identifiers, calls, comments): ~``total`` bytes."""
    rng = random.Random(seed)
    written = 0
    n = 0
    while written < total:
        lines = []
        size = 0
        target = rng.randint(2_000, 60_000)
        depth = 0
        while size < target:
            kind = rng.random()
            words = rng.choices(_WORDS, k=rng.randint(2, 7))
            if kind < 0.15:
                line = f"def {words[0]}_{words[1]}({', '.join(words[2:])}):"
                depth = 1
            elif kind < 0.25:
                line = f"# {' '.join(words).capitalize()}."
            elif kind < 0.6:
                line = f"{words[0]} = {words[1]}.{words[-1]}({rng.randint(0, 999)})"
            else:
                line = f"if {words[0]} {rng.choice('<>=')} {words[1]}:"
            text = "    " * depth + line + "\n"
            depth = min(3, depth + 1) if line.endswith(":") else max(0, depth - rng.randint(0, 1))
            lines.append(text)
            size += len(text)
        folder = root / f"pkg{n // 50:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        data = "".join(lines).encode()
        (folder / f"module_{n:05d}.py").write_bytes(data)
        written += len(data)
        n += 1
    return written


def drop_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


# -- running a transfer -----------------------------------------------------------------------


@dataclass
class Sender:
    """A running ``inlet send`` and the code it printed."""

    proc: subprocess.Popen
    code: str

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()


def start_sender(paths: list[Path], *flags: str) -> Sender:
    # --no-announce: a benchmark measures the transfer, not the mDNS announcement beside it
    command = [*INLET, "send", *map(str, paths), "--bind", "127.0.0.1", "--port", "0"]
    proc = subprocess.Popen(
        [*command, "--no-announce", *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    line = proc.stdout.readline()
    if not line:
        proc.wait()
        raise SystemExit(f"inlet send {paths} did not start")
    return Sender(proc, line.split()[-1])


@dataclass
class Received:
    """One receiver process: wall time from spawn to exit, its CPU and peak RSS, its JSON."""

    wall: float
    user: float
    system: float
    peak_rss_kib: int  # the receiver's own VmHWM (0 when it was killed)
    exit_code: int
    report: dict = field(default_factory=dict)

    @property
    def cpu(self) -> float:
        return self.user + self.system


def receive(
    code: str,
    dest: Path,
    *flags: str,
    kill_when: callable | None = None,
    poll: float = 0.01,
    wrapper: Iterable[str] = (),
) -> Received:
    """Run ``inlet receive CODE -o DEST --json`` to its end (or SIGKILL it once ``kill_when()``).

    ``wrapper`` goes before the command (``perf record ... --``); its CPU is then counted too.
    """
    started = time.perf_counter()
    proc = subprocess.Popen(
        [*wrapper, *RECEIVE, "receive", code, "-o", str(dest), "--json", *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    if kill_when is not None:
        while proc.poll() is None and not kill_when():
            time.sleep(poll)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stdout.close()
    proc.stderr.close()
    hwm = 0
    for line in err.decode(errors="replace").splitlines():
        if line.startswith(_HWM_MARK):
            hwm = int(line.split()[1])
    report = {}
    if out.strip():
        try:
            report = json.loads(out)
        except ValueError:
            report = {}
    if proc.returncode not in (0, -signal.SIGKILL) or (kill_when is None and proc.returncode):
        raise SystemExit(
            f"inlet receive failed ({proc.returncode}): {err.decode(errors='replace')}"
        )
    return Received(wall, usage.ru_utime, usage.ru_stime, hwm, proc.returncode, report)


def transfer(
    sources: list[Path], dest: Path, send_flags: tuple[str, ...] = (), recv_flags=()
) -> Received:
    """One whole transfer into ``dest`` (a new folder); the sender is stopped afterwards."""
    sender = start_sender(sources, *send_flags)
    try:
        return receive(sender.code, dest, *recv_flags)
    finally:
        sender.stop()


def idle_rss_kib() -> int:
    """Peak RSS (VmHWM) of an interpreter that imported the receiver and did nothing else."""
    code = (
        "import inlet.core.receiver, inlet.core.cli, inlet.core.progress\n"
        "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:')][0])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout)


def measure(run: Callable[[], dict], report: Callable[[dict], None], json_path: str | None) -> dict:
    """A benchmark's ``main``: run it, delete what it made (whatever happened), print its
    report, and keep its figures as JSON when asked."""
    try:
        res = run()
    finally:
        cleanup()
    report(res)
    if json_path:
        Path(json_path).write_text(json.dumps(res, indent=2))
    return res


def git_revision() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(Path(__file__).parent), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip()
