"""The ``inlet`` command: ``send``, ``receive``, ``demo``, and the window (``inlet [CODE]``).

The CLI is a thin shell over `Sender` and `Receiver`: it parses arguments, prints what happens
and maps every failure to one line on stderr (what happened, what to do) and a non-zero exit.
The window is not the core's: the ``inlet`` entry point (``inlet.app``) passes a ``window``
callable in, so ``python -m inlet.core`` runs the headless commands and never loads Qt.
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from .codes import DEFAULT_PORT, parse_code, wormhole_code
from .errors import InletError
from .peertext import safe_text
from .progress import plural

SUBCOMMANDS = ("send", "receive", "gui", "demo", "install-launcher")

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

#: Opens the window (with a code filled in, or the demo) and returns the exit status.
WindowOpener = Callable[[str | None, bool], int]


class _Version(argparse.Action):
    """``--version``: the version is read from the installed metadata only when asked for."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, **kwargs) -> None:
        super().__init__(
            option_strings, dest=dest, default=argparse.SUPPRESS, nargs=0, help="show the version"
        )

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        from . import __version__

        parser._print_message(f"inlet {__version__}\n", sys.stdout)
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="inlet",
        description=(
            "Secure, resumable file transfers. Run 'inlet' (or 'inlet CODE') for the window, "
            "'inlet send PATH...' to offer files, 'inlet receive CODE' to fetch them."
        ),
    )
    parser.add_argument("--version", action=_Version)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    send = sub.add_parser("send", help="offer files or folders to one receiver")
    send.add_argument("paths", nargs="+", metavar="PATH", help="files or folders to send")
    send.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port to listen on (default {DEFAULT_PORT}; 0 picks a free one)",
    )
    send.add_argument(
        "--bind",
        default="",
        metavar="ADDR",
        help="address to listen on (default: all); also the host in the code",
    )
    send.add_argument("--compress", action="store_true", help="compress data (blosc, lz4)")
    send.add_argument(
        "--token",
        help="use this token instead of a generated one (one that starts with a number, like "
        "7-amber-ocean-tiger-river, runs Inlet's handshake; any other, ftransfer's)",
    )
    send.add_argument(
        "--pod",
        action="store_true",
        help="pod mode: put this host's loopback addresses first in the code (sender and "
        "receiver on one host)",
    )
    send.add_argument(
        "--no-ext",
        action="store_true",
        help="behave exactly like an ftransfer 1.0.1 sender (no Inlet extension)",
    )
    send.add_argument(
        "--message",
        action="store_true",
        help="send the single argument as a text message instead of a path",
    )
    send.add_argument(
        "--wormhole",
        action="store_true",
        help="meet the receiver through magic-wormhole's servers: print a wormhole code (a new "
        "one after each dropped connection) instead of an address",
    )
    send.add_argument("--mailbox", metavar="URL", help="--wormhole: the mailbox server")
    send.add_argument("--relay", metavar="HINT", help="--wormhole: the transit relay")
    send.add_argument(
        "--no-listen",
        action="store_true",
        help="--wormhole: offer the receiver no direct address (the data goes through the relay)",
    )
    send.add_argument(
        "--name",
        help="the name nearby receivers see in their window (default: this machine's name)",
    )
    send.add_argument(
        "--no-announce",
        action="store_true",
        help="do not announce this sender on the local network (mDNS); the code still works",
    )

    receive = sub.add_parser("receive", help="receive files from a sender's code")
    receive.add_argument(
        "code",
        metavar="CODE",
        help="the code the sender printed: HOST:TOKEN, or a wormhole code (7-crossover-clockwork)",
    )
    receive.add_argument(
        "-o",
        "--output",
        default=".",
        metavar="DIR",
        help="destination folder (default: current folder)",
    )
    receive.add_argument(
        "--overwrite",
        action="store_true",
        help="replace existing files instead of saving name_1.ext",
    )
    receive.add_argument(
        "--json", action="store_true", help="print one JSON object describing the result at the end"
    )
    receive.add_argument(
        "--pod",
        action="store_true",
        help="pod mode: accept a sender on this host even with --require-tailscale",
    )
    receive.add_argument(
        "--require-tailscale",
        action="store_true",
        help="only talk to a sender listed by 'tailscale status'",
    )
    receive.add_argument(
        "--no-ext", action="store_true", help="behave exactly like an ftransfer 1.0.1 receiver"
    )
    receive.add_argument(
        "--no-space-check",
        action="store_true",
        help="start even when the files do not fit on the destination's disk",
    )
    from .wormhole.cli import add_arguments

    add_arguments(receive)

    gui = sub.add_parser("gui", help="open the window (the default without a command)")
    gui.add_argument("code", nargs="?", help="a code to fill in")

    sub.add_parser("demo", help="open the window receiving a sample folder from a local sender")
    sub.add_parser(
        "install-launcher", help="install a desktop launcher (.desktop file and icon) for this user"
    )
    return parser


