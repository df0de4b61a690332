"""The receive session with no socket: the wire's events mapped onto real files, in memory.

A `SenderApp` (the sans-I/O sender of test_wire) talks to a `ReceiveSession` through a link
that moves bytes between the two machines in this thread; the files land in a real folder.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import NoReturn

import pytest

from inlet.core import wire
from inlet.core.errors import PeerGoneError
from inlet.core.events import FileProgress, FileStatus, FileStatusChanged, TransferStarted
from inlet.core.paths import LOCK_FILENAME, part_name
from inlet.core.receive.session import ReceiveSession
from inlet.core.receiver import ReceiverOptions, TransferResult

from .test_wire import TOKEN, SenderApp

FILES = {
    "a.txt": b"alpha" * 1000,
    "dir/b.bin": bytes(range(256)) * 300,
    "dir/sub/empty": b"",
    "c.txt": b"charlie",
}


class MemoryLink:
    """Moves the receiver's queued bytes straight into the sender's machine."""

    def __init__(self, sender: wire.SenderConnection, receiver: wire.ReceiverConnection) -> None:
        self.sender, self.receiver = sender, receiver
        self.ended = False

    def send(self) -> None:
        out = self.receiver.data_to_send()
        if out:
            self.sender.receive_data(out)

    def end_sending(self) -> None:
        self.ended = True

    def gone(self) -> NoReturn:
        raise PeerGoneError("The sender closed the connection in the middle of the transfer.")


class Conversation:
    """One sender and one session, stepped in this thread until the session is done."""

    def __init__(self, dest: Path, sender: SenderApp, **options: object) -> None:
        self.sender = sender
        self.conn = wire.ReceiverConnection(TOKEN, extension=True)
        self.link = MemoryLink(sender.conn, self.conn)
        self.events: list[object] = []
        self.result = TransferResult()
        self.session = ReceiveSession(
            self.conn,
            self.link,
            dest_dir=dest,
            options=ReceiverOptions(**options),
            result=self.result,
            sender_ip="127.0.0.1",
            emit=self.events.append,
            overwrite_for=lambda name: False,
        )

    def run(self, *, stop_after: type | None = None, cut_at: int | None = None) -> bool:
        """True when the session said the conversation is over. ``stop_after``: return once an
        event of that type was handled (to stop in the middle, like a kill); ``cut_at``: the
        receiver gets only that many bytes of the sender's, then the connection drops."""
        self.sender.conn.start()
        delivered = 0
        for _ in range(100_000):
            out = self.sender.conn.data_to_send()
            if cut_at is not None and delivered + len(out) >= cut_at:
                out = out[: cut_at - delivered]
                self.conn.receive_data(out)
                self.conn.receive_data(b"")
            elif out:
                self.conn.receive_data(out)
            delivered += len(out)
            handled = False
            while (event := self.conn.next_event()) is not wire.NEED_DATA:
                handled = True
                if self.session.handle(event):
                    self.sender.poll()  # it reads our answer
                    return True
                if stop_after is not None and isinstance(event, stop_after):
                    return False
            self.link.send()
            if not (self.sender.poll() or handled or out):
                raise AssertionError("the conversation stalled")
        raise AssertionError("the conversation did not end")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("extension", [True, False], ids=["extension", "legacy"])
def test_every_file_lands_verified_and_the_lock_goes(tmp_path: Path, extension: bool) -> None:
    dest = tmp_path / "dest"
    talk = Conversation(dest, SenderApp(FILES, extension=extension))
    assert talk.run() is True
    talk.session.close()
    assert talk.result.ok, talk.result.error
    for name, data in FILES.items():
        assert (dest / name).read_bytes() == data
    assert not (dest / LOCK_FILENAME).exists() and talk.link.ended
    records = {r.name: (r.status, r.sha256) for r in talk.result.files}
    assert records == {name: ("completed", sha(data)) for name, data in FILES.items()}
    reply = talk.sender.events[-1]
    assert isinstance(reply, wire.ReceiverReply) and reply.is_completed
    started = [e for e in talk.events if isinstance(e, TransferStarted)]
    assert len(started) == 1 and started[0].extension is extension
    done = {
        e.name
        for e in talk.events
        if isinstance(e, FileStatusChanged) and e.status is FileStatus.COMPLETED
    }
    assert done == set(FILES)


def test_a_stop_in_the_middle_keeps_what_is_verified_and_resumes_only_the_rest(
    tmp_path: Path,
) -> None:
    dest = tmp_path / "dest"
    files = {"one.bin": b"1" * 200_000, "two.bin": b"2" * 300_000}
    first = Conversation(dest, SenderApp(files, chunk=64 * 1024))
    # stop after the first file's hash: it is named when the session closes; two is partial
    assert first.run(stop_after=wire.FileHash) is False
    first.session.close()
    assert (dest / "one.bin").read_bytes() == files["one.bin"]
    held = (
        (dest / part_name("two.bin")).stat().st_size
        if (dest / part_name("two.bin")).exists()
        else 0
    )
    second = Conversation(dest, SenderApp(files, chunk=64 * 1024))
    assert second.run() is True
    second.session.close()
    assert second.result.ok and second.result.resumed
    assert (dest / "two.bin").read_bytes() == files["two.bin"]
    # the sender was told what is held: one.bin skipped whole, two.bin from what the .part held
    assert second.sender.starts == [None, held]
    progress = [e for e in second.events if isinstance(e, FileProgress) and e.name == "one.bin"]
    assert all(e.held == len(files["one.bin"]) for e in progress)


def test_a_damaged_file_is_asked_for_again_and_lands_the_second_time(tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    sender = SenderApp(FILES, extension=False)
    real_hashes = sender.conn.send_hashes
    damaged = {"first": True}

    def once_wrong(hashes: dict[str, str]) -> None:
        if damaged.pop("first", False):
            hashes = dict(hashes, **{"c.txt": "0" * 64})
        real_hashes(hashes)

    sender.conn.send_hashes = once_wrong  # type: ignore[method-assign]
    talk = Conversation(dest, sender)
    assert talk.run() is True
    talk.session.close()
    assert talk.result.ok and (dest / "c.txt").read_bytes() == FILES["c.txt"]
    retries = [e for e in talk.sender.events if isinstance(e, wire.ReceiverReply) and e.is_retry]
    assert [r.retry_files for r in retries] == [("c.txt",)]


def test_a_sender_that_vanishes_is_a_lost_peer_with_the_state_kept(tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    talk = Conversation(dest, SenderApp(FILES, chunk=1024))
    with pytest.raises(PeerGoneError):
        talk.run(cut_at=30_000)
    talk.session.close()
    assert (dest / LOCK_FILENAME).exists() and not talk.result.ok
    assert (dest / "a.txt").read_bytes() == FILES["a.txt"]  # verified before the drop: named
    assert not (dest / "c.txt").exists()
