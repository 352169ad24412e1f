"""Spreadsheet-safe cells for screening exports.

Uses the shared helper :mod:`tidetrace.export_safety` when it is installed with tidetrace;
until then (it is another piece of work landing beside this one) the same rule is applied
here: a text cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a
leading apostrophe, so no spreadsheet runs it as a formula (CSV injection, OWASP).
Plain numbers keep their sign.
"""

import re
from importlib import import_module
from typing import Any

__all__ = ["neutralise"]

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d+)*|\d*[.]\d+)([eE][+-]?\d+)?$")


def _own(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    value = value.replace("\x00", "")
    if value.startswith(_TRIGGERS) and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def _shared() -> Any:
    try:
        return import_module("tidetrace.export_safety").neutralise
    except (ImportError, AttributeError):
        return _own


_NEUTRALISE = _shared()


def neutralise(value: Any) -> Any:
    """A cell value no spreadsheet will evaluate as a formula."""
    return _NEUTRALISE(value)
