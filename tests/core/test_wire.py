"""The protocol machines pumped against each other in memory, and fed hostile input."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random

import blosc
import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inlet.core import framing, messages, wire
from inlet.core.errors import InletError, ProtocolError, WrongTokenError
from inlet.core.events import FileInfo
from inlet.core.framing import (
    MAX_CONTROL_PAYLOAD,
    MAX_DATA_PAYLOAD,
    MAX_METADATA_PAYLOAD,
    plain_frame,
)
from inlet.core.session import SessionCipher, derive_session_key, public_key_bytes

TOKEN = "ocean-tiger"
SEALED_HEADER = 4 + 12 + 4


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def pseudo_random(n: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(n)


def sample_files() -> dict[str, bytes]:
    """Zero-byte files first, in the middle and last; one file spans several 1 MiB chunks."""
    return {
        "empty-first.txt": b"",
        "a.txt": b"alpha\n" * 100,
        "big/data.bin": pseudo_random(2 * framing.MiB + 12345, 1),
        "big/empty.txt": b"",
        "text.md": b"# notes\n" + b"lorem ipsum " * 5000,
        "last-empty": b"",
    }


# -- two apps in memory -------------------------------------------------------------------------


class SenderApp:
    """Drives a SenderConnection like the real sender: legacy slices or per-file data."""

    def __init__(
        self,
        files: dict[str, bytes],
        *,
        token: str = TOKEN,
        extension: bool = True,
        compress: bool = False,
        chunk: int = framing.MiB,
        slices: bool = True,
        is_message: bool = False,
    ) -> None:
        self.files = files
        self.names = list(files)
        self.conn = wire.SenderConnection(token, extension=extension, compress=compress)
        self.chunk = chunk
        self.slices = slices
        self.is_message = is_message
        self.events: list[object] = []
        self.starts: list[int | None] | None = None

    def poll(self) -> bool:
        progressed = False
        while (event := self.conn.next_event()) is not wire.NEED_DATA:
            progressed = True
            self.events.append(event)
            if isinstance(event, wire.Authenticated):
                self.conn.send_metadata(
                    [(n, len(d)) for n, d in self.files.items()], is_message=self.is_message
                )
            elif isinstance(event, wire.ReceiverReady):
                if event.plan is None:
                    self.send_legacy(range(len(self.names)))
                else:
                    self.starts = self.answer_plan(event.plan)
                    self.conn.send_accept(self.starts)
                    self.send_per_file([(i, s) for i, s in enumerate(self.starts) if s is not None])
            elif isinstance(event, wire.ReceiverReply):
                if event.is_retry:
                    wanted = set(event.retry_files)
                    indices = [i for i, n in enumerate(self.names) if n in wanted]
                    if self.conn.extension_active:
                        self.send_per_file([(i, 0) for i in indices])
                    else:
                        self.send_legacy(indices)
            elif isinstance(event, wire.ConnectionClosed):
                break
        return progressed

    def answer_plan(self, plan: dict[str, wire.HeldPrefix]) -> list[int | None]:
        starts: list[int | None] = []
        for name in self.names:
            data = self.files[name]
            held = plan.get(name)
            if held is None or sha(data[: held.length]) != held.sha256:
                starts.append(0)
            elif held.length == len(data):
                starts.append(None)
            else:
                starts.append(held.length)
        return starts

    def send_legacy(self, indices) -> None:
        if self.slices:
            stream = b"".join(self.files[self.names[i]] for i in indices)
            for pos in range(0, len(stream), self.chunk):
                self.conn.send_stream_slice(stream[pos : pos + self.chunk])
        else:
            for i in indices:
                data = self.files[self.names[i]]
                for pos in range(0, len(data), self.chunk):
                    self.conn.send_data(i, pos, data[pos : pos + self.chunk])
        self.conn.send_hashes({self.names[i]: sha(self.files[self.names[i]]) for i in indices})
        self.conn.send_end()

    def send_per_file(self, plan: list[tuple[int, int]]) -> None:
        for index, start in plan:
            data = self.files[self.names[index]]
            for pos in range(start, len(data), self.chunk):
                self.conn.send_data(index, pos, data[pos : pos + self.chunk])
            self.conn.send_file_hash(index, sha(data))
        self.conn.send_end()


class ReceiverApp:
    """Drives a ReceiverConnection like the real receiver, writing files into memory.

    ``held``: bytes already on "disk" per name (a resume). ``damage``: names whose first
    pass(es) arrive corrupted, to exercise the retry path (value: how many passes).
    """

    def __init__(
        self,
        *,
        token: str = TOKEN,
        extension: bool = True,
        held: dict[str, bytes] | None = None,
        damage: dict[str, int] | None = None,
        max_attempts: int = 3,
        reverse_retry: bool = False,
    ) -> None:
        self.conn = wire.ReceiverConnection(token, extension=extension)
        self.reverse_retry = reverse_retry
        self.held = dict(held or {})
        self.damage = dict(damage or {})
        self.max_attempts = max_attempts
        self.events: list[object] = []
        self.data: dict[int, bytearray] = {}
        self.verified: dict[str, bool] = {}
        self.received_bytes = 0
        self.attempt = 0
        self.current: list[int] = []
        self.done = False

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.meta.files]

    def poll(self) -> bool:
        progressed = False
        while (event := self.conn.next_event()) is not wire.NEED_DATA:
            progressed = True
            if not isinstance(event, wire.FileData):
                self.events.append(event)
            if isinstance(event, wire.Metadata):
                self.meta = event
                self.current = list(range(len(event.files)))
                plan = {n: (len(d), sha(d)) for n, d in self.held.items()}
                self.conn.accept(plan=plan)
                if not self.conn.extension_active:
                    self.data = {i: bytearray() for i in self.current}
            elif isinstance(event, wire.Accepted):
                for i, start in enumerate(event.starts):
                    prefix = self.held.get(self.names[i], b"")
                    if start is None:
                        self.data[i] = bytearray(prefix)
                        self.verified[self.names[i]] = True
                    else:
                        assert start in (0, len(prefix))
                        self.data[i] = bytearray(prefix[:start])
            elif isinstance(event, wire.FileData):
                self.on_data(event)
            elif isinstance(event, wire.FileHash):
                self.verify(event.index, event.sha256)
            elif isinstance(event, wire.StreamHashes):
                for i in self.current:
                    self.verify(i, event.hashes[self.names[i]])
            elif isinstance(event, wire.EndOfStream):
                self.on_end()
            elif isinstance(event, wire.ConnectionClosed):
                break
        return progressed

    def on_data(self, event: wire.FileData) -> None:
        buf = self.data[event.index]
        assert event.file_offset == len(buf), (event.index, event.file_offset, len(buf))
        chunk = event.data
        name = self.names[event.index]
        if self.damage.get(name) and event.file_offset == 0:
            chunk = bytes([chunk[0] ^ 0xFF]) + chunk[1:]
        buf += chunk
        self.received_bytes += len(chunk)

    def verify(self, index: int, sha256: str) -> None:
        name = self.names[index]
        if self.damage.get(name):
            self.damage[name] -= 1
        self.verified[name] = sha(bytes(self.data[index])) == sha256

    def on_end(self) -> None:
        failed = [n for n in self.names if not self.verified.get(n)]
        if failed and self.attempt < self.max_attempts - 1:
            self.attempt += 1
            self.current = [i for i, n in enumerate(self.names) if n in failed]
            for i in self.current:
                self.data[i] = bytearray()
            self.conn.request_retry(failed[::-1] if self.reverse_retry else failed, self.attempt)
        elif failed:
            self.conn.complete_with_failures(failed, 1700000000.5)
            self.done = True
        else:
            self.conn.complete(f"Received {len(self.names)} file(s).", 1700000000.5)
            self.done = True

    def contents(self) -> dict[str, bytes]:
        return {n: bytes(self.data[i]) for i, n in enumerate(self.names)}


def shuttle(sender: wire.SenderConnection, receiver: wire.ReceiverConnection) -> bool:
    moved = False
    while True:
        to_receiver, to_sender = sender.data_to_send(), receiver.data_to_send()
        if not (to_receiver or to_sender):
            return moved
        moved = True
        if to_receiver:
            receiver.receive_data(to_receiver)
        if to_sender:
            sender.receive_data(to_sender)


def run(sender: SenderApp, receiver: ReceiverApp) -> None:
    sender.conn.start()
    for _ in range(10_000):
        moved = shuttle(sender.conn, receiver.conn)
        progressed = receiver.poll() | sender.poll()
        if not (moved or progressed):
            return
    raise AssertionError("the conversation did not settle")


# -- conversations ------------------------------------------------------------------------------


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "lz4"])
@pytest.mark.parametrize("mode", ["legacy-slices", "legacy-per-file", "extension"], ids=lambda m: m)
def test_transfer(mode: str, compress: bool) -> None:
    files = sample_files()
    extension = mode == "extension"
    sender = SenderApp(
        files, extension=extension, compress=compress, slices=mode == "legacy-slices"
    )
    receiver = ReceiverApp(extension=True)
    run(sender, receiver)
    assert receiver.contents() == files
    assert receiver.done and all(receiver.verified.values())
    assert sender.conn.extension_active == receiver.conn.extension_active == extension
    meta = receiver.meta
    assert meta.compressed == compress and meta.extension_offered == extension
    sizes = [len(d) for d in files.values()]
    assert [f.offset for f in meta.files] == [sum(sizes[:i]) for i in range(len(sizes))]
    kinds = {type(e) for e in receiver.events}
    assert (wire.FileHash in kinds) == extension and (wire.StreamHashes in kinds) != extension
    reply = sender.events[-1]
    assert isinstance(reply, wire.ReceiverReply) and reply.is_completed
    assert reply.body["completion_time"] == 1700000000.5
    # Both sides close: the close is clean only now.
    sender.conn.receive_data(b"")
    receiver.conn.receive_data(b"")
    assert sender.conn.next_event() == receiver.conn.next_event() == wire.ConnectionClosed(True)


def test_extension_sends_each_hash_right_after_its_file() -> None:
    files = sample_files()
    receiver = ReceiverApp()
    run(SenderApp(files, chunk=300_000), receiver)
    indices = []
    for event in receiver.events:
        if isinstance(event, wire.FileHash):
            indices.append(event.index)
    assert indices == list(range(len(files)))
    assert isinstance(receiver.events[1], wire.Accepted)
    assert receiver.events[1].starts == (0,) * len(files)


def test_legacy_slices_cross_file_boundaries() -> None:
    """ftransfer's fixed slices: one data message gives FileData for several files."""
    files = {"a": b"x" * 10, "empty": b"", "b": b"y" * 10, "c": b"z" * 10}
    conn, receiver = _pair_after_ready(files, extension=False)
    conn.send_stream_slice(b"x" * 10 + b"y" * 5)
    conn.send_stream_slice(b"y" * 5 + b"z" * 10)
    receiver.receive_data(conn.data_to_send())
    events = _drain(receiver)
    assert events == [
        wire.FileData(0, 0, b"x" * 10),
        wire.FileData(2, 0, b"y" * 5),
        wire.FileData(2, 5, b"y" * 5),
        wire.FileData(3, 0, b"z" * 10),
    ]


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "lz4"])
def test_resume_plan_matching_mismatching_and_complete(compress: bool) -> None:
    files = sample_files()
    big = files["big/data.bin"]
    held = {
        "big/data.bin": big[:1_500_000],  # a verified prefix: continue after it
        "text.md": b"# NOTES\n",  # does not match the source: start again
        "a.txt": files["a.txt"],  # complete: skip
        "big/empty.txt": b"",  # a zero-byte file already there: skip
    }
    sender = SenderApp(files, compress=compress)
    receiver = ReceiverApp(held=held)
    run(sender, receiver)
    assert receiver.contents() == files
    assert all(receiver.verified.values())
    starts = dict(zip(files, sender.starts, strict=True))
    assert starts == {
        "empty-first.txt": 0,
        "a.txt": None,
        "big/data.bin": 1_500_000,
        "big/empty.txt": None,
        "text.md": 0,
        "last-empty": 0,
    }
    expected_bytes = len(big) - 1_500_000 + len(files["text.md"])
    assert receiver.received_bytes == expected_bytes
    hashed = [e.index for e in receiver.events if isinstance(e, wire.FileHash)]
    assert hashed == [0, 2, 4, 5]  # skipped files get no hash message


