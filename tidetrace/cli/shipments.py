"""Bills of lading: ``ingest shipments``, ``shipments query|export|ingests``, ``synth …``."""

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress, ProgressColumn, SpinnerColumn, Task, TextColumn
from rich.text import Text

from tidetrace.cli.base import (
    CliError,
    HomeOption,
    JsonOption,
    make_app,
    open_workspace,
    print_json,
)
from tidetrace.cli.groups import ingest_app, synth_app

shipments_app = make_app("Query and export the bills of lading ingested with 'ingest shipments'.")


def register(app: typer.Typer) -> None:
    """Attach the ``shipments`` group (``ingest`` and ``synth`` commands attach themselves)."""
    app.add_typer(shipments_app, name="shipments")


class _RateColumn(ProgressColumn):
    """Rows read so far and rows per second."""

    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0.0
        rate = task.completed / elapsed if elapsed > 0 else 0.0
        return Text(f"{task.completed:,.0f} rows  {rate:,.0f} rows/s")


@ingest_app.command("shipments")
def ingest_shipments(
    files: Annotated[list[Path], typer.Argument(help="CSV/XLSX files; AMS tables given together")],
    format_: Annotated[
        str | None,
        typer.Option(
            "--format", help="generic, ams, panjiva, importyeti or importgenius (default: detect)"
        ),
    ] = None,
    mapping: Annotated[
        Path | None, typer.Option(help="A YAML column mapping for another layout")
    ] = None,
    dataset: Annotated[str, typer.Option(help="Dataset to add the bills to")] = "shipments",
    engine: Annotated[str, typer.Option(help="duckdb (this machine) or spark")] = "duckdb",
    encoding: Annotated[
        str | None, typer.Option(help="Text encoding, e.g. gb18030, big5, cp949 (default: detect)")
    ] = None,
    max_reject_rate: Annotated[
        float,
        typer.Option(help="Do not store a file whose share of rejected rows is higher (0-1)"),
    ] = 0.05,
    rejects: Annotated[
        Path | None, typer.Option(help="Write rejected rows here (default: in the workspace)")
    ] = None,
    chunk_rows: Annotated[
        int, typer.Option(min=1, help="Rows per chunk: the unit of progress and of resuming")
    ] = 250_000,
    home: HomeOption = None,
) -> None:
    """Ingest bills of lading (CBP AMS tables, Panjiva/ImportGenius/ImportYeti-style exports,
    generic CSV) into a Parquet dataset.

    Layout and encoding are detected and reported. A file already ingested is skipped; an
    interrupted run, run again, finishes without duplicates. Rejected rows go to a CSV
    (file, row, field, value, reason); the command fails only when a file's reject rate is
    over --max-reject-rate, and that file is then not stored.

    Example: tidetrace ingest shipments ams__*_2023__*.csv panjiva-export.xlsx --dataset us_imports
    """
    from tidetrace.shipments.ingest import IngestOptions
    from tidetrace.shipments.ingest import ingest_shipments as run

    if format_ is not None and mapping is not None:
        raise CliError("give --format or --mapping, not both", exit_code=2)
    ws = open_workspace(home)
    options = IngestOptions(
        dataset=dataset,
        layout=format_,
        mapping=mapping,
        engine=engine,
        encoding=encoding,
        max_reject_rate=max_reject_rate,
        rejects_path=rejects,
        chunk_rows=chunk_rows,
    )
    console = Console(stderr=True)
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        _RateColumn(),
        console=console,
        disable=not console.is_terminal,
        transient=True,
    ) as progress:
        task = progress.add_task("ingest", total=None)

        def on_source(source: object) -> None:
            from tidetrace.shipments.readers import RawSource

            assert isinstance(source, RawSource)
            typer.echo(
                f"{source.name}: layout {source.layout_note}; encoding {source.encoding_note}",
                err=True,
            )
            progress.update(task, description=source.name)

        report = run(
            ws, files, options, on_rows=lambda n: progress.advance(task, n), on_source=on_source
        )
    for line in report.summary_lines():
        typer.echo(line)
    if report.failed:
        names = ", ".join(s.name for s in report.failed)
        raise CliError(
            f"{len(report.failed)} file(s) over the reject limit, not stored: {names}",
            exit_code=2,
        )


