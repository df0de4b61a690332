"""Invariants 1, 2, 5 and 6 against a hostile sender that completes the real handshake.

Every case runs the real `Receiver` in this process against `tests/hostile.py` on loopback and
checks four things:

* the result's error says what happened (asserted on the text);
* nothing outside the destination changed: the listing (names, sizes, hashes, mtimes) of the
  folder that holds the destination, and the targets of symlinks planted in it, are the same
  before and after, and absolute names like ``/etc/x`` were not created;
* no file stands under a final name unless its bytes are the ones the test sent (verified);
* memory stayed bounded: the wire machine never buffered more than a frame's cap plus one read
  (``ReceiverConnection.buffered_bytes``), and tracemalloc's peak stayed small.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from inlet.core import wire
from inlet.core.codes import parse_code
from inlet.core.events import TransferFinished
from inlet.core.framing import END_MARKER, MAX_DATA_PAYLOAD, MiB, plain_frame
from inlet.core.paths import JOURNAL_FILENAME, LOCK_FILENAME, RESERVED_NAMES, WARNINGS_LOG
from inlet.core.receiver import RECV_BUFFER, Receiver, ReceiverOptions

from ..helpers import INLET
from ..hostile import HostilePeer, HostileSender, file_list, sha
from ..reliability import record

pytestmark = pytest.mark.timeout(60)

BOOKKEEPING = RESERVED_NAMES | {WARNINGS_LOG}  # Inlet's own files in a destination
OK = ("ok.txt", b"an honest file\n" * 100)
#: What the wire machine may hold: the largest frame it accepts in the data phase, plus one
#: read from the socket (the receiver reads at most RECV_BUFFER at a time).
BUFFER_BOUND = MAX_DATA_PAYLOAD + 64 * 1024 + 64 + RECV_BUFFER
#: tracemalloc's peak for one hostile session (the receive buffer and a copy of one read, a
#: frame, the harness's own sends); a receiver that trusted a 4 GiB length would blow it.
PEAK_BOUND = 40 * MiB


# -- watching the receiver ------------------------------------------------------------------------


class _Watch:
    max_buffered = 0


@pytest.fixture
def watch(monkeypatch) -> type[_Watch]:
    """Record the most bytes the receiver's wire machine ever held unparsed."""

    class Watched(wire.ReceiverConnection):
        def receive_data(self, data: bytes) -> None:
            super().receive_data(data)
            _Watch.max_buffered = max(_Watch.max_buffered, self.buffered_bytes)

        def buffer_updated(self, nbytes: int) -> None:  # the receiver reads into the buffer
            super().buffer_updated(nbytes)
            _Watch.max_buffered = max(_Watch.max_buffered, self.buffered_bytes)

    _Watch.max_buffered = 0
    monkeypatch.setattr(wire, "ReceiverConnection", Watched)
    return _Watch


def snapshot(root: Path, skip: Path) -> dict[str, tuple]:
    """Every entry under ``root`` except the ``skip`` subtree: kind, size, hash, mtime."""
    found: dict[str, tuple] = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        if here == skip:
            dirnames.clear()
            found[str(here.relative_to(root))] = ("dir",)
            continue
        for name in dirnames + filenames:
            path = here / name
            rel = str(path.relative_to(root))
            if path == skip:
                continue
            st = path.lstat()
            if path.is_symlink():
                found[rel] = ("link", os.readlink(path))
            elif path.is_file():
                found[rel] = ("file", st.st_size, sha(path.read_bytes()), st.st_mtime_ns)
            else:
                found[rel] = ("dir", st.st_mtime_ns)
    return found


def check_final_files(dest: Path, lands: dict[str, bytes]) -> None:
    """Exactly the files in ``lands`` stand under final names, with exactly those bytes; any
    other file is bookkeeping or an unfinished ``.part``."""
    found = {}
    for path in dest.rglob("*"):
        if path.is_symlink() or not path.is_file() or path.name in BOOKKEEPING:
            continue
        name = path.relative_to(dest).as_posix()
        if name in lands:
            found[name] = path.read_bytes()
        else:
            assert name.endswith(".part"), f"{name} is under a final name but was not verified"
    assert found == lands


