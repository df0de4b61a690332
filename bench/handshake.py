"""Milliseconds per handshake, both kinds, measured in the same run.

1. *in memory*: the two sans-I/O machines pumped against each other until the receiver has the
   metadata: the CPU cost of each handshake alone (SPAKE2 in pure Python vs X25519 in OpenSSL);
2. *over loopback*: a real `Sender` serving in this process and `Receiver`s fetching one small
   file: what a person waits for, handshake included, per kind.

Run: ``python bench/handshake.py`` (``--rounds N``, ``--json PATH``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import measure, median

from inlet.core import wire
from inlet.core.codes import generate_token, parse_code
from inlet.core.receiver import Receiver, ReceiverOptions
from inlet.core.sender import Sender, SenderOptions

KINDS = {"inlet (SPAKE2)": True, "ftransfer (X25519 + challenge)": False}


def in_memory(pake: bool) -> float:
    token = generate_token(pake=pake)
    sender = wire.SenderConnection(token, pake=pake)
    receiver = wire.ReceiverConnection(token, pake=pake)
    started = time.perf_counter()
    sender.start()
    while True:
        receiver.receive_data(sender.data_to_send())
        event = receiver.next_event()
        if isinstance(event, wire.Metadata):
            return time.perf_counter() - started
        sender.receive_data(receiver.data_to_send())
        if isinstance(sender.next_event(), wire.Authenticated):
            sender.send_metadata([("a.txt", 1)])


def over_loopback(pake: bool, rounds: int, root: Path) -> list[float]:
    """Seconds per whole small receive (connect, handshake, one file, verify)."""
    source = root / "a.txt"
    source.write_bytes(b"x")
    times = []
    for i in range(rounds):
        options = SenderOptions(port=0, bind="127.0.0.1", extension=pake)
        sender = Sender.for_paths([str(source)], options)
        code = parse_code(str(sender.listen()))
        thread = threading.Thread(target=sender.serve, daemon=True)
        thread.start()
        started = time.perf_counter()
        result = Receiver(code, root / f"{pake}-{i}", ReceiverOptions()).run()
        times.append(time.perf_counter() - started)
        thread.join(10)
        assert result.ok, result.error
    return times


def run(rounds: int) -> dict:
    figures: dict = {}
    with tempfile.TemporaryDirectory(prefix="inlet-handshake-") as tmp:
        for name, pake in KINDS.items():
            memory = [in_memory(pake) for _ in range(rounds)]
            loopback = over_loopback(pake, max(3, rounds // 4), Path(tmp))
            figures[name] = {
                "in_memory_ms": round(median(memory) * 1000, 2),
                "loopback_receive_ms": round(median(loopback) * 1000, 1),
            }
    return {"rounds": rounds, "kinds": figures}


def report(res: dict) -> None:
    print(f"median of {res['rounds']} handshakes (in memory) and of small receives (loopback)")
    for name, fig in res["kinds"].items():
        print(
            f"  {name:32} {fig['in_memory_ms']:7.2f} ms per handshake, "
            f"{fig['loopback_receive_ms']:7.1f} ms per whole 1-byte receive"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--json")
    args = parser.parse_args()
    measure(lambda: run(args.rounds), report, args.json)


if __name__ == "__main__":
    main()