def test_resume_plan_is_not_sent_without_the_extension() -> None:
    files = sample_files()
    for sender_ext, receiver_ext in [(False, True), (True, False)]:
        receiver = ReceiverApp(extension=receiver_ext, held={"a.txt": files["a.txt"]})
        run(SenderApp(files, extension=sender_ext), receiver)
        assert not receiver.conn.extension_active
        assert receiver.received_bytes == sum(map(len, files.values()))  # everything again
        assert receiver.contents() == files


@pytest.mark.parametrize("mode", ["legacy", "extension"])
@pytest.mark.parametrize("compress", [False, True], ids=["plain", "lz4"])
def test_retry_resends_only_the_failed_files(mode: str, compress: bool) -> None:
    files = sample_files()
    sender = SenderApp(files, extension=mode == "extension", compress=compress)
    receiver = ReceiverApp(damage={"text.md": 1})
    run(sender, receiver)
    assert receiver.contents() == files and all(receiver.verified.values())
    replies = [e for e in sender.events if isinstance(e, wire.ReceiverReply)]
    assert [r.is_retry for r in replies] == [True, False]
    assert replies[0].retry_files == ("text.md",) and replies[0].attempt == 1
    assert receiver.received_bytes == sum(map(len, files.values())) + len(files["text.md"])
    ends = [i for i, e in enumerate(receiver.events) if isinstance(e, wire.EndOfStream)]
    resend = receiver.events[ends[0] + 1 : ends[1]]
    if mode == "extension":
        assert resend == [wire.FileHash(4, sha(files["text.md"]))]
    else:
        assert resend == [wire.StreamHashes({"text.md": sha(files["text.md"])})]


def test_legacy_retry_concatenates_files_in_list_order() -> None:
    """Positions in a legacy resend: the requested files in list order, as one stream."""
    files = {"a": b"A" * 7, "b": b"B" * 5, "c": b"C" * 9, "d": b"", "e": b"E" * 4}
    sender = SenderApp(files, extension=False, chunk=6)  # slices cross files
    receiver = ReceiverApp(damage={"e": 1, "b": 1}, reverse_retry=True)
    run(sender, receiver)
    assert receiver.contents() == files
    retry = next(e for e in sender.events if isinstance(e, wire.ReceiverReply))
    assert retry.retry_files == ("b", "e")  # list order, although asked as ["e", "b"]
    ends = [i for i, e in enumerate(receiver.events) if isinstance(e, wire.EndOfStream)]
    assert receiver.events[ends[0] + 1] == wire.StreamHashes(
        {"b": sha(b"B" * 5), "e": sha(b"E" * 4)}
    )


