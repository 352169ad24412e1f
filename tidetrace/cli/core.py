"""Workspace, import/export, entity search, users, serving and the demo."""

import sys
from pathlib import Path
from typing import Annotated

import typer

from tidetrace import loaders
from tidetrace.cli.base import (
    CliError,
    HomeOption,
    JsonOption,
    make_app,
    open_workspace,
    print_json,
)
from tidetrace.cli.progress import file_progress
from tidetrace.exc import InputError
from tidetrace.sources.ftm import write_entities, write_statements
from tidetrace.store.entities import EntityStore
from tidetrace.workspace import Workspace

import_app = make_app("Import sources into the entity store (one transaction per import).")
export_app = make_app("Export the entity store.")
entities_app = make_app("Search and show entities with the provenance of every value.")
users_app = make_app("Manage users and their roles.")
datasets_app = make_app("List datasets and where their data came from.")


def register(app: typer.Typer) -> None:
    """Attach the core commands to the top-level app."""
    app.command("init")(init)
    app.add_typer(import_app, name="import")
    app.add_typer(export_app, name="export")
    app.add_typer(entities_app, name="entities")
    app.add_typer(datasets_app, name="datasets")
    app.add_typer(users_app, name="users")
    app.command("serve")(serve)
    app.command("demo")(demo)
    app.command("verify")(verify)


def init(home: HomeOption = None) -> None:
    """Create a workspace: database (migrated), Parquet area and blob area.

    Example: tidetrace init --home ./my-investigation
    """
    ws = Workspace.init(home)
    typer.echo(f"workspace ready at {ws.home}")
    typer.echo(f"database: {ws.engine.url.render_as_string(hide_password=True)}")


@import_app.command("ftm")
def import_ftm(
    file: Annotated[
        Path, typer.Argument(help="FtM JSON lines (entities or statements); - for stdin")
    ],
    dataset: Annotated[
        str | None, typer.Option(help="Dataset name (default: from the file name).")
    ] = None,
    home: HomeOption = None,
) -> None:
    """Import FollowTheMoney JSON lines, e.g. an OpenSanctions or Aleph export.

    A bad line aborts the import with FILE:LINE and leaves the store as it was.

    Example: tidetrace import ftm entities.ftm.json --dataset opensanctions_kp
    """
    ws = open_workspace(home)
    if str(file) == "-":
        result = loaders.load_ftm(ws, sys.stdin.buffer, "-", dataset or "stdin")
    else:
        if not file.is_file():
            raise InputError(file, "no such file")
        with open(file, "rb") as fh, file_progress(fh, file.stat().st_size, file.name) as reader:
            result = loaders.load_ftm(ws, reader, str(file), dataset)  # type: ignore[arg-type]
    typer.echo(result.summary())


@import_app.command("case")
def import_case(
    directory: Annotated[
        Path, typer.Argument(help="Directory with entities/links/observations/replies CSV")
    ],
    home: HomeOption = None,
) -> None:
    """Import the compiled investigation case (plants, buyers, asserted links, replies).

    Example: tidetrace import case ../shared/data/investigation
    """
    ws = open_workspace(home)
    if not directory.is_dir():
        raise InputError(directory, "not a directory")
    typer.echo(loaders.load_case(ws, directory).summary())


@export_app.command("ftm")
def export_ftm(
    dataset: Annotated[str | None, typer.Option(help="Only this dataset.")] = None,
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Output file; - for stdout.")
    ] = Path("-"),
    statements: Annotated[
        bool, typer.Option("--statements", help="Write statements (full provenance) not entities.")
    ] = False,
    home: HomeOption = None,
) -> None:
    """Export entities as FtM JSON lines (or statements, with --statements).

    Example: tidetrace export ftm --dataset un_sc -o un.ftm.json
    """
    ws = open_workspace(home)
    store = EntityStore(ws.engine)
    if dataset is not None and not _dataset_exists(ws, dataset):
        raise CliError(f"no dataset {dataset!r}")
    out = sys.stdout if str(output) == "-" else open(output, "w", encoding="utf-8")  # noqa: SIM115
    try:
        if statements:
            count = write_statements(store.iter_statements(dataset), out)
            what = "statements"
        else:
            count = write_entities(store.iter_entities(dataset), out)
            what = "entities"
    finally:
        if out is not sys.stdout:
            out.close()
    typer.echo(f"wrote {count} {what}", err=True)


