"""magic-wormhole's real servers on loopback, and the stock ``wormhole`` CLI pointed at them.

The interface other tests build on (Inlet's own receiver, and later Inlet-to-Inlet over the
wormhole):

- `local_servers(folder)` — a context manager that starts the mailbox (rendezvous) server
  (``twist wormhole-mailbox``) and the transit relay (``twist transitrelay``) from PyPI on
  free loopback ports, waits until both accept connections, and yields a `WormholeServers`;
  both are killed when the block ends, however it ends. The ``wormhole_servers`` fixture in
  ``tests/conftest.py`` is one of these for the whole test session.
- `WormholeServers.mailbox_url` (``ws://127.0.0.1:P/v1``) and ``relay_hint``
  (``tcp:127.0.0.1:Q``): what a client is configured with.
- `WormholeServers.cli(*args)`: the argv of the stock ``wormhole`` command using them
  (``servers.cli("send", "--code", "7-a-b", path)``).
- `WormholeServers.relay_usage()`: what the relay logged, one dict per finished pairing
  (``total_bytes``, ``mood``: "happy" when two sides were glued together), so a test can tell
  that the data went through the relay and count its bytes.
- `start_wormhole(servers, *args)` / the ``wormhole_cli`` fixture: a ``wormhole`` subprocess
  (`WormholeProcess`), killed when the test ends.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

#: How long a server may take to accept its first connection on a busy machine.
START_TIMEOUT = 60.0


def _tool(name: str) -> str:
    """A console script of this venv (``twist``, ``wormhole``), else from PATH."""
    beside = Path(sys.executable).with_name(name)
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name!r} is not installed: pip install '.[test]'")
    return found


def free_port() -> int:
    """A loopback port nobody listens on right now (the server binds it next)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class _Server:
    proc: subprocess.Popen
    port: int
    log: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)


def _start(argv: list[str], port: int, log: Path, cwd: Path, **popen) -> _Server:
    """Start one ``twist`` server and wait until its port accepts a connection."""
    with open(log, "ab") as out:
        proc = subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, **popen)
    server = _Server(proc, port, log)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            pass
        try:  # the wait is on the process: a server that dies ends it at once
            proc.wait(timeout=0.05)
        except subprocess.TimeoutExpired:
            if time.monotonic() < deadline:
                continue
            server.stop()
            raise RuntimeError(f"{argv[1]} did not listen within {START_TIMEOUT} s") from None
        raise RuntimeError(f"{argv[1]} exited with {proc.returncode}: {log.read_text()[-2000:]}")


@dataclass
class WormholeServers:
    """A running mailbox server and transit relay on loopback (see the module docstring)."""

    mailbox_port: int
    relay_port: int
    folder: Path
    _servers: list[_Server] = field(default_factory=list, repr=False)

    @property
    def mailbox_url(self) -> str:
        return f"ws://127.0.0.1:{self.mailbox_port}/v1"

    @property
    def relay_hint(self) -> str:
        return f"tcp:127.0.0.1:{self.relay_port}"

    @property
    def relay_log(self) -> Path:
        return self.folder / "relay-usage.jsonl"

    def cli(self, *args: str | os.PathLike[str]) -> list[str]:
        """The stock ``wormhole`` command's argv, talking to these servers only."""
        return [
            _tool("wormhole"),
            "--relay-url",
            self.mailbox_url,
            "--transit-helper",
            self.relay_hint,
            *map(os.fspath, args),
        ]

    def relay_usage(self) -> list[dict]:
        """The relay's usage records so far (one per finished connection pair)."""
        if not self.relay_log.exists():
            return []
        lines = self.relay_log.read_text().splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def stop(self) -> None:
        for server in self._servers:
            server.stop()
        self._servers.clear()


@contextlib.contextmanager
def local_servers(folder: Path) -> Iterator[WormholeServers]:
    """Start both servers with their state in ``folder``; kill them when the block ends."""
    folder.mkdir(parents=True, exist_ok=True)
    twist = _tool("twist")
    servers = WormholeServers(0, 0, folder)
    try:
        port = free_port()
        servers._servers.append(
            _start(
                [
                    twist,
                    "wormhole-mailbox",
                    f"--port=tcp:{port}:interface=127.0.0.1",
                    f"--channel-db={folder / 'mailbox.sqlite'}",
                ],
                port,
                folder / "mailbox.log",
                folder,
            )
        )
        servers.mailbox_port = port
        port = free_port()
        usage = os.open(servers.relay_log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            servers._servers.append(
                _start(
                    [
                        twist,
                        "transitrelay",
                        f"--port=tcp:{port}:interface=127.0.0.1",
                        f"--log-fd={usage}",
                    ],
                    port,
                    folder / "relay.log",
                    folder,
                    pass_fds=(usage,),
                )
            )
        finally:
            os.close(usage)
        servers.relay_port = port
        yield servers
    finally:
        servers.stop()


@dataclass
class WormholeProcess:
    """A running stock ``wormhole`` command; its output is read once it has exited."""

    proc: subprocess.Popen
    argv: list[str]

    def wait(self, timeout: float = 60) -> int:
        return self.proc.wait(timeout=timeout)

    def output(self, timeout: float = 60) -> tuple[str, str]:
        """(stdout, stderr) after it exits (waits up to ``timeout`` seconds)."""
        out, err = self.proc.communicate(timeout=timeout)
        return out, err

    def kill(self) -> None:
        """SIGKILL, as a crash or a closed laptop would end it."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        self.kill()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream:
                stream.close()


def start_wormhole(servers: WormholeServers, *args: str | os.PathLike[str]) -> WormholeProcess:
    """Start ``wormhole ARGS`` against ``servers`` (e.g. ``"send", "--code", CODE, PATH``)."""
    argv = servers.cli(*args)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    return WormholeProcess(proc, argv)
