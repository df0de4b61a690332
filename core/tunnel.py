"""Inlet to Inlet through a magic-wormhole: meet at the mailbox, then Inlet's own protocol.

``inlet send --wormhole`` prints a wormhole code. The two ends meet under it at the mailbox
server (magic-wormhole's SPAKE2: a wrong code fails there), exchange transit hints, and connect
directly when they can, else through the transit relay. Instead of the stock file offer the
sender makes an *Inlet offer*: the token of Inlet's own handshake (sent inside the wormhole's
end-to-end encryption, so only whoever held the code learns it) and what it offers. Over the
transit connection both ends then run Inlet's resumable protocol unchanged: `Bridge` joins the
transit's encrypted records to a local socket pair, and the socket drivers (`Sender`,
`Receiver`) use their end of it like any TCP connection. So a receive that stopped resumes
from what is on disk and only the missing bytes travel; since a wormhole code works once, the
sender prints a new one for each connection until a receiver has everything.

Twisted stays in its reactor thread (`wormhole.reactor`); the drivers' threads only block on
their sockets. The bridge is flow-controlled both ways (each side's transport pauses the
other), so neither end can fill the other's memory.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from twisted.internet import protocol

from .codes import TransferCode, is_pake_token
from .errors import InletError, PeerGoneError
from .peertext import safe_text
from .wormhole import reactor as loop

#: The key of the Inlet offer in the sender's ``offer`` message (a stock receiver refuses it).
OFFER_KEY = "inlet"
OFFER_VERSION = 1
#: The receiver's yes to an Inlet offer.
ACK = {"answer": {"inlet_ack": "ok"}}
#: The host the drivers are told of (the lock records it; the wormhole has no address).
TUNNEL_HOST = "wormhole"
#: What ``connectConsumer`` is told to expect: never reached, so connection loss is reported.
_ENDLESS = 1 << 62
_TOKEN_LIMIT = 200
CLOSE_SECONDS = 10


@dataclass(frozen=True)
class InletOffer:
    """What an Inlet sender offers through the wormhole."""

    token: str
    files: int
    size: int

    def to_message(self) -> dict:
        body = {"v": OFFER_VERSION, "token": self.token, "files": self.files, "size": self.size}
        return {"offer": {OFFER_KEY: body}}

    def code(self) -> TransferCode:
        """The code Inlet's driver runs its handshake with (the address is the tunnel)."""
        return TransferCode(TUNNEL_HOST, 0, self.token)


def inlet_offer(offer: object) -> InletOffer | None:
    """The Inlet offer in a wormhole ``offer`` (checked like any peer input), or None when it
    is not one (a stock offer) or is malformed."""
    body = offer.get(OFFER_KEY) if isinstance(offer, dict) else None
    if not isinstance(body, dict) or body.get("v") != OFFER_VERSION:
        return None
    token, files, size = body.get("token"), body.get("files"), body.get("size")
    if not isinstance(token, str) or len(token) > _TOKEN_LIMIT or not is_pake_token(token):
        return None
    if not re.fullmatch(r"[0-9]+-[A-Za-z0-9-]+", token):
        return None
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in (files, size)):
        return None
    return InletOffer(token, files, size)


# -- the bridge --------------------------------------------------------------------------------


class Bridge:
    """A transit connection's records as a local socket: what one end writes arrives at the
    other end's socket, in order; when either side closes, so does the other.

    Build it in any thread; `open` (reactor thread) wires it, `socket` is the drivers' end.
    """

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.socket, self._ours = socket.socketpair()

    def open(self) -> None:
        """In the reactor thread: adopt our end of the pair and join it to the connection."""
        bridge = self

        class Factory(protocol.Factory):
            def buildProtocol(self, addr: object) -> _LocalEnd:
                return _LocalEnd(bridge.connection)

        try:
            loop.reactor().adoptStreamConnection(self._ours.fileno(), socket.AF_UNIX, Factory())
        finally:
            self._ours.close()  # the reactor holds its own duplicate

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.socket.close()


class _LocalEnd(protocol.Protocol):
    """The reactor's end of the socket pair: bytes from the driver go out as records, records
    from the peer come in as bytes; each transport is the other's producer (flow control)."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    def connectionMade(self) -> None:
        self.connection.registerProducer(self.transport, True)
        done = self.connection.connectConsumer(self, expected=_ENDLESS)
        done.addBoth(self._peer_gone)

    # consumer of the connection's records
    def registerProducer(self, producer: Any, streaming: bool) -> None:
        self.transport.registerProducer(producer, streaming)

    def unregisterProducer(self) -> None:
        with contextlib.suppress(Exception):
            self.transport.unregisterProducer()

    def write(self, record: bytes) -> None:
        self.transport.write(record)

    def _peer_gone(self, _: object) -> None:
        self.transport.loseConnection()  # once what was written is flushed

    # the driver's bytes
    def dataReceived(self, data: bytes) -> None:
        self.connection.send_record(data)

    def connectionLost(self, reason: object = None) -> None:
        with contextlib.suppress(Exception):
            self.connection.unregisterProducer()
        self.connection.close()


# -- the receiver's side -------------------------------------------------------------------------


def receive_inlet(wormhole_receiver: Any, offer: InletOffer) -> None:
    """Take over a `WormholeReceiver` whose sender made an Inlet offer: say yes, connect the
    transit, and run Inlet's `Receiver` over it into the same folder (resuming what is there).
    Fills the wormhole receiver's result; raises InletError when the receive failed."""
    from .receiver import Receiver, ReceiverOptions

    wr = wormhole_receiver
    wr.answer(ACK)
    connection = wr.connect_transit()
    wr.result.via = connection.describe()
    bridge = Bridge(connection)
    try:
        wr.step(bridge.open)
        receiver = Receiver(
            offer.code(),
            wr.dest_dir,
            ReceiverOptions(overwrite=wr.options.overwrite),
            on_event=lambda event: None if _is_finish(event) else wr.emit(event),
            transport=lambda: (bridge.socket, "the wormhole"),
        )
        result = receiver.run()
    finally:
        bridge.close()
    wr.result.files = result.files
    wr.result.bytes_on_wire = result.bytes_on_wire
    wr.result.bytes_written = result.bytes_written
    if not result.ok:
        hint = (
            "What arrived is kept: ask the sender for its new code (it prints one while it "
            "runs) and receive into the same folder to resume."
            if result.resumable
            else ""
        )
        raise InletError(result.error or "The transfer failed.", hint)
    wr.result.message_text = result.message_text
    wr.result.ok = True


