"""Text from the network made safe to print: one function, used by every terminal and log line.

A peer chooses file names, completion messages and text messages. Printed raw, such text can
drive the terminal (ESC and C1 controls such as U+009B start escape sequences: clear the screen,
set the title, write the clipboard with OSC 52), forge lines (a newline and a fake "Done:"),
reorder what is shown (bidi overrides such as U+202E) or crash the print (a lone surrogate).
`safe_text` escapes every such character as a visible ``\\xNN`` / ``\\uNNNN`` and cuts long
text in the middle, where a name's least telling part usually is.
"""

from __future__ import annotations

import unicodedata

#: Unicode categories never printed raw: controls (C0, DEL, C1), format characters (bidi
#: embeddings, overrides and isolates, zero-width characters), surrogates, unassigned code
#: points, and the line/paragraph separators.
_ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Cn", "Zl", "Zp"})
ELLIPSIS = "…"
DEFAULT_LIMIT = 200


_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(char: str) -> str:
    if char in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[char]
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _pieces(text: str, multiline: bool) -> list[str]:
    if multiline:
        text = text.replace("\r\n", "\n")
    out = []
    for char in text:
        if multiline and char in "\n\t":
            out.append(char)
        elif unicodedata.category(char) in _ESCAPED_CATEGORIES:
            out.append(_escape(char))
        else:
            out.append(char)
    return out


def safe_text(text: object, limit: int | None = DEFAULT_LIMIT, *, multiline: bool = False) -> str:
    """``text`` as it may reach a terminal or a log: every control, format (bidi) or surrogate
    character escaped, and, past ``limit`` characters (None: no limit), the middle replaced by
    ``…`` so both ends stay readable. ``multiline`` keeps newlines and tabs (a text message);
    otherwise the result is always one line. Anything that is not a string is shown as its
    ``str()``."""
    pieces = _pieces(text if isinstance(text, str) else str(text), multiline)
    total = sum(map(len, pieces))
    if limit is None or total <= limit:
        return "".join(pieces)
    budget = max(limit - len(ELLIPSIS), 2)
    head_budget = budget - budget // 2  # escapes are never split: whole pieces on each side
    head: list[str] = []
    used = 0
    for piece in pieces:
        if used + len(piece) > head_budget:
            break
        head.append(piece)
        used += len(piece)
    tail: list[str] = []
    used_tail = 0
    for piece in reversed(pieces[len(head) :]):
        if used + used_tail + len(piece) > budget:
            break
        tail.append(piece)
        used_tail += len(piece)
    return "".join(head) + ELLIPSIS + "".join(reversed(tail))
