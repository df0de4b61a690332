"""The code names addresses that work (issue 11, item 1): chosen from injected interface lists,
tried side by side by the receiver (happy eyeballs), IPv6 on ::1, and a firewall hint from a
sender nobody reaches."""

from __future__ import annotations

import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from inlet.core.addresses import code_addresses
from inlet.core.codes import TransferCode
from inlet.core.connect import connect_first
from inlet.core.errors import ConnectionFailedError
from inlet.core.receiver import Receiver, ReceiverOptions
from inlet.core.sender import Sender, SenderOptions

from ..helpers import INLET, tree_hashes, write_random

pytestmark = pytest.mark.timeout(60)

#: The machine of the issue: its name maps to loopback, its LAN address is on eth0.
STOCK_DEBIAN = [("lo", "127.0.0.1"), ("lo", "::1"), ("eth0", "192.0.2.2"), ("eth0", "fe80::1")]


def test_the_issue_machine_gets_its_lan_address_not_loopback() -> None:
    assert code_addresses(STOCK_DEBIAN) == ["192.0.2.2"]


def test_tailscale_first_then_private_lan_then_ipv6_of_each_kind() -> None:
    interfaces = [
        ("eth0", "192.168.1.9"),
        ("eth0", "fd00::5"),
        ("docker0", "169.254.3.3"),
        ("tailscale0", "fd7a:115c:a1e0::9"),
        ("tailscale0", "100.101.1.2"),
        ("wlan0", "10.0.0.5"),
        ("wan", "8.8.4.4"),
        ("lo", "127.0.0.1"),
    ]
    assert code_addresses(interfaces) == [
        "100.101.1.2",
        "fd7a:115c:a1e0::9",
        "192.168.1.9",
        "10.0.0.5",
    ]


def test_public_addresses_only_when_there_is_nothing_closer() -> None:
    assert code_addresses([("wan", "8.8.4.4"), ("lo", "127.0.0.1")]) == ["8.8.4.4"]
    assert code_addresses([("lo", "127.0.0.1"), ("lo", "::1")]) == []


def test_pod_mode_puts_loopback_first() -> None:
    assert code_addresses(STOCK_DEBIAN, pod=True) == ["127.0.0.1", "::1", "192.0.2.2"]


class Serving:
    """A `Sender` in a background thread."""

    def __init__(self, source: Path, **options: object) -> None:
        self.lines: list[str] = []
        self.sender = Sender.for_paths([str(source)], SenderOptions(**{"port": 0, **options}))
        self.code = self.sender.listen()
        self.thread = threading.Thread(
            target=self.sender.serve, kwargs={"log": self.lines.append}, daemon=True
        )
        self.thread.start()

    def stop(self) -> None:
        self.sender.stop()
        self.thread.join(20)
        assert not self.thread.is_alive()


@pytest.fixture
def serving() -> Iterator:
    started: list[Serving] = []

    def start(source: Path, **options: object) -> Serving:
        started.append(Serving(source, **options))
        return started[-1]

    yield start
    for one in started:
        one.stop()


def test_the_sender_code_comes_from_the_interfaces(serving, tmp_path: Path) -> None:
    source = write_random(tmp_path / "a.bin", 100)
    sender = serving(source, interfaces=lambda: STOCK_DEBIAN)
    assert sender.code.hosts == ("192.0.2.2",)
    assert "127." not in str(sender.code)


def test_an_ftransfer_compatible_code_names_one_address(serving, tmp_path: Path) -> None:
    source = write_random(tmp_path / "a.bin", 100)
    lan = [("tailscale0", "100.101.1.2"), *STOCK_DEBIAN]
    assert serving(source, interfaces=lambda: lan).code.hosts == ("100.101.1.2", "192.0.2.2")
    legacy = serving(source, interfaces=lambda: lan, extension=False).code
    assert legacy.hosts == ("100.101.1.2",) and not legacy.pake


def test_ipv6_on_loopback_end_to_end(serving, tmp_path: Path) -> None:
    source = write_random(tmp_path / "src" / "a.bin", 50_000)
    sender = serving(source, pod=True, interfaces=lambda: [("lo", "::1")])
    assert sender.code.hosts == ("::1",)
    assert str(sender.code).startswith("[::1]:")
    result = Receiver(sender.code, tmp_path / "dest", ReceiverOptions(connect_timeout=10)).run()
    assert result.ok, result.error
    assert tree_hashes(tmp_path / "dest") == tree_hashes(source.parent)


@pytest.fixture
def black_hole() -> Iterator[tuple[str, int]]:
    """127.0.0.2:PORT accepts no connection and refuses none: a SYN there goes unanswered
    (a listener whose backlog is full), like an address that is not routed from here."""
    server = socket.create_server(("127.0.0.2", 0), backlog=0)
    port = server.getsockname()[1]
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.2", port))
        fillers.append(filler)
    yield "127.0.0.2", port
    for filler in fillers:
        filler.close()
    server.close()


def test_happy_eyeballs_takes_the_address_that_answers(black_hole) -> None:
    host, port = black_hole
    with socket.create_server(("::1", port), family=socket.AF_INET6) as listener:
        sock, answered = connect_first([host, "::1"], port, timeout=20)
        with sock:
            assert answered == "::1"
            assert sock.getpeername()[0] == "::1"
        listener.accept()[0].close()


def test_every_address_refused_is_one_sentence_naming_them() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ConnectionFailedError, match=r"Nothing is listening at 127\.0\.0\.1:\d+, "):
        connect_first(["127.0.0.1", "::1"], port, timeout=5)


def test_a_receiver_tries_the_code_addresses_side_by_side_and_says_which_answered(
    serving, tmp_path: Path, black_hole
) -> None:
    """The code's first address does not answer; the second does, and the receiver says so."""
    host, port = black_hole
    source = write_random(tmp_path / "src" / "a.bin", 20_000)
    sender = serving(source, bind="::1", port=port)
    code = TransferCode(host, port, sender.code.token, more_hosts=("::1",))
    receiver = Receiver(code, tmp_path / "dest", ReceiverOptions(connect_timeout=20))
    result = receiver.run()
    assert result.ok, result.error
    assert receiver.connected_to == "::1"


def test_a_sender_nobody_reaches_says_what_to_do(serving, tmp_path: Path) -> None:
    source = write_random(tmp_path / "a.bin", 100)
    sender = serving(source, bind="127.0.0.1", contact_hint_after=0.05)
    while not any("firewall" in line for line in sender.lines):
        sender.thread.join(0.02)
    hint = next(line for line in sender.lines if "firewall" in line)
    assert str(sender.code.port) in hint and "\n" not in hint


def test_inlet_receive_says_which_address_answered(serving, tmp_path: Path, black_hole) -> None:
    host, port = black_hole
    source = write_random(tmp_path / "src" / "a.bin", 20_000)
    sender = serving(source, bind="::1", port=port)
    code = TransferCode(host, port, sender.code.token, more_hosts=("::1",))
    done = subprocess.run(
        [*INLET, "receive", str(code), "-o", str(tmp_path / "dest")],
        capture_output=True,
        text=True,
        timeout=40,
    )
    assert done.returncode == 0, done.stderr
    assert "Reached the sender at ::1 (of 2 addresses)." in done.stderr
