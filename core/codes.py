"""Transfer codes: ``HOSTS:TOKEN``, or ``HOSTS:PORT:TOKEN`` off the default port.

HOSTS is one address or several joined by ``,`` (IPv6 in brackets): a sender with a Tailscale
and a LAN address puts both in, and the receiver tries them side by side.

The token is the password of the handshake and what a person reads aloud, and its form says
which handshake to run (docs/PROTOCOL.md, 2):

- an **Inlet code** starts with a number: ``7-amber-ocean-tiger-river`` (a digit and four
  words from a list of 256: 35.3 bits). Both ends run SPAKE2, so a guess can only be tried
  against the running sender, one connection per guess.
- anything else is an **ftransfer code** (its two words, ``ocean-tiger``, or the eight words
  of ``inlet send --no-ext``: 64 bits): the handshake of ftransfer 1.0.1, whose token can be
  checked offline by anyone who connected once, so it must be long.

A **wormhole code** (magic-wormhole's, ``7-crossover-clockwork``: a number, ``-``, words) has
no ``:``, since the mailbox server, not an address, brings the two ends together. Every code
Inlet prints names a host, so a code without ``:`` that starts with a number is a wormhole code
(`wormhole_code`); the stock ``wormhole receive CODE`` line pasted whole is one too.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from .errors import CodeError

DEFAULT_PORT = 15820
#: Words in an Inlet (PAKE) token, after its digit.
PAKE_WORDS = 4
#: Words in a generated ftransfer-compatible token (``--no-ext``): 64 bits, since each guess
#: of such a token can be checked offline.
LEGACY_WORDS = 8
TOKEN_WORDS = PAKE_WORDS

# 256 short, distinct, easy-to-spell words: 8 bits each.
WORDS = tuple(
    """
    acorn adobe agent alarm album alpine amber anchor angle apple apron arctic arrow aspen atlas
    autumn badge bagel bamboo banjo barn basil beacon beaver berry birch bison blossom bonsai brass
    breeze brick bridge bronze bucket butter cabin cactus camel candle canoe canyon carbon carrot
    castle cedar cello chalk cherry cider circle citrus clover cobalt cocoa comet copper coral
    cotton coyote crane crayon cricket crystal cupcake dahlia daisy delta denim desert diamond
    dolphin donkey dragon drift eagle echo eclipse ember emerald engine falcon fennel fern festival
    fiddle finch flame flint forest fossil fountain fox galaxy garden garlic gecko ginger glacier
    globe granite grape gravel guitar harbor hazel heron hickory honey horizon husky igloo indigo
    iris island ivory jacket jade jasmine jelly jungle kayak kettle kiwi koala ladder lagoon lantern
    lava lemon lilac lime linen lizard lobster lotus lunar magnet mango maple marble meadow melon
    meteor mint mirror mocha monsoon moss mosaic muffin nectar needle nickel noodle nutmeg oak oasis
    ocean olive onyx opal orbit orchid otter owl paddle panda papaya parrot pebble pecan pepper
    piano pilot pine pixel planet plum polar pony poppy prairie prism pumpkin quartz quill quilt
    rabbit radar raven reef ribbon river robin rocket ruby saddle saffron salmon sapphire satin
    scarlet sequoia shadow shell sierra silver sketch sleet slate sparrow spruce squash summit
    sunset swan tango teapot thistle thunder tiger timber topaz tornado toucan trumpet tulip tundra
    turtle umber valley velvet violet violin walnut walrus willow window winter wizard yarrow yonder
    zebra zephyr zinnia acrobat beetle cobra dune glider hammock kernel lychee marlin puffin
    """.split()
)

_PORT = re.compile(r"^[0-9]{1,5}$")
_TOKEN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.~-]*$")
_PAKE_TOKEN = re.compile(r"^[0-9]+-[A-Za-z0-9_.~-]+$")
_WORMHOLE_CODE = re.compile(r"^[0-9]+-[^\s:]+$")
_HOSTNAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$")


def is_pake_token(token: str) -> bool:
    """True for an Inlet code's token (a number, ``-``, then words): run SPAKE2."""
    return _PAKE_TOKEN.match(token) is not None


def wormhole_code(text: str) -> str | None:
    """The magic-wormhole code in what a person pasted (``7-crossover-clockwork``, or the
    whole ``wormhole receive …`` / ``inlet receive …`` line), else None."""
    code = " ".join(text.split())
    for prefix in ("wormhole receive ", "inlet receive "):
        if code.startswith(prefix):
            code = code[len(prefix) :]
    return code if _WORMHOLE_CODE.match(code) else None


