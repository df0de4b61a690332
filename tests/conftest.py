"""Suite-wide settings: Qt renders offscreen so the tests need no screen."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


import pytest

from .helpers import SenderProcess, start_sender


@pytest.fixture
def senders():
    """Start real ``inlet send`` processes (``senders(PATH, *flags)``); every one is stopped
    when the test ends, however it ends."""
    started: list[SenderProcess] = []

    def start(*args) -> SenderProcess:
        sender = start_sender(*args)
        started.append(sender)
        return sender

    yield start
    for sender in started:
        sender.stop()
