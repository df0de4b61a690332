"""The window's tests drive it with `ScriptedReceiver` scripts; this pins the scripts to what
the real receiver emits, so a window that passes them works with the real one too."""

from __future__ import annotations

from pathlib import Path

import pytest

from inlet.core.codes import parse_code
from inlet.core.events import (
    FileProgress,
    FileStatusChanged,
    TransferFinished,
    TransferStarted,
)
from inlet.core.receiver import Receiver, ReceiverOptions

from ..helpers import write_random
from .conftest import SAMPLE_FILES, ScriptedReceiver, block_until_cancelled, complete_all

pytestmark = pytest.mark.timeout(60)


def shape(events: list[object]) -> dict:
    """What a window relies on: the first and last event, and per file its status changes
    (status, previous, whether a final path came) and the last progress it saw."""
    per_file: dict[str, list[tuple]] = {}
    last_progress: dict[str, tuple[int, int]] = {}
    for event in events:
        if isinstance(event, FileStatusChanged):
            per_file.setdefault(event.name, []).append(
                (event.status, event.previous, event.final_path is not None)
            )
        elif isinstance(event, FileProgress):
            last_progress[event.name] = (event.held, event.size)
    first, last = events[0], events[-1]
    return {
        "first": type(first).__name__,
        "names": sorted(f.name for f in first.files) if isinstance(first, TransferStarted) else [],
        "last": (type(last).__name__, getattr(last, "ok", None)),
        "per_file": per_file,
        "last_progress": last_progress,
    }


@pytest.mark.parametrize("flags", [(), ("--no-ext",)])
def test_the_fresh_transfer_script_emits_what_the_real_receiver_emits(
    senders, tmp_path: Path, flags
) -> None:
    src = tmp_path / "src"
    for name, size in SAMPLE_FILES:
        write_random(src / name, size)
    sender = senders(*sorted({src / n.split("/")[0] for n, _ in SAMPLE_FILES}), *flags)
    real: list[object] = []
    Receiver(
        parse_code(sender.code), tmp_path / "real", ReceiverOptions(), on_event=real.append
    ).run()

    scripted: list[object] = []
    double = ScriptedReceiver(
        complete_all(SAMPLE_FILES), sender.code, tmp_path / "scripted", None, scripted.append
    )
    double.run()
    assert isinstance(real[-1], TransferFinished) and real[-1].ok, real[-1]
    assert shape(scripted) == shape(real)


def test_the_cancel_script_emits_what_the_real_receiver_emits_on_cancel(
    senders, tmp_path: Path
) -> None:
    """`block_until_cancelled`: the first file part-way, then a cancel ends it, resumable."""
    files = [("big.bin", 8 << 20), ("later.txt", 10)]
    src = tmp_path / "src"
    for name, size in files:
        write_random(src / name, size)
    sender = senders(src / "big.bin", src / "later.txt")
    real: list[object] = []

    def on_event(event: object) -> None:
        real.append(event)
        if isinstance(event, FileProgress) and 0 < event.held < event.size:
            receiver.cancel()  # a person presses Cancel while the first file arrives

    receiver = Receiver(parse_code(sender.code), tmp_path / "real", ReceiverOptions(), on_event)
    receiver.run()

    scripted: list[object] = []
    double = ScriptedReceiver(
        block_until_cancelled(files), sender.code, tmp_path / "scripted", None, scripted.append
    )
    double.cancel()  # pressed before the script waits: it ends at once
    double.run()

    def cancel_shape(events: list[object]) -> dict:
        seen = shape(events)
        last = events[-1]
        held, size = seen["last_progress"]["big.bin"]
        return {
            **{k: seen[k] for k in ("first", "names", "last", "per_file")},
            "part_way": 0 < held < size,
            "resumable": getattr(last, "resumable", None),
            "cancelled": "cancelled" in (getattr(last, "error", "") or ""),
        }

    assert cancel_shape(scripted) == cancel_shape(real)
