"""Which wormhole servers to use: what was given, else the environment as for the ``wormhole``
command, else the public ones.

Its own small module so that building ``inlet receive``'s flags does not load the wormhole
receiver (a socket receive never needs it).
"""

from __future__ import annotations

import os

#: The public servers the ``wormhole`` command uses by default.
PUBLIC_MAILBOX = "ws://relay.magic-wormhole.io:4000/v1"
PUBLIC_RELAY = "tcp:transit.magic-wormhole.io:4001"
#: Environment variables the ``wormhole`` command reads for the same settings.
MAILBOX_ENV, RELAY_ENV = "WORMHOLE_RELAY_URL", "WORMHOLE_TRANSIT_HELPER"


def mailbox_url(given: str | None = None) -> str:
    return given or os.environ.get(MAILBOX_ENV) or PUBLIC_MAILBOX


def relay_hint(given: str | None = None) -> str:
    return given or os.environ.get(RELAY_ENV) or PUBLIC_RELAY
