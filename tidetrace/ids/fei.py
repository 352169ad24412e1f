"""FDA Facility Establishment Identifiers (FEI).

The US Food and Drug Administration gives every facility it inspects or that ships
FDA-regulated food to the US an FEI: a number of seven to ten digits with no check digit
(older ones are seven digits, newer ones ten, usually starting with ``3``). Import alerts
and refusal records name foreign seafood plants by FEI.
"""

import re
import unicodedata

from tidetrace.ids.common import MAX_INPUT, Decoded, IdentifierFormat

__all__ = ["FEI"]

_FEI = re.compile(r"^(?:FEI\s*(?:NO\.?|NUMBER|#)?\s*[:#]?\s*)?(\d{7,10})$")


class FEI(IdentifierFormat):
    """An FDA FEI number, e.g. ``3012345678`` (also written ``FEI: 3012345678``)."""

    NAME = "fei"
    TITLE = "FDA Facility Establishment Identifier"
    STRONG = True

    @classmethod
    def normalize(cls, value: str) -> str | None:
        """The bare digits, or None when ``value`` is not an FEI.

        Args:
            value: the number, optionally prefixed with ``FEI``, ``FEI No.`` or ``FEI#``.

        Returns:
            Seven to ten digits, not all zero; None otherwise.
        """
        if len(value) > MAX_INPUT:
            return None
        text = unicodedata.normalize("NFKC", value).upper().strip()
        match = _FEI.match(text)
        if match is None:
            return None
        digits = match.group(1)
        return None if set(digits) == {"0"} else digits

    @classmethod
    def decode(cls, value: str) -> Decoded | None:
        """The scheme and digits; an FEI encodes nothing else."""
        norm = cls.normalize(value)
        if norm is None:
            return None
        return Decoded(scheme=cls.NAME, value=norm, parts={"country": "US"})
