"""The base of tidetrace's identifier classes, on the model of ``rigour.ids``.

Each scheme is a small class with ``is_valid``, ``normalize`` (None when invalid),
``format`` and ``decode``. Schemes that rigour already has (USCC, IMO, LEI) are used
from rigour, registered here under the same interface.
"""

from dataclasses import dataclass, field

from rigour.ids import IdentifierFormat as RigourFormat

__all__ = ["MAX_INPUT", "Decoded", "IdentifierFormat"]

# Longer input is rejected before any parsing: no real identifier comes near it.
MAX_INPUT = 256


@dataclass(frozen=True)
class Decoded:
    """What an identifier says about itself.

    Attributes:
        scheme: the identifier scheme's NAME.
        value: the normalised identifier.
        parts: named components, e.g. ``{"province": "Liaoning"}``.
    """

    scheme: str
    value: str
    parts: dict[str, str] = field(default_factory=dict)


class IdentifierFormat(RigourFormat):
    """An identifier scheme. Subclasses override ``normalize`` and usually ``decode``."""

    NAME: str = "generic"
    TITLE: str = "Generic identifier"
    STRONG: bool = False

    @classmethod
    def normalize(cls, value: str) -> str | None:
        """The canonical form, or None when ``value`` is not valid in this scheme."""
        if len(value) > MAX_INPUT:
            return None
        clean = value.strip()
        return clean or None

    @classmethod
    def format(cls, value: str) -> str:
        """The form people write; the normalised form unless a scheme says otherwise."""
        norm = cls.normalize(value)
        return norm if norm is not None else value

    @classmethod
    def decode(cls, value: str) -> Decoded | None:
        """Scheme and components of a valid identifier; None when invalid."""
        norm = cls.normalize(value)
        if norm is None:
            return None
        return Decoded(scheme=cls.NAME, value=norm)
