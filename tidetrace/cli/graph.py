"""Graph, flags, tracing and exposure: ``graph``, ``flag``, ``flags``, ``trace``, ``exposure``."""

import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tidetrace.cli.base import (
    CliError,
    HomeOption,
    JsonOption,
    make_app,
    open_workspace,
    print_json,
)
from tidetrace.exc import InputError
from tidetrace.workspace import Workspace

if TYPE_CHECKING:
    from tidetrace.graph.graphdb import LoadedGraph, Window
    from tidetrace.graph.trace import TraceResult

__all__ = ["register"]

graph_app = make_app("Build the supply-chain graph from trade records and documents.")
trace_app = make_app(
    "Trace where an entity's goods went (downstream) or came from (upstream), tier by tier."
)
flags_app = make_app("List, withdraw and import flags (UFLPA Entity List, CBP WROs).")

SinceOption = Annotated[
    str | None, typer.Option("--since", help="First arrival date counted (YYYY-MM-DD).")
]
UntilOption = Annotated[
    str | None, typer.Option("--until", help="Last arrival date counted (YYYY-MM-DD).")
]
HsOption = Annotated[
    str | None, typer.Option("--hs", help="Only goods whose HS code starts with this, e.g. 0307.")
]
DepthOption = Annotated[
    int, typer.Option("--max-depth", min=1, max=12, help="How many tiers to follow.")
]
HtmlOption = Annotated[
    bool, typer.Option("--html", help="Print an offline HTML report (Sankey, network, tables).")
]
OutputOption = Annotated[
    Path | None,
    typer.Option("-o", "--output", help="Write to this file (.json or .html) instead of stdout."),
]
NoBuildOption = Annotated[
    bool,
    typer.Option(
        "--no-build",
        help="Use the graph as last built, even when new records arrived since.",
    ),
]
BasisOption = Annotated[
    str, typer.Option("--basis", help="Follow all edges, only 'observed' or only 'asserted'.")
]


def register(app: typer.Typer) -> None:
    """Attach the graph commands to the top-level app."""
    app.add_typer(graph_app, name="graph")
    app.add_typer(trace_app, name="trace")
    app.command("exposure")(exposure_command)
    app.command("flag")(flag_command)
    app.add_typer(flags_app, name="flags")


def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InputError(option, f"not a date (YYYY-MM-DD): {value[:40]!r}") from None


def _window(since: str | None, until: str | None, hs: str | None) -> "Window":
    from tidetrace.graph.graphdb import Window

    if hs is not None:
        hs = hs.replace(".", "").strip()
        if not hs.isdigit() or not 2 <= len(hs) <= 10:
            raise InputError("--hs", "an HS prefix is 2 to 10 digits, e.g. 0307")
    return Window(_date(since, "--since"), _date(until, "--until"), hs)


def _graph(ws: Workspace, build: bool = True) -> "LoadedGraph":
    from tidetrace.graph.build import ensure_graph, graph_is_stale
    from tidetrace.graph.graphdb import open_graph

    if build:
        # New records since the last build are folded in first (only new sources are read).
        built = ensure_graph(ws)
        if built is not None:
            typer.echo(built.summary(), err=True)
    elif graph_is_stale(ws):
        typer.echo("note: new records arrived since the graph was built", err=True)
    return open_graph(ws)


def _resolve(ws: Workspace, graph: "LoadedGraph | None", entity: str) -> str:
    from tidetrace.graph.lookup import AmbiguousEntity, resolve_entity
    from tidetrace.store.entities import EntityStore

    try:
        return resolve_entity(EntityStore(ws.engine), graph, entity)
    except AmbiguousEntity as exc:
        for cand in exc.candidates:
            typer.echo(f"  {cand.id}\t{cand.schema}\t{cand.name}\t[{cand.where}]", err=True)
        raise CliError(exc.detail, exit_code=2) from None


def _emit(data: Any, html: str | None, as_json: bool, output: Path | None) -> bool:
    """Write JSON or HTML to ``output`` or stdout; False when the caller prints text."""
    import json

    if output is not None:
        if output.suffix.lower() == ".html":
            assert html is not None
            output.write_text(html, encoding="utf-8")
        else:
            output.write_text(
                json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n",
                encoding="utf-8",
            )
        typer.echo(f"wrote {output}", err=True)
        return True
    if html is not None:
        sys.stdout.write(html)
        return True
    if as_json:
        print_json(data)
        return True
    return False