def _dataset_exists(ws: Workspace, name: str) -> bool:
    from tidetrace.store.datasets import get_dataset

    with ws.engine.connect() as conn:
        return get_dataset(conn, name) is not None


@entities_app.command("search")
def entities_search(
    query: Annotated[str, typer.Argument(help="Name (any script) or identifier")],
    schema: Annotated[str | None, typer.Option(help="Only this schema, e.g. Vessel")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 20,
    as_json: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Find entities by name or identifier.

    Example: tidetrace entities search "korea ocean shipping" --schema Company
    """
    from tidetrace.model import model

    if schema is not None and model.get(schema) is None:
        raise CliError(f"unknown schema {schema!r}", exit_code=2)
    if len(query) > 500:
        raise CliError("query longer than 500 characters", exit_code=2)
    ws = open_workspace(home)
    hits = EntityStore(ws.engine).search(query, schema=schema, limit=limit)
    if as_json:
        print_json([hit.__dict__ for hit in hits])
        return
    if not hits:
        typer.echo("no match")
        return
    for hit in hits:
        typer.echo(f"{hit.id}\t{hit.schema}\t{hit.caption}\t[{', '.join(hit.datasets)}]")


@entities_app.command("show")
def entities_show(
    entity_id: Annotated[str, typer.Argument(help="Entity id")],
    as_json: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Show an entity and, for each value, the dataset, origin and first/last seen.

    Example: tidetrace entities show un-sc-6908555
    """
    from tidetrace.views import entity_view

    ws = open_workspace(home)
    view = entity_view(EntityStore(ws.engine), entity_id)
    if as_json:
        print_json(view.to_dict())
        return
    typer.echo(f"{view.caption}  ({view.schema}, {view.id})")
    for row in view.values:
        typer.echo(
            f"  {row.prop_label}: {row.value}"
            f"    [{row.dataset}; {row.origin or '-'}; {row.first_seen} – {row.last_seen}]"
        )
    for ref in view.related:
        typer.echo(f"  ↳ {ref.schema}: {ref.caption} ({ref.id})")


@datasets_app.command("list")
def datasets_list(as_json: JsonOption = False, home: HomeOption = None) -> None:
    """List datasets with publisher, licence and entity counts."""
    from tidetrace.store.datasets import list_datasets

    ws = open_workspace(home)
    with ws.engine.connect() as conn:
        rows = list_datasets(conn)
    if as_json:
        print_json([{**info.to_dict(), "entities": n} for info, n in rows])
        return
    for info, n in rows:
        typer.echo(f"{info.name}\t{n}\t{info.title}\t{info.publisher or ''}\t{info.licence or ''}")


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="User name")],
    role: Annotated[str, typer.Option(help="admin, investigator, analyst or public")],
    password: Annotated[
        str | None,
        typer.Option(help="Password (default: read from TTY twice, or one line of stdin)"),
    ] = None,
    home: HomeOption = None,
) -> None:
    """Add a user. The password is stored as an Argon2 hash only.

    Example: tidetrace users add alice --role investigator
    """
    from tidetrace.auth.users import add_user

    ws = open_workspace(home)
    if password is None:
        if sys.stdin.isatty():
            password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
        else:
            password = sys.stdin.readline().rstrip("\n")
    user = add_user(ws.engine, name, role, password)
    typer.echo(f"added {user.name} ({user.role.value})")


