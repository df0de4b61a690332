"""Inlet's own handshake (issue 11, item 2): SPAKE2 with key confirmation, chosen by the code's
form. The documented test vector, both machines in memory, wrong codes on either side, and the
recorded attack on ftransfer's handshake (connect, read, hang up, guess offline) shown to work
there and to find nothing to work on here."""

from __future__ import annotations

import hashlib
import os
import re
import socket
from pathlib import Path

import pytest
from spake2.parameters.ed25519 import ParamsEd25519

from inlet.core import wire
from inlet.core.codes import parse_code
from inlet.core.errors import ProtocolError, WrongTokenError
from inlet.core.framing import plain_frame
from inlet.core.pake import ID_RECEIVER, ID_SENDER, PakeHandshake, password
from inlet.core.receiver import Receiver, ReceiverOptions
from inlet.core.session import (
    InvalidTag,
    SessionCipher,
    X25519PrivateKey,
    derive_session_key,
    public_key_bytes,
)

from ..helpers import start_sender, tree_hashes, write_random
from .test_wire import ReceiverApp, SenderApp, run, sample_files

pytestmark = pytest.mark.timeout(60)

PROTOCOL = Path(__file__).resolve().parents[2] / "docs" / "PROTOCOL.md"
TOKEN = "7-amber-ocean-tiger-river"


def stop_and_read(sender) -> str:
    """Stop a sender process and return what it logged."""
    sender.proc.kill()
    sender.proc.wait(10)
    log = sender.proc.stderr.read()
    sender.stop()
    return log


def seeded(seed: str):
    return lambda n: hashlib.shake_256(seed.encode()).digest(n)


def documented_vector() -> dict[str, str]:
    text = PROTOCOL.read_text(encoding="utf-8")
    block = text.split("<!-- pake-vector -->", 1)[1].split("```text\n", 1)[1].split("```", 1)[0]
    return dict(re.split(r"\s{2,}", line.strip(), maxsplit=1) for line in block.splitlines())


def test_the_documented_vector_is_what_the_code_computes() -> None:
    vector = documented_vector()
    sender = PakeHandshake(vector["token"], sender=True, entropy=seeded(vector["sender_seed"]))
    receiver = PakeHandshake(vector["token"], sender=False, entropy=seeded(vector["receiver_seed"]))
    assert sender.message().hex() == vector["sender_message"]
    assert receiver.message().hex() == vector["receiver_message"]
    keys = sender.finish(receiver.message())
    assert keys == receiver.finish(sender.message())
    assert keys.session_key.hex() == vector["session_key"]
    assert keys.receiver_confirm.hex() == vector["receiver_confirm"]
    assert keys.sender_confirm.hex() == vector["sender_confirm"]


def pake_pair(files, *, sender_token=TOKEN, receiver_token=TOKEN, extension=True):
    sender = SenderApp(files, extension=extension)
    sender.conn = wire.SenderConnection(sender_token, extension=extension, pake=True)
    receiver = ReceiverApp(extension=extension)
    receiver.conn = wire.ReceiverConnection(receiver_token, extension=extension, pake=True)
    return sender, receiver


@pytest.mark.parametrize("extension", [True, False], ids=["extension", "legacy-stream"])
def test_a_whole_transfer_over_the_pake_handshake(extension: bool) -> None:
    files = sample_files()
    sender, receiver = pake_pair(files, extension=extension)
    run(sender, receiver)
    assert receiver.contents() == files and receiver.done
    assert sender.conn.uses_pake and receiver.conn.uses_pake
    assert sender.conn.extension_active is extension


def test_codes_are_typed_case_insensitively() -> None:
    files = {"a.txt": b"alpha"}
    sender, receiver = pake_pair(files, receiver_token=TOKEN.upper())
    run(sender, receiver)
    assert receiver.contents() == files


def test_a_wrong_code_fails_at_the_sender_and_the_receiver_is_told() -> None:
    sender = wire.SenderConnection(TOKEN, pake=True)
    receiver = wire.ReceiverConnection("7-amber-ocean-tiger-rivet", pake=True)
    sender.start()
    receiver.receive_data(sender.data_to_send())
    assert receiver.next_event() is wire.NEED_DATA
    sender.receive_data(receiver.data_to_send())
    with pytest.raises(WrongTokenError, match="does not know the code"):
        sender.next_event()
    assert sender.data_to_send() == b""  # nothing derived from the key goes back
    receiver.receive_data(wire.denied_signal())
    with pytest.raises(WrongTokenError, match="did not accept the code"):
        receiver.next_event()


def test_a_sender_that_does_not_know_the_code_is_caught_by_the_receiver() -> None:
    """Someone else listening at the address: it cannot produce the sender's confirmation."""
    impostor = PakeHandshake("1-other-code-here-now", sender=True)
    receiver = wire.ReceiverConnection(TOKEN, pake=True)
    receiver.receive_data(plain_frame(impostor.message()))
    assert receiver.next_event() is wire.NEED_DATA
    receiver.receive_data(plain_frame(os.urandom(32)))
    with pytest.raises(WrongTokenError, match="could not confirm the code"):
        receiver.next_event()


