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

    def start(*args, **kwargs) -> SenderProcess:
        sender = start_sender(*args, **kwargs)
        started.append(sender)
        return sender

    yield start
    for sender in started:
        sender.stop()


@pytest.fixture(scope="session")
def wormhole_servers(tmp_path_factory):
    """magic-wormhole's mailbox server and transit relay on loopback for the whole session
    (tests/wormhole_servers.py: ``mailbox_url``, ``relay_hint``, ``cli()``, ``relay_usage()``)."""
    from .wormhole_servers import local_servers

    with local_servers(tmp_path_factory.mktemp("wormhole-servers")) as servers:
        yield servers


@pytest.fixture
def wormhole_cli(wormhole_servers):
    """Start stock ``wormhole`` commands against the local servers (``wormhole_cli("send",
    "--code", CODE, PATH)``); every one is killed when the test ends."""
    from .wormhole_servers import start_wormhole

    started = []

    def start(*args):
        process = start_wormhole(wormhole_servers, *args)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def mdns_loopback() -> str:
    """The address mDNS tests use (loopback, with multicast working on it); skips, saying why,
    where multicast over loopback cannot be made to work."""
    from .mdns import LOOPBACK, loopback_multicast

    problem = loopback_multicast()
    if problem is not None:
        pytest.skip(problem)
    return LOOPBACK
