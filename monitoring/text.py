"""Text for people, one rule each: an error message cut to one line, a number in four digits.

>>> one_line("ValueError: bad\\n  at line 3")
'ValueError: bad'
>>> fmt_number(0.4630859488797441), fmt_number(4.208508652576809e-77), fmt_number(0.0), fmt_number(None)
('0.4631', '4.21e-77', '0', '-')
"""

from __future__ import annotations

import math

#: Longest error text kept in run.json; longer ones are cut (the log has the whole traceback).
MAX_ERROR_CHARS = 500


def one_line(text: str, *, limit: int = MAX_ERROR_CHARS, default: str = "") -> str:
    """The first non-empty line of an error message, cut to ``limit`` characters: run.json has one line."""
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), text.strip()) or default
    return line if len(line) <= limit else line[:limit - 3] + "..."


def fmt_number(value: float | None) -> str:
    """Four significant digits, scientific notation for tiny values; NaN and None show as ``-``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.4g}" if abs(value) >= 1e-4 or value == 0 else f"{value:.2e}"
