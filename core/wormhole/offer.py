"""What a stock ``wormhole send`` offers, checked before anything is accepted.

The offer is JSON from the peer: every field is checked for type and range here, so the
receiver only ever sees an `Offer` with sane numbers and a name that is one safe path
component. A refusal carries the sentence a person reads and the short reason the sender's
``wormhole`` prints.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InletError, UnsafeNameError
from ..messages import MAX_FILES
from ..paths import split_name
from ..peertext import safe_text
from ..progress import format_size, plural

#: The largest size an offer may state (8 EiB: what a signed 64-bit file offset holds).
MAX_SIZE = (1 << 63) - 1
#: A text message is shown, not saved (the mailbox server caps messages anyway).
MAX_TEXT_CHARS = 10 << 20

FILE, FOLDER, TEXT = "file", "folder", "text"


class OfferRefused(InletError):
    """The sender's offer cannot be received as it stands; it was declined."""

    hint = "Nothing was written. Ask the sender to check what they are sending."

    def __init__(self, message: str, answer: str = "transfer rejected") -> None:
        super().__init__(message)
        self.answer = answer  # what the sender's ``wormhole send`` is told


@dataclass(frozen=True)
class Offer:
    """One offer: a file, a folder (a zip stream) or a text message.

    ``name``: the file's or folder's name (one path component); ``size``: the bytes that will
    travel (the zip stream for a folder); ``total``: the bytes that land (the files' sizes
    added); ``files``: how many files land.
    """

    kind: str
    name: str = ""
    size: int = 0
    total: int = 0
    files: int = 0
    text: str | None = None

    def describe(self) -> str:
        """One line for a person: what is offered."""
        if self.kind == TEXT:
            return "a text message"
        shown = safe_text(self.name)
        if self.kind == FILE:
            return f"the file {shown} ({format_size(self.total)})"
        return f"the folder {shown} ({plural(self.files, 'file')}, {format_size(self.total)})"


def parse_offer(offer: object) -> Offer:
    """An `Offer` from the peer's ``offer`` object; raises `OfferRefused` for anything else."""
    if not isinstance(offer, dict):
        raise OfferRefused("The sender's offer is not an object.", "unknown offer type")
    if "message" in offer:
        text = offer["message"]
        if not isinstance(text, str) or len(text) > MAX_TEXT_CHARS:
            raise OfferRefused("The sender's text message is not text of a sane length.")
        return Offer(TEXT, text=text)
    if isinstance(offer.get("file"), dict):
        file = offer["file"]
        name = _name(file.get("filename"))
        size = _size(file.get("filesize"), "file size")
        return Offer(FILE, name=name, size=size, total=size, files=1)
    if isinstance(offer.get("directory"), dict):
        folder = offer["directory"]
        mode = folder.get("mode")
        if not isinstance(mode, str) or not mode.startswith("zipfile"):
            raise OfferRefused(
                f"The sender offers a folder in a form Inlet cannot unpack ({safe_text(mode)}).",
                "unknown mode",
            )
        name = _name(folder.get("dirname"))
        size = _size(folder.get("zipsize"), "folder's zip size")
        total = _size(folder.get("numbytes"), "folder's size")
        count = folder.get("numfiles")
        if type(count) is not int or not 0 <= count <= MAX_FILES:
            raise OfferRefused(
                f"The sender's folder claims {safe_text(count)} files; Inlet accepts 0 to "
                f"{MAX_FILES:,}."
            )
        return Offer(FOLDER, name=name, size=size, total=total, files=count)
    raise OfferRefused("The sender offers something Inlet does not know.", "unknown offer type")


def _name(name: object) -> str:
    """The offered name, which must be one safe path component (the sender sends a basename)."""
    try:
        parts = split_name(name)  # type: ignore[arg-type]
    except UnsafeNameError as err:
        raise OfferRefused(err.message, "unsafe name") from None
    if len(parts) != 1:
        raise OfferRefused(
            f"The sender offers the name {safe_text(name)}, which is a path, not a name.",
            "unsafe name",
        )
    return parts[0]


def _size(value: object, what: str) -> int:
    if type(value) is not int or not 0 <= value <= MAX_SIZE:
        raise OfferRefused(f"The sender's offer states an impossible {what} ({safe_text(value)}).")
    return value
