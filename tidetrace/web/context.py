"""How page contexts are documented.

Each view fills one dataclass (``SearchContext``, ``EntityContext`` …) that both its
template and its JSON twin read. Every field says what it holds through
``field(metadata=doc("..."))``; ``tests/web/test_context.py`` fails on a field without.
"""

from dataclasses import fields, is_dataclass
from typing import Any

__all__ = ["doc", "undocumented_fields"]


def doc(text: str) -> dict[str, str]:
    """Field metadata carrying the field's help text, e.g. ``field(metadata=doc("..."))``."""
    return {"help": text}


def undocumented_fields(cls: Any) -> list[str]:
    """Names of the fields of dataclass ``cls`` that have no help text."""
    if not is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    return [f.name for f in fields(cls) if not f.metadata.get("help")]