@pytest.mark.parametrize(
    "frame",
    [plain_frame(b"A" + bytes(32)), plain_frame(b"B" * 33), plain_frame(os.urandom(34))],
    ids=["identity-point", "garbage", "wrong-size"],
)
def test_a_bad_spake2_message_is_a_protocol_error(frame: bytes) -> None:
    receiver = wire.ReceiverConnection(TOKEN, pake=True)
    receiver.receive_data(frame)
    with pytest.raises(ProtocolError):
        receiver.next_event()


def test_the_recorded_attack_works_on_ftransfer_handshake_and_not_on_inlet_s() -> None:
    """The recorded attack: connect, send a key of one's own, read what the sender sends, hang
    up. Against ftransfer's handshake that is enough to test every guess offline. Against the
    SPAKE2 handshake the sender's bytes are consistent with every guess."""
    words = ["ocean-tiger", "amber-river", "delta-pine", "lunar-fox"]
    # ftransfer's handshake: the sealed challenge is a tag check per guess.
    legacy = wire.SenderConnection("lunar-fox")
    legacy.start()
    sender_key = legacy.data_to_send()[4:]
    stranger = X25519PrivateKey.generate()
    legacy.receive_data(plain_frame(public_key_bytes(stranger)))
    assert legacy.next_event() is wire.NEED_DATA
    sealed = legacy.data_to_send()
    nonce, ciphertext = sealed[4:16], sealed[20:]

    def opens(guess: str) -> bool:
        cipher = SessionCipher(derive_session_key(stranger, sender_key, guess))
        try:
            cipher.open(nonce, ciphertext)
        except InvalidTag:
            return False
        return True

    assert [w for w in words if opens(w)] == ["lunar-fox"]  # found offline, no second contact

    # Inlet's handshake: all a stranger reads before it must commit to a guess is S's message.
    sender = wire.SenderConnection(TOKEN, pake=True)
    sender.start()
    seen = sender.data_to_send()
    assert len(seen) == 4 + 33 and seen[4:5] == b"A"
    group, blinding = ParamsEd25519.group, ParamsEd25519.M
    element = group.bytes_to_element(seen[5:])
    guesses = [TOKEN, *(f"{d}-{w}-x-y" for d in range(3) for w in words)]
    for guess in guesses:  # every guess unblinds to a valid, random-looking element
        unblinded = element.add(blinding.scalarmult(-group.password_to_scalar(password(guess))))
        assert group.bytes_to_element(unblinded.to_bytes()) is not None
    # ... and what comes back to a guess, without the right code, depends on no other guess.
    guess = PakeHandshake(guesses[1], sender=False)
    sender.receive_data(plain_frame(guess.message()) + plain_frame(os.urandom(32)))
    with pytest.raises(WrongTokenError):
        sender.next_event()
    assert sender.data_to_send() == b""
    assert ID_SENDER != ID_RECEIVER


def test_a_wrong_code_costs_a_live_connection_against_a_real_sender(tmp_path: Path) -> None:
    source = write_random(tmp_path / "src" / "a.bin", 5000)
    sender = start_sender(source)
    try:
        code = parse_code(sender.code)
        assert code.pake, sender.code
        wrong = Receiver(
            parse_code(f"{code.host}:{code.port}:0-not-the-right-words"),
            tmp_path / "wrong",
            ReceiverOptions(idle_timeout=20, connect_timeout=10),
        ).run()
        right = Receiver(code, tmp_path / "dest", ReceiverOptions(idle_timeout=20)).run()
    finally:
        log = stop_and_read(sender)
    assert not wrong.ok and "did not accept the code" in wrong.error
    assert right.ok, right.error
    assert tree_hashes(tmp_path / "dest") == tree_hashes(source.parent)
    assert "used a wrong code" in log


def test_no_ext_prints_a_long_legacy_code_and_one_warning_line(tmp_path: Path) -> None:
    source = write_random(tmp_path / "src" / "a.bin", 5000)
    sender = start_sender(source, "--no-ext")
    try:
        code = parse_code(sender.code)
        assert not code.pake and len(code.token.split("-")) == 8
        # an ftransfer 1.0.1 receiver: its handshake, READY, no extension
        conn = wire.ReceiverConnection(code.token, extension=False)
        with socket.create_connection((code.host, code.port), timeout=10) as sock:
            while not isinstance(event := conn.next_event(), wire.Metadata):
                if event is wire.NEED_DATA:
                    sock.sendall(conn.data_to_send())
                    conn.receive_data(sock.recv(1 << 16))
        assert not event.extension_offered
    finally:
        err = stop_and_read(sender)
    warning = [line for line in err.splitlines() if "guesses of it offline" in line]
    assert len(warning) == 1, err
