"""End to end on loopback: real `inlet send` processes, the real receiver, real files."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import pytest

from inlet.core.codes import parse_code
from inlet.core.events import FileProgress, TransferFinished
from inlet.core.lock import TransferLockManager
from inlet.core.paths import LOCK_FILENAME, WARNINGS_LOG
from inlet.core.receiver import Receiver, ReceiverOptions
from inlet.core.writer import FileWriter

from ..fake_sender import FakeFile, FakeSender
from ..helpers import INLET, run_receiver, start_sender, tree_hashes, wait_until, write_random

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def source_tree(tmp_path: Path) -> Path:
    """A folder with subfolders, a multi-MiB file, small files and an empty one."""
    root = tmp_path / "src" / "photos"
    write_random(root / "big.bin", 3 * 1024 * 1024 + 123, seed=1)
    write_random(root / "2024" / "a.jpg", 40_000, seed=2)
    write_random(root / "2024" / "deep" / "b.raw", 1, seed=3)
    (root / "notes.txt").write_text("remember the milk\n")
    (root / "empty.txt").write_bytes(b"")
    return root


def lock_status(dest: Path, name: str) -> str:
    """A file's status as the lock manager reads it back (snapshot plus journal)."""
    manager = TransferLockManager(dest)
    assert manager.load()
    return manager.entry(name).status


def received_hashes(dest: Path) -> dict[str, str]:
    """Hashes of the files under their final names (bookkeeping and ``.part`` files left out)."""
    return {
        k: v
        for k, v in tree_hashes(dest).items()
        if not k.startswith(".transfer_lock") and not k.endswith((WARNINGS_LOG, ".part"))
    }


def expected_hashes(root: Path) -> dict[str, str]:
    return {f"{root.name}/{k}": v for k, v in tree_hashes(root).items()}


def receive_in_process(code: str, dest: Path, **options) -> tuple[Receiver, list[object]]:
    events: list[object] = []
    receiver = Receiver(parse_code(code), dest, ReceiverOptions(**options), on_event=events.append)
    receiver.run()
    return receiver, events


@pytest.mark.parametrize(
    "sender_flags", [(), ("--no-ext",), ("--compress",), ("--compress", "--no-ext")]
)
def test_inlet_to_inlet_fresh(senders, tmp_path: Path, source_tree: Path, sender_flags):
    sender = senders(source_tree, *sender_flags)
    dest = tmp_path / "dest"
    outcome = run_receiver(sender.code, dest)
    assert outcome.returncode == 0, outcome.stderr
    assert sender.wait() == 0
    assert received_hashes(dest) == expected_hashes(source_tree)
    result = outcome.result
    assert result["ok"] is True and result["message"] is None and result["resumed"] is False
    by_name = {f["name"]: f for f in result["files"]}
    assert by_name["photos/empty.txt"]["size"] == 0
    assert (dest / "photos" / "empty.txt").is_file()  # ftransfer 1.0.1 drops this one
    for name, digest in expected_hashes(source_tree).items():
        assert by_name[name]["sha256"] == digest and by_name[name]["status"] == "completed"
        assert Path(by_name[name]["path"]) == (dest / name).absolute()
    total = sum(f["size"] for f in result["files"])
    assert result["bytes_written"] == total
    assert total < result["bytes_on_wire"] < total * 1.05 + 10_000
    assert not (dest / LOCK_FILENAME).exists()


