"""CI's smoke run of the built app: ``python packaging/smoke.py dist/inlet/inlet [...]``.

For each built executable: ``--version`` is the package's; a headless ``receive`` of a real
transfer from ``inlet send`` (this environment's) over loopback verifies every file, and one of a
folder from the stock ``wormhole send`` through the real servers on loopback; the demo
window opens offscreen, is seen, and ends by itself after a few seconds (``INLET_QUIT_AFTER``);
without a screen, or with a DISPLAY nobody answers, it says so in one line;
``install-launcher`` points the menu at the app itself.
Prints one line per check and exits non-zero at the first that fails.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path

SENDER = [sys.executable, "-m", "inlet.core", "send"]
WINDOW_SECONDS = 3


class SmokeFailure(Exception):
    pass


def run(
    command: list[str], env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess:
    return subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )


def expect(ok: bool, what: str, done: subprocess.CompletedProcess | None = None) -> None:
    if not ok:
        detail = (
            f" (exit {done.returncode}; stderr: {done.stderr.strip()[-800:]!r})" if done else ""
        )
        raise SmokeFailure(what + detail)


def check_version(app: Path, env: dict[str, str], work: Path) -> str:
    done = run([str(app), "--version"], env)
    expect(done.stdout.strip() == f"inlet {version('inlet')}", "--version", done)
    return done.stdout.strip()


def check_receive(app: Path, env: dict[str, str], work: Path) -> str:
    source = work / "send" / "pkg"
    files = {"a.bin": os.urandom(3_000_000), "sub/b.txt": b"hello\n", "sub/empty": b""}
    for name, data in files.items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_bytes(data)
    sender = subprocess.Popen(
        [*SENDER, str(source), "--bind", "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert sender.stdout is not None
        line = sender.stdout.readline().split()
        expect(line[:2] == ["inlet", "receive"], f"inlet send printed no code ({line!r})")
        dest = work / "received"
        done = run([str(app), "receive", line[2], "-o", str(dest), "--json"], env)
        expect(done.returncode == 0 and '"ok": true' in done.stdout, "receive", done)
        for name, data in files.items():
            got = (dest / "pkg" / name).read_bytes()
            expect(hashlib.sha256(got).digest() == hashlib.sha256(data).digest(), name)
    finally:
        sender.terminate()
        sender.wait(10)
    return f"received {len(files)} files from inlet send, verified"


def check_wormhole(app: Path, env: dict[str, str], work: Path) -> str:
    """A folder from the stock ``wormhole send`` through magic-wormhole's real mailbox server
    and transit relay on loopback (the test extra's; tests/wormhole_servers.py)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.wormhole_servers import local_servers

    source = work / "hole" / "album"
    files = {"one.bin": os.urandom(500_000), "sub/two.txt": b"two\n"}
    for name, data in files.items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_bytes(data)
    code = "7-crossover-clockwork"
    with local_servers(work / "servers") as servers:
        sender = subprocess.Popen(
            servers.cli("send", "--no-qr", "--hide-progress", "--code", code, str(source)),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            dest = work / "from-wormhole"
            hints = ["--mailbox", servers.mailbox_url, "--relay", servers.relay_hint]
            done = run([str(app), "receive", code, "-o", str(dest), *hints, "--json"], env)
            expect(done.returncode == 0 and '"ok": true' in done.stdout, "wormhole", done)
            for name, data in files.items():
                got = (dest / "album" / name).read_bytes()
                expect(hashlib.sha256(got).digest() == hashlib.sha256(data).digest(), name)
        finally:
            sender.kill()
            sender.wait(10)
    return f"received a folder of {len(files)} files from wormhole send, verified"


def check_window(app: Path, env: dict[str, str], work: Path) -> str:
    window_env = {**env, "QT_QPA_PLATFORM": "offscreen", "INLET_QUIT_AFTER": str(WINDOW_SECONDS)}
    done = run([str(app), "demo"], window_env)
    expect(done.returncode == 0 and "the window is visible" in done.stderr, "demo window", done)
    return f"demo window visible offscreen, ended by itself after {WINDOW_SECONDS} s"


def check_no_screen(app: Path, env: dict[str, str], work: Path) -> str:
    bare = {
        k: v for k, v in env.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }
    done = run([str(app)], bare)
    expect(done.returncode == 1 and "no screen" in done.stderr, "no-screen message", done)
    expect(done.stderr.count("\n") == 1, "no-screen message is one line", done)
    return "without a screen: one line, exit 1"


def check_dead_display(app: Path, env: dict[str, str], work: Path) -> str:
    """The X11 checks run in the built app too: a DISPLAY no server answers (or, on a machine
    without Qt's X11 libraries, the missing library) is one line, not Qt's abort."""
    free = next(n for n in range(990, 1100) if not Path(f"/tmp/.X11-unix/X{n}").exists())
    dead = {k: v for k, v in env.items() if k not in ("WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    done = run([str(app)], {**dead, "DISPLAY": f":{free}"})
    expect(done.returncode == 1 and done.stderr.count("\n") == 1, "dead-display message", done)
    expect("inlet receive CODE" in done.stderr, "dead-display message says what to do", done)
    return f"DISPLAY=:{free} with no server: one line, exit 1"


def check_launcher(app: Path, env: dict[str, str], work: Path) -> str:
    data = work / "xdg-data"
    done = run([str(app), "install-launcher"], {**env, "XDG_DATA_HOME": str(data)})
    entry = (data / "applications" / "inlet.desktop").read_text("utf-8")
    expect(done.returncode == 0 and f"Exec={app.absolute()}\n" in entry, "install-launcher", done)
    expect((data / "icons" / "hicolor" / "scalable" / "apps" / "inlet.svg").is_file(), "icon")
    return "install-launcher: Exec is the app itself, icon installed"


CHECKS = (
    check_version,
    check_receive,
    check_wormhole,
    check_window,
    check_no_screen,
    check_dead_display,
    check_launcher,
)


def main(apps: list[str]) -> int:
    for app in map(Path, apps):
        for check in CHECKS:
            with tempfile.TemporaryDirectory(prefix="inlet-smoke-") as tmp:
                env = {**os.environ, "HOME": tmp, "XDG_CONFIG_HOME": f"{tmp}/config", "TMPDIR": tmp}
                try:
                    print(f"smoke: {app.name}: {check(app, env, Path(tmp))}", flush=True)
                except (SmokeFailure, OSError, subprocess.TimeoutExpired) as err:
                    print(f"smoke: {app.name}: FAILED: {err}", file=sys.stderr)
                    return 1
    print(f"smoke: every check passed for {len(apps)} built app(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
