"""Transfer codes: ``HOST:TOKEN``, or ``HOST:PORT:TOKEN`` off the default port.

The token is both the password of the handshake and the thing a person reads aloud, so Inlet
makes it from short common words. ftransfer's two words carry about 15 bits; Inlet's four words
from a list of 256 carry 32.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from .errors import CodeError

DEFAULT_PORT = 15820
TOKEN_WORDS = 4

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
_HOSTNAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$")


@dataclass(frozen=True)
class TransferCode:
    """A parsed code: where the sender listens and the token both sides share."""

    host: str
    port: int
    token: str

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        if self.port == DEFAULT_PORT:
            return f"{host}:{self.token}"
        return f"{host}:{self.port}:{self.token}"


def generate_token(words: int = TOKEN_WORDS) -> str:
    """A fresh random token: ``words`` words of 8 bits each, joined by ``-``."""
    return "-".join(secrets.choice(WORDS) for _ in range(words))


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
    if code.startswith("["):
        end = code.find("]")
        if end < 0:
            raise CodeError(f"The code {code!r} opens '[' for an IPv6 address but never closes it.")
        host, rest = code[1:end], code[end + 1 :]
        if ":" not in host:
            raise CodeError(f"{host!r} in brackets is not an IPv6 address.")
        if not rest.startswith(":"):
            raise CodeError(f"The code {code!r} needs ':' and the token after the address.")
        pieces = rest[1:].split(":")
    else:
        if ":" not in code:
            raise CodeError(f"The code {code!r} has no ':'; it looks like HOST:TOKEN.")
        host, *pieces = code.split(":")
        if not _HOSTNAME.match(host):
            raise CodeError(f"{host!r} is not a host name or IP address.")
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
    return TransferCode(host=host, port=port, token=token)
