"""Peers that are wrong rather than broken (invariant 6): wrong token, wrong code, a second
receiver while the sender is busy, a sender that goes quiet. Each must end with a clear sentence,
quickly where it can be quick."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from inlet.core.codes import parse_code
from inlet.core.errors import CodeError
from inlet.core.events import FileProgress
from inlet.core.receiver import Receiver, ReceiverOptions, TransferResult

from ..helpers import start_sender, tree_hashes, write_random
from ..hostile import HostilePeer, HostileSender
from ..reliability import record

pytestmark = pytest.mark.timeout(60)


def receive(code: str, dest: Path, on_event=None, **options) -> TransferResult:
    options.setdefault("idle_timeout", 10)
    options.setdefault("connect_timeout", 5)
    return Receiver(parse_code(code), dest, ReceiverOptions(**options), on_event=on_event).run()


@pytest.mark.parametrize(
    ("extra", "wrong_token", "said"),
    [
        ((), "3-wrong-words-typed-here", "The sender did not accept the code."),
        (("--no-ext",), "wrong-words", "the token in the code does not match the sender's"),
    ],
    ids=["inlet-code", "no-ext"],
)
def test_wrong_token_against_a_real_sender(
    tmp_path: Path, extra: tuple[str, ...], wrong_token: str, said: str
) -> None:
    source = write_random(tmp_path / "src" / "a.bin", 10_000, seed=1)
    sender = start_sender(source, *extra)
    try:
        wrong = sender.code.rsplit(":", 1)[0] + ":" + wrong_token
        result = receive(wrong, tmp_path / "dest")
        assert not (tmp_path / "dest").exists() or not any((tmp_path / "dest").iterdir())
        right = receive(sender.code, tmp_path / "dest")  # the sender is still there after it
    finally:
        sender.stop()
    assert not result.ok and not result.resumable
    assert said in result.error
    assert "Either you or the sender typed the code wrong" in result.error
    assert right.ok, right.error
    record(
        f"wrong token (a real `{' '.join(('inlet send', *extra))}`)",
        "receiver with the right host and port, other words",
        1,
        f"“{result.error}” in {result.seconds:.2f} s; nothing written; the sender then serves "
        "the right code",
        group="peers",
    )


def test_wrong_token_stops_at_the_challenge(tmp_path: Path) -> None:
    """With a wrong token the receiver cannot open the challenge, so it never answers it: it
    gives the sender nothing to test guesses against offline."""
    sender = HostileSender(lambda peer: None, code_token="other-words")
    result = receive(sender.code, tmp_path)
    sender.join()
    assert "typed the code wrong" in result.error
    assert isinstance(sender.peer_error, Exception)  # closed without an answer
    assert not sender.wrong_answer


@pytest.mark.parametrize(
    ("code", "needle"),
    [
        ("ocean-tiger", "has no ':'"),
        ("127.0.0.1:99999:ocean-tiger", "is not a port number"),
    ],
)
def test_malformed_code(code: str, needle: str) -> None:
    with pytest.raises(CodeError, match=needle) as err:
        parse_code(code)
    assert "Copy the whole code the sender printed" in str(err.value)


def test_nothing_listening_at_the_code(tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    result = receive(f"127.0.0.1:{port}:ocean-tiger", tmp_path)
    assert f"Nothing is listening at 127.0.0.1:{port}" in result.error
    assert "Check that the sender is still running" in result.error
    assert not result.resumable
    record(
        "wrong code: nothing listening at its host and port",
        "receiver connects to a closed loopback port",
        1,
        f"“{result.error.split('. ')[0]}.” in {time.monotonic() - started:.2f} s",
        group="peers",
    )


def test_second_receiver_while_the_sender_is_busy(tmp_path: Path) -> None:
    """The sender serves one receiver at a time. A second one is told so within seconds,
    instead of waiting in the listen backlog until its idle timeout (120 s by default)."""
    source = write_random(tmp_path / "src" / "big.bin", 24 * 1024 * 1024, seed=3)
    sender = start_sender(source)
    first_has_bytes = threading.Event()
    release_first = threading.Event()

    def hold(event: object) -> None:
        # The first receiver stops reading after its first bytes: the sender is mid-stream.
        if isinstance(event, FileProgress) and not first_has_bytes.is_set():
            first_has_bytes.set()
            release_first.wait(30)

    box: list[TransferResult] = []
    first = threading.Thread(
        target=lambda: box.append(receive(sender.code, tmp_path / "first", on_event=hold))
    )
    first.start()
    try:
        assert first_has_bytes.wait(30)
        # A long idle timeout: the answer must be the sender's "busy", never our own timeout.
        second = receive(sender.code, tmp_path / "second", idle_timeout=60)
    finally:
        release_first.set()
        first.join(60)
        sender.stop()
    assert box and box[0].ok, box and box[0].error
    assert tree_hashes(tmp_path / "first") == tree_hashes(source.parent)
    assert not second.ok
    assert "The sender is busy with another receiver" in second.error, second.error
    # It is told after the sender's grace period (a receiver reconnecting at once after a drop
    # is served instead: test_wrong_token_against_a_real_sender reconnects within it). How
    # long that takes depends on the machine's load: the words above prove it was told.
    assert not (tmp_path / "second").exists() or not any((tmp_path / "second").iterdir())
    record(
        "a second receiver connects while the sender serves the first",
        "real `inlet send`; the first receiver holds the stream mid-file",
        1,
        f"“{second.error}” after {second.seconds:.2f} s; the first transfer completes",
        group="peers",
    )


def _quiet_after(stage: str):
    """A sender that completes the handshake, then goes quiet at ``stage``."""

    def script(peer: HostilePeer) -> None:
        if stage != "before the file list":
            peer.metadata([("a.txt", b"abc")])
            assert peer.answer() == ("ready", None)
        peer.wait_closed()  # says nothing more; the receiver gives up and closes

    return script


@pytest.mark.parametrize("stage", ["before the file list", "after READY"])
def test_sender_that_goes_quiet(tmp_path: Path, stage: str) -> None:
    sender = HostileSender(_quiet_after(stage))
    result = receive(sender.code, tmp_path / "dest", idle_timeout=1)
    sender.join()
    assert not result.ok
    assert "The sender sent nothing for 1 s." in result.error
    assert "Check the network and that the sender is still running" in result.error
    assert result.resumable == (stage == "after READY")
    record(
        f"sender goes quiet {stage}",
        "scripted sender: real handshake, then silence; receiver idle_timeout = 1 s",
        1,
        f"“{result.error.split('. ')[0]}.” after {result.seconds:.1f} s"
        + ("; state kept for resume" if result.resumable else ""),
        group="peers",
    )


# -- the busy signal in the sans-I/O machine ------------------------------------------------------


def test_busy_signal_is_recognised_in_any_split() -> None:
    from inlet.core import wire
    from inlet.core.errors import SenderBusyError

    signal = wire.busy_signal()
    assert signal == b"\x00\x00\x00\x04BUSY"
    for cut in range(len(signal)):
        conn = wire.ReceiverConnection("tok")
        conn.receive_data(signal[:cut] or b"\x00")
        if cut:
            assert conn.next_event() is wire.NEED_DATA
            conn.receive_data(signal[cut:])
        else:
            conn = wire.ReceiverConnection("tok")
            conn.receive_data(signal)
        with pytest.raises(SenderBusyError, match="busy with another receiver"):
            conn.next_event()
        assert conn.data_to_send() == b""  # the receiver did not even send its key


def test_a_four_byte_frame_that_is_not_busy_is_a_protocol_error() -> None:
    from inlet.core import wire
    from inlet.core.errors import ProtocolError, SenderBusyError

    conn = wire.ReceiverConnection("tok")
    conn.receive_data(b"\x00\x00\x00\x04BUSZ")
    with pytest.raises(ProtocolError, match="public key of 32 bytes, but the peer announced 4"):
        conn.next_event()
    assert not issubclass(ProtocolError, SenderBusyError)
