"""The guard against PySide6 6.12.0's emit() dropping a reference to True (see qtcompat)."""

import sys

import pytest
from PySide6.QtCore import QObject, QStringListModel, Signal

from inlet.gui.qtcompat import emit


class Source(QObject):
    changed = Signal(str, bool)


@pytest.mark.timeout(10)
def test_emitting_through_the_helper_keeps_true_alive(qtbot):
    source = Source()
    seen = []
    source.changed.connect(lambda name, value: seen.append(name))
    model = QStringListModel(["a"])
    before = sys.getrefcount(True)
    for _ in range(2000):  # more than True's whole reference count at start-up
        emit(source.changed, "x", True)
        emit(model.dataChanged, model.index(0), model.index(0))
    assert len(seen) == 2000
    assert abs(sys.getrefcount(True) - before) < 50
