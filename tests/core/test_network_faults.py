"""Dropped, damaged and stalled connections between a real ``inlet send`` and the receiver.

A loopback proxy (`tests/proxy.py`) sits in between and, per connection, cuts the stream at a
seeded random offset, flips one bit, or stops forwarding. The receiver runs in this process so
its `TransferResult` (error text, ``resumable``, bytes on the wire) is checked for every
connection, including the damaged ones. Invariants 2, 4 and 6 of DESIGN.md.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from inlet.core.codes import parse_code
from inlet.core.paths import LOCK_FILENAME, WARNINGS_LOG
from inlet.core.receiver import Receiver, ReceiverOptions, TransferResult

from ..helpers import SenderProcess, start_sender, tree_hashes, write_random
from ..proxy import NO_FAULT, Fault, FaultyProxy
from ..reliability import record

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """Several files, one of them multi-MiB, one empty: about 5.6 MB in all."""
    root = tmp_path / "src" / "set"
    write_random(root / "big.bin", 3 * 1024 * 1024 + 17, seed=11)
    write_random(root / "mid" / "two.bin", 2 * 1024 * 1024 - 5, seed=12)
    write_random(root / "mid" / "three.bin", 300_000, seed=13)
    write_random(root / "small.txt", 999, seed=14)
    (root / "empty.txt").write_bytes(b"")
    return root


def expected(root: Path) -> dict[str, str]:
    return {f"{root.name}/{k}": v for k, v in tree_hashes(root).items()}


def final_hashes(dest: Path) -> dict[str, str]:
    return {
        k: v
        for k, v in tree_hashes(dest).items()
        if not k.startswith(".transfer_lock") and not k.endswith((WARNINGS_LOG, ".part"))
    }


def assert_nothing_corrupt(dest: Path, want: dict[str, str]) -> None:
    """Invariant 2: every file under a final name is byte-identical to the source."""
    for name, digest in final_hashes(dest).items():
        assert want.get(name) == digest, f"{name} is under its final name but not verified"


def total_size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def receive(code: str, dest: Path, **options) -> TransferResult:
    options.setdefault("idle_timeout", 10)
    options.setdefault("connect_timeout", 10)
    return Receiver(parse_code(code), dest, ReceiverOptions(**options)).run()


def held_bytes(dest: Path) -> int:
    """Bytes of the transfer on disk: final files and .part files."""
    if not dest.exists():
        return 0
    return sum(
        p.stat().st_size
        for p in dest.rglob("*")
        if p.is_file() and not p.name.startswith(".transfer_lock") and p.name != WARNINGS_LOG
    )


@pytest.mark.parametrize(("flags", "cuts"), [((), 14), (("--no-ext",), 6)], ids=["inlet", "legacy"])
def test_cut_at_random_offsets_then_resume(tmp_path: Path, source: Path, flags, cuts: int):
    rng = random.Random(5150 + len(flags))
    want = expected(source)
    size = total_size(source)
    dest = tmp_path / "dest"
    sender: SenderProcess = start_sender(source, *flags)
    offsets: list[int] = []

    def plan(k: int) -> Fault:
        if k >= cuts:
            return NO_FAULT
        # Anywhere from the first handshake byte to the end of what is still missing.
        # One cut in four lands in the handshake or the file list (the first ~400 bytes).
        remaining = size - held_bytes(dest) if not flags else size
        offsets.append(rng.randint(1, 400 if rng.random() < 0.25 else remaining + 2000))
        return Fault(cut_at=offsets[-1])

    wire_total = 0
    sessions = 0
    resumable = 0
    try:
        with FaultyProxy(("127.0.0.1", parse_code(sender.code).port), plan) as proxy:
            code = proxy.code_for(sender.code)
            while True:
                result = receive(code, dest)
                sessions += 1
                wire_total += result.bytes_on_wire
                assert_nothing_corrupt(dest, want)
                if result.ok:
                    break
                assert sessions <= cuts, f"no progress after {cuts} cuts: {result.error}"
                assert proxy.links[-1].cut, result.error
                assert "closed the connection" in result.error, result.error
                assert result.resumable == (dest / LOCK_FILENAME).exists()
                resumable += result.resumable
            assert sender.wait(20) == 0
            down = proxy.bytes_down
    finally:
        sender.stop()
    assert final_hashes(dest) == want
    assert sessions >= cuts // 2, "the transfer finished before most cuts"
    early = sum(offset <= 400 for offset in offsets[: sessions - 1])
    mode = "Inlet extension" if not flags else "legacy (--no-ext)"
    record(
        f"connection cut at a random offset, {mode}",
        "proxy closes both sides after N bytes from the sender (seeded N), then resume",
        sessions - 1,
        f"each cut: “closed the connection in the middle of the transfer”; {early} cut(s) in "
        f"the handshake or file list; {resumable} of {sessions - 1} resumable (state on disk); "
        f"final files byte-identical; {down / 1e6:.1f} MB crossed the wire for "
        f"{size / 1e6:.1f} MB of files ({(down - size) / (sessions - 1) / 1e6:.2f} MB extra per "
        + (
            "cut: the data message in flight cannot be authenticated, so it is sent again)"
            if not flags
            else "cut: a legacy sender streams from byte 0 again; the receiver drops what it holds)"
        ),
        group="network",
        cuts=sessions - 1,
        offsets=offsets,
        bytes_down=down,
        bytes_on_wire=wire_total,
        size=size,
    )


def test_flipped_bit_fails_the_tag_and_nothing_corrupt_is_kept(tmp_path: Path, source: Path):
    """A flipped bit after the handshake: authentication fails (or, when it lands in a length
    field, the frame is refused or the stream stalls); nothing damaged gets a final name."""
    rng = random.Random(77)
    flips = 8
    want = expected(source)
    size = total_size(source)
    dest = tmp_path / "dest"
    sender = start_sender(source)
    faults: list[Fault] = []

    def plan(k: int) -> Fault:
        if k >= flips:
            return NO_FAULT
        # Past the handshake, within what this session still has to send.
        faults.append(
            Fault(
                flip_at=rng.randint(400, max(401, size - held_bytes(dest))),
                flip_bit=rng.randrange(8),
            )
        )
        return faults[-1]

    outcomes: dict[str, int] = {}
    try:
        with FaultyProxy(("127.0.0.1", parse_code(sender.code).port), plan) as proxy:
            code = proxy.code_for(sender.code)
            for k in range(flips):
                result = receive(code, dest, idle_timeout=2)
                assert_nothing_corrupt(dest, want)
                if result.ok:  # the flip landed beyond what this session still needed
                    outcomes["finished before the flipped byte"] = 1
                    break
                kind = _classify(result.error)
                outcomes[kind] = outcomes.get(kind, 0) + 1
                assert proxy.links[k].down > faults[k].flip_at or kind == "stall", result.error
            final = receive(code, dest) if not result.ok else result
            assert final.ok, final.error
            assert sender.wait(20) == 0
    finally:
        sender.stop()
    assert final_hashes(dest) == want
    assert outcomes.get("authentication", 0) >= flips // 2, outcomes
    record(
        "one bit flipped in transit (seeded offset and bit)",
        "proxy flips one bit of byte N of the sender's stream, then resume",
        sum(outcomes.values()),
        "; ".join(f"{n}× {kind}" for kind, n in sorted(outcomes.items()))
        + "; nothing damaged under a final name; resume byte-identical",
        group="network",
        outcomes=outcomes,
    )


def _classify(error: str) -> str:
    """Which clear message a damaged session ended with (anything else fails the test)."""
    if "failed authentication: the data was damaged or tampered with in transit" in error:
        return "authentication"
    if ("at most" in error and "is allowed" in error) or "-byte frame" in error:
        return "length refused"
    if "instead of the end marker" in error or "ended the stream early" in error:
        return "framing"
    if "sent nothing for" in error:
        return "stall"
    raise AssertionError(f"unclear error for a damaged stream: {error}")


@pytest.mark.parametrize(
    ("where", "stall_at"),
    [("in the handshake", 20), ("in the file list", 300), ("mid-stream", 1_500_000)],
)
def test_stalled_connection_times_out_and_says_so(tmp_path: Path, source: Path, where, stall_at):
    want = expected(source)
    dest = tmp_path / "dest"
    sender = start_sender(source)
    try:
        with FaultyProxy(
            ("127.0.0.1", parse_code(sender.code).port),
            lambda k: Fault(stall_at=stall_at) if k == 0 else NO_FAULT,
        ) as proxy:
            code = proxy.code_for(sender.code)
            result = receive(code, dest, idle_timeout=1)
            assert proxy.links[0].stalled.is_set()
            assert not result.ok
            assert "The sender sent nothing for 1 s." in result.error
            assert "Check the network and that the sender is still running" in result.error
            assert result.resumable == (dest / LOCK_FILENAME).exists()
            assert_nothing_corrupt(dest, want)
            resumed = receive(code, dest)
            assert resumed.ok, resumed.error
    finally:
        sender.stop()
    assert final_hashes(dest) == want
    record(
        f"connection stalls {where} (after {stall_at:,} bytes)",
        "proxy stops forwarding, sockets stay open; receiver idle_timeout = 1 s; then resume",
        1,
        f"“{result.error.split('. ')[0]}.” after {result.seconds:.1f} s; resume byte-identical",
        group="network",
        seconds=result.seconds,
    )
