"""Identifiers as evidence: a shared valid identifier links, a conflicting one blocks.

Only identifiers that pass their scheme's strict check count (rigour #249: lenient parsing
made IMO numbers out of stray digits and merged unrelated entities). The schemes are the
ones registered in :mod:`tidetrace.ids` — establishment codes, USCC, FDA FEI, IMO, LEI — and
MMSI, which is small enough to check here.

A *conflict* is two records carrying values of the same single-valued scheme that share no
value: two different USCCs cannot belong to one legal entity, two different establishment
codes not to one plant. MMSI is excluded from conflicts because a vessel's MMSI changes
with its flag.
"""

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tidetrace.ids import get_identifier_format

__all__ = [
    "CONFLICT_SCHEMES",
    "Identifier",
    "IdentifierComparison",
    "compare_identifiers",
    "detect_scheme",
    "parse_identifier",
]

# Schemes whose values identify exactly one entity, so different values mean different
# entities. "approval" (non-Chinese approval numbers) is left out: its syntax is too loose
# to tell a different code from a differently written one.
CONFLICT_SCHEMES = frozenset({"uscc", "cn_establishment", "fei", "imo", "lei"})
# Aliases people use for scheme names in input files.
_SCHEME_ALIASES = {
    "establishment": "cn_establishment",
    "approval_code": "cn_establishment",
    "approvalcode": "cn_establishment",
    "imo_number": "imo",
    "imonumber": "imo",
    "leicode": "lei",
    "fda_fei": "fei",
    "feinumber": "fei",
    "unified_social_credit_code": "uscc",
}
_MMSI = re.compile(r"^[2-7]\d{8}$")


@dataclass(frozen=True, slots=True, order=True)
class Identifier:
    """A validated identifier.

    Attributes:
        scheme: the scheme name (``uscc``, ``imo``, ``cn_establishment`` …).
        value: the normalised value.
    """

    scheme: str
    value: str

    def __str__(self) -> str:
        return f"{self.scheme}:{self.value}"


def _normalize_mmsi(value: str) -> str | None:
    digits = "".join(c for c in unicodedata.normalize("NFKC", value) if not c.isspace())
    return digits if _MMSI.match(digits) else None


def parse_identifier(scheme: str, value: str) -> Identifier | None:
    """Validate ``value`` in ``scheme``; None when invalid or the scheme is unknown.

    Args:
        scheme: a scheme name registered in :mod:`tidetrace.ids`, an alias, or ``mmsi``.
        value: the identifier as written in the source.

    Returns:
        The normalised identifier, or None.
    """
    name = scheme.strip().lower()
    name = _SCHEME_ALIASES.get(name, name)
    if name == "mmsi":
        norm = _normalize_mmsi(value)
        return Identifier("mmsi", norm) if norm is not None else None
    fmt: Any = get_identifier_format(name)
    if fmt is None:
        return None
    norm = fmt.normalize(value)
    if norm is None:
        return None
    if name == "imo":
        # rigour writes "IMO9146405"; the bare number is what other sources carry.
        norm = norm.removeprefix("IMO")
    return Identifier(name, norm)


def detect_scheme(value: str) -> Identifier | None:
    """Recognise an identifier of unstated scheme (a ``registrationNumber``, a CSV cell).

    Only schemes with a check digit or a distinctive syntax are tried, so a random number
    is never taken for one: USCC (check character), LEI (ISO 7064), Chinese establishment
    codes (``NNNN/NNNNN``) and IMO numbers written with their ``IMO`` prefix.
    """
    for scheme in ("uscc", "lei", "cn_establishment"):
        found = parse_identifier(scheme, value)
        if found is not None:
            return found
    if value.strip().upper().startswith("IMO"):
        return parse_identifier("imo", value)
    return None


@dataclass
class IdentifierComparison:
    """What two records' identifiers say about them.

    Attributes:
        shared: identifiers both records carry.
        conflicts: for each conflicting scheme, the two records' values.
    """

    shared: list[Identifier] = field(default_factory=list)
    conflicts: list[tuple[str, list[str], list[str]]] = field(default_factory=list)

    @property
    def links(self) -> bool:
        """A shared identifier and no conflict: strong evidence of one entity."""
        return bool(self.shared) and not self.conflicts

    @property
    def blocks(self) -> bool:
        """A conflict: these are different entities whatever the names say."""
        return bool(self.conflicts)


def compare_identifiers(
    left: Iterable[Identifier], right: Iterable[Identifier]
) -> IdentifierComparison:
    """Compare two records' validated identifiers.

    Args:
        left: one record's identifiers.
        right: the other's.

    Returns:
        The shared identifiers and the conflicting schemes.
    """
    lset, rset = set(left), set(right)
    result = IdentifierComparison(shared=sorted(lset & rset))
    for scheme in sorted({i.scheme for i in lset} & {i.scheme for i in rset}):
        if scheme not in CONFLICT_SCHEMES:
            continue
        lvals = sorted(i.value for i in lset if i.scheme == scheme)
        rvals = sorted(i.value for i in rset if i.scheme == scheme)
        if not set(lvals) & set(rvals):
            result.conflicts.append((scheme, lvals, rvals))
    return result
