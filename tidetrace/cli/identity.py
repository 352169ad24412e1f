"""Who is acting, for commands that open sealed material (vault cases, testimonies).

The vault and the intake commands unlock the same per-user keys the same way: the user
from ``--user`` or ``TIDETRACE_USER``, the password from ``TIDETRACE_PASSWORD`` or the TTY.
"""

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from tidetrace.cli.base import CliError
from tidetrace.settings import get_settings
from tidetrace.workspace import Workspace

if TYPE_CHECKING:
    from tidetrace.vault.keys import UnlockedUser

UserOption = Annotated[
    str | None,
    typer.Option("--user", help="Act as this user (default: $TIDETRACE_USER).", show_default=False),
]
CaseOption = Annotated[str, typer.Option("--case", help="Case id or name.")]


def unlock_identity(ws: Workspace, user: str | None) -> "UnlockedUser":
    """The acting user with their keys unlocked; a one-line error when that is impossible."""
    from tidetrace.vault.keys import unlock_user

    settings = get_settings()
    name = user or settings.user
    if not name:
        raise CliError("say who you are: --user NAME (or set TIDETRACE_USER)", exit_code=2)
    password = settings.password
    if password is None:
        if not sys.stdin.isatty():
            raise CliError("no password: run in a terminal, or set TIDETRACE_PASSWORD", exit_code=2)
        password = typer.prompt(f"password for {name}", hide_input=True)
    return unlock_user(ws.engine, name, password)
