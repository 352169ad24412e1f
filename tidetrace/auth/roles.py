"""Roles and what each may do. Every web route names the roles it admits."""

from enum import StrEnum


class Role(StrEnum):
    """A user's role. Anonymous visitors act as ``public``."""

    ADMIN = "admin"
    INVESTIGATOR = "investigator"
    ANALYST = "analyst"
    FIELD = "field"
    PUBLIC = "public"


ROLE_HELP: dict[Role, str] = {
    Role.ADMIN: "manages users and datasets; everything an investigator can do",
    Role.INVESTIGATOR: "works on cases and evidence, judges matches, imports data",
    Role.ANALYST: "searches, screens suppliers and reads reports; no case material",
    Role.FIELD: "an intermediary: submits testimonies to assigned cases, sees only own receipts",
    Role.PUBLIC: "public pages only (package-code lookup, tip line)",
}

# Roles that may see the entity store (search, entity pages, datasets).
READERS = frozenset({Role.ADMIN, Role.INVESTIGATOR, Role.ANALYST})
# Roles that may change data.
WRITERS = frozenset({Role.ADMIN, Role.INVESTIGATOR})
ADMINS = frozenset({Role.ADMIN})
# Roles that can read testimonies and tips: they must pass a TOTP second factor to do so.
TWO_FACTOR_ROLES = frozenset({Role.ADMIN, Role.INVESTIGATOR})


def parse_role(value: str) -> Role:
    """The role named ``value``; ValueError listing the valid ones otherwise."""
    try:
        return Role(value.strip().lower())
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise ValueError(f"unknown role {value!r}; choose one of: {names}") from None
