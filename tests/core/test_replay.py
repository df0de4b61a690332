"""Recorded ftransfer 1.0.1 sessions replayed against Inlet's receiver over a real socket.

A loopback server plays back every byte the real sender sent; the receiver, given the recorded
private key, must land exactly the recorded files (the zero-byte one too, which ftransfer itself
dropped) and answer with exactly the recorded handshake bytes, then a completion message.
"""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from inlet.core.codes import TransferCode
from inlet.core.receiver import Receiver, ReceiverOptions

from ..helpers import tree_hashes

VECTORS = Path(__file__).resolve().parents[1] / "data" / "ftransfer-1.0.1"
HANDSHAKE_REPLY = 36 + 36 + 9  # public key frame, challenge answer frame, READY frame

pytestmark = pytest.mark.timeout(60)


class Playback:
    """Serve one connection: send the recorded bytes, collect what the receiver answers."""

    def __init__(self, recorded: bytes) -> None:
        self.recorded = recorded
        self.received = bytearray()
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.server.settimeout(30)
        conn, _ = self.server.accept()
        with conn:
            conn.settimeout(30)
            reader = threading.Thread(target=self._read, args=(conn,), daemon=True)
            reader.start()
            conn.sendall(self.recorded)
            reader.join(30)

    def _read(self, conn: socket.socket) -> None:
        while chunk := conn.recv(65536):
            self.received += chunk

    def join(self) -> None:
        self.thread.join(30)
        self.server.close()


def session_key(info: dict, sent: bytes) -> bytes:
    private = X25519PrivateKey.from_private_bytes(bytes.fromhex(info["receiver_private_key_hex"]))
    shared = private.exchange(X25519PublicKey.from_public_bytes(sent[4:36]))
    return HKDF(hashes.SHA256(), 32, info["token"].encode(), b"file-transfer-session").derive(
        shared
    )


def open_sealed(key: bytes, frame: bytes) -> bytes:
    nonce = frame[4:16]
    ct_len = int.from_bytes(frame[16:20], "big")
    assert len(frame) == 20 + ct_len
    return ChaCha20Poly1305(key).decrypt(nonce, frame[20:], None)


@pytest.mark.parametrize("name", ["plain", "lz4", "message"])
def test_recorded_session_replays(tmp_path: Path, name: str):
    folder = VECTORS / name
    info = json.loads((folder / "vector.json").read_text())
    sent = (folder / "sender_to_receiver.bin").read_bytes()
    answered = (folder / "receiver_to_sender.bin").read_bytes()
    playback = Playback(sent)
    options = ReceiverOptions(
        private_key=X25519PrivateKey.from_private_bytes(
            bytes.fromhex(info["receiver_private_key_hex"])
        ),
        extension=False,
    )
    dest = tmp_path / "dest"
    receiver = Receiver(TransferCode("127.0.0.1", playback.port, info["token"]), dest, options)
    result = receiver.run()
    playback.join()

    assert result.ok, result.error
    assert bytes(playback.received[:HANDSHAKE_REPLY]) == answered[:HANDSHAKE_REPLY]
    reply = json.loads(
        open_sealed(session_key(info, sent), bytes(playback.received[HANDSHAKE_REPLY:]))
    )
    assert reply["status"] == "completed" and isinstance(reply["completion_time"], float)

    if name == "message":
        assert result.message_text == "Meet at 10:30 — bring the blue notebook."
        assert not dest.exists() or not any(dest.iterdir())
        return
    assert tree_hashes(dest) == info["files"]
    assert {f.name: f.size for f in result.files} == info["sizes"]
    assert (dest / "sub" / "empty.txt").stat().st_size == 0
