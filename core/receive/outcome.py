"""What a person reads when a receive ends with failures: one paragraph, names made safe.

Peer-supplied names and reasons go through `safe_text` (DESIGN.md invariant 7), and at most a
few are listed, so a million failed files still make one readable line.
"""

from __future__ import annotations

from ..errors import IntegrityError
from ..peertext import safe_text
from ..progress import plural
from .incoming import IncomingFile


def failure_sentence(files: list[IncomingFile], failed: list[IncomingFile], attempts: int) -> str:
    """Why ``failed`` (some of ``files``) did not land, after ``attempts`` passes: refused
    names, files that failed verification, and files that could not be written."""
    refused = [inc for inc in files if inc.refused]
    hash_failed = [f for f in failed if f.reason == "hash mismatch"]
    other = [f for f in failed if f not in refused and f not in hash_failed]
    sentences = []
    if refused:
        sentences.append(
            f"{plural(len(refused), 'file')} {'was' if len(refused) == 1 else 'were'} refused "
            "for unsafe names: "
            f"{listed(refused, reasons=True)}. Nothing was written outside the folder."
        )
    if hash_failed:
        sentences.append(
            str(
                IntegrityError(
                    f"{plural(len(hash_failed), 'file')} failed verification after "
                    f"{plural(attempts, 'attempt')}: {listed(hash_failed)}.",
                    None if len(hash_failed) > 1 else IntegrityError.hint_one,
                )
            )
        )
    if other:
        sentences.append(
            f"{plural(len(other), 'file')} could not be written: "
            f"{listed(other, reasons=True)}. The other files were received; fix "
            "the problem and receive again into the same folder to retry."
        )
    return " ".join(sentences)


def shown(name: str, limit: int = 80) -> str:
    """A name from the network as it may appear in a one-line message (see `safe_text`)."""
    return safe_text(name, limit)


def listed(records: list[IncomingFile], reasons: bool = False, limit: int = 3) -> str:
    """The first ``limit`` names (with their reasons), then how many more."""
    names = [
        f"{shown(r.name)} ({safe_text(r.reason)})" if reasons and r.reason else shown(r.name)
        for r in records[:limit]
    ]
    more = len(records) - limit
    return ", ".join(names) + (f" and {more} more" if more > 0 else "")
