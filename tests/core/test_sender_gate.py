"""A sender no stranger can block (issue 11, items 3-5): hostile receivers over loopback
against a real `Sender`. Silent and trickling connections, wrong answers by the dozen, endless
resend requests: the real receiver still gets its files and the sender never gives up."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from inlet.core import wire
from inlet.core.codes import parse_code
from inlet.core.framing import plain_frame
from inlet.core.pake import PakeHandshake
from inlet.core.receiver import Receiver, ReceiverOptions
from inlet.core.sender import (
    FORGIVE_AFTER,
    MAX_HOLD,
    MAX_OFFENDERS,
    MAX_RESENDS,
    Sender,
    SenderOptions,
    _Gate,
    penalty,
)

from ..helpers import tree_hashes, write_random

pytestmark = pytest.mark.timeout(90)


class RunningSender:
    """A `Sender` serving in a background thread; its log lines are collected."""

    def __init__(self, tmp_path: Path, **options: object) -> None:
        self.source = write_random(tmp_path / "src" / "a.bin", 200_000, seed=7)
        self.sender = Sender.for_paths(
            [str(self.source)], SenderOptions(port=0, bind="127.0.0.1", **options)
        )
        self.code = parse_code(str(self.sender.listen()))
        self.lines: list[str] = []
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            self.sender.serve(log=self.lines.append)
        except BaseException as err:
            self.error = err

    def connect(self) -> socket.socket:
        sock = socket.create_connection((self.code.host, self.code.port), timeout=20)
        sock.settimeout(20)
        return sock

    def stop(self) -> None:
        self.sender.stop()
        self.thread.join(20)
        assert not self.thread.is_alive(), "serve() did not return after stop()"

    def logged(self, text: str) -> int:
        return sum(text in line for line in list(self.lines))


@pytest.fixture
def running(tmp_path: Path) -> Iterator[RunningSender]:
    senders: list[RunningSender] = []

    def start(**options: object) -> RunningSender:
        senders.append(RunningSender(tmp_path, **options))
        return senders[-1]

    yield start
    for sender in senders:
        sender.stop()


def receive(sender: RunningSender, dest: Path):
    options = ReceiverOptions(idle_timeout=30, connect_timeout=30)
    return Receiver(sender.code, dest, options).run()


def read_frame(sock: socket.socket) -> bytes:
    def exact(n: int) -> bytes:
        out = b""
        while len(out) < n:
            chunk = sock.recv(n - len(out))
            if not chunk:
                raise ConnectionError("closed")
            out += chunk
        return out

    return exact(int.from_bytes(exact(4), "big"))


def wrong_answer(sender: RunningSender) -> None:
    """A stranger guesses: SPAKE2 with a wrong code, or (legacy) a made-up challenge answer."""
    with sender.connect() as sock:
        read_frame(sock)  # the sender's SPAKE2 message, or its X25519 key
        if sender.sender.pake:
            guess = PakeHandshake("1-wrong-guess", sender=False)
            sock.sendall(plain_frame(guess.message()) + plain_frame(os.urandom(32)))
            return
        sock.sendall(plain_frame(os.urandom(32)))
        read_frame(sock)  # nonce length 12 ... the sealed challenge starts
        sock.sendall(plain_frame(os.urandom(32)))


def test_a_silent_connection_does_not_lock_out_the_real_receiver(running, tmp_path: Path):
    sender = running()
    with sender.connect():  # says nothing, keeps the connection open
        result = receive(sender, tmp_path / "dest")
    assert result.ok, result.error
    assert tree_hashes(tmp_path / "dest") == tree_hashes(sender.source.parent)


def test_a_trickle_is_cut_at_the_handshake_deadline(running) -> None:
    """A byte now and then resets no timer: the whole handshake has one deadline."""
    sender = running(handshake_timeout=0.5)
    with sender.connect() as sock:
        size = len(read_frame(sock))  # our first message is as long as the sender's
        sock.sendall(size.to_bytes(4, "big"))  # it is coming... one byte at a time
        sock.settimeout(0.2)  # the trickle's pace: a byte per 0.2 s unless the sender hangs up
        closed = False
        for _ in range(size - 1):
            try:
                sock.sendall(b"k")
                closed = sock.recv(1) == b""
            except TimeoutError:
                continue
            except OSError:
                closed = True
            if closed:
                break
    assert closed, "the sender still waited for the trickling peer after all but one byte"
    while not sender.logged("did not finish the handshake"):
        sender.thread.join(0.05)


@pytest.mark.parametrize("extension", [True, False], ids=["inlet-code", "no-ext"])
def test_thirty_bogus_connections_come_and_go_and_the_real_receiver_gets_through(
    running, tmp_path: Path, extension: bool
) -> None:
    sender = running(extension=extension)
    assert sender.sender.pake is extension
    for _ in range(25):  # more wrong answers than ever stopped the sender
        wrong_answer(sender)
    silent = [sender.connect() for _ in range(5)]
    try:
        result = receive(sender, tmp_path / "dest")
    finally:
        for sock in silent:
            sock.close()
    assert result.ok, result.error
    assert tree_hashes(tmp_path / "dest") == tree_hashes(sender.source.parent)
    sender.thread.join(20)
    assert sender.error is None, sender.error
    assert sender.logged("used a wrong code") == 25
    assert sender.logged("received every file") == 1


def test_repeat_offenders_wait_longer_per_address() -> None:
    now = [1000.0]
    gate = _Gate(clock=lambda: now[0])
    holds = [gate.failed("192.0.2.7") for _ in range(7)]
    assert holds == [1.0, 1.0, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert max(holds) == MAX_HOLD
    assert gate.failed("192.0.2.8") == 1.0  # another address is not punished
    now[0] += FORGIVE_AFTER + 1
    assert gate.failed("192.0.2.7") == 1.0  # a quiet address is forgiven
    assert [penalty(n) for n in (1, 4, 5, 100)] == [1.0, 2.0, 4.0, MAX_HOLD]


class Client:
    """A receiver driven by hand through the wire machine (it can ask for anything)."""

    def __init__(self, sender: RunningSender, **kwargs: object) -> None:
        self.sock = sender.connect()
        self.conn = wire.ReceiverConnection(sender.code.token, pake=sender.code.pake, **kwargs)

    def event(self) -> object:
        while True:
            event = self.conn.next_event()
            if event is not wire.NEED_DATA:
                return event
            self.sock.sendall(self.conn.data_to_send())
            self.conn.receive_data(self.sock.recv(1 << 16))

    def until(self, kind: type) -> object:
        while not isinstance(event := self.event(), kind | wire.ConnectionClosed):
            pass
        return event


@pytest.mark.parametrize("extension", [True, False], ids=["extension", "legacy"])
def test_resend_requests_are_capped_per_file(running, extension: bool) -> None:
    sender = running(extension=extension)
    client = Client(sender, extension=extension)
    with client.sock:
        assert isinstance(client.until(wire.Metadata), wire.Metadata)
        client.conn.accept({} if extension else None)
        resends = 0
        assert isinstance(client.until(wire.EndOfStream), wire.EndOfStream)
        for attempt in range(1, 11):
            client.conn.request_retry([client.conn.files[0].name], attempt)
            client.sock.sendall(client.conn.data_to_send())
            event = client.until(wire.EndOfStream)
            if isinstance(event, wire.ConnectionClosed):
                break
            resends += 1
    assert resends == MAX_RESENDS
    assert event == wire.ConnectionClosed(clean=True)  # files stay failed and retryable
    while not sender.logged(f"at most {MAX_RESENDS} times"):
        sender.thread.join(0.05)


def test_stop_ends_serve_while_handshakes_are_pending(running) -> None:
    sender = running()
    socks = [sender.connect() for _ in range(3)]
    sender.stop()  # fails the test if serve() does not return
    for sock in socks:
        sock.close()
    assert sender.error is None


def test_the_memory_of_offenders_stays_bounded() -> None:
    now = [0.0]
    gate = _Gate(clock=lambda: now[0])
    for i in range(MAX_OFFENDERS):
        gate.failed(f"2001:db8::{i:x}")
    now[0] += FORGIVE_AFTER + 1
    gate.failed("192.0.2.1")
    assert len(gate._offenders) == 1
