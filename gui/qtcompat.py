"""Work around a PySide6 defect that would crash the window after a few hundred signals.

In PySide6 6.12.0, ``SignalInstance.emit()`` (and ``emit`` of Qt's own signals such as
``dataChanged``) returns ``True`` without taking a reference to it. Every call from Python then
drops one reference the interpreter never gave away, and once ``True``'s count reaches zero the
process aborts with "Fatal Python error: bool_dealloc". A transfer emits hundreds of signals a
minute, so the window would die within minutes.

Every emit in the window goes through `emit()` below. It probes once, at import, whether the
installed PySide6 has the defect, and if so gives the missing reference back after each call;
with a fixed PySide6 it is a plain ``signal.emit``.
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any

from PySide6.QtCore import QObject, Signal

_PROBES = 16


class _Probe(QObject):
    ping = Signal()


def _emit_drops_a_reference_to_true() -> bool:
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(_PROBES):
        probe.ping.emit()
    lost = before - sys.getrefcount(True)
    for _ in range(max(0, lost)):
        _give_back(True)  # repair what the probe itself took
    return lost >= _PROBES


def _give_back(value: bool) -> None:
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(value))


EMIT_DROPS_TRUE = _emit_drops_a_reference_to_true()


def emit(signal: Any, *args: Any) -> None:
    """``signal.emit(*args)``, made safe on a PySide6 whose emit drops a reference to True."""
    result = signal.emit(*args)
    if EMIT_DROPS_TRUE and isinstance(result, bool):
        _give_back(result)
