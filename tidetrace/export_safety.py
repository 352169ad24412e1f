"""Make cell values safe to open in a spreadsheet (CSV and XLSX exports).

Names and descriptions in trade records are typed by strangers. A cell that starts with
``=``, ``+``, ``-`` or ``@`` is a formula to Excel, LibreOffice and Google Sheets, so a
shipper named ``=cmd|' /C calc'!A0`` would run a command on an investigator's machine
when they open an export (CSV injection, OWASP). Tab and carriage return at the start
are refused too, because some spreadsheets strip them and then read what follows.

Every CSV or XLSX tidetrace writes passes its values through :func:`neutralise` (or the
writers here); screening and reports reuse them.
"""

import csv
import re
from collections.abc import Iterable, Sequence
from typing import IO, Any

__all__ = [
    "FORMULA_TRIGGERS",
    "SafeCsvWriter",
    "neutralise",
    "xlsx_value",
]

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# A plain number keeps its sign: "-12.5" is data, and quoting it would turn it into text.
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d+)*|\d*[.]\d+)([eE][+-]?\d+)?$")
# Characters XML 1.0 cannot carry; openpyxl refuses a cell holding one.
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def neutralise(value: Any) -> Any:
    """A value that no spreadsheet will run as a formula.

    Strings starting with a formula trigger get a leading apostrophe, which spreadsheets
    show as text and do not evaluate. Numbers, booleans, None and plain numeric strings
    pass unchanged. NUL characters are removed (they truncate cells in some readers).

    Args:
        value: a cell value.

    Returns:
        The value, safe to write into a CSV or XLSX cell.
    """
    if not isinstance(value, str):
        return value
    if "\x00" in value:
        value = value.replace("\x00", "")
    if value.startswith(FORMULA_TRIGGERS) and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def xlsx_value(value: Any) -> Any:
    """A value for an openpyxl cell: neutralised, and without characters XML cannot hold.

    openpyxl stores any string starting with ``=`` as a formula, so this is not optional
    for XLSX output.
    """
    value = neutralise(value)
    if isinstance(value, str):
        return _XML_ILLEGAL.sub("", value)
    return value


class SafeCsvWriter:
    """A ``csv.writer`` whose every cell goes through :func:`neutralise`.

    Args:
        fh: a text file opened with ``newline=""``.
        **kwargs: passed to ``csv.writer`` (dialect, delimiter …).
    """

    def __init__(self, fh: IO[str], **kwargs: Any) -> None:
        self._writer = csv.writer(fh, **kwargs)

    def writerow(self, row: Sequence[Any]) -> None:
        """Write one row."""
        self._writer.writerow([neutralise(v) for v in row])

    def writerows(self, rows: Iterable[Sequence[Any]]) -> None:
        """Write many rows."""
        for row in rows:
            self.writerow(row)
