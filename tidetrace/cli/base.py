"""What every CLI module shares: the error-to-exit-code rule, the workspace option, output."""

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from tidetrace.exc import InputError, TidetraceError
from tidetrace.workspace import Workspace


class CliError(TidetraceError):
    """A command's own one-line error, with the exit code to leave with."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def exit_code_for(exc: TidetraceError) -> int:
    """1 for a failure, 2 for input the user must fix."""
    if isinstance(exc, CliError):
        return exc.exit_code
    return 2 if isinstance(exc, InputError) else 1


class TidetraceGroup(TyperGroup):
    """Turns tidetrace's own errors into one-line messages with a non-zero exit code."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except TidetraceError as exc:
            typer.echo(f"error: {exc.detail}", err=True)
            raise typer.Exit(exit_code_for(exc)) from None
        except BrokenPipeError:
            raise typer.Exit(141) from None


def make_app(help_text: str) -> typer.Typer:
    """A typer app (or sub-app) with tidetrace's conventions."""
    return typer.Typer(
        cls=TidetraceGroup,
        help=help_text,
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
        rich_markup_mode=None,
    )


HomeOption = Annotated[
    Path | None,
    typer.Option(
        "--home",
        help="Workspace directory (default: $TIDETRACE_HOME or ./tidetrace-data).",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def open_workspace(home: Path | None) -> Workspace:
    """The workspace every command uses: ``--home``, else the environment, else the default."""
    return Workspace.open(home)


def print_json(data: Any) -> None:
    """Write JSON to stdout, non-ASCII kept as is."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    sys.stdout.write("\n")
