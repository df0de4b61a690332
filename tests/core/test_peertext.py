"""Peer-supplied text never reaches a terminal raw (issue 11, item 6): `safe_text` itself, and
each place that prints what a peer chose: the sender's log of a receiver's reply, a text message
printed by ``inlet receive``, a per-file failure reason."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import pytest

from inlet.core import wire
from inlet.core.codes import parse_code
from inlet.core.peertext import safe_text
from inlet.core.receiver import Receiver, ReceiverOptions

from ..helpers import INLET, start_sender, write_random
from ..hostile import HostileSender

pytestmark = pytest.mark.timeout(60)

#: Clear screen, set the window title, write the clipboard (OSC 52), then forge a line.
ATTACK = "\x1b[2J\x1b]0;owned\x07\x1b]52;c;ZXZpbA==\x07\r\nDone: forged line"
#: What must never be printed raw: ESC, BEL, CR, C1 CSI, bidi override and isolate, a surrogate.
RAW = ("\x1b", "\x07", "\r", "\x9b", "\u202e", "\u2066", "\ud800")


def assert_nothing_raw(text: str) -> None:
    for char in RAW:
        assert char not in text, f"{char!r} reached the output raw: {text!r}"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain name.txt", "plain name.txt"),
        ("café/日本.txt", "café/日本.txt"),
        ("a\x1b[2Jb", "a\\x1b[2Jb"),
        ("c1\x9bcsi", "c1\\x9bcsi"),
        ("evil\u202etxt.exe", "evil\\u202etxt.exe"),
        ("iso\u2066late\u2069", "iso\\u2066late\\u2069"),
        ("lone\ud800", "lone\\ud800"),
        ("two\nlines", "two\\nlines"),
        ("zero\u200bwidth", "zero\\u200bwidth"),
    ],
)
def test_safe_text_escapes_controls_bidi_and_surrogates(text: str, shown: str) -> None:
    assert safe_text(text) == shown
    assert safe_text(shown) == shown  # escaped text stays as it is


def test_safe_text_cuts_long_text_in_the_middle_and_never_inside_an_escape() -> None:
    name = "start-" + "x" * 500 + "\x1b" + "-end.txt"
    shown = safe_text(name, limit=60)
    assert len(shown) <= 60
    assert shown.startswith("start-") and shown.endswith("\\x1b-end.txt")
    assert "…" in shown
    for limit in range(3, 40):  # wherever the cut falls, an escape is whole or absent
        cut = safe_text("\x1b" * 30, limit=limit)
        assert len(cut) <= max(limit, 5)
        assert cut.replace("\\x1b", "").replace("…", "") == "", cut


def test_safe_text_multiline_keeps_lines_but_not_carriage_returns() -> None:
    assert safe_text("one\r\ntwo\tcols\rover", limit=None, multiline=True) == (
        "one\ntwo\tcols\\rover"
    )
    assert safe_text(42) == "42"


def _serve_one_receiver_then_reply(code: str, message: str) -> None:
    """Receive from a real ``inlet send`` through the wire machine, then answer "failed" with
    ``message``: the receiver's words that the sender logs."""
    parsed = parse_code(code)
    conn = wire.ReceiverConnection(parsed.token, extension=False, pake=parsed.pake)
    with socket.create_connection((parsed.host, parsed.port), timeout=20) as sock:
        while True:
            event = conn.next_event()
            if event is wire.NEED_DATA:
                sock.sendall(conn.data_to_send())
                conn.receive_data(sock.recv(1 << 16))
            elif isinstance(event, wire.Metadata):
                conn.accept()
            elif isinstance(event, wire.EndOfStream):
                names = [f.name for f in conn.files]
                conn.complete_with_failures(names, time.time(), message)
                sock.sendall(conn.data_to_send())
                return


def test_sender_log_escapes_what_the_receiver_said(tmp_path: Path) -> None:
    source = write_random(tmp_path / "a.bin", 1000)
    sender = start_sender(source)
    try:
        _serve_one_receiver_then_reply(sender.code, ATTACK)
        lines = []
        while not any("The receiver reported" in line for line in lines):
            line = sender.proc.stderr.readline()
            assert line, f"the sender ended without logging the reply: {lines}"
            lines.append(line)
    finally:
        sender.stop()
    logged = "".join(lines)
    assert_nothing_raw(logged)
    assert not any(line.startswith("Done: forged") for line in logged.splitlines()), logged
    assert "\\x1b]52;c;" in logged  # shown, escaped: the person sees what was attempted


def test_receive_prints_a_text_message_escaped(tmp_path: Path) -> None:
    text = f"first line\n{ATTACK}\u202egnp.exe"
    sender = start_sender("--message", text)
    try:
        done = subprocess.run(
            [*INLET, "receive", sender.code, "-o", str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    finally:
        sender.stop()
    assert done.returncode == 0, done.stderr
    assert_nothing_raw(done.stdout)
    assert done.stdout.startswith("first line\n")
    assert "\\x1b[2J" in done.stdout and "\\u202egnp.exe" in done.stdout


def test_failure_reason_with_a_hostile_name_is_escaped_and_cut(tmp_path: Path) -> None:
    """A file stands where the sender's folder should be: the reason quotes the name."""
    evil = "x\u202e\x9b2J" + "b" * 150 + "\u2066"
    (tmp_path / evil).write_text("a file, not a folder")
    name, body = f"{evil}/inner.txt", b"hello"

    def script(peer):
        peer.metadata([(name, body)])
        return peer.legacy_transfer([(name, body)])

    sender = HostileSender(script)
    result = Receiver(
        parse_code(sender.code), tmp_path, ReceiverOptions(idle_timeout=10, connect_timeout=10)
    ).run()
    sender.join()
    assert not result.ok and "could not be written" in result.error
    assert_nothing_raw(result.error)
    assert len(result.error) < 600, result.error