@dataclass(frozen=True)
class WormholeCode:
    """A magic-wormhole code (`wormhole_code`): the mailbox server, not an address, brings the
    two ends together."""

    code: str
    host = "magic-wormhole"  # what the history names as the sender

    def __str__(self) -> str:
        return self.code


@dataclass(frozen=True)
class TransferCode:
    """A parsed code: where the sender listens and the token both sides share.

    ``host`` is the first (preferred) address; ``more_hosts`` the others the sender listed.
    """

    host: str
    port: int
    token: str
    more_hosts: tuple[str, ...] = ()

    @property
    def hosts(self) -> tuple[str, ...]:
        return (self.host, *self.more_hosts)

    @property
    def pake(self) -> bool:
        """The code's form asks for Inlet's own handshake (SPAKE2), not ftransfer's."""
        return is_pake_token(self.token)

    def __str__(self) -> str:
        return address_part(self.hosts, self.port) + self.token


def address_part(hosts: tuple[str, ...] | list[str], port: int) -> str:
    """A code's front, everything before the token: ``HOSTS:``, or ``HOSTS:PORT:`` off the
    default port (a nearby sender fills this in; the person types the words)."""
    joined = ",".join(f"[{h}]" if ":" in h else h for h in hosts)
    return f"{joined}:" if port == DEFAULT_PORT else f"{joined}:{port}:"


def generate_token(words: int = PAKE_WORDS, *, pake: bool = True) -> str:
    """A fresh random token. ``pake``: an Inlet code, a digit then ``words`` words (8 bits
    each); otherwise an ftransfer-compatible one of `LEGACY_WORDS` words (64 bits)."""
    if not pake:
        return "-".join(secrets.choice(WORDS) for _ in range(LEGACY_WORDS))
    return "-".join([str(secrets.randbelow(10)), *(secrets.choice(WORDS) for _ in range(words))])


def parse_code(text: str) -> TransferCode:
    """Parse what a person pasted: tolerant of spaces and of the whole ``inlet receive CODE`` line.

    Raises CodeError with a message that says which part is wrong.
    """
    code = " ".join(text.split())
    for prefix in ("inlet receive ", "ftransfer receive "):
        if code.startswith(prefix):
            code = code[len(prefix) :]
    code = code.strip()
    if not code:
        raise CodeError("The code is empty.")
    if " " in code:
        raise CodeError(f"The code {code!r} contains spaces.")
    hosts, rest = _hosts(code)
    pieces = rest.split(":")
    if len(pieces) == 1:
        port, token = DEFAULT_PORT, pieces[0]
    elif len(pieces) == 2:
        if not _PORT.match(pieces[0]) or not 1 <= int(pieces[0]) <= 65535:
            raise CodeError(f"{pieces[0]!r} is not a port number (1-65535).")
        port, token = int(pieces[0]), pieces[1]
    else:
        raise CodeError(f"The code {code!r} has too many ':' parts; it looks like HOST:TOKEN.")
    if not token:
        raise CodeError(f"The code {code!r} has no token after the ':'.")
    if not _TOKEN.match(token):
        raise CodeError(f"The token {token!r} contains characters a code never has.")
    return TransferCode(host=hosts[0], port=port, token=token, more_hosts=tuple(hosts[1:]))


def _hosts(code: str) -> tuple[list[str], str]:
    """The addresses at the front of ``code`` (``,``-separated, IPv6 in brackets) and what
    follows the ``:`` after them."""
    hosts: list[str] = []
    rest = code
    while True:
        if rest.startswith("["):
            end = rest.find("]")
            if end < 0:
                raise CodeError(
                    f"The code {code!r} opens '[' for an IPv6 address but never closes it."
                )
            host, rest = rest[1:end], rest[end + 1 :]
            if ":" not in host:
                raise CodeError(f"{host!r} in brackets is not an IPv6 address.")
        else:
            cut = min((i for i in (rest.find(","), rest.find(":")) if i >= 0), default=-1)
            if cut < 0:
                raise CodeError(f"The code {code!r} has no ':'; it looks like HOST:TOKEN.")
            host, rest = rest[:cut], rest[cut:]
            if not _HOSTNAME.match(host):
                raise CodeError(f"{host!r} is not a host name or IP address.")
        hosts.append(host)
        if rest.startswith(","):
            rest = rest[1:]
            continue
        if not rest.startswith(":"):
            raise CodeError(f"The code {code!r} needs ':' and the token after the address.")
        return hosts, rest[1:]