def test_retry_gives_up_after_the_last_attempt() -> None:
    files = {"a": b"abc", "b": b"def"}
    sender = SenderApp(files, extension=False)
    receiver = ReceiverApp(damage={"b": 10})
    run(sender, receiver)
    replies = [e for e in sender.events if isinstance(e, wire.ReceiverReply)]
    assert [r.attempt for r in replies[:-1]] == [1, 2]
    assert replies[-1].body["status"] == "failed" and replies[-1].body["failed_files"] == ["b"]


@pytest.mark.parametrize("extension", [False, True])
def test_sender_closing_instead_of_resending_is_a_clean_close(extension: bool) -> None:
    """ftransfer 1.0.1's sender crashes on a retry request and closes the connection."""
    files = {"a": b"abc", "b": b"defg"}
    sender = SenderApp(files, extension=extension)
    receiver = ReceiverApp(damage={"a": 1})
    sender.conn.start()
    for _ in range(20):
        shuttle(sender.conn, receiver.conn)
        receiver.poll()
        if receiver.attempt:
            break
        sender.poll()
    assert receiver.attempt == 1
    receiver.conn.receive_data(b"")
    assert receiver.conn.next_event() == wire.ConnectionClosed(clean=True)


def test_sender_closing_in_the_middle_of_a_resend_is_not_clean() -> None:
    files = {"a": b"abc" * 1000, "b": b"defg"}
    sender = SenderApp(files, extension=False, chunk=1000)
    receiver = ReceiverApp(damage={"a": 1})
    sender.conn.start()
    for _ in range(20):
        shuttle(sender.conn, receiver.conn)
        receiver.poll()
        if receiver.attempt:
            break
        sender.poll()
    shuttle(sender.conn, receiver.conn)  # the retry request reaches the sender
    sender.poll()  # which resends
    out = sender.conn.data_to_send()
    assert out
    receiver.conn.receive_data(out[: len(out) // 2])
    receiver.conn.receive_data(b"")
    events = _drain(receiver.conn)
    assert events[-1] == wire.ConnectionClosed(clean=False)


def test_message_mode() -> None:
    text = "Meet at 10:30 — bring the blue notebook.".encode()
    sender = SenderApp({"message.txt": text}, is_message=True)
    receiver = ReceiverApp()
    run(sender, receiver)
    assert receiver.meta.is_message
    assert receiver.contents() == {"message.txt": text}
    with pytest.raises(ValueError, match="exactly one file"):
        _authenticated_sender().send_metadata([("a", 1), ("b", 1)], is_message=True)


def test_wrong_token_on_the_receiver() -> None:
    sender = SenderApp({"a": b"x"}, token="ocean-tiger")
    receiver = ReceiverApp(token="ocean-tigre")
    with pytest.raises(WrongTokenError, match="does not match"):
        run(sender, receiver)
    # The sender only sees the connection drop.
    sender.conn.receive_data(b"")
    assert sender.conn.next_event() == wire.ConnectionClosed(clean=False)


def test_wrong_token_on_the_sender() -> None:
    """A receiver that answers the challenge wrongly (it could not know the token)."""
    conn = wire.SenderConnection(TOKEN)
    conn.start()
    conn.receive_data(plain_frame(public_key_bytes(X25519PrivateKey.generate())))
    assert conn.next_event() is wire.NEED_DATA
    conn.receive_data(plain_frame(hashlib.sha256(b"guess").digest()))
    with pytest.raises(WrongTokenError, match="does not know the token"):
        conn.next_event()


def test_the_handshake_bytes() -> None:
    """Both seams fixed: the challenge travels sealed, the answer is SHA-256(challenge||token)."""
    challenge = bytes(range(32))
    sender_key, receiver_key = X25519PrivateKey.generate(), X25519PrivateKey.generate()
    conn = wire.SenderConnection(TOKEN, private_key=sender_key, challenge=challenge)
    receiver = wire.ReceiverConnection(TOKEN, private_key=receiver_key)
    conn.start()
    hello = conn.data_to_send()
    assert hello == plain_frame(public_key_bytes(sender_key))
    receiver.receive_data(hello)
    assert receiver.next_event() is wire.NEED_DATA
    assert receiver.data_to_send() == plain_frame(public_key_bytes(receiver_key))
    conn.receive_data(plain_frame(public_key_bytes(receiver_key)))
    assert conn.next_event() is wire.NEED_DATA
    sealed = conn.data_to_send()
    key = derive_session_key(receiver_key, public_key_bytes(sender_key), TOKEN)
    assert SessionCipher(key).open(sealed[4:16], sealed[20:]) == challenge
    receiver.receive_data(sealed)
    assert receiver.next_event() is wire.NEED_DATA
    answer = receiver.data_to_send()
    assert answer == plain_frame(hashlib.sha256(challenge + TOKEN.encode()).digest())
    conn.receive_data(answer)
    assert conn.next_event() == wire.Authenticated()


# -- the application's mistakes -----------------------------------------------------------------


def test_usage_errors() -> None:
    files = {"a": b"abcdef", "b": b"gh"}
    conn = _sender_after_ready(files, extension=False)
    with pytest.raises(wire.WireUsageError, match="expected file #0 at byte 0"):
        conn.send_data(1, 0, b"gh")
    with pytest.raises(wire.WireUsageError, match="has 6 left"):
        conn.send_data(0, 0, b"abcdefg")
    with pytest.raises(wire.WireUsageError, match="send_hashes"):
        conn.send_hashes({})
    with pytest.raises(wire.WireUsageError, match="send_end"):
        conn.send_end()
    conn.send_data(0, 0, b"abc")
    with pytest.raises(wire.WireUsageError, match="only 5 bytes remain"):
        conn.send_stream_slice(b"defghi")
    conn.send_stream_slice(b"defgh")
    with pytest.raises(wire.WireUsageError, match="send_file_hash"):
        conn.send_file_hash(1, "0" * 64)
    conn.send_hashes({"a": sha(b"abcdef"), "b": sha(b"gh")})
    conn.send_end()
    with pytest.raises(wire.WireUsageError, match="waiting for the receiver's reply"):
        conn.send_end()
    with pytest.raises(wire.WireUsageError, match="start"):
        wire.SenderConnection(TOKEN).next_event()
    receiver = wire.ReceiverConnection(TOKEN)
    with pytest.raises(wire.WireUsageError, match="Not allowed now"):
        receiver.complete("x", 1.0)
    with pytest.raises(wire.WireUsageError):
        receiver.accept()
    receiver.receive_data(b"")
    with pytest.raises(wire.WireUsageError, match="already closed"):
        receiver.receive_data(b"x")


def test_sender_refuses_bad_chunks_and_names() -> None:
    conn = _authenticated_sender()
    with pytest.raises(ValueError, match="twice"):
        conn.send_metadata([("a", 1), ("a", 2)])
    with pytest.raises(ValueError, match="int >= 0"):
        conn.send_metadata([("a", -1)])
    conn = _sender_after_ready({"a": b"x" * (framing.MiB + 1)}, extension=False)
    with pytest.raises(wire.WireUsageError, match="at most"):
        conn.send_stream_slice(b"x" * (framing.MiB + 1))
    with pytest.raises(wire.WireUsageError, match="empty"):
        conn.send_stream_slice(b"")


def test_extension_sender_checks_its_answer() -> None:
    files = {"a": b"abcdef", "b": b"gh"}
    conn = _sender_after_ready(files, plan={"a": (3, sha(b"abc"))})
    with pytest.raises(ValueError, match="skipped but not fully held"):
        conn.send_accept([None, 0])
    with pytest.raises(ValueError, match="holds 3 bytes"):
        conn.send_accept([2, 0])
    conn.send_accept([3, 0])
    with pytest.raises(wire.WireUsageError, match="legacy only"):
        conn.send_stream_slice(b"def")
    with pytest.raises(wire.WireUsageError, match="expected file #0 at byte 3"):
        conn.send_data(0, 0, b"abc")
    conn.send_data(0, 3, b"def")
    with pytest.raises(wire.WireUsageError, match="no more data"):
        conn.send_data(0, 6, b"x")
    with pytest.raises(wire.WireUsageError, match="send_end"):
        conn.send_end()
    conn.send_file_hash(0, sha(b"abcdef"))
    with pytest.raises(wire.WireUsageError, match="not all sent"):
        conn.send_file_hash(1, sha(b"gh"))


# -- hostile input: the receiver ----------------------------------------------------------------


class FakeSender:
    """A hand-driven sender: does the handshake, then sends whatever a test wants."""

    def __init__(self, token: str = TOKEN, *, extension: bool = True) -> None:
        self.conn = wire.ReceiverConnection(token, extension=extension)
        key = X25519PrivateKey.generate()
        self.conn.receive_data(plain_frame(public_key_bytes(key)))
        assert self.conn.next_event() is wire.NEED_DATA
        receiver_public = self.conn.data_to_send()[4:]
        self.cipher = SessionCipher(derive_session_key(key, receiver_public, token))
        self.conn.receive_data(self.cipher.seal(os.urandom(32)))
        assert self.conn.next_event() is wire.NEED_DATA
        self.conn.data_to_send()

    def send(self, payload: bytes | dict | list | str) -> None:
        if not isinstance(payload, bytes):
            payload = json.dumps(payload).encode()
        self.conn.receive_data(self.cipher.seal(payload))

    def metadata(self, sizes: list[int], *, compressed: bool = False, **extra) -> None:
        files, offset = [], 0
        for i, size in enumerate(sizes):
            files.append({"filename": f"f{i}", "size": size, "offset": offset})
            offset += size
        meta = {
            "type": "stream",
            "file_count": len(files),
            "total_size": offset,
            "compressed": compressed,
            "compressor": "lz4" if compressed else "none",
            "files": files,
            "is_message": False,
            **extra,
        }
        self.send(meta)
        event = self.conn.next_event()
        assert isinstance(event, wire.Metadata)

    def events(self) -> list[object]:
        return _drain(self.conn)


def _meta(**override) -> dict:
    meta = {
        "type": "stream",
        "file_count": 2,
        "total_size": 15,
        "compressed": False,
        "compressor": "none",
        "files": [
            {"filename": "a", "size": 10, "offset": 0},
            {"filename": "b", "size": 5, "offset": 10},
        ],
        "is_message": False,
    }
    meta.update(override)
    return meta


def _file(name="a", size=10, offset=0, **extra) -> dict:
    return {"filename": name, "size": size, "offset": offset, **extra}


BAD_METADATA = {
    "negative size": _meta(files=[_file(size=-1), _file("b", 16, -1)], total_size=15),
    "huge size": _meta(file_count=1, total_size=1 << 60, files=[_file(size=1 << 60)]),
    "string size": _meta(files=[_file(size="10"), _file("b", 5, 10)]),
    "float size": _meta(files=[_file(size=10.0), _file("b", 5, 10)]),
    "bool size": _meta(file_count=1, total_size=1, files=[_file(size=True)]),
    "gap in offsets": _meta(files=[_file(), _file("b", 5, 11)]),
    "overlapping offsets": _meta(files=[_file(), _file("b", 5, 9)]),
    "offsets out of order": _meta(files=[_file("b", 5, 10), _file()]),
    "total mismatch": _meta(total_size=16),
    "file_count mismatch": _meta(file_count=3),
    "file_count missing": {k: v for k, v in _meta().items() if k != "file_count"},
    "message with two files": _meta(is_message=True),
    "wrong type": _meta(type="resend_request"),
    "no files list": _meta(files={"a": 1}),
    "file not an object": _meta(file_count=1, files=["a"], total_size=0),
    "name not text": _meta(files=[_file(name=7), _file("b", 5, 10)]),
    "compressed with none": _meta(compressed=True),
    "lz4 but not compressed": _meta(compressor="lz4"),
    "unknown compressor": _meta(compressed=True, compressor="zstd"),
    "compressed not a bool": _meta(compressed="yes", compressor="lz4"),
    "too many files": _meta(file_count=messages.MAX_FILES + 1),
}


@pytest.mark.parametrize("case", list(BAD_METADATA), ids=lambda c: c)
def test_bad_metadata(case: str) -> None:
    sender = FakeSender()
    sender.send(BAD_METADATA[case])
    with pytest.raises(ProtocolError):
        sender.conn.next_event()


@pytest.mark.parametrize(
    "raw",
    [
        b'{"type": "stream", "type": "stream", "file_count": 0, "total_size": 0, "files": []}',
        b'{"type": "stream", "file_count": 0, "total_size": 0, "files": [], "files": []}',
        b"\xff\xfe not utf-8",
        b"[" * 200_000,
        b'{"type": "stream", "file_count": ' + b"9" * 10_000 + b"}",
        b'{"type": "stream", "file_count": NaN}',
        b"not json",
        b"[]",
        b"",
    ],
    ids=[
        "duplicate type",
        "duplicate files",
        "not utf-8",
        "deep",
        "huge number",
        "NaN",
        "text",
        "array",
        "empty",
    ],
)
def test_unparseable_metadata(raw: bytes) -> None:
    sender = FakeSender()
    sender.send(raw)
    with pytest.raises(ProtocolError):
        sender.conn.next_event()


def test_metadata_keeps_raw_names_and_ignores_unknown_keys() -> None:
    sender = FakeSender()
    meta = _meta(
        files=[_file("../../etc/passwd", 10, 0, mode=0o644), _file("C:\\b", 5, 10)],
        sender_version="9.9",
    )
    sender.send(meta)
    event = sender.conn.next_event()
    assert [f.name for f in event.files] == ["../../etc/passwd", "C:\\b"]
    assert not event.extension_offered


@pytest.mark.parametrize("inlet", [{"version": 1}, {"version": 7, "more": True}])
def test_extension_offer_is_recognised(inlet: dict) -> None:
    sender = FakeSender()
    sender.send(_meta(inlet=inlet))
    assert sender.conn.next_event().extension_offered


@pytest.mark.parametrize("inlet", [True, {"version": 0}, {"version": "1"}, [1], None])
def test_malformed_extension_offer_falls_back_to_legacy(inlet) -> None:
    sender = FakeSender()
    sender.send(_meta(inlet=inlet))
    assert not sender.conn.next_event().extension_offered
    sender.conn.accept(plan={"a": (3, sha(b"abc"))})
    assert sender.conn.data_to_send() == plain_frame(b"READY")


@pytest.mark.parametrize(
    "hashes",
    [[1, 2], "abc", 5, None, {"f0": 5}, {"f0": "zz" * 32}, {"f0": "ab"}, {"f0": ["a" * 64]}],
)
def test_hash_message_must_be_an_object_of_hex_digests(hashes) -> None:
    sender = FakeSender()
    sender.metadata([3])
    sender.conn.accept()
    sender.send(b"abc")
    assert sender.events() == [wire.FileData(0, 0, b"abc")]
    sender.send(hashes)
    with pytest.raises(ProtocolError, match="hash"):
        sender.conn.next_event()


def test_hash_message_is_found_by_position_not_content() -> None:
    """A file whose bytes are valid hash JSON is still just data."""
    lookalike = json.dumps({"f0": "a" * 64}).encode()
    sender = FakeSender()
    sender.metadata([len(lookalike)])
    sender.conn.accept()
    sender.send(lookalike)
    sender.send({"f0": sha(lookalike).upper()})
    sender.conn.receive_data(framing.END_MARKER)
    assert sender.events() == [
        wire.FileData(0, 0, lookalike),
        wire.StreamHashes({"f0": sha(lookalike)}),  # normalised to lower case
        wire.EndOfStream(),
    ]


def test_data_past_the_end_of_the_stream() -> None:
    sender = FakeSender()
    sender.metadata([3, 2])
    sender.conn.accept()
    sender.send(b"abcdef")
    with pytest.raises(ProtocolError, match="runs past the end of the stream"):
        sender.conn.next_event()


def test_end_marker_before_the_last_byte() -> None:
    sender = FakeSender()
    sender.metadata([3, 2])
    sender.conn.accept()
    sender.send(b"abc")
    sender.conn.receive_data(framing.END_MARKER)
    with pytest.raises(ProtocolError, match="2 bytes are missing"):
        sender.events()


def test_something_else_where_the_end_marker_belongs() -> None:
    sender = FakeSender()
    sender.metadata([0])
    sender.conn.accept()
    sender.send({"f0": sha(b"")})
    sender.send({"f0": sha(b"")})
    with pytest.raises(ProtocolError, match="instead of the end marker"):
        sender.events()


def test_data_before_ready_is_refused() -> None:
    sender = FakeSender()
    sender.metadata([3])
    sender.send(b"abc")
    with pytest.raises(ProtocolError, match="before the receiver said it was ready"):
        sender.conn.next_event()


@pytest.mark.parametrize("state", ["public key", "metadata", "data", "hash list", "plan answer"])
def test_four_gib_frame_is_refused_at_once(state: str) -> None:
    if state == "public key":
        conn = wire.ReceiverConnection(TOKEN)
    else:
        sender = FakeSender()
        conn = sender.conn
        if state != "metadata":
            sender.metadata([0] if state == "hash list" else [5], inlet={"version": 1})
            conn.accept(plan={} if state == "plan answer" else None)
    header = b"\xff\xff\xff\xff" if state == "public key" else b"\x00\x00\x00\x0c" + bytes(12)
    conn.receive_data(header + b"\xff\xff\xff\xff")
    with pytest.raises(ProtocolError, match=r"4294967|frame"):
        conn.next_event()
    assert conn.buffered_bytes <= SEALED_HEADER


@pytest.mark.parametrize(
    ("state", "cap"),
    [
        ("metadata", MAX_METADATA_PAYLOAD),
        ("data", MAX_DATA_PAYLOAD),
        ("hash list", messages.hash_list_limit(1, len('"f0"'))),
    ],
)
def test_frame_just_over_its_cap_is_refused(state: str, cap: int) -> None:
    sender = FakeSender()
    if state != "metadata":
        sender.metadata([0] if state == "hash list" else [5])
        sender.conn.accept()
    header = b"\x00\x00\x00\x0c" + bytes(12)
    # At the cap (plus the tag): only waits for more.
    sender.conn.receive_data(header + (cap + 16).to_bytes(4, "big"))
    assert sender.conn.next_event() is wire.NEED_DATA
    over = FakeSender()
    if state != "metadata":
        over.metadata([0] if state == "hash list" else [5])
        over.conn.accept()
    over.conn.receive_data(header + (cap + 17).to_bytes(4, "big"))
    with pytest.raises(ProtocolError, match="at most"):
        over.conn.next_event()


def test_wrong_nonce_length() -> None:
    sender = FakeSender()
    sender.conn.receive_data(b"\x00\x00\x00\x0b" + bytes(30))
    with pytest.raises(ProtocolError, match="12-byte nonce"):
        sender.conn.next_event()


def test_sealed_message_shorter_than_a_tag() -> None:
    sender = FakeSender()
    sender.conn.receive_data(b"\x00\x00\x00\x0c" + bytes(12) + b"\x00\x00\x00\x0f")
    with pytest.raises(ProtocolError, match="tag"):
        sender.conn.next_event()


def test_bad_public_keys() -> None:
    short = wire.ReceiverConnection(TOKEN)
    short.receive_data(plain_frame(bytes(31)))
    with pytest.raises(ProtocolError, match="32 bytes"):
        short.next_event()
    zero = wire.ReceiverConnection(TOKEN)  # a small-order point: no usable shared secret
    zero.receive_data(plain_frame(bytes(32)))
    with pytest.raises(ProtocolError, match="not a usable X25519 key"):
        zero.next_event()


def test_flipped_bit_later_in_the_session_is_tampering() -> None:
    sender = FakeSender()
    sender.metadata([5])
    sender.conn.accept()
    frame = bytearray(sender.cipher.seal(b"hello"))
    frame[-3] ^= 0x04
    sender.conn.receive_data(bytes(frame))
    with pytest.raises(ProtocolError, match="damaged or tampered with in transit"):
        sender.conn.next_event()
    with pytest.raises(ProtocolError):  # and it stays failed
        sender.conn.next_event()


def _blosc_with_header(nbytes: int) -> bytes:
    real = bytearray(framing.compress(b"abcdefgh" * 100))
    real[4:8] = nbytes.to_bytes(4, "little")
    return bytes(real)


@pytest.mark.parametrize(
    ("payload", "match"),
    [
        (_blosc_with_header(0xFFFFFFFF), "expand to 4294967295"),
        (_blosc_with_header(MAX_DATA_PAYLOAD + 1), "expand to"),
        (_blosc_with_header(801), "expand to 801"),  # more than the stream has left
        (_blosc_with_header(799), "could not be decompressed|not a valid blosc|unexpected size"),
        (b"\x02\x01\x21\x08" + bytes(4), "shorter than a blosc header"),
        (framing.compress(b"abcdefgh" * 100)[:-1], "says it is"),
        (bytes(16) + b"garbage" * 10, "expand|says it is|valid blosc"),
    ],
    ids=["4 GiB", "over cap", "over stream", "inconsistent", "short", "truncated", "garbage"],
)
def test_hostile_blosc_buffers(payload: bytes, match: str) -> None:
    sender = FakeSender()
    sender.metadata([800], compressed=True)
    sender.conn.accept()
    sender.send(payload)
    with pytest.raises(ProtocolError, match=match):
        sender.conn.next_event()


def test_corrupt_blosc_body_is_a_protocol_error() -> None:
    data = b"".join(b"line %d\n" % i for i in range(5000))
    good = framing.compress(data)
    rng = random.Random(5)
    outcomes = set()
    for _ in range(200):
        bad = bytearray(good)
        for _ in range(4):
            bad[rng.randrange(16, len(bad))] = rng.randrange(256)
        try:
            out = framing.decompress(bytes(bad), len(data))
            outcomes.add("decoded" if out == data else "garbled")
        except ProtocolError:
            outcomes.add("refused")
    assert "refused" in outcomes


# -- hostile input: extension messages ----------------------------------------------------------


def _extension_receiver(sizes: list[int], plan: dict) -> FakeSender:
    sender = FakeSender()
    sender.metadata(sizes, inlet={"version": 1})
    sender.conn.accept(plan=plan)
    assert sender.conn.extension_active
    sealed = sender.conn.data_to_send()
    body = json.loads(sender.cipher.open(sealed[4:16], sealed[20:]))
    assert body == {
        "type": "inlet_plan",
        "version": 1,
        "have": {k: {"bytes": n, "sha256": h} for k, (n, h) in plan.items()},
    }
    return sender


@pytest.mark.parametrize(
    "starts",
    [[None, 0], [2, 0], [0, 5], [0], [0, 0, 0], ["0", 0], {"0": 0}, [4, 1], [-1, 0], [True, 0]],
)
def test_impossible_plan_answers(starts) -> None:
    sender = _extension_receiver([4, 3], {"f0": (3, sha(b"abc"))})
    sender.send({"type": "inlet_accept", "start": starts})
    with pytest.raises(ProtocolError):
        sender.conn.next_event()


def test_plan_answer_of_the_wrong_type() -> None:
    sender = _extension_receiver([4], {})
    sender.send({"type": "inlet_plan", "start": [0]})
    with pytest.raises(ProtocolError, match="inlet_accept"):
        sender.conn.next_event()


def test_extension_stream_checks_file_hash_messages() -> None:
    sender = _extension_receiver([4, 3], {"f0": (4, sha(b"abcd"))})
    sender.send({"type": "inlet_accept", "start": [None, 0]})
    sender.send(b"xyz")
    sender.send({"type": "inlet_hash", "index": 0, "sha256": sha(b"xyz")})
    assert sender.conn.next_event() == wire.Accepted((None, 0))
    assert sender.conn.next_event() == wire.FileData(1, 0, b"xyz")
    with pytest.raises(ProtocolError, match="file #0, but file #1 just ended"):
        sender.conn.next_event()


def test_extension_data_must_not_span_files() -> None:
    sender = _extension_receiver([2, 2], {})
    sender.send({"type": "inlet_accept", "start": [0, 0]})
    sender.send(b"abcd")
    with pytest.raises(ProtocolError, match="past the end of the current file"):
        sender.events()


def test_extension_end_marker_instead_of_a_file_hash() -> None:
    sender = _extension_receiver([2], {})
    sender.send({"type": "inlet_accept", "start": [0]})
    sender.send(b"ab")
    sender.conn.receive_data(framing.END_MARKER)
    with pytest.raises(ProtocolError, match="end marker"):
        sender.events()


# -- hostile input: the sender ------------------------------------------------------------------


class FakeReceiver:
    """A hand-driven receiver for a SenderConnection that has sent its metadata."""

    def __init__(self, files: dict[str, bytes], *, extension: bool = True) -> None:
        self.conn = wire.SenderConnection(TOKEN, extension=extension)
        receiver = wire.ReceiverConnection(TOKEN)
        _handshake(self.conn, receiver)
        self.conn.send_metadata([(n, len(d)) for n, d in files.items()])
        receiver.receive_data(self.conn.data_to_send())
        assert isinstance(receiver.next_event(), wire.Metadata)
        self.receiver = receiver
        self.cipher = receiver._cipher

    def send(self, payload) -> None:
        if not isinstance(payload, bytes):
            payload = json.dumps(payload).encode()
        self.conn.receive_data(self.cipher.seal(payload))


@pytest.mark.parametrize(
    ("frame", "match"),
    [
        (plain_frame(b"READX"), "Expected READY"),
        (plain_frame(b"READY!"), "6-byte frame"),
        (b"\xff\xff\xff\xff", "4294967295-byte frame"),
        (b"\x00\x00\x00\x00", "0-byte frame"),
    ],
)
def test_sender_wants_ready(frame: bytes, match: str) -> None:
    fake = FakeReceiver({"a": b"abc"})
    fake.conn.receive_data(frame)
    with pytest.raises(ProtocolError, match=match):
        fake.conn.next_event()


def test_sender_refuses_a_plan_it_did_not_offer() -> None:
    fake = FakeReceiver({"a": b"abc"}, extension=False)
    fake.send({"type": "inlet_plan", "version": 1, "have": {}})
    with pytest.raises(ProtocolError, match="instead of READY"):
        fake.conn.next_event()


@pytest.mark.parametrize(
    "plan",
    [
        {"type": "inlet_plan", "version": 3, "have": {}},
        {"type": "inlet_plan", "version": 1, "have": {"zzz": {"bytes": 1, "sha256": "a" * 64}}},
        {"type": "inlet_plan", "version": 1, "have": {"a": {"bytes": 4, "sha256": "a" * 64}}},
        {"type": "inlet_plan", "version": 1, "have": {"a": {"bytes": 1, "sha256": "a"}}},
        {"type": "inlet_plan", "version": 1, "have": []},
        {"type": "retry_request", "version": 1, "have": {}},
        [1, 2, 3],
    ],
)
def test_sender_refuses_bad_plans(plan) -> None:
    fake = FakeReceiver({"a": b"abc"})
    fake.send(plan)
    with pytest.raises(ProtocolError):
        fake.conn.next_event()


def test_sender_reads_the_plan() -> None:
    fake = FakeReceiver({"a": b"abc", "b": b""})
    fake.send({"type": "inlet_plan", "version": 1, "have": {"a": {"bytes": 2, "sha256": "A" * 64}}})
    assert fake.conn.next_event() == wire.ReceiverReady({"a": wire.HeldPrefix(2, "a" * 64)})
    assert fake.conn.extension_active


def _finished_sender(files: dict[str, bytes]) -> FakeReceiver:
    fake = FakeReceiver(files, extension=False)
    fake.conn.receive_data(plain_frame(b"READY"))
    assert fake.conn.next_event() == wire.ReceiverReady(None)
    for i, data in enumerate(files.values()):
        if data:
            fake.conn.send_data(i, 0, data)
    fake.conn.send_hashes({n: sha(d) for n, d in files.items()})
    fake.conn.send_end()
    return fake


@pytest.mark.parametrize(
    "reply",
    [
        [1],
        "completed",
        {"type": "retry_request", "failed_files": ["nope"], "attempt": 1},
        {"type": "retry_request", "failed_files": "a", "attempt": 1},
        {"type": "retry_request", "failed_files": ["a"], "attempt": 0},
        {"type": "retry_request", "failed_files": ["a"]},
    ],
)
def test_sender_refuses_bad_replies(reply) -> None:
    fake = _finished_sender({"a": b"abc"})
    fake.send(reply)
    with pytest.raises(ProtocolError):
        fake.conn.next_event()


def test_sender_passes_other_replies_through_and_closes_cleanly() -> None:
    fake = _finished_sender({"a": b"abc"})
    fake.send({"status": "cancelled", "note": 1})
    reply = fake.conn.next_event()
    assert reply == wire.ReceiverReply({"status": "cancelled", "note": 1})
    assert not reply.is_completed and not reply.is_retry and reply.retry_files == ()
    fake.conn.receive_data(b"")
    assert fake.conn.next_event() == wire.ConnectionClosed(clean=True)


def test_sender_sees_an_unclean_close_before_the_reply() -> None:
    fake = _finished_sender({"a": b"abc"})
    fake.conn.receive_data(b"")
    assert fake.conn.next_event() == wire.ConnectionClosed(clean=False)


def test_receiver_talking_during_the_stream() -> None:
    fake = FakeReceiver({"a": b"abc"}, extension=False)
    fake.conn.receive_data(plain_frame(b"READY") + b"\x00")
    assert fake.conn.next_event() == wire.ReceiverReady(None)
    with pytest.raises(ProtocolError, match="middle of the stream"):
        fake.conn.next_event()


# -- buffers stay small and linear --------------------------------------------------------------


def test_buffer_is_compacted_while_streaming() -> None:
    """Thousands of small frames through one connection: consumed bytes do not pile up."""
    files = {f"f{i}": bytes([i % 256]) * 100 for i in range(3000)}
    conn, receiver = _pair_after_ready(files, extension=False)
    for i, data in enumerate(files.values()):
        conn.send_data(i, 0, data)
    conn.send_hashes({n: sha(d) for n, d in files.items()})
    conn.send_end()
    stream = conn.data_to_send()
    got = bytearray()
    for pos in range(0, len(stream), 4096):
        receiver.receive_data(stream[pos : pos + 4096])
        # White box: consumed bytes are dropped in bulk when new bytes arrive (the storage is
        # reused, not sliced: ``_start`` counts the consumed bytes in front of the unparsed).
        consumed = receiver._in._start
        assert consumed <= max(64 * 1024, receiver.buffered_bytes)
        assert len(receiver._in._buf) <= 2 * (receiver.buffered_bytes + 4096) + 8 * 2**20
        for event in _drain(receiver):
            if isinstance(event, wire.FileData):
                got += event.data
        if len(got) < len(files) * 100:  # while data flows (the hash list is one big frame)
            assert receiver.buffered_bytes < 4096
    assert bytes(got) == b"".join(files.values())
    assert isinstance(event, wire.EndOfStream)


# -- hypothesis ---------------------------------------------------------------------------------


def _record(files: dict[str, bytes], **kwargs) -> tuple[bytes, X25519PrivateKey, list]:
    """Run a transfer, then return what the sender sent (to replay) and the receiver's events."""
    key = X25519PrivateKey.generate()
    sender = SenderApp(files, **kwargs)
    receiver = ReceiverApp()
    receiver.conn = wire.ReceiverConnection(TOKEN, private_key=key)
    sent = bytearray()
    original = sender.conn.data_to_send

    def tap() -> bytes:
        out = original()
        sent.extend(out)
        return out

    sender.conn.data_to_send = tap
    run(sender, receiver)
    return bytes(sent), key, receiver.events


RECORDED = {
    "legacy": _record(
        {"a": b"12345" * 50, "e": b"", "b": b"xyz" * 70}, extension=False, compress=True, chunk=97
    ),
    "extension": _record({"a": b"12345" * 50, "e": b"", "b": b"xyz" * 70}, chunk=64),
}


def _replay(sent: bytes, key: X25519PrivateKey, cuts: list[int]) -> list[object]:
    conn = wire.ReceiverConnection(TOKEN, private_key=key)
    events: list[object] = []
    pos = 0
    for cut in [*sorted(cuts), len(sent)]:
        if cut > pos:
            conn.receive_data(sent[pos:cut])
            pos = cut
        while (event := conn.next_event()) is not wire.NEED_DATA:
            events.append(event)
            if isinstance(event, wire.Metadata):
                conn.accept(plan={} if event.extension_offered else None)
            elif isinstance(event, wire.EndOfStream):
                conn.complete("ok", 0.0)
                return events
    return events


@settings(max_examples=60, deadline=None)
@given(
    mode=st.sampled_from(sorted(RECORDED)),
    cuts=st.lists(st.integers(min_value=1, max_value=2000), max_size=40),
)
def test_random_splits_give_the_same_events(mode: str, cuts: list[int]) -> None:
    sent, key, _ = RECORDED[mode]
    whole = _replay(sent, key, [])
    assert _replay(sent, key, [c % len(sent) for c in cuts]) == whole
    assert isinstance(whole[-1], wire.EndOfStream)
    data_events = [e for e in whole if isinstance(e, wire.FileData)]
    assert b"".join(e.data for e in data_events if e.index == 2) == b"xyz" * 70


BOUND = SEALED_HEADER + MAX_CONTROL_PAYLOAD + 16


def _feed_hostile(conn, chunks: list[bytes]) -> None:
    for chunk in chunks:
        if not chunk:
            continue  # b"" would mean the peer closed
        conn.receive_data(chunk)
        while True:
            try:
                event = conn.next_event()
            except (ProtocolError, WrongTokenError):
                return
            if event is wire.NEED_DATA:
                break
            assert not isinstance(event, wire.ConnectionClosed)
            if isinstance(event, wire.Metadata):
                conn.accept()
        assert conn.buffered_bytes <= BOUND


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.binary(min_size=1, max_size=64), max_size=20))
def test_random_bytes_to_a_fresh_receiver(chunks: list[bytes]) -> None:
    _feed_hostile(wire.ReceiverConnection(TOKEN), chunks)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.binary(min_size=1, max_size=64), max_size=20))
