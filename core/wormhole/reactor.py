"""Twisted's reactor in a thread of its own, for magic-wormhole's client library.

The library is written for Twisted, whose reactor is one per process and cannot be started
twice. Inlet's callers are plain threads (the CLI's main thread, the window's worker `QThread`),
so the reactor runs in one daemon thread, started on first use and stopped when the process
exits; callers hand it work with `call` (blocks the caller, never the reactor) or `post`
(returns at once, safe from any thread: how a cancel reaches it). The GUI thread never runs
Twisted code.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Callable
from typing import Any

_lock = threading.Lock()
_thread: threading.Thread | None = None
_stopped = False


def reactor() -> Any:
    """The running reactor (started in its thread on first use)."""
    global _thread
    from twisted.internet import reactor as the_reactor

    with _lock:
        if _stopped:
            raise RuntimeError("the Twisted reactor was stopped (Inlet is shutting down)")
        if _thread is None:
            started = threading.Event()
            the_reactor.callWhenRunning(started.set)
            _thread = threading.Thread(
                target=the_reactor.run,
                kwargs={"installSignalHandlers": False},  # signals belong to the main thread
                name="inlet-twisted",
                daemon=True,
            )
            _thread.start()
            started.wait()
            atexit.register(stop)
    return the_reactor


def call(function: Callable[..., Any], *args: Any) -> Any:
    """Run ``function(*args)`` in the reactor thread and wait for its result; a Deferred it
    returns is waited for too. Its exception is raised here."""
    from twisted.internet.threads import blockingCallFromThread

    return blockingCallFromThread(reactor(), function, *args)


def post(function: Callable[..., Any], *args: Any) -> None:
    """Run ``function(*args)`` in the reactor thread soon; returns at once (any thread)."""
    reactor().callFromThread(function, *args)


def stop(timeout: float = 5.0) -> None:
    """Stop the reactor and wait for its thread (at exit; it cannot be started again)."""
    global _thread, _stopped
    with _lock:
        thread, _thread = _thread, None
        _stopped = thread is not None
    if thread is None or not thread.is_alive():
        return
    from twisted.internet import reactor as the_reactor

    the_reactor.callFromThread(the_reactor.stop)
    thread.join(timeout)