def _actor(given: str | None) -> str:
    from tidetrace.settings import get_settings

    return given or get_settings().user or "cli"


def _kg(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


@graph_app.command("build")
def graph_build(
    full: Annotated[
        bool,
        typer.Option("--full", help="Re-read every partition and compact from scratch."),
    ] = False,
    as_json: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Build or update the graph: trade links from shipments, asserted links from documents.

    Only partitions of trade records that changed since the last build are read again, and
    the new version starts from the previous one: only bills of new, changed or removed
    partitions, and bills naming a party whose canonical id changed, are mapped again. The
    report says what was reused (or why everything was compacted again).

    Example: tidetrace graph build --json
    """
    from dataclasses import asdict

    from tidetrace.graph.build import build_graph

    ws = open_workspace(home)
    result = build_graph(ws, full=full)
    if as_json:
        print_json({k: v for k, v in asdict(result).items() if not k.startswith("_")})
        return
    typer.echo(result.summary())


@graph_app.command("status")
def graph_status(as_json: JsonOption = False, home: HomeOption = None) -> None:
    """Show the live graph version and whether new records arrived since it was built.

    Example: tidetrace graph status --json
    """
    import json

    from tidetrace.graph.build import GraphPaths, graph_is_stale

    ws = open_workspace(home)
    current = GraphPaths.of(ws).current()
    manifest = json.loads((current / "manifest.json").read_text()) if current else {}
    info = {**manifest, "stale": graph_is_stale(ws)}
    if as_json:
        print_json(info)
        return
    if not manifest:
        typer.echo("no graph yet: run 'tidetrace graph build'")
        return
    typer.echo(
        f"graph {manifest['version']} built {manifest['built_at']}: {manifest['nodes']} nodes, "
        f"{manifest['observed_edges']} observed and {manifest['asserted_edges']} asserted edges"
        + ("; new records since (run 'tidetrace graph build')" if info["stale"] else "")
    )
    if manifest.get("compaction"):
        typer.echo(f"compaction: {manifest['compaction']}")


def _trace(
    direction: str,
    entity: str,
    since: str | None,
    until: str | None,
    hs: str | None,
    max_depth: int,
    basis: str,
    as_json: bool,
    html: bool,
    output: Path | None,
    home: Path | None,
    no_build: bool = False,
) -> None:
    from tidetrace.graph.flags import load_flag_index
    from tidetrace.graph.render import report_html
    from tidetrace.graph.trace import trace

    if basis not in ("all", "observed", "asserted"):
        raise InputError("--basis", "choose all, observed or asserted")
    window = _window(since, until, hs)
    ws = open_workspace(home)
    graph = _graph(ws, build=not no_build)
    start = _resolve(ws, graph, entity)
    if start not in graph.index:
        raise CliError(f"{start} has no supply links in the graph", exit_code=1)
    result: TraceResult = trace(
        graph,
        load_flag_index(ws.engine),
        start,
        direction,  # type: ignore[arg-type]
        window,
        max_depth=max_depth,
        basis=basis,  # type: ignore[arg-type]
    )
    want_html = html or (output is not None and output.suffix.lower() == ".html")
    page = report_html(result) if want_html else None
    if _emit(result.to_dict(), page, as_json, output):
        return
    head = result.node(result.start)
    typer.echo(f"{head.name if head else start} ({start}), {direction}, graph {graph.version}")
    for note in result.notes:
        typer.echo(f"note: {note}")
    typer.echo("tier\t≤kg\t≤kg before flag\tconfidence\tbasis\tentity")
    for node in result.nodes:
        if node.id == result.start:
            continue
        flags = " ⚑" if node.flags else ""
        conf = "-" if node.confidence is None else f"{node.confidence:.2f}"
        typer.echo(
            f"{node.tier}\t{_kg(node.kg)}\t{_kg(node.kg_before_flag)}\t{conf}\t"
            f"{'+'.join(node.reached_by)}\t{node.name} ({node.id}){flags}"
        )


@trace_app.command("downstream")
def trace_downstream(
    entity: Annotated[str, typer.Argument(help="Entity id, or a name matching one entity")],
    since: SinceOption = None,
    until: UntilOption = None,
    hs: HsOption = None,
    max_depth: DepthOption = 6,
    basis: BasisOption = "all",
    as_json: JsonOption = False,
    html: HtmlOption = False,
    output: OutputOption = None,
    no_build: NoBuildOption = False,
    home: HomeOption = None,
) -> None:
    """Where an entity's goods went: every entity reached, by tier, with volume-bounded tonnage.

    kg is the most that can have come from ENTITY in the window (no party passes on more
    than it received). When ENTITY is flagged from a date, its shipments before that date
    are counted separately.

    Example: tidetrace trace downstream "Dalian Haiqing Food" --since 2022-01-01 --json
    """
    _trace(
        "downstream", entity, since, until, hs, max_depth, basis, as_json, html, output, home,
        no_build,
    )  # fmt: skip


@trace_app.command("upstream")
def trace_upstream(
    entity: Annotated[str, typer.Argument(help="Entity id, or a name matching one entity")],
    since: SinceOption = None,
    until: UntilOption = None,
    hs: HsOption = None,
    max_depth: DepthOption = 6,
    basis: BasisOption = "all",
    as_json: JsonOption = False,
    html: HtmlOption = False,
    output: OutputOption = None,
    no_build: NoBuildOption = False,
    home: HomeOption = None,
) -> None:
    """Where an entity's goods came from: every supplier reached, by tier, with tonnage.

    kg is the most of ENTITY's intake in the window that can have come from each supplier.

    Example: tidetrace trace upstream case-walmart --hs 0307 --html -o walmart.html
    """
    _trace(
        "upstream", entity, since, until, hs, max_depth, basis, as_json, html, output, home,
        no_build,
    )  # fmt: skip


def exposure_command(
    entity: Annotated[str, typer.Argument(help="Entity id, or a name matching one entity")],
    since: SinceOption = None,
    until: UntilOption = None,
    hs: HsOption = None,
    max_depth: DepthOption = 6,
    as_json: JsonOption = False,
    html: HtmlOption = False,
    output: OutputOption = None,
    no_build: NoBuildOption = False,
    home: HomeOption = None,
) -> None:
    """How much of what a company buys traces to flagged facilities, and through whom.

    The flagged share is an upper bound (maximum flow from every flagged supplier at once).

    Example: tidetrace exposure "Sysco" --since 2023-01-01
    """
    from tidetrace.graph.exposure import exposure
    from tidetrace.graph.flags import load_flag_index
    from tidetrace.graph.render import report_html

    window = _window(since, until, hs)
    ws = open_workspace(home)
    graph = _graph(ws, build=not no_build)
    entity_id = _resolve(ws, graph, entity)
    if entity_id not in graph.index:
        raise CliError(f"{entity_id} has no supply links in the graph", exit_code=1)
    result = exposure(graph, load_flag_index(ws.engine), entity_id, window, max_depth=max_depth)
    want_html = html or (output is not None and output.suffix.lower() == ".html")
    page = None
    if want_html and result.trace is not None:
        page = report_html(result.trace, title=f"{result.name}: exposure", exposure=result)
    if _emit(result.to_dict(), page, as_json, output):
        return
    share = result.share
    typer.echo(f"{result.name} ({entity_id})")
    typer.echo(f"received: {_kg(result.kg_in)} kg over trade links in the window")
    typer.echo(
        f"can trace to flagged sources: ≤ {_kg(result.kg_flagged)} kg"
        + (f" (≤ {share:.1%})" if share is not None else "")
        + f"; before their flag dates: ≤ {_kg(result.kg_flagged_before)} kg"
    )
    for src in result.sources:
        reasons = "; ".join(f["reason"] for f in src.flags)
        typer.echo(
            f"  source tier {src.tier}: {src.name} ({src.id}) ≤ {_kg(src.kg)} kg — {reasons}"
        )
    for via in result.via:
        if via.kg_flagged > 0:
            typer.echo(
                f"  through {via.name} ({via.id}): ≤ {_kg(via.kg_flagged)} of {_kg(via.kg_in)} kg"
            )
    for src in result.asserted:
        conf = "-" if src.confidence is None else f"{src.confidence:.2f}"
        typer.echo(f"  asserted only, tier {src.tier}: {src.name} ({src.id}), confidence {conf}")


def flag_command(
    entity: Annotated[str, typer.Argument(help="Entity id, or a name matching one entity")],
    reason: Annotated[str, typer.Option("--reason", help="Why the entity is flagged.")],
    evidence: Annotated[
        list[str] | None,
        typer.Option("--evidence", help="Evidence reference (URL, vault id, file); repeatable."),
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="The day the finding applies from (YYYY-MM-DD).")
    ] = None,
    actor: Annotated[
        str | None,
        typer.Option("--as", help="Who flags, for the audit log (default $TIDETRACE_USER or cli)."),
    ] = None,
    as_json: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Flag an entity on an investigator's finding; traces then treat it as a source of risk.

    Example: tidetrace flag case-plant-haiqing --reason "North Korean workers on site"
    --evidence vault:42 --since 2023-06-01
    """
    from tidetrace.graph.flags import add_flag

    ws = open_workspace(home)
    graph = None
    try:
        from tidetrace.graph.graphdb import open_graph

        graph = open_graph(ws)
    except Exception:  # noqa: BLE001 - without a graph, names resolve through the store alone
        graph = None
    entity_id = _resolve(ws, graph, entity)
    flag = add_flag(
        ws.engine,
        entity_id,
        reason,
        evidence=evidence or [],
        since=_date(since, "--since"),
        actor=_actor(actor),
    )
    if as_json:
        print_json(flag.to_dict())
        return
    typer.echo(f"flag {flag.id} on {entity_id}" + (f" from {flag.since}" if flag.since else ""))


@flags_app.command("list")
def flags_list(
    entity: Annotated[str | None, typer.Argument(help="Only flags of this entity")] = None,
    kind: Annotated[
        str | None, typer.Option("--kind", help="finding, list, uflpa, wro or computed")
    ] = None,
    include_revoked: Annotated[
        bool, typer.Option("--all", help="Include withdrawn flags.")
    ] = False,
    as_json: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """List flags: findings, list hits (UN 1718, OFAC DPRK), UFLPA and WRO entries.

    Example: tidetrace flags list --kind list --json
    """
    from tidetrace.graph.flags import list_flags

    ws = open_workspace(home)
    ids = [_resolve(ws, None, entity)] if entity is not None else None
    flags = list_flags(ws.engine, ids, kind=kind, include_revoked=include_revoked)
    if as_json:
        print_json([f.to_dict() for f in flags])
        return
    for f in flags:
        state = "" if f.active else f"  [withdrawn {f.revoked_at}: {f.revoke_reason}]"
        since = f.since.isoformat() if f.since else "-"
        typer.echo(f"{f.id}\t{f.kind}\t{f.entity_id}\t{since}\t{f.reason}{state}")


@flags_app.command("revoke")
def flags_revoke(
    flag_id: Annotated[int, typer.Argument(help="Flag id (see 'flags list')")],
    reason: Annotated[str, typer.Option("--reason", help="Why the flag is withdrawn.")],
    actor: Annotated[
        str | None,
        typer.Option("--as", help="Who withdraws it (default $TIDETRACE_USER or cli)."),
    ] = None,
    home: HomeOption = None,
) -> None:
    """Withdraw a flag; it stays on record with who withdrew it and why.

    Example: tidetrace flags revoke 12 --reason "the finding was about its successor"
    """
    from tidetrace.graph.flags import revoke_flag

    ws = open_workspace(home)
    flag = revoke_flag(ws.engine, flag_id, reason, actor=_actor(actor))
    typer.echo(f"flag {flag.id} withdrawn")


@flags_app.command("import")
def flags_import(
    listing: Annotated[str, typer.Argument(help="uflpa (UFLPA Entity List) or wro (CBP WROs)")],
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV: name, aliases, country, address, identifier, since, reference, "
            "merchandise, url (only name required)"
        ),
    ],
    home: HomeOption = None,
) -> None:
    """Import the UFLPA Entity List or CBP Withhold Release Orders and flag each listed entity.

    Re-importing a newer list withdraws flags of entities no longer on it.

    Example: tidetrace flags import uflpa uflpa_entity_list.csv
    """
    from tidetrace.graph.flags import import_watchlist

    if not file.is_file():
        raise InputError(file, "no such file")
    ws = open_workspace(home)
    typer.echo(import_watchlist(ws.engine, file, listing.lower()).summary())
