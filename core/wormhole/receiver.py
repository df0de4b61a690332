"""`WormholeReceiver`: receive what a stock ``wormhole send`` offers, through its servers.

The conversation is magic-wormhole's file-transfer protocol, spoken with its client library:
meet the sender at the mailbox (rendezvous) server under the code, run SPAKE2 there (a wrong
code fails here, and the code is used up), read the sender's transit hints and offer, answer
with ours and accept or decline, then take the data over the transit connection (direct, or
through the transit relay) and answer with the SHA-256 of the stream.

`run()` blocks its caller's thread like the socket `Receiver` and has the same controls, so the
CLI and the window's worker drive either one. Twisted runs in its own thread (`reactor`): each
step of the conversation is handed to it and waited for; the data flows back through `_Inbox`,
a bounded buffer that pauses the connection when the writer falls behind, so a fast sender
cannot fill memory. `cancel()` is safe from any thread: it is posted to the reactor, which
cancels whatever is waited for and ends the stream.
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import json
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..crashlog import unexpected_error
from ..errors import DiskFullError, InletError, PeerGoneError, WrongTokenError
from ..events import TransferFinished
from ..peertext import safe_text
from ..progress import format_size, plural
from ..receive.incoming import IncomingFile
from ..store.destination import Destination
from . import reactor as loop
from .landing import Landing, TransferStopped
from .offer import FILE, TEXT, Offer, OfferRefused, parse_offer
from .servers import PUBLIC_MAILBOX, PUBLIC_RELAY

#: The application id and transit-key purpose of magic-wormhole's file transfer (its CLI's).
APPID = "lothar.com/wormhole/text-or-file-xfer"
#: Bytes held between the connection and the writer before the connection is paused.
INBOX_BYTES = 8 << 20
CLOSE_SECONDS = 10


class CancelledError(InletError):
    """The person cancelled the wormhole transfer."""

    hint = "Files completed before that were kept; a wormhole code works once: ask for a new one."


class DeclinedError(InletError):
    """The offer was declined on this side."""

    hint = "Nothing was written; the sender was told."


@dataclass
class WormholeOptions:
    """How to reach the servers and what to do with an offer.

    ``accept``: asked (in `run`'s thread) whether to take an offer; None takes every offer
    that passes the checks. ``no_listen``: offer the sender no direct address of ours (with
    ``wormhole send --no-listen`` the data then has to go through the relay)."""

    mailbox_url: str = PUBLIC_MAILBOX
    relay: str = PUBLIC_RELAY
    overwrite: bool = False
    accept: Callable[[Offer], bool] | None = None
    no_listen: bool = False


@dataclass
class WormholeResult:
    """What `run` returns; the same ``--json`` shape as the socket receiver's result."""

    ok: bool = False
    error: str | None = None
    files: list[IncomingFile] | None = None
    bytes_on_wire: int = 0
    bytes_written: int = 0
    seconds: float = 0.0
    message_text: str | None = None
    offer: Offer | None = None
    via: str | None = None  # how the data came: the transit's description of the connection

    def to_json(self) -> dict:
        return {
            "ok": self.ok,
            "files": [f.to_json() for f in self.files or ()],
            "bytes_on_wire": self.bytes_on_wire,
            "bytes_written": self.bytes_written,
            "bytes_reused": 0,
            "seconds": round(self.seconds, 3),
            "resumed": False,
            "message": self.message_text,
            "error": self.error,
        }

    def json_pieces(self) -> Iterator[str]:
        yield json.dumps(self.to_json())


class WormholeReceiver:
    """One receive from a wormhole code. ``run()`` never raises for what a person can hit."""

    def __init__(
        self,
        code: str,
        dest_dir: Path,
        options: WormholeOptions | None = None,
        on_event: Callable[[object], None] | None = None,
    ) -> None:
        self.code = code
        self.dest_dir = Path(dest_dir).expanduser().absolute()
        self.options = options or WormholeOptions()
        self._emit_callback = on_event
        self._cancelled = threading.Event()
        self._overwrite: dict[str, bool] = {}
        self.result = WormholeResult()
        # reactor-thread state
        self._wormhole: Any = None
        self._pipe: Any = None
        self._waiting: Any = None  # the Deferred `step` waits for, cancelled by `cancel`
        self._transit: Any = None
        self._inbox = _Inbox()

    # -- controls (any thread) ------------------------------------------------------------------

    def cancel(self) -> None:
        self._cancelled.set()
        self._inbox.end(CancelledError("The transfer was cancelled."))
        with contextlib.suppress(RuntimeError):
            loop.post(self._abort)

    def set_overwrite(self, name: str, overwrite: bool) -> None:
        self._overwrite[name] = overwrite

    def overwrite_for(self, name: str) -> bool:
        return self._overwrite.get(name, self.options.overwrite)

    # -- the run (its caller's thread) ----------------------------------------------------------

    def run(self) -> WormholeResult:
        started = time.monotonic()
        result = self.result
        try:
            self._receive()
        except InletError as err:
            result.ok, result.error = False, str(err)
        except KeyboardInterrupt:
            self.cancel()
            raise
        except Exception as err:  # a bug: one sentence, the traceback in the log
            result.ok, result.error = False, unexpected_error(err)
        finally:
            with contextlib.suppress(Exception):
                loop.call(self._close)
            result.seconds = time.monotonic() - started
        if self._cancelled.is_set() and not result.ok:
            result.error = str(CancelledError("The transfer was cancelled."))
        self.emit(
            TransferFinished(ok=result.ok, error=result.error, message_text=result.message_text)
        )
        return result

    def _receive(self) -> None:
        result = self.result
        self._check_destination()
        self.step(self._open)
        raw = self.step(self._until_offer)
        from ..tunnel import inlet_offer, receive_inlet  # Inlet to Inlet: its own protocol

        if (inlet := inlet_offer(raw)) is not None:
            return receive_inlet(self, inlet)
        try:
            offer = parse_offer(raw)
        except OfferRefused as err:
            self._tell_sender_no(err.answer)
            raise
        result.offer = offer
        self.emit(offer)
        if offer.kind == TEXT:
            self.step(self._send, {"answer": {"message_ack": "ok"}})
            result.message_text = offer.text
            result.ok = True
            return
        self._check_space(offer)
        accept = self.options.accept
        if accept is not None and not accept(offer):
            self._tell_sender_no("transfer rejected")
            raise DeclinedError(f"You declined {offer.describe()}.")
        if self._cancelled.is_set():
            self._tell_sender_no("transfer rejected")
            raise CancelledError("The transfer was cancelled.")
        with Destination(self.dest_dir, create=True) as destination:
            landing = Landing(destination, offer, self.overwrite_for, self.emit)
            result.via = self.step(self._accept, offer.size)
            # the sender checks the SHA-256 of its stream; a file's stream is the file, whose
            # writer hashes it anyway (once is enough: 1 GiB costs ~2 s of CPU per hash)
            hasher = None if offer.kind == FILE else hashlib.sha256()
            try:
                landing.receive(self._inbox.chunks(hasher))
            finally:
                result.files = landing.files
                result.bytes_on_wire = landing.stream_bytes
                result.bytes_written = landing.landed_bytes
        failed = [f for f in result.files if f.status != "completed"]
        if failed:  # the sender hears it: its wormhole says the transfer failed
            self.step(self._ack, None, f"{len(failed)} file(s) could not be saved")
        else:
            self.step(self._ack, hasher.hexdigest() if hasher else result.files[0].sha256)
        if failed:
            shown = ", ".join(safe_text(f.name) for f in failed[:3])
            more = f" and {len(failed) - 3:,} more" if len(failed) > 3 else ""
            raise InletError(
                f"{len(failed):,} of {plural(len(result.files), 'file')} could not be saved: "
                f"{shown}{more} ({safe_text(failed[0].reason)}).",
                "The others were saved; transfer_warnings.log in the folder says more.",
            )
        result.ok = True

    def _check_destination(self) -> None:
        """A folder, or a path where one can be made (when an offer is accepted)."""
        dest = self.dest_dir
        existing = next(p for p in (dest, *dest.parents) if p.exists())
        if not existing.is_dir():
            raise InletError(
                f"The destination {dest} cannot be a folder: {existing} is a file.",
                "Choose a folder to save into.",
            )

    def _check_space(self, offer: Offer) -> None:
        existing = next(p for p in (self.dest_dir, *self.dest_dir.parents) if p.exists())
        free = shutil.disk_usage(existing).free
        if offer.total > free:
            self._tell_sender_no("insufficient free space")
            raise DiskFullError(
                f"{offer.describe().capitalize()} does not fit: {format_size(free)} is free "
                f"in {self.dest_dir}. It was declined."
            )

    def _tell_sender_no(self, answer: str) -> None:
        """Decline, even after a cancel: the sender's ``wormhole`` waits for an answer."""
        with contextlib.suppress(Exception):
            loop.call(self._decline, answer)

    def step(self, function: Callable[..., Any], *args: Any) -> Any:
        """Run ``function`` in the reactor and wait for it (and any Deferred it returns); wormhole's
        failures become sentences, and a cancel ends the wait."""
        if self._cancelled.is_set():
            raise CancelledError("The transfer was cancelled.")
        from twisted.internet.defer import CancelledError as TwistedCancelled
        from wormhole.errors import (
            LonelyError,
            ServerConnectionError,
            TransferError,
            WelcomeError,
            WrongPasswordError,
        )

        try:
            return loop.call(function, *args)
        except WrongPasswordError:
            raise WrongTokenError(
                "The wormhole code does not match the sender's (the key exchange failed).",
                "Check the code; a wormhole code works only once, so ask the sender for a new one.",
            ) from None
        except ServerConnectionError as err:
            raise InletError(
                f"Could not reach the wormhole mailbox server at {self.options.mailbox_url} "
                f"({safe_text(err.reason if hasattr(err, 'reason') else err)}).",
                "Check the network, or choose the sender's server with --mailbox.",
            ) from None
        except WelcomeError as err:
            raise InletError(
                f"The wormhole mailbox server refused this client: {safe_text(err)}.",
                "Update Inlet, or use another server.",
            ) from None
        except TransferError as err:
            raise InletError(
                f"The sender stopped the transfer: {safe_text(err)}.", "Ask them to send again."
            ) from None
        except (TwistedCancelled, LonelyError):
            raise CancelledError("The transfer was cancelled.") from None

    def emit(self, event: object) -> None:
        """Hand ``event`` to whoever watches this receive (the CLI, the window)."""
        if self._emit_callback is not None:
            self._emit_callback(event)

    # -- for a protocol run over the transit (core/tunnel.py) ----------------------------------

    def answer(self, data: dict) -> None:
        """Say ``data`` to the sender through the mailbox (an accept of the sender's kind)."""
        self.step(self._send, data)

    def connect_transit(self) -> Any:
        """The transit connection to the sender (direct or through the relay), once it is up;
        a cancel closes it, so whatever runs over it sees the connection end."""

        def connect() -> Any:
            if self._transit is None:
                raise OfferRefused("The sender offered no way to connect to it.")

            def keep(pipe: Any) -> Any:
                self._pipe = pipe
                return pipe

            return self._wait(self._transit.connect()).addCallback(keep)

        return self.step(connect)

    # -- the reactor's side (runs in the reactor thread) ----------------------------------------

    def _open(self) -> None:
        from wormhole import create

        self._wormhole = create(APPID, self.options.mailbox_url, loop.reactor())
        self._wormhole.set_code(self.code)

    def _wait(self, deferred: Any) -> Any:
        self._waiting = deferred
        return deferred

    def _until_offer(self) -> Any:
        """Fires with the sender's offer (building the transit from its hints on the way)."""
        from twisted.internet.defer import ensureDeferred

        async def conversation() -> object:
            await self._wait(self._wormhole.get_verifier())  # the PAKE: a wrong code fails here
            while True:
                message = await self._wait(self._wormhole.get_message())
                try:
                    data = json.loads(message.decode("utf-8"))
                except (UnicodeDecodeError, ValueError):
                    data = None
                if not isinstance(data, dict):
                    raise OfferRefused("The sender sent a message that is not JSON.")
                if "error" in data:
                    raise PeerGoneError(
                        f"The sender stopped: {safe_text(data['error'])}.",
                        "Ask them to send again.",
                    )
                if isinstance(data.get("transit"), dict) and self._transit is None:
                    await self._wait(self._build_transit(data["transit"]))
                if "offer" in data:
                    return data["offer"]

        return ensureDeferred(conversation())

    def _build_transit(self, theirs: dict) -> Any:
        from wormhole.transit import TransitReceiver

        transit = TransitReceiver(
            self.options.relay or None, no_listen=self.options.no_listen, reactor=loop.reactor()
        )
        self._transit = transit
        transit.set_transit_key(
            self._wormhole.derive_key(APPID + "/transit-key", transit.TRANSIT_KEY_LENGTH)
        )
        hints = theirs.get("hints-v1")
        transit.add_connection_hints(hints if isinstance(hints, list) else [])

        def send_ours(our_hints: list) -> None:
            ours = {"abilities-v1": transit.get_connection_abilities(), "hints-v1": our_hints}
            self._send({"transit": ours})

        return transit.get_connection_hints().addCallback(send_ours)

    def _send(self, data: dict) -> None:
        self._wormhole.send_message(json.dumps(data).encode("utf-8"))

    def _decline(self, answer: str) -> None:
        self._send({"error": answer})

    def _accept(self, size: int) -> Any:
        """Say yes, connect the transit, and let its records flow into the inbox."""
        if self._transit is None:
            raise OfferRefused("The sender offered a file but no way to connect for it.")
        self._send({"answer": {"file_ack": "ok"}})

        def connected(pipe: Any) -> str:
            self._pipe = pipe
            done = pipe.connectConsumer(self._inbox, expected=size)
            done.addCallbacks(lambda _: self._inbox.end(), self._dropped)
            return pipe.describe()

        return self._wait(self._transit.connect()).addCallback(connected)

    def _dropped(self, failure: Any) -> None:
        self._inbox.end(
            PeerGoneError(
                "The connection to the sender was lost before the transfer was complete.",
                "A wormhole transfer cannot resume: ask the sender to send again "
                "(files completed before were kept).",
            )
        )

    def _ack(self, sha256: str | None, failure: str | None = None) -> None:
        """Tell the sender everything arrived (its CLI checks the hash), or what failed."""
        answer = {"ack": "ok", "sha256": sha256} if failure is None else {"ack": failure}
        ack = json.dumps(answer).encode("utf-8")
        if self._pipe is not None:
            self._pipe.send_record(ack)

    def _abort(self) -> None:
        waiting, self._waiting = self._waiting, None
        if waiting is not None and not waiting.called:
            waiting.cancel()
        if self._pipe is not None:
            self._pipe.close()

    def _close(self) -> Any:
        """Hang up the transit and the mailbox; waits (boundedly) for the server's goodbye."""
        pipe, self._pipe = self._pipe, None
        if pipe is not None:
            pipe.close()
        wormhole, self._wormhole = self._wormhole, None
        if wormhole is None:
            return None
        closing = wormhole.close()
        closing.addErrback(lambda _: None)  # its error (a wrong code...) was reported already
        closing.addTimeout(CLOSE_SECONDS, loop.reactor())
        return closing


class _Inbox:
    """The transit's records on their way to the writer thread, at most `INBOX_BYTES` held.

    A Twisted consumer on the reactor's side (``write`` pauses the connection when full); an
    iterator of chunks on the writer's (which resumes it once half is drained)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._records: collections.deque[bytes] = collections.deque()
        self._held = 0
        self._producer: Any = None
        self._paused = False
        self._ended = False
        self._error: BaseException | None = None

    # reactor thread
    def registerProducer(self, producer: Any, streaming: bool) -> None:
        self._producer = producer

    def unregisterProducer(self) -> None:
        if self._paused and self._producer is not None:
            self._producer.resumeProducing()
        self._producer, self._paused = None, False

    def write(self, data: bytes) -> None:
        with self._cond:
            self._records.append(data)
            self._held += len(data)
            if self._held > INBOX_BYTES and not self._paused and self._producer is not None:
                self._paused = True
                self._producer.pauseProducing()
            self._cond.notify()

    # any thread
    def end(self, error: BaseException | None = None) -> None:
        with self._cond:
            if not self._ended:
                self._ended, self._error = True, error
            elif error is not None and self._error is None and isinstance(error, CancelledError):
                self._error = error  # a cancel after the last byte still stops the writer
            self._cond.notify()

    def _resume(self) -> None:
        with self._cond:
            if not self._paused or self._producer is None:
                return
            self._paused = False
            producer = self._producer
        producer.resumeProducing()

    # the writer's thread
    def chunks(self, hasher: Any | None) -> Iterator[bytes]:
        """The stream in pieces of up to `landing.WRITE_BYTES` (hashed as they pass when a
        ``hasher`` is given)."""
        from .landing import WRITE_BYTES

        while True:
            with self._cond:
                while not self._records and not self._ended:
                    self._cond.wait()
                if self._error is not None:
                    raise self._error
                if not self._records:
                    return
                pieces, taken = [], 0
                while self._records and taken < WRITE_BYTES:
                    piece = self._records.popleft()
                    pieces.append(piece)
                    taken += len(piece)
                self._held -= taken
                resume = self._paused and self._held <= INBOX_BYTES // 2
            if resume:
                with contextlib.suppress(RuntimeError):
                    loop.post(self._resume)
            data = pieces[0] if len(pieces) == 1 else b"".join(pieces)
            if hasher is not None:
                hasher.update(data)
            yield data


__all__ = [
    "FILE",
    "CancelledError",
    "DeclinedError",
    "TransferStopped",
    "WormholeOptions",
    "WormholeReceiver",
    "WormholeResult",
]
