"""Entity resolution on the command line: ``resolve``, ``resolve …`` and ``review``.

``tidetrace resolve`` runs resolution over the workspace; its subcommands score a CSV of
name pairs, show how a name is analysed, list the review queue, and record, withdraw or
split judgements. ``tidetrace review`` walks the queue in the terminal, one key per answer.
Each command parses its options, calls one function of ``tidetrace.resolve`` and prints.
"""

import getpass
import shutil
import sys
import textwrap
from pathlib import Path
from typing import Annotated, Any

import click
import typer

from tidetrace.cli.base import (
    CliError,
    HomeOption,
    JsonOption,
    TidetraceGroup,
    open_workspace,
    print_json,
)
from tidetrace.exc import InputError

__all__ = ["register"]

resolve_app = typer.Typer(
    cls=TidetraceGroup,
    help=(
        "Resolve parties, facilities and list entries into entities, across scripts.\n\n"
        "Without a subcommand: run resolution over the workspace. Pairs above the match band "
        "are linked, pairs in the review band are queued for 'tidetrace review'; human "
        "judgements are never overridden."
    ),
    invoke_without_command=True,
    no_args_is_help=False,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="Scoring configuration YAML (default: the shipped one)."),
]
ActorOption = Annotated[
    str | None,
    typer.Option("--actor", help="Who is judging (default: $TIDETRACE_USER or your login)."),
]
NoteOption = Annotated[str | None, typer.Option("--note", help="Why; kept with the judgement.")]


def register(app: typer.Typer) -> None:
    """Attach ``resolve …`` and ``review``."""
    app.add_typer(resolve_app, name="resolve")
    app.command("review")(review)


def _actor(actor: str | None) -> str:
    if actor:
        return actor.strip()
    from tidetrace.settings import get_settings

    return get_settings().user or getpass.getuser()


def _config(path: Path | None) -> Path | None:
    if path is not None and not path.is_file():
        raise InputError(path, "no such file")
    return path


