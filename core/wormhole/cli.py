"""``inlet receive WORMHOLE-CODE``: the headless receive from a stock ``wormhole send``.

Called by the core's CLI when the code is a wormhole code (`codes.wormhole_code`); prints like
the socket receive does (a progress line on a terminal, ``--json``'s one object, one line on
stderr for a failure).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..peertext import safe_text
from ..progress import plural
from .servers import MAILBOX_ENV, PUBLIC_MAILBOX, PUBLIC_RELAY, RELAY_ENV, mailbox_url, relay_hint

if TYPE_CHECKING:  # the receiver loads when a wormhole code is received, not with the flags
    from .offer import Offer
    from .receiver import WormholeOptions


def add_arguments(receive: argparse.ArgumentParser) -> None:
    """The wormhole flags of ``inlet receive``."""
    receive.add_argument(
        "--mailbox",
        metavar="URL",
        help=f"wormhole codes: the mailbox (rendezvous) server (default ${MAILBOX_ENV}, else "
        f"{PUBLIC_MAILBOX}, as the wormhole command)",
    )
    receive.add_argument(
        "--relay",
        metavar="HINT",
        help=f"wormhole codes: the transit relay (default ${RELAY_ENV}, else {PUBLIC_RELAY})",
    )
    receive.add_argument(
        "--no-listen",
        action="store_true",
        help="wormhole codes: offer the sender no direct address (the relay or its address)",
    )


def options_from(args: argparse.Namespace, **more: object) -> WormholeOptions:
    from .receiver import WormholeOptions

    return WormholeOptions(
        mailbox_url=mailbox_url(args.mailbox),
        relay=relay_hint(args.relay),
        overwrite=args.overwrite,
        no_listen=args.no_listen,
        **more,
    )


def receive(args: argparse.Namespace, code: str) -> int:
    from ..progress import TerminalProgress
    from .receiver import WormholeReceiver

    dest = Path(args.output).expanduser()
    progress = None if args.json or not sys.stderr.isatty() else TerminalProgress(sys.stderr)

    def announce(offer: Offer) -> bool:
        if not args.json:
            print(f"Receiving {offer.describe()} through the wormhole.", file=sys.stderr)
        return True

    receiver = WormholeReceiver(
        code, dest, options_from(args, accept=announce), progress.handle if progress else None
    )
    result = receiver.run()
    if progress:
        progress.finish()
    if args.json:
        sys.stdout.writelines(result.json_pieces())
        print()
    elif result.message_text is not None:
        print(safe_text(result.message_text, limit=None, multiline=True))
    elif result.ok:
        count = len(result.files or ())
        print(
            f"Received {plural(count, 'file')} into {dest} in {result.seconds:.1f} s "
            f"({result.via}).",
            file=sys.stderr,
        )
    if not result.ok:
        print(f"inlet: {safe_text(result.error, limit=None)}", file=sys.stderr)
        return 1
    return 0
