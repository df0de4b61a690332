"""Build the double-clickable Inlet: ``python packaging/build.py``.

Runs PyInstaller on ``packaging/inlet.spec`` (from ``pip install '.[build]'``) and leaves in
``dist/``: ``inlet/`` (the one-folder app: ``inlet/inlet``, with the icon and a desktop entry
beside it) and, on Linux, ``inlet-VERSION-linux-ARCH`` (the same app as one file). It prints
where they are and their sizes. ``--no-onefile`` builds only the folder (quicker).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "packaging" / "inlet.spec"
DIST = ROOT / "dist"
WORK = ROOT / "build" / "pyinstaller"
#: The four folders as the ``inlet`` package they are installed as. PyInstaller cannot follow an
#: editable install's import hook, so it analyses this copy of the checkout instead.
STAGE = ROOT / "build" / "src"
PACKAGES = ("core", "gui", "app", "resources")


def stage_sources() -> Path:
    shutil.rmtree(STAGE, ignore_errors=True)
    for name in PACKAGES:
        shutil.copytree(
            ROOT / name, STAGE / "inlet" / name, ignore=shutil.ignore_patterns("__pycache__")
        )
    return STAGE


def folder_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def add_desktop_entry(app_dir: Path) -> Path:
    """The icon and a ``.desktop`` entry beside the app (for where it was built; run
    ``inlet install-launcher`` from the app to put it in the menu from where it is)."""
    from inlet.core.launcher import render_desktop_entry

    resources = ROOT / "resources"
    for name in ("inlet.svg", "inlet.png"):
        shutil.copyfile(resources / name, app_dir / name)
    executable = app_dir / ("inlet.exe" if sys.platform == "win32" else "inlet")
    entry = app_dir / "inlet.desktop"
    entry.write_text(
        render_desktop_entry([str(executable)], str(app_dir / "inlet.svg")), encoding="utf-8"
    )
    return entry


def uncarried_x_libraries(app_dir: Path) -> list[str]:
    """Libraries the app's xcb plugin needs that neither the app nor this machine has."""
    internal = app_dir / "_internal"
    plugin = internal / "PySide6" / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    if not plugin.is_file():
        return []
    env = {**os.environ, "LD_LIBRARY_PATH": str(internal)}
    done = subprocess.run(["ldd", str(plugin)], capture_output=True, text=True, env=env)
    return sorted({line.split()[0] for line in done.stdout.splitlines() if "not found" in line})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-onefile", action="store_true", help="build only the folder app")
    args = parser.parse_args(argv)
    try:
        app_version = version("inlet")
        import PyInstaller  # noqa: F401
    except (PackageNotFoundError, ImportError) as err:
        print(
            f"build: {err}. Install Inlet with its build tools first: pip install '.[build]'",
            file=sys.stderr,
        )
        return 1
    for stale in DIST.glob("inlet-*-*"):  # a single file from an earlier build or version
        stale.unlink()
    env = {
        **os.environ,
        "INLET_BUILD_ONEFILE": "0" if args.no_onefile else "1",
        "INLET_BUILD_SOURCES": str(stage_sources()),
    }
    command = [
        sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
        "--distpath", str(DIST), "--workpath", str(WORK), str(SPEC),
    ]  # fmt: skip
    if subprocess.run(command, cwd=ROOT, env=env).returncode != 0:
        print("build: PyInstaller failed (its messages are above).", file=sys.stderr)
        return 1
    app_dir = DIST / "inlet"
    if sys.platform.startswith("linux"):
        add_desktop_entry(app_dir)
        for library in uncarried_x_libraries(app_dir):
            print(
                f"build: warning: {library} is not installed here, so the app does not carry it "
                "and its window will need it on the user's machine (install Qt's X11 libraries, "
                "see the README, before building an app to hand out).",
                file=sys.stderr,
            )
    print(f"Inlet {app_version} built:")
    built = [app_dir, *sorted(DIST.glob(f"inlet-{app_version}-*")), DIST / "Inlet.app"]
    for path in built:
        if path.exists():
            print(f"  {path}  ({folder_size(path) / 1e6:.0f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