@shipments_app.command("query")
def query(
    shipper: Annotated[
        str | None, typer.Option(help="Text in the shipper name, or a party id")
    ] = None,
    consignee: Annotated[
        str | None, typer.Option(help="Text in the consignee name, or a party id")
    ] = None,
    hs: Annotated[str | None, typer.Option(help="HS code prefix, e.g. 0307 or 1605.54")] = None,
    since: Annotated[str | None, typer.Option(help="Arrived on or after (YYYY-MM-DD)")] = None,
    until: Annotated[str | None, typer.Option(help="Arrived on or before (YYYY-MM-DD)")] = None,
    bill: Annotated[
        str | None, typer.Option(help="Bill of lading number (house bills under a master too)")
    ] = None,
    seafood: Annotated[bool, typer.Option("--seafood", help="Only HS 03, 1604, 1605")] = False,
    dataset: Annotated[str | None, typer.Option(help="Only this dataset")] = None,
    history: Annotated[
        bool, typer.Option("--history", help="Every filed version, not just the latest")
    ] = False,
    limit: Annotated[int, typer.Option(min=0, help="At most this many bills (0: all)")] = 100,
    offset: Annotated[
        int, typer.Option(min=0, help="Skip this many bills first (next page: offset + limit)")
    ] = 0,
    as_json: JsonOption = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV (formula-safe).")] = False,
    home: HomeOption = None,
) -> None:
    """Find bills of lading: the latest version of each, filtered by party, HS code and date.

    Example: tidetrace shipments query --shipper "dandong" --hs 0307 --since 2023-01-01 --csv
    """
    from tidetrace.shipments.export import write_csv, write_json
    from tidetrace.shipments.store import ShipmentQuery, ShipmentStore, arrival_window

    if as_json and as_csv:
        raise CliError("give --json or --csv, not both", exit_code=2)
    ws = open_workspace(home)
    first, last = arrival_window(since, until)
    q = ShipmentQuery(
        shipper=shipper,
        consignee=consignee,
        hs=hs,
        since=first,
        until=last,
        bill=bill,
        seafood=seafood,
        dataset=dataset,
        history=history,
        limit=limit,
        offset=offset,
    )
    table = ShipmentStore(ws).query(q)
    if as_json:
        write_json(table, sys.stdout)
        return
    if as_csv:
        write_csv(table, sys.stdout)
        return
    if not table.num_rows:
        typer.echo("no bills match")
        return
    for row in table.to_pylist():
        arrival = row["arrival_date"] or row["estimated_arrival_date"]
        weight = f"{row['weight_kg']:,.0f} kg" if row["weight_kg"] is not None else "? kg"
        shipper_text = row["shipper_name"] or f"[{row['shipper_status']}]"
        consignee_text = row["consignee_name"] or f"[{row['consignee_status']}]"
        codes = ",".join(row["hs_code"] or [])
        typer.echo(
            f"{arrival or '?'}\t{row['bill_of_lading']}\t{shipper_text} -> {consignee_text}"
            f"\t{codes}\t{weight}\t{row['port_of_lading'] or ''} -> {row['port_of_unlading'] or ''}"
        )
    typer.echo(f"{table.num_rows} bill(s)", err=True)


