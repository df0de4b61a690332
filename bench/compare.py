"""Before and after in one run: every benchmark of ``run_all.py`` on an earlier revision and on
this tree, alternating one benchmark at a time (not part of the test suite).

    python bench/compare.py --before 853fb67                 # every benchmark, 3 rounds each
    python bench/compare.py --before 853fb67 --only many_files,memory --rounds 3

The earlier revision is checked out as a git worktree beside a virtual environment of its own
(both kept under ``--work``, so a second run reuses them), and each side runs its own
``run_all.py`` with its own interpreter: the benchmark a tree shipped with measures that tree.
Alternating by benchmark keeps the two sides of each comparison minutes apart on this shared
machine, where absolute times drift by 2x within an hour. The two JSON documents go to
``--out``, and ``plot.py`` prints the before/after tables from them.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TREE = HERE.parent
sys.path.insert(0, str(HERE))
from run_all import ALL  # noqa: E402


def git(*args: str) -> str:
    done = subprocess.run(["git", "-C", str(TREE), *args], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def prepared(revision: str, work: Path) -> tuple[Path, Path]:
    """The earlier tree and its interpreter, made once and reused."""
    full = git("rev-parse", "--verify", f"{revision}^{{commit}}")
    tree, venv = work / f"tree-{full[:12]}", work / f"venv-{full[:12]}"
    if not tree.exists():
        work.mkdir(parents=True, exist_ok=True)
        git("worktree", "add", "--detach", str(tree), full)
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "-e", str(tree)], check=True)
    return tree, python


def run_side(tree: Path, python: Path, name: str, rounds: int, out: Path, quick: bool) -> dict:
    command = [str(python), str(tree / "bench" / "run_all.py"), "--only", name]
    command += ["--rounds", str(rounds), "--out", str(out)] + (["--quick"] if quick else [])
    print(f"== {name}: {tree.name if tree != TREE else 'this tree'}", flush=True)
    subprocess.run(command, check=False)
    return json.loads(out.read_text()) if out.exists() else {}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="the earlier revision (a commit)")
    parser.add_argument("--only", default=",".join(ALL), help="comma-separated: " + ",".join(ALL))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="run_all's smaller sizes")
    parser.add_argument("--work", type=Path, default=Path("/tmp/inlet-compare"))
    parser.add_argument("--out", type=Path, default=HERE / "results" / "compare")
    args = parser.parse_args(argv)
    wanted = [b for b in args.only.split(",") if b]
    if unknown := set(wanted) - set(ALL):
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    before_tree, before_python = prepared(args.before, args.work)
    args.out.mkdir(parents=True, exist_ok=True)
    sides = {"before": {}, "after": {}}
    for name in wanted:
        for label, tree, python in (
            ("before", before_tree, before_python),
            ("after", TREE, Path(sys.executable)),
        ):
            scratch = args.work / f"{label}.json"
            part = run_side(tree, python, name, args.rounds, scratch, args.quick)
            merged = sides[label]
            merged.update({k: v for k, v in part.items() if k not in merged or k.startswith(name)})
            merged["label"] = f"{label} ({part.get('revision', '?')})"
            (args.out / f"{label}.json").write_text(json.dumps(merged, indent=2))
    before, after = args.out / "before.json", args.out / "after.json"
    print(f"results: {before} {after}")
    plot = [sys.executable, str(HERE / "plot.py"), str(before), str(after), "--out", str(args.out)]
    subprocess.run(plot, check=False)  # the figures beside the JSON, the tables printed


if __name__ == "__main__":
    main()