@resolve_app.callback()
def resolve_run(
    ctx: typer.Context,
    engine: Annotated[
        str, typer.Option("--engine", help="duckdb (in process) or spark (local or cluster).")
    ] = "duckdb",
    config: ConfigOption = None,
    parties: Annotated[
        bool,
        typer.Option("--parties/--no-parties", help="Include bill-of-lading parties."),
    ] = True,
    max_block: Annotated[
        int | None,
        typer.Option(min=2, help="Ignore blocking keys shared by more records than this."),
    ] = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Link all parties and entities of the workspace that are one entity.

    Re-running on unchanged data changes nothing; a human judgement always stands.

    Example: tidetrace resolve --engine duckdb
    """
    if ctx.invoked_subcommand is not None:
        return
    from tidetrace.resolve.engine import ENGINES
    from tidetrace.resolve.run import resolve_workspace

    if engine not in ENGINES:
        raise CliError(f"unknown engine {engine!r}; choose one of: {', '.join(ENGINES)}", 2)
    ws = open_workspace(home)
    summary = resolve_workspace(
        ws,
        engine=engine,
        actor=_actor(actor),
        config=_config(config),
        parties=parties,
        max_block=max_block,
    )
    if as_json:
        print_json(summary.to_dict())
    else:
        typer.echo(summary.summary())


@resolve_app.command("pairs")
def resolve_pairs(
    file: Annotated[
        Path,
        typer.Argument(help="CSV with left, right [, left_country, right_country]; - for stdin"),
    ],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Output CSV; - for stdout.")
    ] = Path("-"),
    config: ConfigOption = None,
) -> None:
    """Score name pairs: the input columns plus score, decision and explanation.

    Needs no workspace. Decisions: match, review or no-match (the bands of the configuration).

    Example: tidetrace resolve pairs suppliers.csv -o scored.csv
    """
    from tidetrace.resolve.pairs import score_pairs_file
    from tidetrace.resolve.scoring import Scorer, load_config

    if str(file) != "-" and not file.is_file():
        raise InputError(file, "no such file")
    stats = score_pairs_file(file, output, Scorer(load_config(_config(config))))
    typer.echo(stats.summary(), err=True)


@resolve_app.command("names")
def resolve_names(
    names: Annotated[list[str], typer.Argument(help="Names in any script")],
    as_json: JsonOption = False,
) -> None:
    """Show how names are analysed: tokens (place, concept, legal form, own words), address.

    Example: tidetrace resolve names 大连海青食品有限公司 "DALIAN HAI QING FOOD CO.,LTD."
    """
    from tidetrace.resolve.names import analyze

    if as_json:
        print_json([{"input": n, "forms": [f.to_dict() for f in analyze(n)]} for n in names])
        return
    for name in names:
        typer.echo(name)
        for form in analyze(name):
            address = f"   [address: {form.address}]" if form.address else ""
            typer.echo(f"  → {form.render()}{address}")


@resolve_app.command("explain")
def resolve_explain(
    left: Annotated[str, typer.Argument(help="Entity id (or a name, with --names)")],
    right: Annotated[str, typer.Argument(help="Entity id (or a name, with --names)")],
    names: Annotated[
        bool, typer.Option("--names", help="LEFT and RIGHT are names, not ids.")
    ] = False,
    config: ConfigOption = None,
    as_json: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Score two records (or two names) and show every feature that fired.

    Example: tidetrace resolve explain case-plant-haiqing tt-party-0123456789abcdef01234567
    """
    from tidetrace.resolve.scoring import Scorer, load_config

    scorer = Scorer(load_config(_config(config)))
    if names:
        result = scorer.compare_names(left, right)
    else:
        from tidetrace.resolve.run import record_for

        ws = open_workspace(home)
        records = []
        for entity_id in (left, right):
            record = record_for(ws, entity_id)
            if record is None:
                raise CliError(f"no resolvable entity {entity_id!r}", 2)
            records.append(record)
        result = scorer.compare_records(records[0], records[1])
    if as_json:
        print_json(result.to_dict())
        return
    typer.echo(f"{result.score:.4f} {result.decision}: {result.left_name} | {result.right_name}")
    for rule in result.rules:
        typer.echo(f"  rule: {rule}")
    for c in result.contributions:
        typer.echo(
            f"  {c.feature:16} {c.value:6.3f} × {c.weight:6.2f} = "
            f"{c.contribution:+6.2f}  {c.detail}"
        )


@resolve_app.command("queue")
def resolve_queue(
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 20,
    as_json: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """List the open review queue, best score first.

    Example: tidetrace resolve queue --limit 50
    """
    from tidetrace.resolve.review import candidates

    items, total = candidates(open_workspace(home).engine, limit=limit)
    if as_json:
        print_json({"open": total, "items": [c.__dict__ for c in items]})
        return
    typer.echo(f"{total} open")
    for c in items:
        names = f"{c.explanation.get('left_name', '')} | {c.explanation.get('right_name', '')}"
        typer.echo(f"{c.score:.3f}  {c.left}  {c.right}  {names}")


@resolve_app.command("judge")
def resolve_judge(
    left: Annotated[str, typer.Argument(help="Entity id")],
    right: Annotated[str, typer.Argument(help="Entity id")],
    judgement: Annotated[str, typer.Argument(help="positive, negative or unsure")],
    note: NoteOption = None,
    actor: ActorOption = None,
    home: HomeOption = None,
) -> None:
    """Record a judgement on a pair (merges on positive).

    Example: tidetrace resolve judge case-plant-haiqing tt-party-… positive --note "same USCC"
    """
    from tidetrace.resolve.judgements import Judgement
    from tidetrace.resolve.review import judge

    try:
        value = Judgement(judgement.strip().lower())
    except ValueError:
        raise CliError("judgement must be positive, negative or unsure", 2) from None
    edge = judge(open_workspace(home).engine, left, right, value, _actor(actor), note)
    typer.echo(f"{edge.judgement.value}: {edge.left} / {edge.right} by {edge.actor}")


@resolve_app.command("withdraw")
def resolve_withdraw(
    left: Annotated[str, typer.Argument(help="Entity id")],
    right: Annotated[str, typer.Argument(help="Entity id")],
    note: NoteOption = None,
    actor: ActorOption = None,
    home: HomeOption = None,
) -> None:
    """Withdraw the live judgement on a pair (it stays in the history).

    Example: tidetrace resolve withdraw un-sc-690751 ofac-12313
    """
    from tidetrace.resolve.judgements import Resolver

    edge = Resolver(open_workspace(home).engine).withdraw(left, right, _actor(actor), note)
    typer.echo(f"withdrawn: {edge.judgement.value} {edge.left} / {edge.right} (by {edge.actor})")


@resolve_app.command("split")
def resolve_split(
    entity_id: Annotated[str, typer.Argument(help="The record to take out of its entity")],
    note: NoteOption = None,
    actor: ActorOption = None,
    home: HomeOption = None,
) -> None:
    """Take a record out of the entity it was merged into; no run merges it back.

    Example: tidetrace resolve split tt-party-0123456789abcdef01234567 --note "other city"
    """
    from tidetrace.resolve.judgements import Resolver

    rest = Resolver(open_workspace(home).engine).split(entity_id, _actor(actor), note)
    typer.echo(f"split {entity_id} from {len(rest)} record(s): {', '.join(rest)}")


@resolve_app.command("history")
def resolve_history(
    entity_id: Annotated[str, typer.Argument(help="Entity id")],
    as_json: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Every judgement about the entity's records, withdrawn ones included.

    Example: tidetrace resolve history case-plant-haiqing
    """
    from tidetrace.resolve.judgements import Resolver

    edges = Resolver(open_workspace(home).engine).history(entity_id)
    if as_json:
        print_json([e.to_dict() for e in edges])
        return
    if not edges:
        typer.echo("no judgements")
    for e in edges:
        state = f"withdrawn {e.deleted_at} by {e.deleted_by}" if e.deleted_at else "live"
        typer.echo(
            f"{e.created_at}  {e.judgement.value:8} {e.left} / {e.right}  by {e.actor}  [{state}]"
            + (f"  {e.note}" if e.note else "")
        )


# -- terminal review -----------------------------------------------------------------------

_HELP = "y same entity · n different · u unsure · s skip · q quit · ? help"


def _columns(left: list[str], right: list[str], width: int) -> list[str]:
    col = max(20, (width - 3) // 2)
    lw = [w for line in left for w in (textwrap.wrap(line, col) or [""])]
    rw = [w for line in right for w in (textwrap.wrap(line, col) or [""])]
    rows = max(len(lw), len(rw))
    lw += [""] * (rows - len(lw))
    rw += [""] * (rows - len(rw))
    return [f"{a:<{col}} │ {b}" for a, b in zip(lw, rw, strict=True)]


def _side(view: Any, entity_id: str, members: list[str]) -> list[str]:
    if view is None:
        return [f"{entity_id} (not in the store)"]
    lines = [f"{view.caption}  ({view.schema_label})", f"id {view.id}"]
    if len(members) > 1:
        lines.append(f"merged: {', '.join(members)}")
    for row in view.values:
        if row.prop in ("name", "alias", "previousName", "weakAlias", "country", "address",
                        "jurisdiction", "registrationNumber", "approvalCode", "feiNumber",
                        "imoNumber", "leiCode", "city", "province"):  # fmt: skip
            lines.append(f"{row.prop_label}: {row.value}  [{row.dataset}; {row.origin or '-'}]")
    return lines


def _show(item: Any, position: int, total: int) -> None:
    width = shutil.get_terminal_size((120, 40)).columns
    c = item.candidate
    typer.echo("")
    typer.echo(f"── {position}/{total}  score {c.score:.3f} " + "─" * 20)
    for line in _columns(
        _side(item.left, c.left, item.left_members),
        _side(item.right, c.right, item.right_members),
        width,
    ):
        typer.echo(line)
    typer.echo("why:")
    for rule in c.explanation.get("rules", []):
        typer.echo(f"  rule: {rule}")
    for lead in c.explanation.get("leads", []):
        typer.echo(f"  proposed by {lead}")
    for f in c.explanation.get("features", []):
        typer.echo(
            f"  {f['feature']:16} {f['value']:6.3f} × {f['weight']:6.2f} = "
            f"{f['contribution']:+6.2f}  {f['detail']}"
        )


def review(
    limit: Annotated[
        int, typer.Option(min=1, max=10_000, help="Stop after this many pairs.")
    ] = 100,
    actor: ActorOption = None,
    home: HomeOption = None,
) -> None:
    """Review queued pairs in the terminal, one key per answer.

    Keys: y same entity, n different, u unsure, s skip, q quit, ? help. Answers are recorded
    at once, with your name and the time; one answer can settle several queued pairs.
    Reads keys from standard input when it is not a terminal (e.g. ``printf 'yn' |``).

    Example: tidetrace review --limit 20
    """
    from tidetrace.resolve.review import KEYS, candidates, iter_items, judge

    ws = open_workspace(home)
    who = _actor(actor)
    _, total = candidates(ws.engine, limit=1)
    if total == 0:
        typer.echo("nothing to review: run 'tidetrace resolve' first, or the queue is done")
        return
    typer.echo(f"{total} pair(s) to review as {who}. {_HELP}")
    answered = {"y": 0, "n": 0, "u": 0, "s": 0}
    for position, item in enumerate(iter_items(ws.engine, limit), start=1):
        _show(item, position, total)
        while True:
            typer.echo("[y/n/u/s/q/?] ", nl=False)
            key = _read_key()
            typer.echo(key)
            if key in ("q", ""):
                typer.echo(_tally(answered))
                return
            if key == "?":
                typer.echo(_HELP)
                continue
            if key not in KEYS:
                typer.echo(f"unknown key {key!r}; {_HELP}")
                continue
            break
        judgement = KEYS[key]
        answered[key] += 1
        if judgement is None:
            continue
        c = item.candidate
        edge = judge(ws.engine, c.left, c.right, judgement, who)
        typer.echo(f"recorded {edge.judgement.value} ({edge.created_at})")
    typer.echo(_tally(answered))


def _read_key() -> str:
    """One key: a keypress on a terminal, else the next non-blank character of stdin."""
    if sys.stdin.isatty():
        return click.getchar().lower()
    while True:
        char = sys.stdin.read(1)
        if char == "":
            return ""
        if not char.isspace():
            return char.lower()


def _tally(answered: dict[str, int]) -> str:
    return (
        f"done: {answered['y']} same, {answered['n']} different, {answered['u']} unsure, "
        f"{answered['s']} skipped"
    )
