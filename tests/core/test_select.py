"""Asking an Inlet sender for some files only (a row's Retry; docs/PROTOCOL.md, 5.4).

A real ``inlet send`` on loopback and the real receiver: after two files failed verification,
asking for one of them brings that one alone; the others stay exactly as they were, and the
sender keeps serving until the receiver holds every file. An ftransfer-compatible sender
(``--no-ext``) cannot select: the receive brings every file not yet here, as before.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inlet.core import messages, wire
from inlet.core.errors import ProtocolError
from inlet.core.events import FileStatusChanged, TransferStarted
from inlet.core.writer import FileWriter

from .test_transfer import lock_status, receive_in_process
from .test_wire import FakeSender, sha

pytestmark = pytest.mark.timeout(120)

GOOD, BAD1, BAD2 = "set/good.txt", "set/bad1.bin", "set/bad2.bin"


@pytest.fixture
def source(tmp_path: Path) -> Path:
    root = tmp_path / "src" / "set"
    root.mkdir(parents=True)
    (root / "good.txt").write_bytes(b"fine\n" * 1000)
    (root / "bad1.bin").write_bytes(bytes(range(256)) * 800)
    (root / "bad2.bin").write_bytes(bytes(range(255, -1, -1)) * 900)
    return root


def _damage(monkeypatch, names: set[str]) -> None:
    """Every chunk written for ``names`` has a bit flipped (a bad disk or RAM)."""
    original = FileWriter.write_chunk

    def write_chunk(self: FileWriter, data) -> int:
        if self.lock_key in names and len(data):
            data = bytes([data[0] ^ 0x01]) + bytes(data[1:])
        return original(self, data)

    monkeypatch.setattr(FileWriter, "write_chunk", write_chunk)


def _two_failed(senders, source: Path, dest: Path, monkeypatch, *flags: str):
    sender = senders(source, *flags)
    with monkeypatch.context() as patch:
        _damage(patch, {BAD1, BAD2})
        receiver, _ = receive_in_process(sender.code, dest)
    result = receiver.result
    assert not result.ok and result.resumable
    assert {f.name: f.status for f in result.files} == {
        GOOD: "completed",
        BAD1: "failed",
        BAD2: "failed",
    }
    return sender


def test_asking_for_one_file_brings_that_one_alone(senders, source, tmp_path, monkeypatch):
    dest = tmp_path / "dest"
    sender = _two_failed(senders, source, dest, monkeypatch)
    good = dest / GOOD
    before = good.stat()

    receiver, events = receive_in_process(sender.code, dest, only=frozenset({BAD1}))
    result = receiver.result
    assert result.ok, result.error
    assert (dest / BAD1).read_bytes() == (source / "bad1.bin").read_bytes()
    assert not (dest / BAD2).exists()  # not asked for: not received
    assert good.stat().st_ino == before.st_ino and good.stat().st_mtime_ns == before.st_mtime_ns
    # Only the asked file's bytes travelled (plus the handshake and the file list).
    assert result.bytes_written == (source / "bad1.bin").stat().st_size
    assert result.bytes_on_wire < (source / "bad1.bin").stat().st_size + 20_000
    started = next(e for e in events if isinstance(e, TransferStarted))
    assert started.selectable and started.selected == frozenset({BAD1})
    changed = {e.name for e in events if isinstance(e, FileStatusChanged)}
    assert changed == {BAD1}  # the other rows hear nothing
    assert lock_status(dest, BAD2) != "completed"  # still to come: the lock stays
    assert sender.proc.poll() is None  # the sender waits: the receiver lacks bad2

    receiver, _ = receive_in_process(sender.code, dest, only=frozenset({BAD2}))
    assert receiver.result.ok, receiver.result.error
    assert (dest / BAD2).read_bytes() == (source / "bad2.bin").read_bytes()
    assert sender.wait() == 0  # now the receiver holds every file: the sender is done
    assert not (dest / ".transfer_lock.json").exists()
    assert not (dest / "set" / "good_1.txt").exists()


def test_a_legacy_sender_cannot_select_so_every_missing_file_comes(
    senders, source, tmp_path, monkeypatch
):
    dest = tmp_path / "dest"
    sender = _two_failed(senders, source, dest, monkeypatch, "--no-ext")
    receiver, events = receive_in_process(sender.code, dest, only=frozenset({BAD1}))
    assert receiver.result.ok, receiver.result.error
    started = next(e for e in events if isinstance(e, TransferStarted))
    assert not started.selectable and started.selected is None
    assert (dest / BAD1).exists() and (dest / BAD2).exists()
    assert sender.wait() == 0


# -- the wire: negotiated, and checked on both ends ------------------------------------------


def _listed(fake: FakeSender, sizes: list[int], version: int) -> wire.Metadata:
    """Send a file list ``f0, f1, ...`` offering extension ``version``; the receiver's event."""
    files, offset = [], 0
    for i, size in enumerate(sizes):
        files.append({"filename": f"f{i}", "size": size, "offset": offset})
        offset += size
    fake.send(
        {"type": "stream", "file_count": len(files), "total_size": offset, "files": files,
         "inlet": {"version": version}}
    )  # fmt: skip
    event = fake.conn.next_event()
    assert isinstance(event, wire.Metadata)
    return event


