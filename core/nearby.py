"""Nearby senders: ``inlet send`` announces itself on the LAN (mDNS / DNS-SD), the window browses.

The announcement is a ``_inlet._tcp`` service. Its instance name is the sender's display name,
its addresses and port are where the sender listens, its TXT record says how many files and
bytes are offered. It carries no secret: the code's words never leave the sender, so picking a
nearby sender fills in only the address part of the code and the person still types the words.
That is also what proves the sender is the one they mean: a name on the LAN is whatever anyone
announces.

Everything a browser hears is untrusted input from the network: names are escaped and cut
(`peertext.safe_text`), numbers range-checked, addresses validated and capped, and at most
`MAX_SENDERS` senders are tracked, however many a network announces.

python-zeroconf runs its own thread; the listener's callbacks arrive on that thread (or on the
browser's start thread for `NearbyListener.unavailable`).
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
import secrets
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from zeroconf import Zeroconf

from .codes import address_part
from .peertext import safe_text
from .progress import format_size

SERVICE_TYPE = "_inlet._tcp.local."
#: The TXT record's version: a later sender may add keys; a browser ignores what it does not know.
TXT_VERSION = "1"
#: Senders tracked at once; more announced than this are not listed.
MAX_SENDERS = 64
#: Addresses taken from one announcement (a sender lists a few: Tailscale, LAN, IPv6).
MAX_ADDRESSES = 8
#: Characters of a display name shown (escapes included).
NAME_LIMIT = 60
#: Bytes of an announced instance name: a DNS label holds 63, and a clash on the network makes
#: zeroconf append `` (2)``.
NAME_BYTES = 52
#: Milliseconds to wait for a service's address and TXT records after it was seen.
RESOLVE_MS = 3000
#: Seconds browsers keep an announcement without hearing it again. mDNS's usual 75 minutes for
#: the service's name would keep a sender that was killed outright (no goodbye) listed that long.
TTL = 120
#: Seconds `Announcer.close` waits for a registration still probing the network.
REGISTER_WAIT = 10.0
#: The largest count and size a TXT record may claim (larger is not believed, just not shown).
MAX_FILES = 10**9
MAX_SIZE = 1 << 60
_NUMBER = re.compile(r"^[0-9]{1,19}$")


class NearbyUnavailable(Exception):
    """mDNS could not start here (no multicast on the network, or the port is unusable)."""


@dataclass(frozen=True)
class NearbySender:
    """One sender heard on the LAN, already made safe to show."""

    #: the service's full name, lowercased: the same sender across updates and its removal
    key: str
    #: the display name, escaped and cut: plain text for the window
    name: str
    hosts: tuple[str, ...]
    port: int
    files: int | None = None
    size: int | None = None

    @property
    def address(self) -> str:
        """The front of this sender's code (``HOSTS:`` or ``HOSTS:PORT:``); the words follow."""
        return address_part(self.hosts, self.port)

    def describe(self) -> str:
        """``Alice's laptop — 12 files, 3.4 GB`` (what is known of it)."""
        parts = []
        if self.files is not None:
            parts.append(f"{self.files} file" if self.files == 1 else f"{self.files} files")
        if self.size is not None:
            parts.append(format_size(self.size))
        return f"{self.name} — {', '.join(parts)}" if parts else self.name


def sender_from_service(
    full_name: str,
    port: int | None,
    addresses: Sequence[str],
    properties: dict[str, str | None],
) -> NearbySender | None:
    """What the window may show of an announced service, or None when it cannot be used (no
    port, no usable address, not an ``_inlet._tcp`` service)."""
    suffix = "." + SERVICE_TYPE
    if not full_name.lower().endswith(suffix) or port is None or not 1 <= port <= 65535:
        return None
    hosts = _usable_hosts(addresses)
    if not hosts:
        return None
    instance = full_name[: -len(suffix)]
    name = safe_text(" ".join(instance.split()), limit=NAME_LIMIT) or "Unnamed sender"
    return NearbySender(
        key=full_name.lower(),
        name=name,
        hosts=hosts,
        port=port,
        files=_number(properties.get("files"), MAX_FILES),
        size=_number(properties.get("size"), MAX_SIZE),
    )


