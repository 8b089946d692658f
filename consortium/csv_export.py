"""CSV exports that spreadsheet programs open safely: UTF-8 with a byte order mark (so accents survive), and
every text cell that a spreadsheet would run as a formula (starting with = + - @, a tab or a carriage return)
prefixed with an apostrophe (OWASP "CSV injection"). Numbers stay numbers, negative ones included."""

import csv
import io
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[-+]?\d+(?:[.,]\d+)?$")


def safe_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float | Decimal):
        return str(value)
    text = str(value)
    if text.startswith(FORMULA_STARTS) and not _NUMBER.match(text):
        return "'" + text
    return text


def csv_bytes(rows: Iterable[Iterable[Any]]) -> bytes:
    """The rows (the header first) as CSV bytes, every cell made safe."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return buffer.getvalue().encode("utf-8")
