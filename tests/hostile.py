"""A hostile sender on loopback: the real ftransfer handshake, then whatever a test scripts.

`tests/fake_sender.py` plays an honest (or slightly lying) sender through the sans-I/O
`SenderConnection`, which refuses to build a bad message. This one builds every frame itself,
so a test can send what no correct sender would: unsafe names, sizes that lie, frames over the
cap, a frame length of 4 GiB, truncated frames, garbage after the end marker.

A script is a function of a `HostilePeer`; it runs in a background thread after the handshake
(or, with ``handshake=False``, right after the TCP accept). A receiver that gives up closes the
connection under the script's feet: a send that fails then is recorded in ``peer_error`` and
ends the script, it is not a test failure.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from inlet.core.framing import END_MARKER, NONCE_SIZE, READY, plain_frame
from inlet.core.session import (
    SessionCipher,
    X25519PrivateKey,
    challenge_answer,
    derive_session_key,
    public_key_bytes,
)

TOKEN = "hostile-token"
SLICE = 1 << 20


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_list(files: Iterable[tuple[str, bytes | int]]) -> list[dict[str, Any]]:
    """Metadata entries with offsets that tile the stream (sizes from bytes or given as ints)."""
    entries, offset = [], 0
    for name, body in files:
        size = body if isinstance(body, int) else len(body)
        entries.append({"filename": name, "size": size, "offset": offset})
        offset += size
    return entries


class PeerClosed(Exception):
    """The receiver closed the connection while the script was reading."""


@dataclass
class HostilePeer:
    """The sender's end of one connection, after the handshake: frame-level control."""

    sock: socket.socket
    cipher: SessionCipher | None = None
    sent: int = 0

    # -- sending ---------------------------------------------------------------------------------

    def raw(self, data: bytes) -> None:
        self.sock.sendall(data)
        self.sent += len(data)

    def seal(self, payload: bytes | dict | list | str | int) -> bytes:
        """The sealed frame for ``payload`` (JSON-encoded unless it is bytes)."""
        if not isinstance(payload, bytes):
            payload = json.dumps(payload).encode()
        assert self.cipher is not None
        return self.cipher.seal(payload)

    def sealed(self, payload: bytes | dict | list | str | int) -> None:
        self.raw(self.seal(payload))

    def metadata(
        self,
        files: Iterable[tuple[str, bytes | int]] | None = None,
        *,
        entries: list[dict[str, Any]] | None = None,
        **override: Any,
    ) -> None:
        """Metadata for ``files`` (offsets computed) or raw ``entries``; ``override`` replaces or
        adds top-level keys (``file_count``, ``total_size``, ``is_message``, ``inlet``...)."""
        entries = entries if entries is not None else file_list(files or [])
        meta: dict[str, Any] = {
            "type": "stream",
            "file_count": len(entries),
            "total_size": sum(e["size"] for e in entries if isinstance(e.get("size"), int)),
            "compressed": False,
            "compressor": "none",
            "is_message": False,
            "files": entries,
        }
        meta.update(override)
        self.sealed(meta)

    def stream(self, data: bytes, slice_size: int = SLICE) -> None:
        """Sealed data messages carrying ``data`` in slices, as ftransfer does."""
        for at in range(0, len(data), slice_size):
            self.sealed(data[at : at + slice_size])

    def hashes(self, files: Iterable[tuple[str, bytes]]) -> None:
        self.sealed({name: sha(body) for name, body in files})

    def end(self) -> None:
        self.raw(END_MARKER)

    def legacy_transfer(self, files: list[tuple[str, bytes]]) -> dict | None:
        """An honest legacy conversation after the metadata: READY, stream, hashes, end."""
        assert self.answer() == ("ready", None)
        self.stream(b"".join(body for _, body in files))
        self.hashes(files)
        self.end()
        return self.reply()

    # -- receiving -------------------------------------------------------------------------------

    def _exact(self, n: int) -> bytes:
        out = bytearray()
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise PeerClosed(f"the receiver closed after {len(out)} of {n} bytes")
            out += chunk
        return bytes(out)

    def _plain(self) -> bytes:
        return self._exact(int.from_bytes(self._exact(4), "big"))

    def _sealed_body(self) -> Any:
        nonce = self._exact(NONCE_SIZE)
        ct = self._plain()
        assert self.cipher is not None
        return json.loads(self.cipher.open(nonce, ct))

    def answer(self) -> tuple[str, Any]:
        """The receiver's answer to the metadata: ("ready", None) or ("plan", plan dict)."""
        length = int.from_bytes(self._exact(4), "big")
        if length == len(READY):
            assert self._exact(length) == READY
            return "ready", None
        assert length == NONCE_SIZE, length
        return "plan", self._sealed_body()

    def reply(self) -> dict | None:
        """The receiver's final JSON reply, or None when it closed instead."""
        try:
            if int.from_bytes(self._exact(4), "big") != NONCE_SIZE:
                return None
            return self._sealed_body()
        except PeerClosed:
            return None

    def wait_closed(self) -> None:
        """Block until the receiver closes its side (it gave up or finished)."""
        while self.sock.recv(1 << 16):
            pass


Script = Callable[[HostilePeer], Any]


@dataclass
class HostileSender:
    """Serves one connection on 127.0.0.1 in a background thread; ``code`` is the receiver's.

    ``token`` is what the sender believes; give the receiver another one (``code_token``) to
    play a wrong code. Without ``handshake`` the script gets the raw socket at once.
    """

    script: Script
    token: str = TOKEN
    code_token: str | None = None
    handshake: bool = True
    result: Any = None
    peer_error: BaseException | None = None
    wrong_answer: bool = False

    def __post_init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(20)
        self.port = self._server.getsockname()[1]
        self.code = f"127.0.0.1:{self.port}:{self.code_token or self.token}"
        self._thread = threading.Thread(target=self._serve, name="hostile-sender", daemon=True)
        self._thread.start()

    def join(self, timeout: float = 20) -> None:
        self._thread.join(timeout)
        self._server.close()
        assert not self._thread.is_alive(), "the hostile sender did not finish"

    def _serve(self) -> None:
        try:
            sock, _ = self._server.accept()
        except OSError as err:
            self.peer_error = err
            return
        with sock:
            sock.settimeout(20)
            peer = HostilePeer(sock)
            try:
                if self.handshake and not self._handshake(peer):
                    return
                self.result = self.script(peer)
            except (OSError, PeerClosed) as err:
                self.peer_error = err

    def _handshake(self, peer: HostilePeer) -> bool:
        key = X25519PrivateKey.generate()
        peer.raw(plain_frame(public_key_bytes(key)))
        receiver_public = peer._plain()
        peer.cipher = SessionCipher(derive_session_key(key, receiver_public, self.token))
        challenge = os.urandom(32)
        peer.sealed(challenge)
        answer = peer._plain()
        if not hmac.compare_digest(answer, challenge_answer(challenge, self.token)):
            self.wrong_answer = True
            return False
        return True
