"""Replay sessions recorded from a real ftransfer 1.0.1 sender against Inlet's receiver machine.

The crypto checks here use the ``cryptography`` primitives directly, not ``inlet.core.session``,
so a mistake in Inlet's key derivation cannot hide behind itself.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from inlet.core import wire
from inlet.core.errors import InletError, ProtocolError, WrongTokenError

#: Vendored copies of /work/shared/vectors/ftransfer-1.0.1 (INLET_VECTORS overrides).
VECTORS = Path(
    os.environ.get("INLET_VECTORS", Path(__file__).parents[1] / "data" / "ftransfer-1.0.1")
)
#: Receiver's public key frame (4 + 32), challenge answer frame (4 + 32), READY frame (4 + 5).
HANDSHAKE_REPLY_LEN = 36 + 36 + 9

pytestmark = pytest.mark.skipif(not VECTORS.is_dir(), reason="recorded vectors not available")


class Vector:
    def __init__(self, name: str) -> None:
        folder = VECTORS / name
        self.name = name
        self.info = json.loads((folder / "vector.json").read_text())
        self.token: str = self.info["token"]
        self.sent = (folder / "sender_to_receiver.bin").read_bytes()
        self.answered = (folder / "receiver_to_sender.bin").read_bytes()

    def private_key(self) -> X25519PrivateKey:
        return X25519PrivateKey.from_private_bytes(
            bytes.fromhex(self.info["receiver_private_key_hex"])
        )

    def session_key(self) -> bytes:
        sender_public = self.sent[4:36]  # the first frame: the sender's public key
        shared = self.private_key().exchange(X25519PublicKey.from_public_bytes(sender_public))
        hkdf = HKDF(hashes.SHA256(), 32, self.token.encode(), b"file-transfer-session")
        return hkdf.derive(shared)


def frames(stream: bytes) -> list[tuple[int, int]]:
    """(start, end) of every frame (a 4-byte length and its bytes) in a recorded stream."""
    spans, pos = [], 0
    while pos < len(stream):
        length = int.from_bytes(stream[pos : pos + 4], "big")
        spans.append((pos, pos + 4 + length))
        pos += 4 + length
    return spans


def open_sealed(key: bytes, data: bytes) -> bytes:
    nonce_len = int.from_bytes(data[:4], "big")
    nonce = data[4 : 4 + nonce_len]
    ct_at = 4 + nonce_len
    ct_len = int.from_bytes(data[ct_at : ct_at + 4], "big")
    assert ct_at + 4 + ct_len == len(data)
    return ChaCha20Poly1305(key).decrypt(nonce, data[ct_at + 4 :], None)


class Replay:
    """A receiver app in memory: it accepts, reassembles files, and completes."""

    def __init__(self, vector: Vector, **kwargs) -> None:
        self.conn = wire.ReceiverConnection(
            vector.token, private_key=vector.private_key(), **kwargs
        )
        self.events: list[object] = []
        self.data: dict[int, bytearray] = {}
        self.meta: wire.Metadata | None = None

    def feed(self, chunk: bytes) -> None:
        self.conn.receive_data(chunk)
        self.drain()

    def drain(self) -> None:
        while (event := self.conn.next_event()) is not wire.NEED_DATA:
            if isinstance(event, wire.FileData):
                held = self.data.setdefault(event.index, bytearray())
                assert event.file_offset == len(held), "data must arrive in file order"
                held += event.data
                continue
            self.events.append(event)
            if isinstance(event, wire.Metadata):
                self.meta = event
                self.conn.accept()
            elif isinstance(event, wire.ConnectionClosed):
                return


def splits(data: bytes, rng: random.Random, most: int) -> list[bytes]:
    pieces, pos = [], 0
    while pos < len(data):
        n = rng.randint(1, most)
        pieces.append(data[pos : pos + n])
        pos += n
    return pieces


@pytest.mark.parametrize("name", ["plain", "lz4", "message"])
@pytest.mark.parametrize("split", ["whole", "random"])
def test_replay_yields_the_recorded_files(name: str, split: str) -> None:
    vector = Vector(name)
    app = Replay(vector)
    if split == "whole":
        app.feed(vector.sent)
    else:
        rng = random.Random(name)
        for piece in splits(vector.sent, rng, 7 if name == "message" else 3000):
            app.feed(piece)

    meta = app.meta
    assert meta is not None
    assert not meta.extension_offered
    assert meta.compressed == (name == "lz4")
    assert meta.is_message == (name == "message")
    assert {f.name: f.size for f in meta.files} == vector.info["sizes"]
    got = {
        f.name: hashlib.sha256(app.data.get(i, b"")).hexdigest() for i, f in enumerate(meta.files)
    }
    assert got == vector.info["files"]  # the zero-byte sub/empty.txt included
    assert all(len(app.data.get(i, b"")) == f.size for i, f in enumerate(meta.files))

    kinds = [type(e) for e in app.events]
    assert kinds == [wire.Metadata, wire.StreamHashes, wire.EndOfStream]
    assert app.events[1].hashes == vector.info["files"]
    assert not app.conn.extension_active

    # The first bytes out are exactly the recorded public key, challenge answer and READY.
    out = app.conn.data_to_send()
    assert out == vector.answered[:HANDSHAKE_REPLY_LEN]
    assert out.endswith(b"\x00\x00\x00\x05READY")

    app.conn.complete("Transfer successful", 1795686168.25)
    reply = json.loads(open_sealed(vector.session_key(), app.conn.data_to_send()))
    assert reply == {
        "status": "completed",
        "message": "Transfer successful",
        "completion_time": 1795686168.25,
    }
    app.feed(b"")
    assert app.events[-1] == wire.ConnectionClosed(clean=True)


@pytest.mark.parametrize("name", ["plain", "lz4", "message"])
def test_recorded_receiver_ended_with_a_completion(name: str) -> None:
    """The recording itself: after READY, ftransfer's receiver sent one sealed completion."""
    vector = Vector(name)
    tail = vector.answered[HANDSHAKE_REPLY_LEN:]
    reply = json.loads(open_sealed(vector.session_key(), tail))
    assert reply["status"] == "completed"
    assert isinstance(reply["completion_time"], float)