@users_app.command("list")
def users_list(home: HomeOption = None) -> None:
    """List users and roles."""
    from tidetrace.auth.users import list_users

    for user in list_users(open_workspace(home).engine):
        typer.echo(f"{user.name}\t{user.role.value}")


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    home: HomeOption = None,
) -> None:
    """Serve the web app (and the HTTP API, OpenAPI at /docs).

    Example: tidetrace serve --port 8000
    """
    import uvicorn

    from tidetrace.web.app import create_app

    ws = open_workspace(home)
    typer.echo(f"serving {ws.home} on http://{host}:{port}/")
    uvicorn.run(
        create_app(ws),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,  # visitors of public pages are not recorded
        server_header=False,
    )


def demo(
    home: Annotated[Path, typer.Option(help="Demo workspace directory")] = Path("tidetrace-demo"),
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Build, do not serve")] = False,
) -> None:
    """Build a demo workspace from the bundled real data, then serve it on 127.0.0.1.

    Example: tidetrace demo --port 8000
    """
    from tidetrace.demo import build_demo

    info = build_demo(home, echo=typer.echo)
    if no_serve:
        return
    typer.echo(f"\nOpen http://127.0.0.1:{port}/ and log in as {info.user} / {info.password}")
    serve(host="127.0.0.1", port=port, home=home)


def verify(home: HomeOption = None) -> None:
    """Check the audit log's hash chain, the evidence vault and the sealed testimonies.

    Exits 1 and names each problem when anything was altered, removed or reordered.

    Example: tidetrace verify --home ./my-investigation
    """
    from tidetrace.cli.vault import verify_vault_report
    from tidetrace.intake.verify import verify_intake
    from tidetrace.store.audit import verify_chain

    ws = open_workspace(home)
    count, problems = verify_chain(ws.engine)
    for problem in problems:
        typer.echo(f"audit log entry {problem.seq}: {problem.reason}")
    if not problems:
        typer.echo(f"audit log: {count} entries, chain intact")
    vault = verify_vault_report(ws)
    intake = verify_intake(ws)
    for intake_problem in intake.problems:
        typer.echo(str(intake_problem))
    if intake.rows or intake.problems:
        typer.echo(f"intake: {intake.rows} sealed rows, {len(intake.problems)} problem(s)")
    if problems:
        raise CliError(f"audit log: {len(problems)} problem(s) in {count} entries")
    if vault is not None and vault.problems:
        raise CliError(f"evidence vault: {len(vault.problems)} problem(s)")
    if intake.problems:
        raise CliError(f"intake: {len(intake.problems)} problem(s)")


@import_app.command("un-sc")
def import_un_sc(
    file: Annotated[Path, typer.Argument(help="UN consolidated list XML")],
    program: Annotated[
        str | None, typer.Option(help="Keep one regime, e.g. DPRK (the 1718 list)")
    ] = None,
    home: HomeOption = None,
) -> None:
    """Import the UN Security Council Consolidated Sanctions List (official XML).

    Example: tidetrace import un-sc data/sanctions/un_sc_consolidated_2026-02-27.xml --program DPRK
    """
    ws = open_workspace(home)
    typer.echo(loaders.load_un_sc(ws, file, program=program).summary())


@import_app.command("ofac-sdn")
def import_ofac_sdn(
    sdn: Annotated[Path, typer.Argument(help="OFAC SDN.csv (legacy format, no header)")],
    alt: Annotated[Path | None, typer.Option("--alt", help="ALT.csv (aliases)")] = None,
    add: Annotated[Path | None, typer.Option("--add", help="ADD.csv (addresses)")] = None,
    program: Annotated[
        str | None, typer.Option(help="Keep one programme family, e.g. DPRK")
    ] = None,
    home: HomeOption = None,
) -> None:
    """Import the US Treasury OFAC SDN list with its aliases and addresses.

    Example: tidetrace import ofac-sdn SDN.csv --alt ALT.csv --add ADD.csv --program DPRK
    """
    ws = open_workspace(home)
    result = loaders.load_ofac_sdn(ws, sdn, alt=alt, add=add, program=program)
    typer.echo(result.summary())
    for note in result.notes:
        typer.echo(f"note: {note}")
