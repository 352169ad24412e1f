"""Identifier schemes: establishment codes, HS codes, container numbers, USCC, FEI …

Each module defines one scheme; ``get_identifier_format(name)`` finds one by name.
Add a new scheme to ``_FORMATS`` below.
"""

from rigour.ids import IMO, LEI, USCC

from tidetrace.ids.common import Decoded, IdentifierFormat
from tidetrace.ids.container import ContainerNumber
from tidetrace.ids.establishment import ApprovalNumber, EstablishmentCode
from tidetrace.ids.fei import FEI
from tidetrace.ids.hs import HSCode

_FORMATS: dict[str, type] = {
    "imo": IMO,
    "lei": LEI,
    "uscc": USCC,
    "cn_establishment": EstablishmentCode,
    "approval": ApprovalNumber,
    "fei": FEI,
    "hs": HSCode,
    "container": ContainerNumber,
}


def get_identifier_format(name: str) -> type | None:
    """The identifier class registered under ``name`` (case-insensitive), or None."""
    return _FORMATS.get(name.strip().lower())


__all__ = ["Decoded", "IdentifierFormat", "get_identifier_format"]
