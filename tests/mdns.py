"""mDNS on loopback for the nearby-sender tests: zeroconf's real stack, on 127.0.0.1 only.

Linux delivers multicast sent out through 127.0.0.1 to the sockets that joined the group there,
whether or not ``lo`` carries the MULTICAST flag on most kernels; where it does not, the flag is
switched on (``ip link set lo multicast on``, which needs root) and left on, since other tests
may be using it at the same moment. Only when that cannot make it work are the tests skipped.
"""

from __future__ import annotations

import functools
import secrets
import socket
import subprocess
import threading
from dataclasses import dataclass, field

from inlet.core.nearby import NearbySender

LOOPBACK = "127.0.0.1"
#: How long the probe datagram may take to come back (it is delivered within the send call).
PROBE_SECONDS = 5.0


def _probe() -> str | None:
    """Send one datagram to a fresh multicast group on loopback; None when it arrives, else
    what went wrong."""
    group = f"239.255.{secrets.randbelow(250) + 1}.{secrets.randbelow(250) + 1}"
    with (
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as listen,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as send,
    ):
        listen.bind(("0.0.0.0", 0))
        port = listen.getsockname()[1]
        nonce = secrets.token_bytes(8)
        try:
            membership = socket.inet_aton(group) + socket.inet_aton(LOOPBACK)
            listen.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
            send.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(LOOPBACK))
            send.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
            send.sendto(nonce, (group, port))
            listen.settimeout(PROBE_SECONDS)
            while listen.recv(64) != nonce:
                pass
        except OSError as err:
            return f"{group} on {LOOPBACK}: {err}"
    return None


def _enable_lo_multicast() -> str | None:
    done = subprocess.run(
        ["ip", "link", "set", "lo", "multicast", "on"], capture_output=True, text=True, check=False
    )
    return None if done.returncode == 0 else done.stderr.strip() or f"exit {done.returncode}"


@functools.cache
def loopback_multicast() -> str | None:
    """None when multicast over loopback works (made to, if it can be); else why it cannot."""
    problem = _probe()
    if problem is None:
        return None
    try:
        failed = _enable_lo_multicast()
    except OSError as err:  # no `ip` command
        failed = str(err)
    still = _probe() if failed is None else None
    if failed is None and still is None:
        return None
    return (
        f"multicast over loopback does not work here ({problem}) and 'ip link set lo "
        f"multicast on' did not make it work ({failed or still})"
    )


@dataclass
class Seen:
    """A `NearbyListener` that records what a browser tells, for tests to wait on."""

    senders: dict[str, NearbySender] = field(default_factory=dict)
    added_keys: list[str] = field(default_factory=list)
    removed_keys: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def added(self, sender: NearbySender) -> None:
        with self.lock:
            self.senders[sender.key] = sender
            self.added_keys.append(sender.key)

    def updated(self, sender: NearbySender) -> None:
        with self.lock:
            self.senders[sender.key] = sender

    def removed(self, key: str) -> None:
        with self.lock:
            self.senders.pop(key, None)
            self.removed_keys.append(key)

    def unavailable(self, reason: str) -> None:
        with self.lock:
            self.problems.append(reason)

    def named(self, name: str) -> NearbySender | None:
        with self.lock:
            return next((s for s in self.senders.values() if s.name == name), None)

    def ever_named(self, prefix: str) -> list[str]:
        """Keys of every sender ever added whose name starts with ``prefix``."""
        with self.lock:
            return [k for k in self.added_keys if k.startswith(prefix.lower())]
