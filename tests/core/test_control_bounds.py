"""Control messages cost what they hold: caps that follow the file list, and parsing that checks
the shape as it reads.

A 64 MiB control message of ``[{},{},…]`` used to cost 28x its size (1.8 GB) on either end
before its shape was checked; the hash list of a legacy sender for a million files (76 MiB)
could not fit the fixed 64 MiB cap although a million files were accepted. Here every parser's
traced peak (tracemalloc) is compared with its payload, hostile shapes end in a ProtocolError
that says what was wrong, and the caps are checked against what real senders write.
"""

from __future__ import annotations

import json
import os
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from inlet.core import jsonscan, messages, wire
from inlet.core.errors import ProtocolError
from inlet.core.events import FileInfo
from inlet.core.framing import MAX_METADATA_PAYLOAD, MiB

from ..hostile import HostilePeer
from .test_hostile import _receiver_peak_rss
from .test_wire import FakeReceiver, FakeSender, _finished_sender, sha

#: The most a control message may cost to parse and check, as a multiple of its size.
RATIO = 3


def _traced_peak(parse: Callable[[], object]) -> tuple[int, object]:
    """The traced peak of ``parse()`` beyond what was allocated before it, and its result (or
    the ProtocolError it raised)."""
    tracemalloc.start()
    try:
        try:
            result: object = parse()
        except ProtocolError as err:
            result = err
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, result


