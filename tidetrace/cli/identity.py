"""Who is acting, for commands that open sealed material (vault cases, testimonies).

The vault and the intake commands unlock the same per-user keys the same way: the user
from ``--user`` or ``TIDETRACE_USER``, the password from ``TIDETRACE_PASSWORD`` or the TTY.
"""

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tidetrace.cli.base import CliError, open_workspace
from tidetrace.settings import get_settings
from tidetrace.workspace import Workspace

if TYPE_CHECKING:
    from tidetrace.vault.cases import CaseKeyring
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


def open_member_case(
    home: Path | None, user: str | None, case: str
) -> tuple[Workspace, "UnlockedUser", "CaseKeyring"]:
    """The workspace, the unlocked acting user and a case they are a member of, opened."""
    from tidetrace.vault.cases import open_case

    ws = open_workspace(home)
    actor = unlock_identity(ws, user)
    return ws, actor, open_case(ws.engine, actor, case)
