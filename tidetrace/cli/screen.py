"""Supplier screening: ``screen SUPPLIERS.csv`` and the ``/match`` API keys (``match-keys``)."""

import sys
from pathlib import Path
from typing import Annotated

import typer

from tidetrace.cli.base import HomeOption, JsonOption, make_app, open_workspace, print_json
from tidetrace.exc import InputError

__all__ = ["register"]

keys_app = make_app("API keys for the yente-compatible /match endpoint.")


def register(app: typer.Typer) -> None:
    """Attach the screening commands to the top-level app."""
    app.command("screen")(screen_command)
    app.add_typer(keys_app, name="match-keys")


def screen_command(
    suppliers: Annotated[
        Path,
        typer.Argument(
            help="CSV with a header: name (required), country, address, identifier, ref; "
            "names in any script"
        ),
    ],
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Report file: .html, .csv or .json."),
    ] = None,
    threshold: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Score at which a candidate is the supplier.")
    ] = 0.7,
    since: Annotated[
        str | None, typer.Option(help="Exposure from this arrival date (YYYY-MM-DD).")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Exposure up to this arrival date (YYYY-MM-DD).")
    ] = None,
    encoding: Annotated[
        str, typer.Option(help="Text encoding of the CSV, e.g. gb18030 or cp949.")
    ] = "utf-8-sig",
    as_json: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Screen a supplier list against facilities, sanctions lists and the supply graph.

    For each supplier: best matches with explained scores, flags, and how much of what it
    bought can trace to flagged facilities. Cells of the CSV report are neutralised against
    spreadsheet formula injection.

    Example: tidetrace screen suppliers.csv -o report.html
    """
    from tidetrace.cli.graph import _window
    from tidetrace.graph.build import ensure_graph
    from tidetrace.screen.index import get_index
    from tidetrace.screen.report import format_for, render
    from tidetrace.screen.screening import read_suppliers, screen_suppliers

    if not suppliers.is_file():
        raise InputError(suppliers, "no such file")
    window = _window(since, until, None)
    rows = read_suppliers(suppliers, encoding)
    ws = open_workspace(home)
    built = ensure_graph(ws)
    if built is not None:
        typer.echo(built.summary(), err=True)
    report = screen_suppliers(
        ws, get_index(ws), rows, threshold=threshold, window=window, source=suppliers.name
    )
    if output is not None:
        fmt = format_for(output)
        output.write_text(render(report, fmt), encoding="utf-8", newline="")
        counts = ", ".join(f"{n} {s}" for s, n in sorted(report.counts().items()))
        typer.echo(f"screened {len(rows)} suppliers ({counts}); wrote {output}", err=True)
        return
    if as_json:
        print_json(report.to_dict())
        return
    for r in report.results:
        best = r.best
        line = f"{r.supplier.row}\t{r.status}\t{r.supplier.name}"
        if best is not None:
            line += f"\t→ {best.entry.caption} ({best.entry.id}, {best.score:.2f})"
        if r.exposure and r.exposure["kg_flagged"] > 0:
            line += f"\t≤ {r.exposure['kg_flagged']:,.0f} kg traceable to flagged"
        sys.stdout.write(line + "\n")


@keys_app.command("add")
def keys_add(
    user: Annotated[str, typer.Argument(help="The user the key acts for")],
    label: Annotated[str | None, typer.Option(help="What the key is for")] = None,
    home: HomeOption = None,
) -> None:
    """Issue an API key for /match; it is printed once and stored only hashed.

    Clients send it as ``Authorization: ApiKey <key>``.

    Example: tidetrace match-keys add ana --label "procurement screening"
    """
    from tidetrace.screen.apikeys import issue_key

    ws = open_workspace(home)
    key, record = issue_key(ws.engine, user, label)
    typer.echo(key)
    typer.echo(f"key {record.id} for {record.user}: shown once, keep it safe", err=True)


@keys_app.command("list")
def keys_list(as_json: JsonOption = False, home: HomeOption = None) -> None:
    """List API keys (never the keys themselves).

    Example: tidetrace match-keys list
    """
    from tidetrace.screen.apikeys import list_keys

    keys = list_keys(open_workspace(home).engine)
    if as_json:
        print_json([k.__dict__ for k in keys])
        return
    for k in keys:
        state = f"withdrawn {k.revoked_at}" if k.revoked_at else "active"
        typer.echo(f"{k.id}\t{k.user}\t{state}\t{k.label or ''}")


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[int, typer.Argument(help="Key id (see 'match-keys list')")],
    home: HomeOption = None,
) -> None:
    """Withdraw an API key at once.

    Example: tidetrace match-keys revoke 3
    """
    from tidetrace.screen.apikeys import revoke_key

    revoke_key(open_workspace(home).engine, key_id)
    typer.echo(f"key {key_id} withdrawn")