def disk_bytes(dest: Path) -> int:
    """Bytes allocated on disk under ``dest`` (a sparse 1 TiB .part would show here)."""
    return sum(p.lstat().st_blocks * 512 for p in dest.rglob("*") if not p.is_symlink())


# -- the cases ----------------------------------------------------------------------------------


@dataclass
class Case:
    """One hostile behaviour: the script, the words the error must contain, what may land."""

    tried: str
    script: Callable[[HostilePeer], object]
    error: str
    lands: dict[str, bytes] = field(default_factory=dict)
    plant: Callable[[Path, Path], None] | None = None  # (dest, outside) -> None
    options: dict = field(default_factory=dict)
    handshake: bool = True
    resumable: bool | None = None
    reason: str | None = None  # words in the refused file's own reason (``result.files``)


def refused(tried: str, script, reason: str, lands: dict[str, bytes], **kw) -> Case:
    """A name case: the transfer says which files were refused, each file says why."""
    return Case(tried, script, "1 file was refused for unsafe names", lands, reason=reason, **kw)


def with_ok(name: str, body: bytes = b"hostile bytes\n") -> Callable[[HostilePeer], object]:
    """An honest legacy transfer of ok.txt and one file called ``name``."""
    files = [OK, (name, body)]

    def script(peer: HostilePeer) -> object:
        peer.metadata(files)
        return peer.legacy_transfer(files)

    return script


def with_files(*files: tuple[str, bytes]) -> Callable[[HostilePeer], object]:
    def script(peer: HostilePeer) -> object:
        peer.metadata(list(files))
        return peer.legacy_transfer(list(files))

    return script


def meta_then(
    then: Callable[[HostilePeer], object], files=(OK,), **meta
) -> Callable[[HostilePeer], object]:
    def script(peer: HostilePeer) -> object:
        peer.metadata(list(files), **meta)
        return then(peer)

    return script


def bad_entries(entries: list[dict], **meta) -> Callable[[HostilePeer], object]:
    def script(peer: HostilePeer) -> None:
        peer.metadata(entries=entries, **meta)
        peer.wait_closed()

    return script


def ready_then(action: Callable[[HostilePeer], object]) -> Callable[[HostilePeer], object]:
    def then(peer: HostilePeer) -> object:
        assert peer.answer() == ("ready", None)
        action(peer)
        peer.wait_closed()

    return then


def plant_dir_link(dest: Path, outside: Path) -> None:
    (dest / "link").symlink_to(outside / "secret", target_is_directory=True)


def plant_file_link(dest: Path, outside: Path) -> None:
    (dest / "planted.txt").symlink_to(outside / "secret" / "target.txt")


def plant_part_link(dest: Path, outside: Path) -> None:
    (dest / "p.txt.part").symlink_to(outside / "secret" / "target.txt")


def sealed_header(ct_len: int) -> bytes:
    """The first bytes of a sealed frame announcing ``ct_len`` bytes of ciphertext."""
    return (12).to_bytes(4, "big") + os.urandom(12) + ct_len.to_bytes(4, "big")