def test_message_vector_is_text() -> None:
    vector = Vector("message")
    app = Replay(vector)
    app.feed(vector.sent)
    assert app.meta is not None and app.meta.is_message and len(app.meta.files) == 1
    text = bytes(app.data[0]).decode("utf-8")
    assert text == "Meet at 10:30 — bring the blue notebook."


def test_wrong_token_fails_on_the_challenge() -> None:
    vector = Vector("message")
    conn = wire.ReceiverConnection("wrong-token", private_key=vector.private_key())
    conn.receive_data(vector.sent)
    with pytest.raises(WrongTokenError, match="token"):
        conn.next_event()
    # Our public key went out, no challenge answer did.
    assert conn.data_to_send() == vector.answered[:36]
    with pytest.raises(WrongTokenError):  # the connection stays failed
        conn.next_event()


def test_flipped_bit_in_a_data_message_is_tampering() -> None:
    vector = Vector("plain")
    spans = frames(vector.sent)
    # frames: key, challenge (nonce, ct), metadata (nonce, ct), first data (nonce, ct) ...
    start, end = spans[6]
    damaged = bytearray(vector.sent)
    damaged[(start + end) // 2] ^= 0x10
    app = Replay(vector)
    with pytest.raises(ProtocolError, match="damaged or tampered"):
        app.feed(bytes(damaged))
    assert [type(e) for e in app.events] == [wire.Metadata]


def test_flipped_bit_in_the_challenge_reads_as_a_wrong_token() -> None:
    vector = Vector("message")
    _, end = frames(vector.sent)[2]
    damaged = bytearray(vector.sent)
    damaged[end - 1] ^= 0x01
    app = Replay(vector)
    with pytest.raises(WrongTokenError):
        app.feed(bytes(damaged))


@pytest.mark.parametrize("name", ["message", "lz4"])
def test_every_truncation_ends_unclean(name: str) -> None:
    """Cut the recording anywhere: the receiver sees an unclean close, never another error."""
    vector = Vector(name)
    cuts = (
        range(len(vector.sent))
        if name == "message"
        else sorted(
            {
                *random.Random(3).sample(range(len(vector.sent)), 150),
                *[e for _, e in frames(vector.sent)],
            }
        )
    )
    for cut in cuts:
        app = Replay(vector)
        try:
            if cut:
                app.feed(vector.sent[:cut])
            app.feed(b"")
        except InletError as err:  # pragma: no cover - shown on failure
            pytest.fail(f"cut at {cut}: {err!r}")
        assert app.events[-1] == wire.ConnectionClosed(clean=False), cut


def test_garbage_after_the_end_marker() -> None:
    vector = Vector("message")
    app = Replay(vector)
    with pytest.raises(ProtocolError, match="garbage after the end marker"):
        app.feed(vector.sent + b"\x00")


def test_garbage_after_the_completion() -> None:
    vector = Vector("message")
    app = Replay(vector)
    app.feed(vector.sent)
    app.conn.complete("ok", 1.0)
    with pytest.raises(ProtocolError, match="garbage after the end marker"):
        app.feed(b"\x00\x00\x00\x00")