@shipments_app.command("export")
def export(
    output: Annotated[Path, typer.Option("-o", "--output", help="File to write; - for stdout")],
    format_: Annotated[
        str, typer.Option("--format", help="csv, xlsx, json or ftm (Shipment + party entities)")
    ] = "csv",
    dataset: Annotated[str | None, typer.Option(help="Only this dataset")] = None,
    shipper: Annotated[str | None, typer.Option(help="Text in the shipper name")] = None,
    consignee: Annotated[str | None, typer.Option(help="Text in the consignee name")] = None,
    hs: Annotated[str | None, typer.Option(help="HS code prefix")] = None,
    since: Annotated[str | None, typer.Option(help="Arrived on or after (YYYY-MM-DD)")] = None,
    until: Annotated[str | None, typer.Option(help="Arrived on or before (YYYY-MM-DD)")] = None,
    home: HomeOption = None,
) -> None:
    """Export the latest version of each bill as CSV/XLSX/JSON, or as FtM entities.

    CSV and XLSX cells are formula-safe. FtM output has one Shipment per bill and one
    Company/LegalEntity per named party (never for "TO ORDER", "NOT AVAILABLE" or redacted
    parties), with stable ids for entity resolution.

    Example: tidetrace shipments export --format ftm -o shipments.ftm.json --hs 03
    """
    from tidetrace.shipments.export import write_csv, write_ftm, write_json, write_xlsx
    from tidetrace.shipments.store import ShipmentQuery, ShipmentStore, arrival_window

    if format_ not in ("csv", "xlsx", "json", "ftm"):
        raise CliError(f"unknown format {format_!r}: csv, xlsx, json or ftm", exit_code=2)
    if format_ == "xlsx" and str(output) == "-":
        raise CliError("XLSX needs a file name, not -", exit_code=2)
    ws = open_workspace(home)
    store = ShipmentStore(ws)
    first, last = arrival_window(since, until)
    q = ShipmentQuery(
        shipper=shipper,
        consignee=consignee,
        hs=hs,
        since=first,
        until=last,
        dataset=dataset,
        limit=0,
    )
    table = store.query(q)
    if format_ == "xlsx":
        count = write_xlsx(table, output)
        typer.echo(f"wrote {count} bills to {output}", err=True)
        return
    out = sys.stdout if str(output) == "-" else open(output, "w", encoding="utf-8", newline="")  # noqa: SIM115
    try:
        if format_ == "csv":
            count = write_csv(table, out)
            what = "bills"
        elif format_ == "json":
            count = write_json(table, out)
            what = "bills"
        else:
            count = write_ftm(table.to_pylist(), out)
            what = "entities"
    finally:
        if out is not sys.stdout:
            out.close()
    typer.echo(f"wrote {count} {what}", err=True)


@shipments_app.command("ingests")
def ingests(
    dataset: Annotated[str | None, typer.Option(help="Only this dataset")] = None,
    as_json: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """List ingested files: dataset, status, rows, rejects, layout and encoding.

    Example: tidetrace shipments ingests --dataset us_imports
    """
    from tidetrace.shipments.manifest import Manifest

    ws = open_workspace(home)
    rows = Manifest(ws.engine).list(dataset)
    if as_json:
        print_json(rows)
        return
    if not rows:
        typer.echo("nothing ingested yet")
        return
    for r in rows:
        typer.echo(
            f"#{r['id']}\t{r['dataset']}\t{r['status']}\t{r['rows']} rows\t{r['rejected']} rejected"
            f"\t{r['layout']}\t{r['source_file']}\t{r['finished_at'] or r['started_at']}"
        )


@synth_app.command("shipments")
def synth_shipments(
    rows: Annotated[int, typer.Option(min=1, help="Bills to write (amendments included)")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Directory to write into")],
    seed: Annotated[int, typer.Option(help="Random seed: the same seed, the same files")] = 1,
    layout: Annotated[
        list[str] | None,
        typer.Option(help="Only these layouts (repeat); default: a realistic mix of all"),
    ] = None,
    rows_per_file: Annotated[
        int, typer.Option(min=1, help="Start a new file after this many")
    ] = 1_000_000,
) -> None:
    """Write synthetic bills of lading in the built-in layouts, with ground truth.

    Invented Chinese plants ship HS 0307/0304/1605 to invented US importers, with real-world
    noise (name variants, typos, forwarders in the shipper slot, redacted parties,
    amendments). The directory gets a SYNTHETIC.txt notice and truth/ files.

    Example: tidetrace synth shipments --rows 200000 --seed 7 -o bench/out/synth
    """
    from tidetrace.shipments.synth import DEFAULT_MIX, write_synth

    mix = None
    if layout:
        unknown = [name for name in layout if name not in DEFAULT_MIX]
        if unknown:
            raise CliError(
                f"unknown layout(s) {', '.join(unknown)}; use {', '.join(DEFAULT_MIX)}", 2
            )
        mix = {name: DEFAULT_MIX[name] for name in layout}
    result = write_synth(output, rows, seed, mix=mix, rows_per_file=rows_per_file)
    typer.echo(f"wrote {result.rows} bills in {len(result.files)} files to {output}")
    typer.echo(f"ground truth: {result.truth_dir}")