def announce_then_pour(ct_len: int, pour: int) -> Callable[[HostilePeer], object]:
    """Announce a frame of ``ct_len`` bytes, then keep sending bytes as if it were coming."""

    def action(peer: HostilePeer) -> None:
        peer.raw(sealed_header(ct_len))
        block = os.urandom(256 * 1024)
        for _ in range(pour // len(block)):
            peer.raw(block)

    return action


def truncated(frame: Callable[[HostilePeer], bytes], keep: float) -> Callable[[HostilePeer], None]:
    def action(peer: HostilePeer) -> None:
        whole = frame(peer)
        peer.raw(whole[: int(len(whole) * keep)])
        peer.sock.shutdown(2)

    return action


def lying_hashes(peer: HostilePeer) -> object:
    """Every pass carries a wrong hash for ok.txt, retries included."""
    assert peer.answer() == ("ready", None)
    passes = 0
    while True:
        passes += 1
        peer.stream(OK[1])
        peer.sealed({OK[0]: "0" * 64})
        peer.end()
        reply = peer.reply()
        if reply is None or reply.get("type") != "retry_request":
            return passes


def offer_extension_then_skip(peer: HostilePeer) -> None:
    """Offer the extension, then claim in the plan answer that the receiver holds ok.txt."""
    peer.metadata([OK], inlet={"version": 1})
    kind, plan = peer.answer()
    assert kind == "plan" and plan["have"] == {}
    peer.sealed({"type": "inlet_accept", "start": [None]})
    peer.wait_closed()


def blosc_bomb(peer: HostilePeer) -> None:
    """A compressed transfer whose first message claims to expand to 1 GiB."""
    peer.metadata([OK], compressed=True, compressor="lz4")
    assert peer.answer() == ("ready", None)
    header = bytes([2, 1, 0x21, 8]) + (1 << 30).to_bytes(4, "little")
    header += (1 << 16).to_bytes(4, "little") + (32).to_bytes(4, "little")
    peer.sealed(header + bytes(16))
    peer.wait_closed()


def foreign_key_frame(peer: HostilePeer) -> None:
    from inlet.core.session import SessionCipher

    peer.metadata([OK])
    assert peer.answer() == ("ready", None)
    peer.raw(SessionCipher(os.urandom(32)).seal(OK[1]))
    peer.wait_closed()


def huge_then_close(peer: HostilePeer) -> None:
    """1 TiB announced (within the limits), 1 MiB sent, then the sender vanishes."""
    peer.metadata([("huge.bin", 1 << 40)])
    assert peer.answer() == ("ready", None)
    peer.stream(os.urandom(MiB))
    peer.sock.shutdown(2)


def garbage_after_end(peer: HostilePeer) -> None:
    peer.metadata([OK])
    assert peer.answer() == ("ready", None)
    # One send: the receiver has the garbage in hand when it reads the end marker.
    peer.raw(peer.seal(OK[1]) + peer.seal({OK[0]: sha(OK[1])}) + END_MARKER + b"garbage!")
    return peer.reply()


MANY = [(f"m{i}.txt", b"x") for i in range(50)]

CASES: dict[str, Case] = {
    # -- names (invariant 1): the rest of the transfer still lands --------------------------------
    "dotdot": refused(
        "name `../x`", with_ok("../x"), "'../x' climbs out of the folder", dict([OK])
    ),
    "absolute": refused("name `/etc/x`", with_ok("/etc/x"), "is an absolute path", dict([OK])),
    "drive": refused("name `C:\\x`", with_ok("C:\\x"), "names a drive", dict([OK])),
    "unc": refused("name `\\\\srv\\x`", with_ok("\\\\srv\\x"), "network (UNC) path", dict([OK])),
    "inner-dotdot": refused(
        "name `a/../../x`", with_ok("a/../../x"), "climbs out of the folder", dict([OK])
    ),
    "backslash-dotdot": refused(
        "name `a\\..\\..\\x`", with_ok("a\\..\\..\\x"), "climbs out of the folder", dict([OK])
    ),
    "nul": refused("name with a NUL byte", with_ok("x\x00y"), "contains a NUL byte", dict([OK])),
    "control": refused(
        "name with an ANSI escape",
        with_ok("\x1b[2Jred"),
        "contains a control character",
        dict([OK]),
    ),
    "empty-name": refused("empty name", with_ok(""), "sent an empty file name", dict([OK])),
    "dot-component": refused(
        "name `a/./b`", with_ok("a/./b"), "empty or '.' component", dict([OK])
    ),
    "long-name": refused("a 5,000-byte name", with_ok("n" * 5000), "longer than 4096", dict([OK])),
    "lock-name": refused(
        "name of the lock file", with_ok(LOCK_FILENAME), "reserved for Inlet's resume", dict([OK])
    ),
    "journal-name": refused(
        "name of the lock journal, in a folder",
        with_ok("sub/" + JOURNAL_FILENAME),
        "reserved for Inlet's resume",
        dict([OK]),
    ),
    "part-after": refused(
        "`x.txt` then `x.txt.part`",
        with_files(("x.txt", b"one"), ("x.txt.part", b"two")),
        "collides with the unfinished file of 'x.txt'",
        {"x.txt": b"one"},
    ),
    "part-before": refused(
        "`x.txt.part` then `x.txt`",
        with_files(("x.txt.part", b"one"), ("x.txt", b"two")),
        "has the name of another file's unfinished file",
        {"x.txt.part": b"one"},
    ),
    "duplicate": Case(
        "the same name twice (the hash list, a JSON object, holds the second one's hash)",
        with_files(("dup.txt", b"first"), OK, ("dup.txt", b"second")),
        "instead of resending 1 file that failed verification (dup.txt)",
        dict([OK]),
        reason="listed the file 'dup.txt' twice",
    ),
    "duplicate-slashes": refused(
        "`d/e.txt` and `d\\e.txt`",
        with_files(("d/e.txt", b"first"), ("d\\e.txt", b"second")),
        "listed the file 'd/e.txt' twice",
        {"d/e.txt": b"first"},
    ),
    "file-and-folder": refused(
        "`f` as a file and a folder",
        with_files(("f", b"file"), ("f/g", b"inside")),
        "both as a file and as the folder",
        {"f": b"file"},
    ),
    "symlink-dir": refused(
        "symlink to a folder outside, planted in the destination",
        with_ok("link/x.txt"),
        "goes through the symlink 'link'",
        dict([OK]),
        plant=plant_dir_link,
    ),
    "symlink-file": refused(
        "symlink planted under the final name (overwrite on)",
        with_ok("planted.txt"),
        "goes through the symlink 'planted.txt'",
        dict([OK]),
        plant=plant_file_link,
        options={"overwrite": True},
    ),
    "symlink-part": refused(
        "symlink planted as the `.part`",
        with_ok("p.txt"),
        "unfinished file for 'p.txt' is a symlink",
        dict([OK]),
        plant=plant_part_link,
    ),
    "surrogate": Case(
        "a lone surrogate in a name",
        with_ok("\ud800.txt"),
        "cannot be stored on this file system",
        dict([OK]),
    ),
    # -- sizes and metadata -----------------------------------------------------------------------
    "negative-size": Case(
        "size -1",
        bad_entries([{"filename": "a", "size": -1, "offset": 0}], total_size=-1),
        "The size of 'a' is -1, outside the allowed",
        resumable=False,
    ),
    "huge-size": Case(
        "size 2^60",
        bad_entries([{"filename": "a", "size": 1 << 60, "offset": 0}], total_size=1 << 60),
        "outside the allowed 0..1125899906842624",
        resumable=False,
    ),
    "not-tiling": Case(
        "offsets that do not tile the stream",
        bad_entries(
            [{"filename": "a", "size": 5, "offset": 0}, {"filename": "b", "size": 5, "offset": 3}],
            total_size=10,
        ),
        "does not tile the stream",
        resumable=False,
    ),
    "total-lies": Case(
        "total_size that is not the sum",
        bad_entries(file_list([OK]), total_size=7),
        "but the files add up to",
        resumable=False,
    ),
    "count-lies": Case(
        "file_count that is not the list's length",
        bad_entries(file_list([OK]), file_count=3),
        "announces 3 files but lists 1",
        resumable=False,
    ),
    "size-not-int": Case(
        "size given as a string",
        bad_entries([{"filename": "a", "size": "10", "offset": 0}], total_size=10),
        "is not an integer",
        resumable=False,
    ),
    "stream-too-long": Case(
        "more stream bytes than the sizes add up to",
        meta_then(ready_then(lambda p: p.sealed(OK[1] + b"extra"))),
        "runs past the end of the stream",
    ),
    "stream-too-short": Case(
        "end marker before the last byte",
        meta_then(ready_then(lambda p: p.raw(p.seal(OK[1][:10]) + END_MARKER))),
        "ended the stream early",
    ),
    "huge-then-gone": Case(
        "1 TiB announced, 1 MiB sent, connection dropped",
        huge_then_close,
        "closed the connection in the middle of the transfer",
        resumable=True,
        options={"check_space": False},  # (with it, 1 TiB is refused before any byte moves)
    ),
    # -- frames (invariant 5) ---------------------------------------------------------------------
    "frame-over-cap": Case(
        "data frame 1 byte over the 8 MiB cap, then 9 MiB poured in",
        meta_then(ready_then(announce_then_pour(MAX_DATA_PAYLOAD + 17, 9 * MiB))),
        "of 8388625 bytes; at most 8 MiB is allowed",
    ),
    "frame-4gib": Case(
        "data frame length 4 GiB, then 9 MiB poured in",
        meta_then(ready_then(announce_then_pour(0xFFFFFFFF, 9 * MiB))),
        "of 4294967295 bytes; at most 8 MiB is allowed",
    ),
    "metadata-4gib": Case(
        "metadata frame length 4 GiB",
        lambda p: (p.raw(sealed_header(0xFFFFFFFF)), p.wait_closed()),
        "the metadata of 4294967295 bytes; at most 256 MiB is allowed",
        resumable=False,
    ),
    "key-4gib": Case(
        "plain frame length 4 GiB instead of the public key",
        lambda p: (p.raw(b"\xff\xff\xff\xff" + bytes(64)), p.wait_closed()),
        "public key of 32 bytes, but the peer announced 4294967295",
        handshake=False,
        resumable=False,
    ),
    "nonce-4gib": Case(
        "nonce length 4 GiB in a data frame",
        meta_then(ready_then(lambda p: p.raw(b"\xff\xff\xff\xff" + bytes(40)))),
        "but the peer announced a 4294967295-byte frame",
    ),
    "truncated-data": Case(
        "a data frame cut in the middle, then close",
        meta_then(ready_then(truncated(lambda p: p.seal(OK[1]), 0.5))),
        "closed the connection in the middle of the transfer",
        resumable=True,
    ),
    "truncated-metadata": Case(
        "the metadata frame cut in the middle, then close",
        truncated(
            lambda p: p.seal(
                {"type": "stream", "file_count": 0, "total_size": 0, "files": [], "pad": "x" * 99}
            ),
            0.5,
        ),
        "closed the connection in the middle of the transfer",
    ),
    "truncated-hashes": Case(
        "the hash list cut in the middle, then close",
        meta_then(
            ready_then(
                lambda p: (
                    p.sealed(OK[1]),
                    truncated(lambda q: q.seal({OK[0]: sha(OK[1])}), 0.5)(p),
                )
            )
        ),
        "closed the connection in the middle of the transfer",
        resumable=True,
    ),
    "garbage-before-end": Case(
        "garbage where the end marker belongs",
        meta_then(
            ready_then(lambda p: p.raw(p.seal(OK[1]) + p.seal({OK[0]: sha(OK[1])}) + b"garbage!"))
        ),
        "sent more after the hash list instead of the end marker",
        dict([OK]),
    ),
    "garbage-after-end": Case(
        "garbage after the end marker",
        garbage_after_end,
        "sent garbage after the end marker",
        dict([OK]),
    ),
    "foreign-key": Case(
        "a data frame sealed under another key",
        foreign_key_frame,
        "failed authentication: the data was damaged or tampered with in transit",
    ),
    "blosc-bomb": Case(
        "compressed message claiming to expand to 1 GiB",
        blosc_bomb,
        "claims to expand to 1073741824 bytes",
    ),
    # -- the hash message -------------------------------------------------------------------------
    "hashes-list": Case(
        "hash message that is a JSON list",
        meta_then(ready_then(lambda p: (p.sealed(OK[1]), p.sealed([sha(OK[1])])))),
        "The hash list from the peer is not a JSON object",
    ),
    "hashes-string": Case(
        "hash message that is a JSON string",
        meta_then(ready_then(lambda p: (p.sealed(OK[1]), p.sealed("ok")))),
        "The hash list from the peer is not a JSON object",
    ),
    "hashes-not-json": Case(
        "hash message that is not JSON",
        meta_then(ready_then(lambda p: (p.sealed(OK[1]), p.sealed(b"\xff\xfe{")))),
        "The hash list from the peer is not valid JSON",
    ),
    "hashes-not-hex": Case(
        "hash that is not 64 hex digits",
        meta_then(ready_then(lambda p: (p.sealed(OK[1]), p.sealed({OK[0]: 5})))),
        "is not a SHA-256 in hex",
    ),
    "hashes-missing": Case(
        "hash list without the file",
        meta_then(ready_then(lambda p: (p.sealed(OK[1]), p.sealed({"other": sha(b"")})))),
        "The sender sent no hash for 'ok.txt'",
    ),
    "hashes-wrong": Case(
        "a wrong hash on every pass (retries included)",
        meta_then(lying_hashes),
        "1 file failed verification after 3 attempts: ok.txt",
        resumable=True,
    ),
    "ext-skip-unheld": Case(
        "extension: the sender claims the receiver holds a file it does not",
        offer_extension_then_skip,
        "is not possible",
    ),
    # -- message mode -----------------------------------------------------------------------------
    "message-many": Case(
        "message mode with 50 files",
        meta_then(lambda p: p.wait_closed(), files=MANY, is_message=True),
        "A text message must be exactly one file, not 50",
        resumable=False,
    ),
    "message-huge": Case(
        "message mode announcing a 64 MiB text",
        meta_then(lambda p: p.wait_closed(), files=[("message.txt", 64 * MiB)], is_message=True),
        "Inlet shows messages up to 10485760 bytes",
        resumable=False,
    ),
}


@pytest.mark.parametrize("case_id", list(CASES))
def test_hostile_sender(tmp_path: Path, watch, case_id: str) -> None:
    case = CASES[case_id]
    outside = tmp_path / "outside"
    dest = outside / "dest"
    (outside / "secret").mkdir(parents=True)
    (outside / "secret" / "target.txt").write_bytes(b"precious\n")
    (outside / "sibling.txt").write_bytes(b"do not touch\n")
    dest.mkdir()
    if case.plant:
        case.plant(dest, outside)
    absolute_target = Path("/etc/x")
    absolute_existed = absolute_target.exists()
    before = snapshot(tmp_path, skip=dest)

    sender = HostileSender(case.script, handshake=case.handshake)
    events: list[object] = []
    options = ReceiverOptions(idle_timeout=10, connect_timeout=10, **case.options)
    receiver = Receiver(parse_code(sender.code), dest, options, on_event=events.append)
    tracemalloc.start()
    try:
        result = receiver.run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        sender.join()

    # 1. a clear error, the same one the window shows
    assert not result.ok
    assert result.error and case.error in result.error, result.error
    assert result.error.isprintable(), f"hostile bytes reach the message: {result.error!r}"
    assert len(result.error) < 1000, "a hostile name is echoed in full"
    assert isinstance(events[-1], TransferFinished) and events[-1].error == result.error
    if case.reason is not None:
        reasons = [f.reason or "" for f in result.files if f.status == "failed"]
        assert any(case.reason in r for r in reasons), reasons
    if case.resumable is not None:
        assert result.resumable is case.resumable
    # 2. nothing outside the destination was created, written, followed or deleted
    assert snapshot(tmp_path, skip=dest) == before
    assert absolute_target.exists() == absolute_existed
    # 3. nothing unverified under a final name, nothing allocated beyond what arrived
    check_final_files(dest, case.lands)
    assert disk_bytes(dest) <= 4 * MiB
    # 4. bounded memory
    assert watch.max_buffered <= BUFFER_BOUND, watch.max_buffered
    assert peak <= PEAK_BOUND, peak
    shown = f"“{_first_sentence(result.error, case.error)}”"
    if case.reason is not None:
        why = next(f.reason for f in result.files if f.reason and case.reason in f.reason)
        shown += f" — the file: “{why}”"
    landed = ", ".join(sorted(case.lands))
    record(
        f"hostile sender: {case.tried}",
        "scripted sender after the real handshake",
        1,
        shown + (f"; {landed} landed verified" if landed else "; nothing under a final name"),
        group="hostile",
        max_buffered=watch.max_buffered,
        peak=peak,
    )


def _first_sentence(error: str, needle: str) -> str:
    """The sentence of ``error`` holding ``needle`` (what the table shows)."""
    at = error.index(needle)
    start = max(error.rfind(". ", 0, at) + 2, 0) if error.rfind(". ", 0, at) >= 0 else 0
    end = error.find(". ", at + len(needle))
    return error[start : (end + 1 if end >= 0 else len(error))]


# -- memory does not grow with the size of a file (a receiver subprocess's peak RSS) -------------


def _pattern_script(size: int) -> Callable[[HostilePeer], object]:
    """An honest legacy transfer of one ``size``-byte file generated on the fly."""

    def script(peer: HostilePeer) -> object:
        peer.metadata([("big.bin", size)])
        assert peer.answer() == ("ready", None)
        digest = hashlib.sha256()
        for i in range(0, size, MiB):
            block = (hashlib.sha256(i.to_bytes(8, "big")).digest() * (MiB // 32))[: size - i]
            digest.update(block)
            peer.sealed(block)
        peer.sealed({"big.bin": digest.hexdigest()})
        peer.end()
        return peer.reply()

    return script


#: ``inlet receive`` that reports its own peak RSS (VmHWM) on exit. Not ru_maxrss: Linux keeps
#: the pre-exec high-water mark there, which for a vforked child is the test process's size.
_MEASURED_RECEIVE = """
import sys
from inlet.core.cli import main
code = main()
with open("/proc/self/status") as status:
    peak = [line.split()[1] for line in status if line.startswith("VmHWM:")][0]
sys.stderr.write(f"VmHWM {peak}\\n")
sys.exit(code)
"""


def _receiver_peak_rss(script: Callable[[HostilePeer], object], dest: Path) -> tuple[int, dict]:
    """Run ``inlet receive --json`` in a subprocess against ``script``; its peak RSS in bytes."""
    sender = HostileSender(script)
    try:
        done = subprocess.run(
            [INLET[0], "-c", _MEASURED_RECEIVE, "receive", sender.code, "-o", str(dest), "--json"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        sender.join()
    peak_kib = int(done.stderr.rsplit("VmHWM ", 1)[1].split()[0])
    return peak_kib * 1024, json.loads(done.stdout)


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="VmHWM is Linux's")
def test_receiver_memory_is_bounded_whatever_the_file_size_or_frame_length(tmp_path: Path):
    small, small_result = _receiver_peak_rss(_pattern_script(4 * MiB), tmp_path / "small")
    big, big_result = _receiver_peak_rss(_pattern_script(128 * MiB), tmp_path / "big")
    hostile, hostile_result = _receiver_peak_rss(
        meta_then(ready_then(announce_then_pour(0xFFFFFFFF, 64 * MiB))), tmp_path / "hostile"
    )
    assert small_result["ok"] and big_result["ok"], (small_result, big_result)
    assert not hostile_result["ok"] and "4294967295" in hostile_result["error"]
    # A receiver that buffered per file, or trusted the 4 GiB length, would grow by 124 MiB
    # or more; the allowance is a few chunks (read buffer, a frame, its plaintext).
    assert big <= small + 24 * MiB, (small, big)
    assert hostile <= small + 24 * MiB, (small, hostile)
    for size, peak in (("4 MiB file", small), ("128 MiB file", big)):
        record(
            f"memory: receiving one {size}",
            "peak RSS (VmHWM) of an `inlet receive` subprocess",
            1,
            f"{peak / MiB:.0f} MiB peak RSS ({(peak - small) / MiB:+.0f} MiB vs the 4 MiB file)",
            group="memory",
            peak_rss=peak,
        )
    record(
        "memory: a data frame announcing 4 GiB, then 64 MiB poured in",
        "peak RSS (VmHWM) of an `inlet receive` subprocess",
        1,
        f"refused at the header; {hostile / MiB:.0f} MiB peak RSS "
        f"({(hostile - small) / MiB:+.0f} MiB vs the 4 MiB file)",
        group="memory",
        peak_rss=hostile,
    )


def test_plain_frame_header_helper_is_what_the_wire_expects() -> None:
    """The harness's hand-built frames are the real thing (guards the cases above)."""
    assert plain_frame(b"READY") == b"\x00\x00\x00\x05READY"
    assert sealed_header(5)[:4] == b"\x00\x00\x00\x0c" and len(sealed_header(5)) == 20
