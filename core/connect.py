"""Connect to whichever of a code's addresses answers first ("happy eyeballs", RFC 8305).

A code may name a sender's Tailscale, LAN and IPv6 addresses; some will not be reachable from
here, and an unreachable one can take the whole connect timeout to fail. So the attempts are
started one after another, `STAGGER` apart (or at once when the previous one failed), and run
side by side; the first connection made wins and the others are closed.
"""

from __future__ import annotations

import queue
import socket
import threading
import time
from collections.abc import Sequence

from .errors import ConnectionFailedError, TransferTimeoutError

#: Seconds between starting attempts (RFC 8305 recommends 250 ms).
STAGGER = 0.25

_Result = tuple[str, socket.socket | None, OSError | None]


def connect_first(hosts: Sequence[str], port: int, timeout: float) -> tuple[socket.socket, str]:
    """A connected socket to the first of ``hosts`` that answers on ``port``, and that host.

    Raises ConnectionFailedError (refused, unknown host, unreachable) or TransferTimeoutError
    (no answer within ``timeout``), saying which addresses were tried.
    """
    results: queue.Queue[_Result] = queue.Queue()
    deadline = time.monotonic() + timeout
    errors: dict[str, OSError] = {}
    started = running = 0
    while True:
        if started < len(hosts):
            _start(hosts[started], port, timeout, results)
            started += 1
            running += 1
        now = time.monotonic()
        wait = deadline - now if started == len(hosts) else min(STAGGER, deadline - now)
        try:
            host, sock, err = results.get(timeout=max(0.0, wait))
        except queue.Empty:
            if started == len(hosts) or time.monotonic() >= deadline:
                break
            continue
        running -= 1
        if sock is not None:
            _close_late(results, running)
            return sock, host
        assert err is not None
        errors[host] = err
        if running == 0 and started == len(hosts):
            break
    _close_late(results, running)
    raise _failure(hosts, port, timeout, errors)


def _start(host: str, port: int, timeout: float, results: queue.Queue[_Result]) -> None:
    def attempt() -> None:
        try:
            results.put((host, socket.create_connection((host, port), timeout=timeout), None))
        except OSError as err:
            results.put((host, None, err))

    threading.Thread(target=attempt, name=f"inlet-connect-{host}", daemon=True).start()


def _close_late(results: queue.Queue[_Result], running: int) -> None:
    """Attempts still running may connect after the winner: close those sockets."""
    if not running:
        return

    def drain() -> None:
        for _ in range(running):
            _, sock, _ = results.get()
            if sock is not None:
                sock.close()

    threading.Thread(target=drain, name="inlet-connect-late", daemon=True).start()


def _where(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _failure(
    hosts: Sequence[str], port: int, timeout: float, errors: dict[str, OSError]
) -> Exception:
    """One sentence for why no address answered (the single-address wording when there is one)."""
    places = ", ".join(_where(h, port) for h in hosts)
    if len(errors) < len(hosts) or any(isinstance(e, TimeoutError) for e in errors.values()):
        return TransferTimeoutError(
            f"No answer from {places} within {timeout:.0f} s.",
            "Check that the sender is running and reachable (a firewall on its side may block "
            "the port), then try again.",
        )
    if all(isinstance(e, socket.gaierror) for e in errors.values()):
        names = ", ".join(repr(h) for h in hosts)
        return ConnectionFailedError(f"Cannot find the host {names}.")
    if all(isinstance(e, ConnectionRefusedError) for e in errors.values()):
        return ConnectionFailedError(f"Nothing is listening at {places}.")
    reasons = "; ".join(f"{_where(h, port)}: {e.strerror or e}" for h, e in errors.items())
    return ConnectionFailedError(f"Cannot reach the sender ({reasons}).")
