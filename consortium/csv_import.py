"""Reading uploaded CSV files (the counterpart of ``csv_export``), for every import: grades, applicants.

Spreadsheet programs save CSV in many shapes. Accepted: UTF-8 with or without a byte order mark, UTF-16 with one;
comma, semicolon or tab separated (the separator that occurs most in the first line); a header row naming the
columns (case, spaces and a stray byte order mark ignored; aliases mapped to one name); empty lines skipped. Cells
are only ever read as text, so formulas are harmless, and the apostrophe our own exports put before a cell that a
spreadsheet would run as a formula is taken off again. Anything else (a spreadsheet or ZIP file, binary data,
another encoding) is refused with a message that says what to do.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .uploads import sniff

#: The largest file an import reads (2 MiB: thousands of rows).
MAX_BYTES = 2 * 1024 * 1024


def unquote(value: str) -> str:
    """Undo the apostrophe our own CSV exports put before cells starting with = + - @ (spreadsheet formulas)."""
    if len(value) > 1 and value[0] == "'" and value[1] in "=+-@":
        return value[1:]
    return value


def decode(data: bytes) -> str:
    """The text of an uploaded CSV file, or a ``ValidationError`` saying why it is not one."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ValidationError(_("The file says it is UTF-16 text but cannot be read as such.")) from exc
    kind = sniff(data[:16])
    if kind or data.startswith(b"PK\x03\x04") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ValidationError(
            _(
                "This is not a CSV file (it looks like %(kind)s). In your spreadsheet program choose "
                "'Save as' → 'CSV UTF-8 (comma delimited)' and upload that file."
            )
            % {"kind": (kind or "").upper() or gettext("a spreadsheet or ZIP file")}
        )
    if b"\x00" in data:
        raise ValidationError(_("This is not a CSV text file: it contains binary data."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            _(
                "The file is not UTF-8 text (the byte at position %(pos)s cannot be read). Save it as "
                "'CSV UTF-8' in your spreadsheet program, or choose UTF-8 as the encoding, and upload it again."
            )
            % {"pos": exc.start}
        ) from exc
    text = text.lstrip("\ufeff")  # a second byte order mark (a file saved twice) is no column name
    controls = sum(1 for ch in text[:4096] if ord(ch) < 32 and ch not in "\t\r\n")
    if controls > 0:
        raise ValidationError(_("This is not a CSV text file: it contains control characters."))
    return text


def column_key(name: str, aliases: Mapping[str, str] | None = None) -> str:
    """A header cell as a column name: ``" E-mail "`` → ``e-mail`` → its alias (``email``)."""
    key = name.strip().lstrip("\ufeff").strip().lower().replace(" ", "_")
    return (aliases or {}).get(key, key)


@dataclass
class Table:
    """The rows of a CSV file under its header: ``columns`` maps each column name to its position."""

    header: list[str]
    columns: dict[str, int]
    records: list[tuple[int, list[str]]]  # (line number in the file, cells), the header excluded

    def cell(self, record: list[str], name: str) -> str:
        index = self.columns.get(name)
        return unquote(record[index].strip()) if index is not None and index < len(record) else ""

    def found(self) -> str:
        """The header as found, for a message about missing columns."""
        return ", ".join(h.strip() for h in self.header if h.strip())[:200] or "—"


def read_table(
    data: bytes, *, aliases: Mapping[str, str] | None = None, max_bytes: int = MAX_BYTES, max_rows: int = 10_000
) -> Table:
    """The header and rows of an uploaded CSV file (see the module's docstring for what is accepted).

    Raises ``ValidationError`` for an empty file, one larger than ``max_bytes``, one that is not CSV text, or one
    with more than ``max_rows`` rows. Which columns a file needs is the caller's to check.
    """
    if not data.strip():
        raise ValidationError(_("The file is empty."))
    if len(data) > max_bytes:
        raise ValidationError(_("The file is larger than %(size)s MB; split it.") % {"size": max_bytes // 2**20})
    text = decode(data)
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = max((",", ";", "\t"), key=first_line.count) if first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        records = list(reader)
    except csv.Error as exc:
        raise ValidationError(
            _("The file cannot be read as CSV (line %(line)s: %(error)s).") % {"line": reader.line_num, "error": exc}
        ) from exc
    records = [(number, r) for number, r in enumerate(records, start=1) if any(cell.strip() for cell in r)]
    if not records:
        raise ValidationError(_("The file is empty."))
    _line, header = records[0]
    columns: dict[str, int] = {}
    for index, name in enumerate(header):
        columns.setdefault(column_key(name, aliases), index)
    if len(records) - 1 > max_rows:
        raise ValidationError(_("At most %(n)s rows per file.") % {"n": max_rows})
    return Table(header=header, columns=columns, records=records[1:])


def outcome_counts(rows, outcomes) -> dict[str, int]:
    """``{"rows": n, <outcome>: n, …}`` for an import report whose rows each carry an ``outcome``."""
    counts = {"rows": len(rows), **{outcome: 0 for outcome in outcomes}}
    for row in rows:
        counts[row.outcome] += 1
    return counts
