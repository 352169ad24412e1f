"""Establishment registries and the package-code lookup on the command line.

``registry fetch traces``, ``ingest registry``, ``synth registry`` and ``lookup``: each
parses its options, calls one library function in ``tidetrace.registry`` and prints.
"""

from pathlib import Path
from typing import Annotated

import typer

from tidetrace.cli.base import (
    CliError,
    HomeOption,
    JsonOption,
    make_app,
    open_workspace,
    print_json,
)
from tidetrace.cli.groups import ingest_app, synth_app
from tidetrace.cli.identity import UserOption, unlock_identity
from tidetrace.exc import InputError

__all__ = ["register"]

registry_app = make_app("Establishment registries: fetch and link lists of approved plants.")
fetch_app = make_app("Fetch an establishment list from its publisher.")
registry_app.add_typer(fetch_app, name="fetch")


def register(app: typer.Typer) -> None:
    """Attach ``registry …`` and ``lookup`` (``ingest``/``synth`` commands join shared groups)."""
    app.add_typer(registry_app, name="registry")
    app.command("lookup")(lookup)


@fetch_app.command("traces")
def fetch_traces(
    country: Annotated[str, typer.Option(help="Two-letter country code, e.g. CN.")],
    section: Annotated[
        str, typer.Option(help="TRACES section code (FFP: fishery products, Section VIII).")
    ] = "FFP",
    base_url: Annotated[
        str | None,
        typer.Option(help="Directory endpoint up to /establishments (default: the EU's)."),
    ] = None,
    source: Annotated[
        str | None, typer.Option(help="Dataset to ingest into (default traces_<cc>_<section>).")
    ] = None,
    no_ingest: Annotated[
        bool, typer.Option("--no-ingest", help="Only save the list; do not ingest it.")
    ] = False,
    restart: Annotated[
        bool, typer.Option("--restart", help="Forget saved progress and start again.")
    ] = False,
    home: HomeOption = None,
) -> None:
    """Fetch a country's approved establishments from the EU TRACES directory and ingest them.

    At most one request per second; server errors are retried with growing pauses; progress
    is saved after every page, so rerunning an interrupted fetch resumes it. The finished
    list is saved under <workspace>/registry/traces/ and then ingested in one transaction.

    Example: tidetrace registry fetch traces --country CN --section FFP
    """
    from tidetrace.registry.ingest import ingest_registry
    from tidetrace.registry.traces import DEFAULT_BASE_URL, TracesClient
    from tidetrace.registry.traces import fetch_traces as fetch

    ws = open_workspace(home)
    client = TracesClient(base_url or DEFAULT_BASE_URL)
    try:
        result = fetch(ws, country, section, client=client, restart=restart)
    finally:
        client.close()
    resumed = " (resumed)" if result.resumed else ""
    typer.echo(f"fetched {result.items} establishments in {result.pages} pages{resumed}")
    typer.echo(f"saved {result.path}")
    if not no_ingest:
        typer.echo(ingest_registry(ws, result.path, "traces-json", source).summary())


@registry_app.command("link-plants")
def link_plants(
    source: Annotated[str, typer.Option(help="Registry dataset to link, e.g. traces_cn_ffp.")],
    home: HomeOption = None,
) -> None:
    """Record candidate links between a registry's entries and plants known only by name.

    Run it after importing a case whose plants have no codes. Links are ``Similar`` entities
    for entity resolution to confirm or reject; nothing is merged.

    Example: tidetrace registry link-plants --source traces_cn_ffp
    """
    from tidetrace.registry.ingest import link_dataset

    ws = open_workspace(home)
    links = link_dataset(ws, source)
    typer.echo(f"{source}: {len(links)} candidate links to named plants")
    for facility, plant in links:
        typer.echo(f"  {facility} ~ {plant}")