def _is_finish(event: object) -> bool:
    from .events import TransferFinished

    return isinstance(event, TransferFinished)  # the wormhole receiver reports the end itself


# -- the sender's side ---------------------------------------------------------------------------


@dataclass
class TunnelOptions:
    mailbox_url: str
    relay: str
    no_listen: bool = False


class Meeting:
    """One wormhole for one receiver: a code, the mailbox conversation, a transit connection.

    Every method runs in the reactor thread (call them through `wormhole.reactor.call`)."""

    def __init__(self, options: TunnelOptions) -> None:
        self.options = options
        self._wormhole: Any = None
        self._connection: Any = None

    def allocate(self) -> Any:
        """A fresh code from the mailbox server (a Deferred of it)."""
        from wormhole import create

        from .wormhole.receiver import APPID

        self._wormhole = create(APPID, self.options.mailbox_url, loop.reactor())
        self._wormhole.allocate_code()
        return self._wormhole.get_code()

    def connect(self, offer: InletOffer) -> Any:
        """Wait for the receiver, make the offer, connect the transit (a Deferred of the
        connection)."""
        from twisted.internet.defer import ensureDeferred
        from wormhole.transit import TransitSender

        from .wormhole.receiver import APPID

        wormhole = self._wormhole

        def send(data: dict) -> None:
            wormhole.send_message(json.dumps(data).encode("utf-8"))

        async def conversation() -> Any:
            await wormhole.get_verifier()  # the receiver came, with the right code
            transit = TransitSender(
                self.options.relay or None, no_listen=self.options.no_listen, reactor=loop.reactor()
            )
            key = wormhole.derive_key(APPID + "/transit-key", transit.TRANSIT_KEY_LENGTH)
            transit.set_transit_key(key)
            hints = await transit.get_connection_hints()
            send(
                {"transit": {"abilities-v1": transit.get_connection_abilities(), "hints-v1": hints}}
            )
            send(offer.to_message())
            while True:
                data = _json(await wormhole.get_message())
                if "error" in data:
                    raise PeerGoneError(
                        f"The receiver declined: {safe_text(data['error'])}.",
                        "It may not be an Inlet receiver: 'inlet receive CODE' takes this code.",
                    )
                theirs = data.get("transit")
                if isinstance(theirs, dict):
                    found = theirs.get("hints-v1")
                    transit.add_connection_hints(found if isinstance(found, list) else [])
                if data.get("answer") == ACK["answer"]:
                    break
            self._connection = await transit.connect()
            return self._connection

        return ensureDeferred(conversation())

    def close(self) -> Any:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()
        wormhole, self._wormhole = self._wormhole, None
        if wormhole is None:
            return None
        closing = wormhole.close()
        closing.addErrback(lambda _: None)
        closing.addTimeout(CLOSE_SECONDS, loop.reactor())
        return closing


def _json(message: bytes) -> dict:
    try:
        data = json.loads(message.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        data = None
    if not isinstance(data, dict):
        raise PeerGoneError("The receiver sent a message that is not JSON.")
    return data


def send_through_wormhole(
    sender: Any,
    options: TunnelOptions,
    show_code: Callable[[str], None],
    log: Callable[[str], None],
) -> None:
    """Serve ``sender`` (a `Sender` with its token) to receivers through wormholes, one code
    per connection, until one has every file."""
    offer = InletOffer(sender.token, len(sender.offers), sum(offer.size for offer in sender.offers))
    while True:
        meeting = Meeting(options)
        try:
            show_code(_step(meeting.allocate))
            connection = _step(meeting.connect, offer)
            log(f"A receiver came through the wormhole ({connection.describe()}).")
            bridge = Bridge(connection)
            _step(bridge.open)
            done = sender.serve_connection(bridge.socket, "the wormhole", log)
        finally:
            with contextlib.suppress(Exception):
                _step(meeting.close)
        if done:
            return
        log("Waiting for the receiver to come back with the new code below (it resumes).")


def _step(function: Callable[..., Any], *args: Any) -> Any:
    """One step in the reactor, waited for; the wormhole's failures become sentences."""
    from wormhole.errors import LonelyError, ServerConnectionError, WrongPasswordError

    try:
        return loop.call(function, *args)
    except WrongPasswordError:
        raise InletError(
            "A receiver used a wrong wormhole code (the key exchange failed).",
            "Start inlet send --wormhole again for a new code.",
        ) from None
    except ServerConnectionError as err:
        raise InletError(
            f"Could not reach the wormhole mailbox server ({safe_text(err)}).",
            "Check the network, or choose a server with --mailbox.",
        ) from None
    except LonelyError:
        raise InletError("The wormhole closed before a receiver came.") from None
