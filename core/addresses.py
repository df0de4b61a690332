"""Which of this machine's addresses a code should name.

The host name is no guide: the stock Debian/Ubuntu ``/etc/hosts`` maps it to 127.0.1.1, so a
code built from it names loopback and no other machine can use it. The addresses come from the
network interfaces instead (``ifaddr``), ranked: Tailscale first (it reaches across networks
and is what ftransfer users run), then private LAN addresses, then public ones; loopback only in
pod mode (sender and receiver on one host); link-local never (it needs a scope the code cannot
carry).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable

import ifaddr

#: (interface name, address) pairs; a seam so tests can inject any machine's interfaces.
Interfaces = Callable[[], Iterable[tuple[str, str]]]

TAILSCALE_NETS = (
    ipaddress.ip_network("100.64.0.0/10"),
    ipaddress.ip_network("fd7a:115c:a1e0::/48"),
)
#: A code stays short enough to read: at most this many addresses.
MAX_ADDRESSES = 4

TAILSCALE, PRIVATE, PUBLIC, LOOPBACK = "tailscale", "private", "public", "loopback"


def system_interfaces() -> list[tuple[str, str]]:
    """Every address of every interface of this machine."""
    found = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            address = ip.ip if isinstance(ip.ip, str) else ip.ip[0]  # IPv6: (addr, flow, scope)
            found.append((adapter.nice_name or adapter.name, address))
    return found


def kind_of(address: str) -> str | None:
    """``TAILSCALE``, ``PRIVATE``, ``PUBLIC``, ``LOOPBACK``, or None (never in a code)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return LOOPBACK
    if ip.is_link_local or ip.is_multicast or ip.is_unspecified or ip.is_reserved:
        return None
    if any(ip in net for net in TAILSCALE_NETS):
        return TAILSCALE
    if ip.is_private:
        return PRIVATE
    return PUBLIC if ip.is_global else None


def code_addresses(interfaces: Iterable[tuple[str, str]], *, pod: bool = False) -> list[str]:
    """The addresses to put in a code, best first: Tailscale, then private LAN, then (only when
    there is neither) public ones; loopback only with ``pod`` (then first). IPv4 before IPv6
    of the same kind, since its code is shorter and more often routed."""
    ranked: dict[str, list[str]] = {TAILSCALE: [], PRIVATE: [], PUBLIC: [], LOOPBACK: []}
    for _, address in interfaces:
        kind = kind_of(address)
        plain = address.split("%", 1)[0]
        if kind is not None and plain not in ranked[kind]:
            ranked[kind].append(plain)
    for kind in ranked:
        ranked[kind].sort(key=lambda a: ":" in a)  # stable: IPv4 first, else interface order
    chosen = ranked[TAILSCALE] + ranked[PRIVATE]
    if not chosen:
        chosen = ranked[PUBLIC]
    if pod:
        chosen = ranked[LOOPBACK] + chosen
    return chosen[:MAX_ADDRESSES]