@ingest_app.command("registry")
def ingest_registry(
    file: Annotated[Path, typer.Argument(help="Saved TRACES JSON or generic CSV")],
    format: Annotated[str, typer.Option("--format", help="traces-json or generic.")] = "generic",
    source: Annotated[
        str | None,
        typer.Option(help="Dataset name; ingest newer lists under the same one to keep history."),
    ] = None,
    as_of: Annotated[
        str | None, typer.Option(help="Date of the list (YYYY-MM-DD), for delisted codes.")
    ] = None,
    home: HomeOption = None,
) -> None:
    """Ingest an establishment list into Facility entities with per-value provenance.

    Codes missing from a newer list of the same dataset are marked delisted; changed names
    are kept with the dates they were seen. A bad row aborts with FILE:LINE and writes
    nothing.

    Example: tidetrace ingest registry cn-plants.csv --format generic --source gacc_cn
    """
    from tidetrace.registry.ingest import ingest_registry as ingest

    ws = open_workspace(home)
    result = ingest(ws, file, format, source, as_of=as_of)
    typer.echo(result.summary())
    for note in result.notes:
        typer.echo(f"note: {note}")


@synth_app.command("registry")
def synth_registry(
    facilities: Annotated[int, typer.Option(min=1, max=200_000, help="How many plants.")],
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same registry).")] = 1,
    output: Annotated[Path, typer.Option("-o", "--output", help="CSV file; - for stdout.")] = Path(
        "-"
    ),
) -> None:
    """Write a SYNTHETIC establishment registry (generic CSV), every row marked as invented.

    Example: tidetrace synth registry --facilities 20000 --seed 7 -o synthetic-registry.csv
    """
    import sys

    from tidetrace.registry.synth import generate, write_csv

    plants = generate(facilities, seed)
    if str(output) == "-":
        rows = write_csv(plants, sys.stdout, seed)
    else:
        with open(output, "w", encoding="utf-8", newline="") as fh:
            rows = write_csv(plants, fh, seed)
        typer.echo(f"wrote {len(plants)} synthetic plants ({rows} rows) to {output}", err=True)


