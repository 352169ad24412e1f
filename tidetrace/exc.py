"""Errors tidetrace raises on purpose. Anything else reaching the user is a bug."""

from pathlib import Path


class TidetraceError(Exception):
    """Base error: a one-line ``detail`` for people and an HTTP-like ``status``."""

    STATUS = 400

    def __init__(self, detail: str, status: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status = status if status is not None else self.STATUS


class WorkspaceError(TidetraceError):
    """The workspace is missing, unreadable, or not a tidetrace workspace."""

    STATUS = 500


class NotFoundError(TidetraceError):
    """A named thing (entity, dataset, user) does not exist."""

    STATUS = 404


class PermissionDenied(TidetraceError):
    """The actor may not do this."""

    STATUS = 403


class InputError(TidetraceError):
    """Bad input data: carries the file, line/row and field so the user can fix it.

    Args:
        path: the file the problem is in ("-" for standard input).
        reason: what is wrong, in one line.
        line: 1-based line or row number, when known.
        field: the column or property, when known.
    """

    STATUS = 422

    def __init__(
        self,
        path: str | Path,
        reason: str,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.path = str(path)
        self.line = line
        self.field = field
        self.reason = reason
        where = self.path if line is None else f"{self.path}:{line}"
        if field is not None:
            where = f"{where}: field {field!r}"
        super().__init__(f"{where}: {reason}")