def _junk(size: int) -> bytes:
    """``{},{},…`` of about ``size`` bytes (what a hostile peer sends; 3 bytes a dict)."""
    return b",".join([b"{}"] * (size // 3))


def _file_list(count: int, name: Callable[[int], str] = lambda i: f"d{i // 100:04d}/f{i:06d}.bin"):
    files, offset = [], 0
    for i in range(count):
        size = 100 + i % 2000
        files.append(FileInfo(name(i), size, offset))
        offset += size
    return files


# -- hostile shapes: a clear error, at a small cost ----------------------------------------------

JUNK = _junk(4 * MiB)
FILES = (FileInfo("a", 3, 0),)
KNOWN = b'"type": "stream", "file_count": 1, "total_size": 0, '
#: case -> (how the message is made, which parser reads it, what its error says)
HOSTILE: dict[str, tuple[Callable[[], bytes], Callable[[bytes], object], str]] = {
    "metadata: an array of objects": (
        lambda: b"[" + JUNK + b"]",
        messages.parse_metadata,
        "not a JSON object",
    ),
    "metadata: files that are empty objects": (
        lambda: b"{" + KNOWN + b'"files": [' + JUNK + b"]}",
        messages.parse_metadata,
        "no text filename",
    ),
    "metadata: junk under an unknown key": (
        lambda: b"{" + KNOWN + b'"extra": [' + JUNK + b"]}",
        messages.parse_metadata,
        "values the protocol does not define",
    ),
    "metadata: junk in a file entry": (
        lambda: b'{"files": [{"filename": "a", "size": 0, "offset": 0, "x": [' + JUNK + b"]}]}",
        messages.parse_metadata,
        "values the protocol does not define",
    ),
    "hash list: an object of junk": (
        lambda: b'{"a": [' + JUNK + b"]}",
        lambda p: messages.parse_stream_hashes(p, 1),
        "values the protocol does not define",
    ),
    "hash list: more entries than files": (
        lambda: json.dumps({f"n{i}": "ab" * 32 for i in range(50_000)}).encode(),
        lambda p: messages.parse_stream_hashes(p, 1),
        "more entries than the 1 files",
    ),
    "plan: junk as a held prefix": (
        lambda: b'{"type": "inlet_plan", "version": 1, "have": {"a": [' + JUNK + b"]}}",
        lambda p: messages.parse_plan(p, FILES),
        "values the protocol does not define",
    ),
    "plan answer: junk as start positions": (
        lambda: b'{"type": "inlet_accept", "start": [' + JUNK + b"]}",
        lambda p: messages.parse_accept(p, FILES, {}),
        "more start positions than the 1 files",
    ),
    "reply: junk as the failed files": (
        lambda: b'{"type": "retry_request", "attempt": 1, "failed_files": [' + JUNK + b"]}",
        lambda p: messages.parse_reply(p, FILES),
        "something else than file names",
    ),
    "reply: the same file again and again": (
        lambda: (
            b'{"type": "retry_request", "attempt": 1, "failed_files": ["a"'
            + b', "a"' * 800_000
            + b"]}"
        ),
        lambda p: messages.parse_reply(p, FILES),
        "never offered (or named twice)",
    ),
    "reply: junk under an unknown key": (
        lambda: b'{"status": "completed", "x": [' + JUNK + b"]}",
        lambda p: messages.parse_reply(p, FILES),
        "values the protocol does not define",
    ),
    "reply: many unknown keys": (
        lambda: b"{" + b",".join(b'"k%d": 0' % i for i in range(400_000)) + b"}",
        lambda p: messages.parse_reply(p, FILES),
        "more than 1,000 keys",
    ),
}


@pytest.mark.parametrize("case", list(HOSTILE), ids=lambda c: c)
def test_a_hostile_control_message_is_refused_clearly_and_cheaply(
    case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Fewer values to walk before the budget says no (tracemalloc makes each one slow).
    monkeypatch.setattr(jsonscan, "MAX_UNKNOWN_VALUES", 10_000)
    make, parse, error = HOSTILE[case]
    payload = make()
    peak, result = _traced_peak(lambda: parse(payload))
    assert isinstance(result, ProtocolError), result
    assert error in str(result), str(result)
    assert len(str(result)) < 400, str(result)
    # json.loads built each of these whole before looking at it: 10-28x the message.
    assert peak <= 1 * MiB, f"{peak / MiB:.1f} MiB to refuse {len(payload) / MiB:.1f} MiB"


# -- honest messages: a cost of what the result holds --------------------------------------------


def test_the_file_list_costs_at_most_3x_its_json_to_parse_and_check() -> None:
    files = _file_list(30_000)
    payload = messages.build_metadata(files, compressed=False, is_message=False, extension=True)
    peak, meta = _traced_peak(lambda: messages.parse_metadata(payload))
    assert isinstance(meta, messages.StreamMetadata), meta
    assert meta.files == tuple(files)
    # Before: 6.1x (json.loads made a dict per file, then a FileInfo per dict).
    assert peak <= RATIO * len(payload), f"{peak / len(payload):.2f}x the file list"


def test_the_legacy_hash_list_costs_at_most_3x_its_json() -> None:
    hashes = {f.name: sha(f.name.encode()) for f in _file_list(30_000)}
    payload = messages.build_stream_hashes(hashes)
    peak, parsed = _traced_peak(lambda: messages.parse_stream_hashes(payload, len(hashes)))
    assert parsed == hashes
    assert peak <= RATIO * len(payload), f"{peak / len(payload):.2f}x the hash list"


def test_other_spellings_are_read_with_the_same_checks() -> None:
    """Spaces, escapes, other key orders, unknown keys: the value-by-value reader."""
    meta = (
        '{ "inlet" : {"version": 1, "later": [1, {"x": null}]}, "files" : [\n'
        '  {"offset": 0, "size": 3, "filename": "caf\\u00e9/a"},\n'
        '  {"filename": "b\\"q", "size" : 2, "offset": 3, "mtime": 1.5e9},'
        ' {"filename": "\u00e9t\u00e9", "size": 0, "offset": 5}],'
        ' "type": "stream", "file_count": 3, "total_size": 5, "note": "x" }'
    ).encode()
    parsed = messages.parse_metadata(meta)
    assert parsed.files == (
        FileInfo("café/a", 3, 0),
        FileInfo('b"q', 2, 3),
        FileInfo("été", 0, 5),
    )
    assert parsed.inlet_version == 1
    spaced = b'{ "a" : "' + b"AB" * 32 + b'" ,\n"b\\u00e9":"' + b"cd" * 32 + b'"}'
    assert messages.parse_stream_hashes(spaced, 2) == {"a": "ab" * 32, "bé": "cd" * 32}
    for bad in (
        b'{"a": "' + b"ab" * 32 + b'",}',  # trailing comma
        b'{"a": "' + b"ab" * 32 + b'"} x',  # garbage after
        b'{"a": "' + b"ab" * 32 + b'", "a": "' + b"cd" * 32 + b'"}',  # duplicate
        b'{"\xff": "' + b"ab" * 32 + b'"}',  # not UTF-8
    ):
        with pytest.raises(ProtocolError):
            messages.parse_stream_hashes(bad, 5)


# -- caps that follow the file list ----------------------------------------------------------


def _ftransfer_hash_list_size(names: list[str]) -> int:
    """Bytes of ``json.dumps({name: sha256_hex})``, as ftransfer 1.0.1 sends it."""
    return 2 + sum(len(json.dumps(n)) + len(': "') + 64 + len('", ') for n in names) - 2


def test_a_million_file_list_fits_and_its_legacy_hash_list_does_too() -> None:
    """Arithmetic only: what real senders write for a million files fits the caps."""
    count = messages.MAX_FILES
    name = "d0000/f000000.bin"  # 17 bytes, as bench/million_files.py sends them
    hash_list = _ftransfer_hash_list_size([name]) * count
    assert hash_list > 64 * MiB  # did not fit the fixed cap of before
    assert hash_list <= messages.hash_list_limit(count, count * len(json.dumps(name)))
    long_name = "x" * 200  # the metadata cap admits names of 200 bytes on average
    entry = len(json.dumps({"filename": long_name, "size": 10**9, "offset": 10**14})) + 2
    assert entry * count <= MAX_METADATA_PAYLOAD


def test_a_legacy_hash_list_over_the_old_fixed_cap_is_accepted() -> None:
    """66 MiB of hashes after a metadata that listed their names (long ones, so that the test
    needs only 2,300 files): the cap follows the file list."""
    sender = FakeSender(extension=False)
    names = [f"{i:05d}" + "n" * 30_000 for i in range(2_300)]
    sender.send(
        {
            "type": "stream",
            "file_count": len(names),
            "total_size": 0,
            "files": [{"filename": n, "size": 0, "offset": 0} for n in names],
        }
    )
    assert isinstance(sender.conn.next_event(), wire.Metadata)
    sender.conn.accept()
    hashes = {n: sha(b"") for n in names}
    payload = json.dumps(hashes).encode()
    assert len(payload) > 64 * MiB
    sender.send(payload)
    event = sender.conn.next_event()
    assert isinstance(event, wire.StreamHashes) and event.hashes == hashes


def test_a_hash_list_over_its_cap_is_refused_before_it_arrives() -> None:
    sender = FakeSender(extension=False)
    sender.metadata([0])
    sender.conn.accept()
    limit = messages.hash_list_limit(1, len('"f0"'))
    header = b"\x00\x00\x00\x0c" + bytes(12) + (limit + 17).to_bytes(4, "big")
    sender.conn.receive_data(header)
    with pytest.raises(ProtocolError, match=r"the hash list of .* at most 64 KiB|at most"):
        sender.conn.next_event()


def test_a_reply_over_its_cap_is_refused_before_it_arrives() -> None:
    """The sender's side: a receiver's reply may list each offered file once, not 64 MiB."""
    fake = _finished_sender({"a": b"abc"})
    fake.conn.receive_data(b"\x00\x00\x00\x0c" + bytes(12) + (1 * MiB).to_bytes(4, "big"))
    with pytest.raises(ProtocolError, match="at most"):
        fake.conn.next_event()


def test_a_resume_plan_over_its_cap_is_refused_before_it_arrives() -> None:
    fake = FakeReceiver({"a": b"abc"}, extension=True)
    fake.conn.receive_data(b"\x00\x00\x00\x0c" + bytes(12) + (1 * MiB).to_bytes(4, "big"))
    with pytest.raises(ProtocolError, match="at most"):
        fake.conn.next_event()


# -- end to end: a real receiver, a hostile sender ----------------------------------------------


@pytest.mark.timeout(120)
@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="VmHWM is Linux's")
def test_a_receiver_sent_a_junk_file_list_says_so_at_a_small_cost(tmp_path: Path) -> None:
    junk = b'{"type": "stream", "file_count": 1, "total_size": 0, "files": [' + _junk(32 * MiB)

    def small(peer: HostilePeer) -> None:
        peer.sealed(b'{"type": "stream", "file_count": 0, "total_size": 0, "files": []}')
        peer.answer()

    def hostile(peer: HostilePeer) -> None:
        peer.sealed(junk + b"]}")
        peer.wait_closed()

    baseline, _ = _receiver_peak_rss(small, tmp_path / "small")
    peak, result = _receiver_peak_rss(hostile, tmp_path / "hostile")
    assert not result["ok"] and "File #0 in the metadata has no text filename" in result["error"]
    # What arrives costs twice its size (the frame, its plaintext); the parse adds little.
    # json.loads built 11 million dicts first: about 900 MiB for these 32 MiB.
    assert peak - baseline <= RATIO * len(junk), f"{(peak - baseline) / MiB:.0f} MiB"


@pytest.mark.parametrize("starts", ["legacy", "from 0", "some skipped"])
def test_a_pass_of_the_stream_keeps_nothing_per_file(starts: str) -> None:
    """The stream's spans are made as they are reached: a million-file list once kept an object
    per file (~90 MiB) from READY to its last byte, beside the list itself."""
    files = _file_list(100_000)
    given = {
        "legacy": None,
        "from 0": [0] * len(files),
        "some skipped": [None if i % 2 else 0 for i in range(len(files))],
    }[starts]
    kept = [i for i, start in enumerate(given or files) if start is not None]
    peak, stream = _traced_peak(lambda: wire._first_pass(files, given))
    # nothing per file, but a column of indices and one of starts when files are skipped
    assert peak < 24 * (len(files) - len(kept)) + 65536
    assert isinstance(stream, wire._Stream)
    assert stream.remaining == sum(files[i].size for i in kept)
