"""Drive the window's worker (`inlet.gui.worker.ReceiveWorker`) in a process of its own.

The crash test kills this process with SIGKILL at random moments. It receives exactly as the
window does: the worker runs the core `Receiver`, buffers its events and delivers them in
batches from its pump thread. The factory keeps a reference to the receiver so the last line
printed is the same JSON object ``inlet receive --json`` prints.

Usage: ``QT_QPA_PLATFORM=offscreen python _worker_child.py CODE DEST``
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication

from inlet.core.codes import parse_code
from inlet.core.receiver import Receiver
from inlet.gui.worker import ReceiveRequest, ReceiveWorker


def main() -> int:
    code, dest = sys.argv[1], Path(sys.argv[2])
    app = QCoreApplication([])  # noqa: F841 - signals need an application object
    receivers: list[Receiver] = []

    def factory(*args, **kwargs) -> Receiver:
        receivers.append(Receiver(*args, **kwargs))
        return receivers[-1]

    finished: list[object] = []
    worker = ReceiveWorker(receiver_factory=factory)
    worker.transferFinished.connect(finished.append)
    worker.receive(ReceiveRequest(parse_code(code), dest))
    result = receivers[-1].result.to_json()
    print(json.dumps(result), flush=True)
    ok = bool(finished) and getattr(finished[-1], "ok", False)
    if not ok:
        print(getattr(finished[-1], "error", "no result"), file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
