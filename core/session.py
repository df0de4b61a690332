"""The cryptography of a session: key agreement, sealing, and the challenge answer.

All primitives come from the ``cryptography`` library; this module only fixes the parameters
ftransfer 1.0.1 uses (docs/PROTOCOL.md, "Handshake"):

- X25519 key agreement, then ``HKDF-SHA256(shared, length=32, salt=token, info=INFO)``;
- every sealed message: ChaCha20-Poly1305 under that key, a fresh random 12-byte nonce, no
  associated data;
- the receiver proves it knows the token with ``SHA-256(challenge || token)``.
"""

from __future__ import annotations

import hashlib
import os
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .errors import ProtocolError
from .framing import NONCE_SIZE, TAG_SIZE, sealed_frame

HKDF_INFO = b"file-transfer-session"
HAS_DECRYPT_INTO = hasattr(ChaCha20Poly1305, "decrypt_into")
_SEALED_HEADER = struct.Struct(f">I{NONCE_SIZE}sI")  # nonce length, nonce, ciphertext length
SESSION_KEY_SIZE = 32

__all__ = [
    "HKDF_INFO",
    "InvalidTag",
    "SessionCipher",
    "X25519PrivateKey",
    "challenge_answer",
    "derive_session_key",
    "public_key_bytes",
]


def public_key_bytes(private_key: X25519PrivateKey) -> bytes:
    """The raw 32-byte public key that goes on the wire."""
    return private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def derive_session_key(private_key: X25519PrivateKey, peer_public: bytes, token: str) -> bytes:
    """The 32-byte ChaCha20-Poly1305 key both sides derive from the exchange and the token.

    A peer key that yields no usable shared secret (an all-zero or small-order point) is a
    protocol violation, not a crash.
    """
    try:
        shared = private_key.exchange(X25519PublicKey.from_public_bytes(peer_public))
    except ValueError as err:
        raise ProtocolError("The peer's public key is not a usable X25519 key.") from err
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=SESSION_KEY_SIZE,
        salt=token.encode("utf-8"),
        info=HKDF_INFO,
    )
    return hkdf.derive(shared)


def challenge_answer(challenge: bytes, token: str) -> bytes:
    """What the receiver sends back in plain to prove it decrypted the challenge."""
    return hashlib.sha256(challenge + token.encode("utf-8")).digest()


class SessionCipher:
    """Seals and opens the messages of one session under its key."""

    def __init__(self, key: bytes) -> None:
        self._aead = ChaCha20Poly1305(key)

    def seal(self, payload: bytes) -> bytes:
        """The whole sealed frame for ``payload``, with a fresh random nonce."""
        nonce = os.urandom(NONCE_SIZE)
        return sealed_frame(nonce, self._aead.encrypt(nonce, payload, None))

    def seal_parts(self, payload: bytes) -> tuple[bytes, bytes]:
        """The sealed frame for ``payload`` as (header, ciphertext): the same bytes as `seal`
        without copying the ciphertext into one buffer (sent with one ``sendmsg``)."""
        nonce = os.urandom(NONCE_SIZE)
        ciphertext = self._aead.encrypt(nonce, payload, None)
        return _SEALED_HEADER.pack(NONCE_SIZE, nonce, len(ciphertext)), ciphertext

    def open(self, nonce: bytes, ciphertext: bytes) -> bytes:
        """The plaintext; raises ``InvalidTag`` when the key is wrong or a bit was flipped."""
        return self._aead.decrypt(nonce, ciphertext, None)

    def open_into(self, nonce: bytes, ciphertext: bytes, out: bytearray) -> memoryview | bytes:
        """The plaintext, decrypted into ``out`` (at least ``len(ciphertext) - 16`` bytes) and
        returned as a view of it: no new buffer per message (``cryptography`` zero-fills every
        one it allocates). Where the library has no ``decrypt_into`` (before 45), a new buffer
        as `open` gives."""
        if not HAS_DECRYPT_INTO:
            return self._aead.decrypt(nonce, ciphertext, None)
        view = memoryview(out)[: len(ciphertext) - TAG_SIZE]
        self._aead.decrypt_into(nonce, ciphertext, None, view)
        return view
