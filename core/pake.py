"""The cryptography of Inlet's own handshake: SPAKE2 with the code's words as the password.

ftransfer's handshake lets anyone who connects check guesses of the token offline: the sealed
challenge is encrypted under a key that depends only on the token and an exchange the stranger
took part in. With a PAKE the stranger's single message commits it to a single guess; what the
sender sends back is useless for testing any other, so every guess costs a live connection
(docs/PROTOCOL.md, 2.1). SPAKE2 comes from the ``spake2`` package (the one magic-wormhole uses),
with its A/B roles: the sender is A, the receiver B.

After SPAKE2, ``HKDF-SHA256(K, salt = none, info = PAKE_INFO, length = 96)`` gives the session
key and one confirmation value per side: each end proves it derived the same K before anything
is sealed under it.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .errors import ProtocolError

ID_SENDER = b"inlet-sender"
ID_RECEIVER = b"inlet-receiver"
PAKE_INFO = b"inlet pake v1"
#: A SPAKE2 message: the side byte (``A`` or ``B``) and a 32-byte Ed25519 group element.
MESSAGE_SIZE = 33
CONFIRM_SIZE = 32
SESSION_KEY_SIZE = 32


def password(token: str) -> bytes:
    """The SPAKE2 password: the code's token as a person may type it (case does not matter)."""
    return token.strip().lower().encode("utf-8")


@dataclass(frozen=True)
class PakeKeys:
    """What both ends derive from one SPAKE2 exchange."""

    session_key: bytes
    receiver_confirm: bytes  # R -> S: "I derived the same key"
    sender_confirm: bytes  # S -> R: the same, from the sender


class PakeHandshake:
    """One end of a SPAKE2 exchange: `message()` goes to the peer, `finish()` takes the peer's.

    ``entropy`` (``n -> n random bytes``) is a seam for test vectors; the default is the OS's.
    """

    def __init__(
        self, token: str, *, sender: bool, entropy: Callable[[int], bytes] | None = None
    ) -> None:
        # spake2 builds its group tables when imported (tens of ms): only a PAKE code pays it,
        # not a receive from an ftransfer-compatible token
        from spake2 import SPAKE2_A, SPAKE2_B

        side = SPAKE2_A if sender else SPAKE2_B
        self._spake = side(
            password(token), idA=ID_SENDER, idB=ID_RECEIVER, entropy_f=entropy or os.urandom
        )
        self._message = self._spake.start()

    def message(self) -> bytes:
        return self._message

    def finish(self, peer_message: bytes) -> PakeKeys:
        """The keys, from the peer's message; a message that is not a usable SPAKE2 element of
        the other side (or a reflection of ours) is a protocol error."""
        if len(peer_message) != MESSAGE_SIZE:
            raise ProtocolError(
                f"A SPAKE2 message is {MESSAGE_SIZE} bytes, not {len(peer_message)}."
            )
        from spake2.spake2 import SPAKEError

        try:
            shared = self._spake.finish(peer_message)
        except (SPAKEError, ValueError) as err:
            raise ProtocolError(
                "The peer's handshake message is not a usable SPAKE2 message."
            ) from err
        return derive_keys(shared)


def derive_keys(shared: bytes) -> PakeKeys:
    okm = HKDF(
        algorithm=hashes.SHA256(),
        length=SESSION_KEY_SIZE + 2 * CONFIRM_SIZE,
        salt=None,
        info=PAKE_INFO,
    ).derive(shared)
    key, rest = okm[:SESSION_KEY_SIZE], okm[SESSION_KEY_SIZE:]
    return PakeKeys(key, rest[:CONFIRM_SIZE], rest[CONFIRM_SIZE:])


def confirms(expected: bytes, received: bytes) -> bool:
    return hmac.compare_digest(expected, received)
