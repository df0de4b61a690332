"""The built app (``python packaging/build.py``): its size, and how fast it starts beside ``inlet``.

Size: the one-folder app ``dist/inlet/`` (every file's bytes; target under 150 MB on Linux) and
the single file. Start-up: from starting the process to the window being visible (its first
expose event; ``INLET_QUIT_AFTER=0`` makes the window say so on stderr and quit), for the built
app and for ``inlet`` from this virtual environment, run alternately in the same run, the first
run of each reported apart (the files are then least likely to be in the page cache) and the
median of the rest, with the CPU time each used. Offscreen by default; ``--x11`` uses the X
server in ``DISPLAY``. The target: the built app starts no slower than the venv's ``inlet``.

Run: ``python packaging/build.py && python bench/app_build.py`` (``--runs N``, ``--json FILE``)
from a virtual environment where Inlet is installed as a user would (``pip install .``; an
editable install imports slower).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import measure, median

ROOT = Path(__file__).resolve().parent.parent
VISIBLE = "the window is visible"


def size_bytes(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def start_to_visible(command: list[str], x11: bool) -> tuple[float, float]:
    """Seconds from starting ``command`` to its window's first expose, and the CPU seconds the
    process used in all (it quits at once then; CPU time varies less on a busy machine)."""
    with tempfile.TemporaryDirectory(prefix="inlet-bench-app-") as home:
        env = {**os.environ, "HOME": home, "XDG_CONFIG_HOME": f"{home}/config"}
        env["INLET_QUIT_AFTER"] = "0"
        if not x11:
            env["QT_QPA_PLATFORM"] = "offscreen"
        started = time.perf_counter()
        process = subprocess.Popen(
            command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert process.stderr is not None
        seconds = None
        for line in process.stderr:
            if VISIBLE in line:
                seconds = time.perf_counter() - started
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0 or seconds is None:
            raise RuntimeError(f"{command[0]} did not show its window (exit {process.returncode})")
        return seconds, usage.ru_utime + usage.ru_stime


def run(runs: int, x11: bool) -> dict:
    app_version = version("inlet")
    folder = ROOT / "dist" / "inlet"
    onefile = ROOT / "dist" / f"inlet-{app_version}-linux-{platform.machine()}"
    venv_inlet = Path(sys.executable).parent / "inlet"
    contenders = {"venv": [str(venv_inlet)], "folder": [str(folder / "inlet")]}
    if onefile.is_file():
        contenders["onefile"] = [str(onefile)]
    if not (folder / "inlet").is_file():
        raise SystemExit("bench: no built app in dist/inlet; run python packaging/build.py first")
    times: dict[str, list[float]] = {name: [] for name in contenders}
    cpu: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(runs):
        for name, command in contenders.items():
            seconds, cpu_seconds = start_to_visible(command, x11)
            times[name].append(seconds)
            cpu[name].append(cpu_seconds)
    res: dict = {
        "version": app_version,
        "platform": "x11" if x11 else "offscreen",
        "runs": runs,
        "folder_bytes": size_bytes(folder),
        "onefile_bytes": size_bytes(onefile) if onefile.is_file() else None,
    }
    for name, values in times.items():
        res[f"{name}_first_s"] = values[0]
        res[f"{name}_median_s"] = median(values[1:] or values)
        res[f"{name}_cpu_median_s"] = median(cpu[name][1:] or cpu[name])
    for name in contenders:
        if name != "venv":
            res[f"{name}_ratio"] = res[f"{name}_median_s"] / res["venv_median_s"]
            res[f"{name}_cpu_ratio"] = res[f"{name}_cpu_median_s"] / res["venv_cpu_median_s"]
    return res


def report(res: dict) -> None:
    mb = 1e6
    line = f"built app {res['version']}: folder {res['folder_bytes'] / mb:.0f} MB (target < 150)"
    if res["onefile_bytes"]:
        line += f", single file {res['onefile_bytes'] / mb:.0f} MB"
    print(line)
    print(f"start to visible window ({res['platform']}, {res['runs']} runs each, alternating):")
    for name in ("venv", "folder", "onefile"):
        if f"{name}_median_s" in res:
            ratio = cpu_ratio = ""
            if name != "venv":
                ratio = f" ({res[f'{name}_ratio']:.2f}x venv)"
                cpu_ratio = f" ({res[f'{name}_cpu_ratio']:.2f}x)"
            print(
                f"  {name:8} first {res[f'{name}_first_s']:.2f} s, median of the rest "
                f"{res[f'{name}_median_s']:.2f} s{ratio}; CPU {res[f'{name}_cpu_median_s']:.2f} s"
                f"{cpu_ratio}"
            )


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--x11", action="store_true", help="use the X server in DISPLAY")
    parser.add_argument("--json", metavar="FILE", help="also write the results here")
    args = parser.parse_args(argv)
    return measure(lambda: run(args.runs, args.x11), report, args.json)


if __name__ == "__main__":
    main()