def _usable_hosts(addresses: Sequence[str]) -> tuple[str, ...]:
    """Unicast addresses a receiver can dial, IPv4 first, at most `MAX_ADDRESSES`."""
    usable: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = []
    for text in addresses[: MAX_ADDRESSES * 4]:
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            continue
        if address.is_multicast or address.is_unspecified or address in usable:
            continue
        if address.version == 6 and address.is_link_local:  # needs a scope a code cannot carry
            continue
        usable.append(address)
    usable.sort(key=lambda a: a.version)
    return tuple(str(a) for a in usable[:MAX_ADDRESSES])


def _number(text: str | None, limit: int) -> int | None:
    if text is None or not _NUMBER.match(text):
        return None
    value = int(text)
    return value if value <= limit else None


# -- announcing ------------------------------------------------------------------------------------


def display_name(name: str | None = None) -> str:
    """The name to announce: ``name`` (``--name``) or this machine's, printable and short
    enough for one DNS label."""
    text = " ".join((name or socket.gethostname().split(".")[0] or "Inlet sender").split())
    text = "".join(c for c in text if c.isprintable())
    data = text.encode("utf-8")[:NAME_BYTES]
    return data.decode("utf-8", "ignore").strip() or "Inlet sender"


class Announcer:
    """The sender's announcement: registered in the background (probing the network for a
    name clash takes a second or two), withdrawn by `close` with goodbye packets."""

    def __init__(
        self,
        name: str,
        hosts: Sequence[str],
        port: int,
        files: int,
        size: int,
        interfaces: Sequence[str] | None = None,
    ) -> None:
        self.name = display_name(name)
        self.hosts = list(hosts[:MAX_ADDRESSES])
        self.port = port
        self.properties = {"v": TXT_VERSION, "files": str(files), "size": str(size)}
        self.interfaces = list(interfaces) if interfaces else None
        self.info = None
        self._zc: Zeroconf | None = None
        self._lock = threading.Lock()
        self._closed = False
        self._thread: threading.Thread | None = None

    def start(self, on_announced: Callable[[str], None], on_failed: Callable[[str], None]) -> None:
        """Open the mDNS sockets now (raises `NearbyUnavailable`), then register in a thread:
        ``on_announced(name)`` once others can see it (the name zeroconf settled on), or
        ``on_failed(reason)``."""
        self._zc = _open_zeroconf(self.interfaces)
        from zeroconf import ServiceInfo

        self.info = ServiceInfo(
            SERVICE_TYPE,
            f"{self.name}.{SERVICE_TYPE}",
            port=self.port,
            properties=self.properties,
            # A host name of its own: two senders on one machine never clash on it.
            server=f"inlet-{secrets.token_hex(4)}.local.",
            parsed_addresses=self.hosts,
            host_ttl=TTL,
            other_ttl=TTL,
        )
        self._thread = threading.Thread(
            target=self._register, args=(self._zc, on_announced, on_failed),
            name="inlet-announce", daemon=True,
        )  # fmt: skip
        self._thread.start()

    def _register(
        self, zc: Zeroconf, on_announced: Callable[[str], None], on_failed: Callable[[str], None]
    ) -> None:
        try:
            zc.register_service(self.info, allow_name_change=True)
        except Exception as err:  # zeroconf's own errors, OSError
            on_failed(_reason(err))
        else:
            on_announced(self.info.get_name())

    def close(self) -> None:
        """Withdraw the announcement and close the sockets; idempotent.

        A registration still probing is let finish first (a second or two at most), so the
        goodbye packets always follow an announcement: no browser keeps a sender that ended.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
        if self._thread is not None:
            self._thread.join(REGISTER_WAIT)
        if self._zc is not None:
            with contextlib.suppress(Exception):  # the sender is ending either way
                self._zc.close()  # goodbye packets for every service it registered


# -- browsing --------------------------------------------------------------------------------------


class NearbyListener(Protocol):
    """What a browser tells: called from zeroconf's threads, never from the caller's."""

    def added(self, sender: NearbySender) -> None: ...
    def updated(self, sender: NearbySender) -> None: ...
    def removed(self, key: str) -> None: ...
    def unavailable(self, reason: str) -> None: ...


class NearbyBrowser:
    """Listens for ``_inlet._tcp`` announcements and tells a `NearbyListener` as senders
    appear, change and vanish. ``interfaces``: IP addresses to listen on (None: all)."""

    def __init__(self, listener: NearbyListener, interfaces: Sequence[str] | None = None) -> None:
        self.listener = listener
        self.interfaces = list(interfaces) if interfaces else None
        self._lock = threading.Lock()
        self._known: set[str] = set()
        self._closed = False
        self._zc: Zeroconf | None = None
        self._browser = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start listening in the background; a failure reaches ``listener.unavailable``."""
        self._thread = threading.Thread(target=self._start, name="inlet-nearby", daemon=True)
        self._thread.start()

    def _start(self) -> None:
        from zeroconf import ServiceBrowser

        try:
            zc = _open_zeroconf(self.interfaces)
        except NearbyUnavailable as err:
            with self._lock:
                if not self._closed:
                    self.listener.unavailable(str(err))
            return
        with self._lock:
            if self._closed:
                zc.close()
                return
            self._zc = zc
            self._browser = ServiceBrowser(zc, SERVICE_TYPE, handlers=[self._changed])

    def _changed(self, zeroconf, service_type: str, name: str, state_change) -> None:
        """zeroconf's browser thread: resolve an added or updated service, forget a removed one.

        The listener is called under the lock, so none is called once `close` has returned."""
        from zeroconf import ServiceStateChange

        key = name.lower()
        if state_change is ServiceStateChange.Removed:
            with self._lock:
                if not self._closed and key in self._known:
                    self._known.discard(key)
                    self.listener.removed(key)
            return
        with self._lock:
            if self._closed or (key not in self._known and len(self._known) >= MAX_SENDERS):
                return
        try:  # outside the lock: resolving waits for the network
            info = zeroconf.get_service_info(service_type, name, timeout=RESOLVE_MS)
        except Exception:  # a closing zeroconf, a malformed record: nothing to show
            return
        if info is None:
            return
        sender = sender_from_service(
            name, info.port, info.parsed_addresses(), info.decoded_properties
        )
        with self._lock:
            if self._closed or sender is None:
                return
            if key in self._known:
                self.listener.updated(sender)
            elif len(self._known) < MAX_SENDERS:
                self._known.add(key)
                self.listener.added(sender)

    def close(self) -> None:
        """Stop listening; no callback follows once this returns. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            zc, browser = self._zc, self._browser
        if browser is not None:
            with contextlib.suppress(Exception):
                browser.cancel()
        if zc is not None:
            with contextlib.suppress(Exception):
                zc.close()


def _open_zeroconf(interfaces: Sequence[str] | None) -> Zeroconf:
    """A running zeroconf on ``interfaces`` (None: all), or `NearbyUnavailable` saying why."""
    try:
        from zeroconf import InterfaceChoice, Zeroconf
    except ImportError as err:  # an install or app build without it
        raise NearbyUnavailable("python-zeroconf is not installed") from err
    try:
        return Zeroconf(interfaces=list(interfaces) if interfaces else InterfaceChoice.All)
    except Exception as err:  # OSError (no multicast, no such interface), zeroconf's own
        raise NearbyUnavailable(_reason(err)) from err


def _reason(err: BaseException) -> str:
    text = getattr(err, "strerror", None) or str(err) or type(err).__name__
    return safe_text(text, limit=120)