def test_random_bytes_to_a_started_sender(chunks: list[bytes]) -> None:
    conn = wire.SenderConnection(TOKEN)
    conn.start()
    _feed_hostile(conn, chunks)


_frame_bodies = st.one_of(
    st.binary(max_size=80),
    st.builds(
        lambda n: b"\x00\x00\x00\x0c" + bytes(12) + n.to_bytes(4, "big"), st.integers(0, 2**32 - 1)
    ),
    st.integers(0, 2**32 - 1).map(lambda n: n.to_bytes(4, "big")),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    compressed=st.booleans(),
    offer=st.booleans(),
    payloads=st.lists(
        st.one_of(
            st.binary(max_size=200).map(lambda b: ("sealed", b)),
            _frame_bodies.map(lambda b: ("raw", b)),
            st.sampled_from(
                [b"{}", b"[]", b'{"f0": "' + b"a" * 64 + b'"}', b'{"type": "inlet_accept"}']
            ).map(lambda b: ("sealed", b)),
        ),
        max_size=8,
    ),
)
def test_random_frames_after_the_handshake(compressed, offer, payloads) -> None:
    """Authenticated but hostile: random sealed payloads in the stream (JSON, blosc, data)."""
    sender = FakeSender()
    extra = {"inlet": {"version": 1}} if offer else {}
    sender.metadata([3, 0, 5], compressed=compressed, **extra)
    sender.conn.accept(plan={} if offer else None)
    chunks = [sender.cipher.seal(p) if kind == "sealed" else p for kind, p in payloads]
    _feed_hostile(sender.conn, chunks)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(
    value=st.one_of(
        _json,
        st.fixed_dictionaries(
            {
                "type": st.just("stream"),
                "file_count": _json | st.integers(-2, 3),
                "total_size": _json | st.integers(-2, 30),
                "files": st.lists(
                    st.fixed_dictionaries(
                        {
                            "filename": _json | st.text(max_size=5),
                            "size": _json | st.integers(-1, 9),
                            "offset": _json | st.integers(-1, 20),
                        }
                    ),
                    max_size=3,
                ),
            },
            optional={
                "compressed": _json,
                "compressor": _json,
                "is_message": _json,
                "inlet": _json,
            },
        ),
    )
)
def test_random_json_messages_only_raise_protocol_error(value) -> None:
    payload = json.dumps(value).encode()
    files = (FileInfo("a", 3, 0),)
    for parse in (
        messages.parse_metadata,
        messages.parse_stream_hashes,
        lambda p: messages.parse_file_hash(p, 0),
        lambda p: messages.parse_plan(p, files),
        lambda p: messages.parse_accept(p, files, {}),
        lambda p: messages.parse_reply(p, files),
    ):
        with contextlib.suppress(ProtocolError):
            parse(payload)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_random_blosc_buffers_only_raise_protocol_error(data: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        framing.decompress(data, 1 << 20)


# -- helpers ------------------------------------------------------------------------------------


def _drain(conn) -> list[object]:
    events = []
    while (event := conn.next_event()) is not wire.NEED_DATA:
        events.append(event)
        if isinstance(event, wire.ConnectionClosed):
            break
    return events


def _authenticated_pair(**kwargs) -> tuple[wire.SenderConnection, wire.ReceiverConnection]:
    conn = wire.SenderConnection(TOKEN, **kwargs)
    receiver = wire.ReceiverConnection(TOKEN)
    _handshake(conn, receiver)
    return conn, receiver


def _handshake(conn: wire.SenderConnection, receiver: wire.ReceiverConnection) -> None:
    conn.start()
    for _ in range(2):
        shuttle(conn, receiver)
        assert receiver.next_event() is wire.NEED_DATA
        shuttle(conn, receiver)
        event = conn.next_event()
        if event is not wire.NEED_DATA:
            assert event == wire.Authenticated()
            return
    raise AssertionError("no handshake")


def _authenticated_sender(**kwargs) -> wire.SenderConnection:
    return _authenticated_pair(**kwargs)[0]


def _pair_after_ready(
    files: dict[str, bytes], *, extension: bool = True, plan: dict | None = None
) -> tuple[wire.SenderConnection, wire.ReceiverConnection]:
    conn, receiver = _authenticated_pair(extension=extension)
    conn.send_metadata([(n, len(d)) for n, d in files.items()])
    receiver.receive_data(conn.data_to_send())
    assert isinstance(receiver.next_event(), wire.Metadata)
    receiver.accept(plan=plan)
    conn.receive_data(receiver.data_to_send())
    assert isinstance(conn.next_event(), wire.ReceiverReady)
    return conn, receiver


def _sender_after_ready(files: dict[str, bytes], **kwargs) -> wire.SenderConnection:
    return _pair_after_ready(files, **kwargs)[0]


def test_blosc_matches_ftransfer_parameters() -> None:
    """A blosc 1.x buffer with lz4 (the wire spec's "lz4, level 1"), which any blosc reader
    decodes from its header; items of one byte, unshuffled, so text compresses (ftransfer's
    8-byte shuffle, 0x21 in the lz4 recording, left source code nearly as large)."""
    data = b"".join(b"record %08d lorem ipsum\n" % i for i in range(40000))[: framing.MiB]
    packed = framing.compress(data)
    version, _, flags, typesize = packed[:4]
    assert (version, typesize) == (2, 1)
    assert flags >> 5 == 1  # lz4
    assert blosc.decompress(packed) == data and len(packed) < len(data) // 2
    assert blosc.decompress(framing.compress(b"abc")) == b"abc"


def test_inlet_error_is_the_only_exception_from_a_damaged_vector_like_stream() -> None:
    sent, key, _ = RECORDED["legacy"]
    rng = random.Random(11)
    for _ in range(300):
        damaged = bytearray(sent)
        damaged[rng.randrange(len(sent))] ^= 1 << rng.randrange(8)
        conn = wire.ReceiverConnection(TOKEN, private_key=key)
        try:
            _replay_into(conn, bytes(damaged))
        except InletError:
            continue


def _replay_into(conn: wire.ReceiverConnection, data: bytes) -> None:
    conn.receive_data(data)
    while (event := conn.next_event()) is not wire.NEED_DATA:
        if isinstance(event, wire.Metadata):
            conn.accept()
        elif isinstance(event, wire.EndOfStream):
            conn.complete("ok", 0.0)
            return


# -- the plan's checkpoint (a shorter prefix to fall back on) ------------------------------------


def test_checkpoint_lets_the_sender_keep_a_shorter_prefix() -> None:
    """The receiver offers its whole .part (which may hold unverified tail bytes) and the last
    prefix its lock recorded; the sender may continue from either, or from 0."""
    source = b"abcdefghij"
    part = b"abcdefXYZ"  # the tail after byte 6 was damaged by a crash
    held = wire.HeldPrefix(len(part), sha(part), wire.HeldPrefix(6, sha(source[:6])))
    conn, receiver = _pair_after_ready({"a": source, "b": b"k"}, plan={"a": held})
    assert conn.extension_active and receiver.extension_active
    assert conn.next_event() is wire.NEED_DATA
    with pytest.raises(ValueError, match="holds 9 bytes"):
        conn.send_accept([5, 0])  # neither the prefix nor its checkpoint
    conn.send_accept([6, 0])
    conn.send_data(0, 6, source[6:])
    conn.send_file_hash(0, sha(source))
    conn.send_data(1, 0, b"k")
    conn.send_file_hash(1, sha(b"k"))
    conn.send_end()
    receiver.receive_data(conn.data_to_send())
    assert _drain(receiver) == [
        wire.Accepted((6, 0)),
        wire.FileData(0, 6, b"ghij"),
        wire.FileHash(0, sha(source)),
        wire.FileData(1, 0, b"k"),
        wire.FileHash(1, sha(b"k")),
        wire.EndOfStream(),
    ]


def test_sender_reads_a_checkpoint() -> None:
    fake = FakeReceiver({"a": b"abcdef"})
    entry = {"bytes": 5, "sha256": "b" * 64, "checkpoint": {"bytes": 2, "sha256": "c" * 64}}
    fake.send({"type": "inlet_plan", "version": 1, "have": {"a": entry}})
    ready = fake.conn.next_event()
    assert ready.plan == {"a": wire.HeldPrefix(5, "b" * 64, wire.HeldPrefix(2, "c" * 64))}


@pytest.mark.parametrize(
    "checkpoint",
    [{"bytes": 5, "sha256": "c" * 64}, {"bytes": 0, "sha256": "c" * 64}, {"bytes": 2}, [2]],
)
def test_sender_refuses_bad_checkpoints(checkpoint) -> None:
    fake = FakeReceiver({"a": b"abcdef"})
    entry = {"bytes": 5, "sha256": "b" * 64, "checkpoint": checkpoint}
    fake.send({"type": "inlet_plan", "version": 1, "have": {"a": entry}})
    with pytest.raises(ProtocolError, match="checkpoint"):
        fake.conn.next_event()
