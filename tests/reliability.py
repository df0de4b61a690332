"""Figures for docs/RELIABILITY.md, recorded by the tests that produce them.

Each reliability test calls `record` once per case with what it tried, how many times, and the
outcome it asserted. The line is always printed (``pytest -s`` shows it); when the environment
variable ``INLET_RELIABILITY_REPORT`` names a file, it is also appended there as one JSON line.
``python bench/reliability_report.py`` runs the tests that way and writes the table.
"""

from __future__ import annotations

import json
import os
from typing import Any

REPORT_ENV = "INLET_RELIABILITY_REPORT"


def record(case: str, tried: str, times: int, outcome: str, **figures: Any) -> None:
    """One row of the reliability table (``figures``: extra numbers kept in the JSON)."""
    row = {"case": case, "tried": tried, "times": times, "outcome": outcome, **figures}
    line = json.dumps(row, ensure_ascii=True, sort_keys=False)
    print(f"RELIABILITY {line}")
    path = os.environ.get(REPORT_ENV)
    if path:
        with open(path, "a", encoding="ascii") as handle:
            handle.write(line + "\n")