def test_text_message_is_printed_and_not_kept(senders, tmp_path: Path):
    text = "Meet at 10:30 — bring the blue notebook."
    sender = senders("--message", text)
    done = subprocess.run(
        [*INLET, "receive", sender.code, "-o", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == text
    assert list(tmp_path.iterdir()) == []


def test_existing_file_is_kept_unless_overwrite(senders, tmp_path: Path, source_tree: Path):
    dest = tmp_path / "dest"
    (dest / "photos").mkdir(parents=True)
    (dest / "photos" / "notes.txt").write_text("mine")
    sender = senders(source_tree)
    assert run_receiver(sender.code, dest).returncode == 0
    assert (dest / "photos" / "notes.txt").read_text() == "mine"
    assert (dest / "photos" / "notes_1.txt").read_text() == "remember the milk\n"

    sender = senders(source_tree)
    assert run_receiver(sender.code, dest, "--overwrite").returncode == 0
    assert (dest / "photos" / "notes.txt").read_text() == "remember the milk\n"


def _cancel_after(receiver_box: list[Receiver], name: str, held_at_least: int):
    def on_event(event: object) -> None:
        if isinstance(event, FileProgress) and event.name == name and event.held >= held_at_least:
            receiver_box[0].cancel()

    return on_event


def interrupted_receive(code: str, dest: Path, name: str, held: int, **options) -> Receiver:
    """Receive until ``name`` holds ``held`` bytes, then cancel (the state stays on disk)."""
    box: list[Receiver] = []
    receiver = Receiver(
        parse_code(code), dest, ReceiverOptions(**options), on_event=_cancel_after(box, name, held)
    )
    box.append(receiver)
    result = receiver.run()
    assert not result.ok and result.resumable
    assert "cancelled" in result.error
    return receiver


@pytest.mark.parametrize("resume_flags", [(), ("--no-ext",)])
def test_resume_after_cancel_keeps_the_verified_prefix(
    senders, tmp_path: Path, source_tree: Path, resume_flags
):
    """Against a sender that streams from byte 0 (--no-ext, like ftransfer) the held bytes are
    dropped from the stream; against Inlet they never travel. Both end byte-identical."""
    dest = tmp_path / "dest"
    sender = senders(source_tree)
    interrupted_receive(sender.code, dest, "photos/big.bin", 2 * 1024 * 1024)
    assert (dest / LOCK_FILENAME).exists()
    part = dest / "photos" / "big.bin.part"
    assert part.stat().st_size >= 2 * 1024 * 1024

    sender = senders(source_tree, *resume_flags)
    outcome = run_receiver(sender.code, dest)
    assert outcome.returncode == 0, outcome.stderr
    assert received_hashes(dest) == expected_hashes(source_tree)
    result = outcome.result
    assert result["resumed"] is True
    assert result["bytes_reused"] >= 2 * 1024 * 1024
    total = sum(f["size"] for f in result["files"])
    assert result["bytes_written"] == total - result["bytes_reused"]
    if resume_flags:  # legacy: everything travels again, the held bytes are dropped
        assert result["bytes_on_wire"] > total
    else:
        assert result["bytes_on_wire"] < total - 2 * 1024 * 1024 + 100_000


def test_corrupted_part_is_detected_on_resume(senders, tmp_path: Path, source_tree: Path):
    dest = tmp_path / "dest"
    sender = senders(source_tree)
    interrupted_receive(sender.code, dest, "photos/big.bin", 2 * 1024 * 1024)
    part = dest / "photos" / "big.bin.part"
    with open(part, "r+b") as handle:  # damage a byte inside the recorded prefix
        handle.seek(1000)
        byte = handle.read(1)
        handle.seek(1000)
        handle.write(bytes([byte[0] ^ 0xFF]))

    sender = senders(source_tree)
    outcome = run_receiver(sender.code, dest)
    assert outcome.returncode == 0, outcome.stderr
    assert received_hashes(dest) == expected_hashes(source_tree)
    log = (dest / "transfer_warnings.log").read_text()
    assert "photos/big.bin" in log and "not match" in log


def _corrupting_writes(monkeypatch, name: str, times: int) -> list[int]:
    """Flip one bit of the first chunk ``name`` receives, ``times`` times (a bad disk or RAM)."""
    hits: list[int] = []
    original = FileWriter.write_chunk

    def write_chunk(self: FileWriter, data) -> int:
        if self.lock_key == name and self.written == 0 and len(hits) < times and len(data):
            hits.append(1)
            damaged = bytearray(data)
            damaged[0] ^= 0x01
            return original(self, bytes(damaged))
        return original(self, data)

    monkeypatch.setattr(FileWriter, "write_chunk", write_chunk)
    return hits


@pytest.mark.parametrize("sender_flags", [(), ("--no-ext",)])
def test_hash_mismatch_is_retried_and_only_that_file_travels_again(
    senders, tmp_path: Path, source_tree: Path, monkeypatch, sender_flags
):
    hits = _corrupting_writes(monkeypatch, "photos/2024/a.jpg", times=1)
    sender = senders(source_tree, *sender_flags)
    receiver, events = receive_in_process(sender.code, tmp_path / "dest")
    assert sender.wait() == 0
    result = receiver.result
    assert hits == [1]
    assert result.ok, result.error
    assert received_hashes(tmp_path / "dest") == expected_hashes(source_tree)
    total = sum(f.size for f in result.files)
    assert total + 40_000 <= result.bytes_on_wire < total + 40_000 + 60_000
    assert isinstance(events[-1], TransferFinished) and events[-1].ok


def test_integrity_failure_after_three_attempts(
    senders, tmp_path: Path, source_tree: Path, monkeypatch
):
    hits = _corrupting_writes(monkeypatch, "photos/notes.txt", times=99)
    dest = tmp_path / "dest"
    sender = senders(source_tree)
    receiver, _ = receive_in_process(sender.code, dest)
    result = receiver.result
    assert len(hits) == 3
    assert not result.ok
    assert "failed verification after 3 attempts: photos/notes.txt" in result.error
    assert "It was kept as a .part file; receive it again to retry." in result.error  # one file
    assert not (dest / "photos" / "notes.txt").exists()  # never under its final name
    assert (dest / "photos" / "notes.txt.part").exists()
    assert (dest / "photos" / "big.bin").exists()
    assert lock_status(dest, "photos/notes.txt") == "failed"


def test_sender_that_closes_instead_of_resending_leaves_the_file_retryable(tmp_path: Path):
    files = [FakeFile("a.txt", b"alpha" * 1000), FakeFile("b.txt", b"beta" * 1000)]
    dest = tmp_path / "dest"
    fake = FakeSender(files, wrong_hashes={"b.txt"}, close_on_retry=True)
    receiver, _ = receive_in_process(fake.code, dest)
    fake.join()
    result = receiver.result
    assert not result.ok and result.resumable
    assert "instead of resending 1 file" in result.error
    assert "receive again into the same folder" in result.error
    assert fake.replies == [{"type": "retry_request", "failed_files": ["b.txt"], "attempt": 1}]
    assert (dest / "a.txt").read_bytes() == files[0].data
    assert not (dest / "b.txt").exists()
    assert lock_status(dest, "b.txt") == "failed"

    honest = FakeSender(files)  # the next connection: a.txt is skipped, b.txt fetched again
    receiver, _ = receive_in_process(honest.code, dest)
    honest.join()
    assert receiver.result.ok, receiver.result.error
    assert (dest / "b.txt").read_bytes() == files[1].data
    assert not (dest / "a_1.txt").exists()
    assert honest.replies[-1]["status"] == "completed"


def test_sender_killed_mid_stream_keeps_state_and_says_resume(tmp_path: Path):
    big = write_random(tmp_path / "src" / "huge.bin", 400 * 1024 * 1024, seed=5)
    dest = tmp_path / "dest"
    sender = start_sender(big)
    box: list[Receiver] = []

    def on_event(event: object) -> None:
        if isinstance(event, FileProgress) and event.held >= 8 * 1024 * 1024 and sender.proc:
            sender.proc.kill()  # the sender vanishes in the middle of the stream

    receiver = Receiver(parse_code(sender.code), dest, ReceiverOptions(), on_event=on_event)
    box.append(receiver)
    try:
        result = receiver.run()
    finally:
        sender.stop()
    assert not result.ok and result.resumable
    assert "closed the connection in the middle of the transfer" in result.error
    assert "resumed" in result.error
    assert (dest / LOCK_FILENAME).exists()
    assert not (dest / "huge.bin").exists()


def test_errors_a_person_can_hit_are_one_clear_line(senders, tmp_path: Path, source_tree: Path):
    def receive(code: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*INLET, "receive", code, "-o", str(tmp_path / "d")],
            capture_output=True,
            text=True,
            timeout=60,
        )

    malformed = receive("ocean-tiger")
    assert malformed.returncode != 0
    assert malformed.stderr.count("\n") == 1 and "has no ':'" in malformed.stderr

    with socket_free_port() as port:
        nothing = receive(f"127.0.0.1:{port}:ocean-tiger")
    assert nothing.returncode != 0 and "Nothing is listening at 127.0.0.1" in nothing.stderr
    assert nothing.stderr.count("\n") == 1

    sender = senders(source_tree)
    wrong = receive(sender.code.rsplit(":", 1)[0] + ":wrong-token")
    assert wrong.returncode != 0
    assert "typed the code wrong" in wrong.stderr and wrong.stderr.count("\n") == 1
    assert not (tmp_path / "d").exists() or not any((tmp_path / "d").iterdir())


def test_silent_sender_times_out_with_a_message(tmp_path: Path):
    import socket

    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        accepted: list[socket.socket] = []
        thread = threading.Thread(target=lambda: accepted.append(server.accept()[0]))
        thread.start()
        receiver, _ = receive_in_process(f"127.0.0.1:{port}:tok", tmp_path, idle_timeout=0.5)
        thread.join(5)
        for conn in accepted:
            conn.close()
    assert not receiver.result.ok
    assert (
        "sent nothing for 0 s" in receiver.result.error
        or "sent nothing for 1 s" in receiver.result.error
    )


def test_unsafe_names_are_refused_and_the_rest_lands(tmp_path: Path):
    files = [
        FakeFile("ok.txt", b"fine"),
        FakeFile("../escape.txt", b"evil"),
        FakeFile("sub/also-ok.txt", b"fine too"),
    ]
    dest = tmp_path / "dest"
    fake = FakeSender(files)
    receiver, _ = receive_in_process(fake.code, dest)
    fake.join()
    result = receiver.result
    assert not result.ok
    assert "refused for unsafe names: ../escape.txt" in result.error
    assert (dest / "ok.txt").read_bytes() == b"fine"
    assert (dest / "sub" / "also-ok.txt").read_bytes() == b"fine too"
    assert not (tmp_path / "escape.txt").exists()


class socket_free_port:
    """A port that was free a moment ago (bound, then closed)."""

    def __enter__(self) -> int:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    def __exit__(self, *exc: object) -> None:
        return None


def test_disk_full_stops_cleanly_and_resumes(senders, tmp_path: Path, source_tree: Path):
    """RLIMIT_FSIZE makes writes past 1 MiB fail with EFBIG, even as root."""
    dest = tmp_path / "dest"
    sender = start_sender(source_tree)
    limited = (
        "import resource, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
        "resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20)); "
        "from inlet.core.cli import main; sys.exit(main())"
    )
    try:
        done = subprocess.run(
            [INLET[0], "-c", limited, "receive", sender.code, "-o", str(dest)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        sender.stop()
    assert done.returncode != 0
    assert "disk is full" in done.stderr.lower() and "resume" in done.stderr.lower()
    assert done.stderr.strip().count("\n") == 0
    assert (dest / LOCK_FILENAME).exists()

    sender = senders(source_tree)
    outcome = run_receiver(sender.code, dest)
    assert outcome.returncode == 0, outcome.stderr
    assert received_hashes(dest) == expected_hashes(source_tree)
    assert outcome.result["bytes_reused"] > 0


def test_permission_denied_on_one_file_lets_the_others_finish(
    senders, tmp_path: Path, source_tree: Path, monkeypatch
):
    import errno
    import os

    real_open = os.open

    def guarded_open(path, flags, *args, **kwargs):
        if str(path).endswith("notes.txt.part") and flags & os.O_WRONLY:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", guarded_open)
    sender = senders(source_tree)
    receiver, _ = receive_in_process(sender.code, tmp_path / "dest")
    result = receiver.result
    assert not result.ok
    assert "could not be written: photos/notes.txt (permission denied" in result.error
    received = received_hashes(tmp_path / "dest")
    expected = expected_hashes(source_tree)
    del expected["photos/notes.txt"]
    assert received == expected


def test_resume_after_kill_sends_only_the_missing_bytes(senders, tmp_path: Path):
    """SIGKILL the receiving process at about half of a 200 MB file; resume puts at most the
    missing bytes plus 2 MiB on the wire (the whole .part is offered, the sender vouches)."""
    size = 200 * 1000 * 1000
    source = write_random(tmp_path / "src" / "movie.bin", size, seed=9)
    dest = tmp_path / "dest"
    part = dest / "movie.bin.part"
    sender = start_sender(source)
    receiver = subprocess.Popen(
        [*INLET, "receive", sender.code, "-o", str(dest), "--json"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(
            lambda: part.exists() and part.stat().st_size >= size // 2,
            60,
            "half of the file on disk",
        )
        receiver.kill()
        receiver.wait(10)
    finally:
        if receiver.poll() is None:
            receiver.kill()
        sender.stop()
    held = part.stat().st_size
    assert size // 2 <= held < size

    sender = senders(source)
    outcome = run_receiver(sender.code, dest)
    assert outcome.returncode == 0, outcome.stderr
    result = outcome.result
    assert result["resumed"] is True and result["bytes_reused"] == held
    assert result["bytes_on_wire"] <= (size - held) + 2 * 1024 * 1024
    assert received_hashes(dest) == {"movie.bin": tree_hashes(source.parent)["movie.bin"]}


def test_inlet_sender_falls_back_for_a_receiver_without_the_extension(
    senders, tmp_path: Path, source_tree: Path
):
    """An ftransfer-like receiver (--no-ext) answers a plain READY: the Inlet sender then
    streams exactly as ftransfer 1.0.1 does, and everything arrives."""
    sender = senders(source_tree)
    outcome = run_receiver(sender.code, tmp_path / "dest", "--no-ext")
    assert sender.wait() == 0
    assert outcome.returncode == 0, outcome.stderr
    assert received_hashes(tmp_path / "dest") == expected_hashes(source_tree)