def lookup(
    code: Annotated[
        str | None, typer.Argument(help="Code as printed, e.g. 'CN 2100/02153 EC'")
    ] = None,
    image: Annotated[
        Path | None, typer.Option("--image", help="Photo of the stamp or box print.")
    ] = None,
    user: UserOption = None,
    case: Annotated[
        str | None,
        typer.Option("--case", help="With --user: only this case's evidence (id or name)."),
    ] = None,
    as_json: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Which plant packed this? Look up an establishment code, typed or photographed.

    Shows the plant (names in every script, province and city, activities, lists and
    dates), its operator and owners, sanctions and forced-labour list hits, flags with
    their evidence references, what investigations observed there, shipments from the
    supply-chain graph, and near-miss codes. With --user (or --case), also the claims in
    that member's cases about the plant, each recorded as viewed on the case's custody
    log. An unknown code exits 0 with facility null; input that cannot be a code exits 2.

    Example: tidetrace lookup "CN 2100/02153 EC" --json --user alice
    """
    from tidetrace.registry.lookup import LookupResult, MalformedCode, lookup_code
    from tidetrace.registry.trade import GraphTrade

    if (code is None) == (image is None):
        raise CliError("give a CODE or --image PHOTO (one of them)", exit_code=2)
    ws = open_workspace(home)
    trade = GraphTrade(ws)

    def with_evidence(result: LookupResult) -> LookupResult:
        if (user is None and case is None) or result.facility is None:
            return result
        from tidetrace.registry.evidence import add_case_evidence

        return add_case_evidence(ws, result, unlock_identity(ws, user), case)

    # Whoever runs the CLI holds the workspace and may read the whole store: unrestricted.
    if code is not None:
        try:
            result = lookup_code(ws.engine, code, trade=trade, restricted=False)
        except MalformedCode as exc:
            raise CliError(f"not a code: {exc.detail}", exit_code=2) from None
        with_evidence(result)
        if as_json:
            print_json(result.to_dict())
        else:
            _print_result(result.to_dict())
        return
    assert image is not None
    from tidetrace.registry.ocr import ImageRejected, lookup_photo

    if not image.is_file():
        raise InputError(image, "no such file")
    try:
        found = lookup_photo(ws.engine, image.read_bytes(), trade=trade, restricted=False)
    except ImageRejected as exc:
        raise CliError(f"{image}: {exc.detail}", exit_code=2) from None
    if found.result is not None:
        with_evidence(found.result)
    if as_json:
        print_json(found.to_dict())
        return
    if not found.ocr.candidates:
        typer.echo("no code found on the photo")
        return
    for cand in found.ocr.candidates:
        listed = "in registry" if cand.in_registry else "not in any list"
        fixes = f", repaired: {', '.join(cand.changes)}" if cand.changes else ""
        typer.echo(f"read {cand.code}  confidence {cand.confidence:.2f}  ({listed}{fixes})")
    if found.result is not None:
        typer.echo("")
        _print_result(found.result.to_dict())


def _print_result(data: dict[str, object]) -> None:
    """The lookup as text for a terminal."""
    facility = data.get("facility")
    decoded = data.get("decoded") or {}
    province = decoded.get("province") if isinstance(decoded, dict) else None
    typer.echo(f"code {data.get('code')}" + (f"  (province: {province})" if province else ""))
    if not isinstance(facility, dict):
        typer.echo("no plant on any list in this workspace has this code")
        for sug in data.get("suggestions") or []:  # type: ignore[attr-defined]
            typer.echo(f"  did you mean {sug['code']}: {sug['name']} ({sug['reason']})")
        return
    if facility.get("synthetic"):
        typer.echo("!! SYNTHETIC registry entry: invented for the demo, not a real plant")
    typer.echo(" / ".join(facility["names"]))
    place = ", ".join([*facility["city"], *facility["province"], *facility["country"]])
    typer.echo(f"  where: {place}")
    if facility["activities"]:
        typer.echo(f"  activities: {', '.join(facility['activities'])}")
    for src in facility["sources"]:
        dates = ", ".join(src["listed_on"]) or "-"
        status = src["status"] + (f" {', '.join(src['delisted_on'])}" if src["delisted_on"] else "")
        typer.echo(
            f"  list: {src['title']} [{src['dataset']}] {status}; listed {dates}; "
            f"seen {src['first_seen'][:10]} – {src['last_seen'][:10]}"
        )
    old = [n for n in facility["name_history"] if not n["current"]]
    for name in old:
        typer.echo(f"  formerly: {name['name']} (until {name['last_seen'][:10]})")
    for key, label in (("operators", "operator"), ("owners", "owner")):
        for ref in data.get(key) or []:  # type: ignore[attr-defined]
            typer.echo(f"  {label}: {ref['caption']} ({ref['id']})")
    for hit in data.get("list_hits") or []:  # type: ignore[attr-defined]
        typer.echo(f"  LIST HIT via {hit['via']}: {hit['caption']} {', '.join(hit['topics'])}")
    for cand in data.get("candidates") or []:  # type: ignore[attr-defined]
        plant = cand["plant"]
        typer.echo(
            f"  possibly the same plant (unreviewed): {plant['caption']} ({plant['id']}), "
            f"{cand['findings']} findings"
        )
    for finding in data.get("findings") or []:  # type: ignore[attr-defined]
        typer.echo(f"  {finding['kind']}: {finding['date'] or ''} {finding['text'] or ''}")
    for flag in data.get("flags") or []:  # type: ignore[attr-defined]
        since = f" since {flag['since']}" if flag["since"] else ""
        refs = f" [evidence: {', '.join(flag['evidence'])}]" if flag["evidence"] else ""
        typer.echo(
            f"  FLAG ({flag['kind']}) via {flag['via']}: {flag['caption']}: "
            f"{flag['reason']}{since}{refs}"
        )
    trade = data.get("trade")
    if isinstance(trade, dict):
        if trade.get("shipments"):
            typer.echo(
                f"  shipments: {trade['shipments']}, {trade['tonnage']} t, "
                f"{trade['first_date']} – {trade['last_date']} (graph {trade['graph_version']})"
            )
            for party in trade["consignees"]:
                typer.echo(
                    f"    to {party['name']}: {party['shipments']} shipments, {party['tonnage']} t"
                )
            if trade["hs_codes"]:
                typer.echo(f"    HS codes: {', '.join(trade['hs_codes'])}")
        if trade.get("note"):
            typer.echo(f"  trade: {trade['note']}")
    evidence = data.get("evidence")
    if isinstance(evidence, list):
        if not evidence:
            typer.echo("  evidence in your cases: none about this plant")
        for claim in evidence:
            grades = f", grades {'/'.join(claim['grades'])}" if claim["grades"] else ""
            typer.echo(
                f"  EVIDENCE [{claim['case_name']}] ({claim['via']}) {claim['text']}: "
                f"{claim['supporting']} supporting, {claim['contradicting']} contradicting, "
                f"{claim['item_count']} items{grades}"
            )