def main(argv: list[str] | None = None, window: WindowOpener | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    # ``inlet`` and ``inlet CODE`` open the window; everything else is a subcommand or a flag.
    if not args_list or (args_list[0] not in SUBCOMMANDS and not args_list[0].startswith("-")):
        args_list = ["gui", *args_list]
    args = build_parser().parse_args(args_list)
    try:
        if args.command == "send":
            return _send(args)
        if args.command == "receive":
            return _receive(args)
        if args.command == "install-launcher":
            from .launcher import install_launcher

            path = install_launcher()
            print(f"Installed the launcher: {path}")
            return EXIT_OK
        return _window(args, window)
    except KeyboardInterrupt:
        if args.command == "send":
            print(
                "inlet: stopped sending; a receiver can resume from a new inlet send.",
                file=sys.stderr,
            )
        else:
            print(f"inlet: {INTERRUPTED_RECEIVE}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except InletError as err:
        print(f"inlet: {safe_text(err, limit=None)}", file=sys.stderr)
        return EXIT_FAILED


def _no_screen() -> bool:
    """On Linux and BSD a window needs X11 or Wayland (or a Qt platform chosen explicitly)."""
    if not sys.platform.startswith(("linux", "freebsd", "openbsd")):
        return False
    return not any(os.environ.get(v) for v in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


def _window(args: argparse.Namespace, window: WindowOpener | None) -> int:
    if _no_screen():
        print(
            "inlet: there is no screen to open the window on (neither DISPLAY nor "
            "WAYLAND_DISPLAY is set). Start it from a desktop session, or receive in this "
            "terminal with 'inlet receive CODE'.",
            file=sys.stderr,
        )
        return EXIT_FAILED
    if window is None:
        print(
            "inlet: 'python -m inlet.core' runs only send, receive and install-launcher; "
            "open the window with 'inlet' (or 'python -m inlet.app').",
            file=sys.stderr,
        )
        return EXIT_USAGE
    return window(getattr(args, "code", None), args.command == "demo")


def _send(args: argparse.Namespace) -> int:
    from .sender import Sender, SenderOptions

    options = SenderOptions(
        port=args.port,
        bind=args.bind,
        compress=args.compress,
        token=args.token,
        pod=args.pod,
        extension=not args.no_ext,
    )
    if args.message:
        if len(args.paths) != 1:
            raise InletError("--message takes exactly one argument: the text to send.")
        sender = Sender.for_message(args.paths[0], options)
    else:
        sender = Sender.for_paths(args.paths, options)
    if args.wormhole:
        return _send_through_wormhole(args, sender)
    sender.listen()
    print(f"inlet receive {sender.code}", flush=True)
    if sender.address_warning:
        print(f"inlet: warning: {sender.address_warning}", file=sys.stderr, flush=True)
    if not sender.pake:
        print(
            "inlet: warning: this is an ftransfer-compatible code; anyone who can connect can "
            "try guesses of it offline (drop --no-ext for an Inlet code that resists that).",
            file=sys.stderr,
            flush=True,
        )
    announcer = None if args.no_announce else _announce(args, sender)
    # A service manager's stop (SIGTERM) withdraws the announcement too, as Ctrl-C does.
    with _sigterm_ends(), contextlib.ExitStack() as stack:
        if announcer is not None:
            stack.callback(announcer.close)
        # Log lines quote what receivers said: escaped, so no peer can drive this terminal.
        sender.serve(
            log=lambda line: print(safe_text(line, limit=None), file=sys.stderr, flush=True)
        )
    return EXIT_OK


def _send_through_wormhole(args: argparse.Namespace, sender) -> int:
    """``inlet send --wormhole``: a wormhole code per connection, Inlet's protocol through it."""
    from .tunnel import TunnelOptions, send_through_wormhole
    from .wormhole.servers import mailbox_url, relay_hint

    if args.no_ext or not sender.pake:
        raise InletError(
            "--wormhole runs Inlet's own protocol, so it takes neither --no-ext nor an "
            "ftransfer token.",
            "Drop --no-ext (and --token, or give one that starts with a number).",
        )
    options = TunnelOptions(
        mailbox_url=mailbox_url(args.mailbox),
        relay=relay_hint(args.relay),
        no_listen=args.no_listen,
    )
    with _sigterm_ends():
        send_through_wormhole(
            sender,
            options,
            show_code=lambda code: print(f"inlet receive {code}", flush=True),
            log=lambda line: print(safe_text(line, limit=None), file=sys.stderr, flush=True),
        )
    return EXIT_OK


def _announce(args: argparse.Namespace, sender):
    """Announce the sender to nearby receivers (core/nearby.py); None when it is not.

    An ftransfer-compatible sender (``--no-ext``) is never announced: ftransfer receivers do
    not look, and its handshake must not be what a stranger's fake announcement gets pointed
    at. A failure only warns: the code works without it.
    """
    from .nearby import Announcer, NearbyUnavailable

    if not sender.pake or sender.code is None:
        return None

    def announced(name: str) -> None:
        print(
            f"Nearby receivers see this sender as '{safe_text(name)}' (--no-announce hides it).",
            file=sys.stderr,
            flush=True,
        )

    def failed(reason: str) -> None:
        print(
            f"inlet: warning: could not announce this sender to nearby receivers ({reason}); "
            "the code works as before.",
            file=sys.stderr,
            flush=True,
        )

    code = sender.code
    announcer = Announcer(
        args.name,
        code.hosts,
        code.port,
        files=len(sender.offers),
        size=sum(offer.size for offer in sender.offers),
        interfaces=_announce_interfaces(args.bind),
    )
    try:
        announcer.start(announced, failed)
    except NearbyUnavailable as err:
        failed(str(err))
        return None
    return announcer


def _announce_interfaces(bind: str) -> list[str] | None:
    """Where to announce: on the one address ``--bind`` names, else on every interface."""
    try:
        address = ipaddress.ip_address(bind)
    except ValueError:
        return None
    return None if address.is_unspecified else [str(address)]


@contextlib.contextmanager
def _sigterm_ends() -> Iterator[None]:
    """While inside, SIGTERM ends the command through ``finally`` blocks (exit status 143)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _receive(args: argparse.Namespace) -> int:
    if (wormhole := wormhole_code(args.code)) is not None:
        from .wormhole.cli import receive

        return receive(args, wormhole)
    from .progress import TerminalProgress
    from .receiver import Receiver, ReceiverOptions, TransferResult

    try:
        code = parse_code(args.code)
    except InletError as err:  # --json's object says it too (main prints the line)
        if args.json:
            _print_json(TransferResult(error=str(err)))
        raise
    dest = Path(args.output).expanduser()
    progress = None if args.json or not sys.stderr.isatty() else TerminalProgress(sys.stderr)
    options = ReceiverOptions(
        overwrite=args.overwrite,
        extension=not args.no_ext,
        require_tailscale=args.require_tailscale,
        pod=args.pod,
        check_space=not args.no_space_check,
    )
    started = time.monotonic()
    receiver = Receiver(code, dest, options, on_event=progress.handle if progress else None)
    try:
        result = receiver.run()
    except KeyboardInterrupt:
        if args.json:  # what arrived before Ctrl-C, and what it means (main prints the line)
            receiver.result.ok = False
            receiver.result.error = INTERRUPTED_RECEIVE
            _print_json(receiver.result)
        raise
    if progress:
        progress.finish()
    reached = getattr(receiver, "connected_to", None)
    if reached and len(code.hosts) > 1 and not args.json:
        print(f"Reached the sender at {reached} (of {len(code.hosts)} addresses).", file=sys.stderr)
    if args.json:
        _print_json(result)
    elif result.message_text is not None:
        print(safe_text(result.message_text, limit=None, multiline=True))
    elif result.ok:
        seconds = time.monotonic() - started
        print(
            f"Received {plural(len(result.files), 'file')} into {dest} in {seconds:.1f} s.",
            file=sys.stderr,
        )
    if not result.ok:
        print(f"inlet: {safe_text(result.error, limit=None)}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


#: What Ctrl-C during a receive means (the line on stderr, and --json's error).
INTERRUPTED_RECEIVE = "Interrupted; everything received so far is kept for resume."


def _print_json(result) -> None:
    """--json's one object (README.md, "The command line"), on one line of stdout."""
    sys.stdout.writelines(result.json_pieces())
    print(flush=True)