def _plan_sent(fake: FakeSender) -> dict:
    sealed = fake.conn.data_to_send()
    return json.loads(fake.cipher.open(sealed[4:16], sealed[20:]))


def test_the_plan_asks_for_some_files_only_from_a_version_2_sender() -> None:
    fake = FakeSender()
    assert _listed(fake, [3, 4, 5], 2).can_select
    fake.conn.accept(plan={"f0": (3, sha(b"abc"))}, only=["f1"])
    assert _plan_sent(fake) == {
        "type": "inlet_plan",
        "version": 2,
        "have": {"f0": {"bytes": 3, "sha256": sha(b"abc")}},
        "only": ["f1"],
    }
    fake.send({"type": "inlet_accept", "start": [None, 0, None]})
    assert fake.conn.next_event() == wire.Accepted((None, 0, None))


@pytest.mark.parametrize("starts", [[None, 0, 0], [0, 0, None], [None, None, None]])
def test_a_sender_that_sends_a_file_not_asked_for_is_refused(starts) -> None:
    fake = FakeSender()
    _listed(fake, [3, 4, 5], 2)
    fake.conn.accept(plan={}, only=["f1"])
    fake.send({"type": "inlet_accept", "start": starts})
    with pytest.raises(ProtocolError):
        fake.conn.next_event()


def test_a_version_1_sender_gets_a_version_1_plan_and_no_selection() -> None:
    fake = FakeSender()
    assert not _listed(fake, [3, 4], 1).can_select
    with pytest.raises(ValueError):
        fake.conn.accept(plan={}, only=["f1"])
    fake.conn.accept(plan={})
    assert _plan_sent(fake)["version"] == 1


def test_the_sender_reads_only_from_version_2_and_checks_the_names() -> None:
    files = [wire.FileInfo("a", 1), wire.FileInfo("b", 2)]
    plan = {"type": "inlet_plan", "version": 2, "have": {}, "only": ["b"]}
    assert messages.parse_plan_message(json.dumps(plan).encode(), files) == ({}, ("b",))
    old = dict(plan, version=1)  # version 1 knows no "only": an unknown key, ignored
    assert messages.parse_plan_message(json.dumps(old).encode(), files) == ({}, None)
    for only in (["zzz"], ["b", "b"], "b", [1]):
        with pytest.raises(ProtocolError):
            messages.parse_plan_message(json.dumps(dict(plan, only=only)).encode(), files)
    with pytest.raises(ProtocolError, match="version"):
        messages.parse_plan_message(json.dumps(dict(plan, version=3)).encode(), files)
