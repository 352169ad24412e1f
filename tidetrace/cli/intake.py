"""Testimonies, questionnaires, the tip line and TOTP on the command line.

Commands act as a user (``--user`` or ``TIDETRACE_USER``) whose password unlocks their keys
for this one command (TTY prompt, or ``TIDETRACE_PASSWORD``). Commands that read
testimonies or tips also need a TOTP code (``--code``, or a TTY prompt): the same second
factor as the web. Intake modules are imported inside the commands, so the rest of the
CLI works without the ``vault`` extra.
"""

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
import yaml

from tidetrace.cli.base import (
    CliError,
    HomeOption,
    JsonOption,
    make_app,
    open_workspace,
    print_json,
)
from tidetrace.cli.identity import CaseOption, UserOption, open_member_case, unlock_identity
from tidetrace.settings import get_settings
from tidetrace.workspace import Workspace

if TYPE_CHECKING:
    from tidetrace.intake.twofactor import SecondFactor
    from tidetrace.vault.cases import CaseKeyring
    from tidetrace.vault.keys import UnlockedUser

__all__ = ["register"]

testimony_app = make_app(
    "Field testimonies: sealed intake, transcription, ILO coding, quotes, check-ins."
)
questionnaire_app = make_app("Questionnaires (versioned, ko/zh/en) and their printable forms.")
tipline_app = make_app("The anonymous tip line: set-up, recipients, inbox, replies, purge.")
totp_app = make_app("TOTP second factor for the roles that read testimonies and tips.")
quote_app = make_app("Quotes: propose, review (redaction), export.")
checkin_app = make_app("Safety check-ins per codename.")
testimony_app.add_typer(quote_app, name="quote")
testimony_app.add_typer(checkin_app, name="checkin")

MIB = 1024 * 1024


def register(app: typer.Typer) -> None:
    """Attach ``testimony``, ``questionnaire``, ``tipline`` and ``totp`` to the top-level app."""
    app.add_typer(testimony_app, name="testimony")
    app.add_typer(questionnaire_app, name="questionnaire")
    app.add_typer(tipline_app, name="tipline")
    app.add_typer(totp_app, name="totp")


CodeOption = Annotated[
    str | None,
    typer.Option("--code", help="TOTP code (default: asked on the terminal).", show_default=False),
]


def _factor(ws: Workspace, actor: "UnlockedUser", code: str | None) -> "SecondFactor":
    from tidetrace.intake.twofactor import verify

    if code is None:
        if not sys.stdin.isatty():
            raise CliError("reading testimonies needs a TOTP code: --code 123456", exit_code=2)
        code = typer.prompt("TOTP code")
    return verify(ws.engine, actor, code)


def _member(
    home: Path | None, user: str | None, case: str, code: str | None = None, *, factor: bool = True
) -> tuple[Workspace, "UnlockedUser", "CaseKeyring", "SecondFactor | None"]:
    ws, actor, keyring = open_member_case(home, user, case)
    return ws, actor, keyring, _factor(ws, actor, code) if factor else None


def _testimony(
    home: Path | None, user: str | None, testimony_id: str, code: str | None
) -> tuple[Workspace, "UnlockedUser", "CaseKeyring", "SecondFactor"]:
    from tidetrace.intake.testimony import testimony_case
    from tidetrace.vault.cases import open_case

    ws = open_workspace(home)
    actor = unlock_identity(ws, user)
    keyring = open_case(ws.engine, actor, testimony_case(ws.engine, testimony_id))
    return ws, actor, keyring, _factor(ws, actor, code)


def _consent(values: list[str] | None) -> Any:
    from tidetrace.intake.testimony import parse_consent

    parsed: dict[str, str] = {}
    for value in values or []:
        key, sep, answer = value.partition("=")
        if not sep:
            raise CliError(f"--consent {value!r}: write KEY=yes|no", exit_code=2)
        parsed[key.strip().lower()] = answer.strip()
    return parse_consent(parsed)


def _load_answers(path: Path) -> dict[str, Any]:
    text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    data = yaml.safe_load(text) if text.strip() else {}
    if not isinstance(data, dict):
        raise CliError(f"{path}: answers are a mapping of question id to answer", exit_code=2)
    return data


# --- testimony ----------------------------------------------------------------------------


@testimony_app.command("add")
def testimony_add(
    case: CaseOption,
    questionnaire: Annotated[
        str | None, typer.Option(help="Questionnaire id or id@version (default: the default).")
    ] = None,
    answers: Annotated[
        Path | None,
        typer.Option(help="YAML/JSON: question id -> answer (optionally a 'consent' mapping)."),
    ] = None,
    photo: Annotated[
        list[Path] | None, typer.Option("--photo", help="Photographed page (repeatable, in order).")
    ] = None,
    via: Annotated[str | None, typer.Option(help="Codename of the intermediary chain.")] = None,
    language: Annotated[str, typer.Option(help="Language of the answers: ko, zh or en.")] = "ko",
    consent: Annotated[
        list[str] | None,
        typer.Option(help="publication=yes|no, quotation=…, authorities=… (all required)."),
    ] = None,
    codename: Annotated[
        str | None, typer.Option(help="An earlier codename (a follow-up with the same person).")
    ] = None,
    form_code: Annotated[str | None, typer.Option(help="Code printed on the paper form.")] = None,
    ocr: Annotated[bool, typer.Option("--ocr", help="Draft a transcription (tesseract).")] = False,
    user: UserOption = None,
    home: HomeOption = None,
) -> None:
    """Seal a testimony to the case's members: answers and/or photographed pages.

    Photos are stripped of metadata in memory first (the original is kept sealed). There
    is no option for a name, and nothing is saved without the consent record.

    Example: tidetrace testimony add --case "Dandong plants" --answers a.yml --consent
    publication=yes --consent quotation=no --consent authorities=yes --via amber-heron-4821
    """
    from tidetrace.intake.testimony import Photo, Submission, submit
    from tidetrace.vault.cases import is_member, resolve_case

    if answers is None and not photo:
        raise CliError("give --answers FILE or at least one --photo PAGE", exit_code=2)
    ws = open_workspace(home)
    actor = unlock_identity(ws, user)
    data = _load_answers(answers) if answers is not None else {}
    consent_values = list(consent or [])
    if isinstance(data.get("consent"), dict):
        consent_values += [f"{k}={v}" for k, v in data.pop("consent").items()]
    given = data.pop("answers") if isinstance(data.get("answers"), dict) else data
    photos = []
    for path in photo or []:
        if not path.is_file():
            raise CliError(f"{path}: not a file", exit_code=2)
        photos.append(Photo(path.read_bytes(), path.name))
    if actor.user.role.value == "field":
        from tidetrace.intake.access import assigned_cases

        with ws.engine.connect() as conn:
            if case not in assigned_cases(conn, actor.user.id):
                raise CliError(f"no case {case!r} among yours (field users give the case id)")
        case_id, member = case, None
    else:
        from tidetrace.vault.cases import open_case

        case_id = resolve_case(ws.engine, actor, case)
        with ws.engine.connect() as conn:
            member = (
                (actor, open_case(ws.engine, actor, case_id))
                if is_member(conn, case_id, actor.user.id)
                else None
            )
    receipt = submit(
        ws,
        actor.user,
        case_id,
        Submission(
            questionnaire=questionnaire,
            language=language,
            answers={str(k): str(v) for k, v in given.items() if v is not None},
            consent=_consent(consent_values),
            photos=photos,
            via=via,
            codename=codename,
            form_code=form_code,
            ocr=ocr,
        ),
        max_photo_bytes=get_settings().max_upload_mb * MIB,
        member=member,
    )
    for warning in receipt.warnings:
        typer.echo(f"warning: {warning}", err=True)
    typer.echo(
        f"{receipt.testimony_id}\t{receipt.codename}\t{receipt.day}\t{receipt.photos} page(s)"
    )


@testimony_app.command("list")
def testimony_list(
    case: CaseOption, as_json: JsonOption = False, user: UserOption = None, home: HomeOption = None
) -> None:
    """A case's testimonies (id, codename, day); no content, so no code needed.

    Example: tidetrace testimony list --case "Dandong plants"
    """
    from tidetrace.intake.testimony import list_testimonies

    ws, actor, keyring, _ = _member(home, user, case, factor=False)
    rows = list_testimonies(ws.engine, actor, keyring)
    if as_json:
        print_json([r.__dict__ for r in rows])
        return
    for r in rows:
        typer.echo(f"{r.id}\t{r.codename}\t{r.day}")


@testimony_app.command("show")
def testimony_show(
    testimony_id: Annotated[str, typer.Argument(help="Testimony id")],
    code: CodeOption = None,
    as_json: JsonOption = False,
    user: UserOption = None,
    home: HomeOption = None,
) -> None:
    """Open a testimony (members with a TOTP code); the read goes on the custody log.

    Example: tidetrace testimony show tm-3f2a… --code 123456
    """
    from dataclasses import asdict

    from tidetrace.intake.questionnaire import get_questionnaire
    from tidetrace.intake.testimony import read_testimony

    ws, actor, keyring, factor = _testimony(home, user, testimony_id, code)
    t = read_testimony(ws.engine, actor, keyring, testimony_id, factor, purpose="cli show")
    if as_json:
        print_json(asdict(t))
        return
    q = get_questionnaire(t.questionnaire)
    typer.echo(f"{t.codename}  ({t.id}, {t.day}, {t.questionnaire}, {t.language})")
    typer.echo(
        f"consent: publication={t.consent.publication} quotation={t.consent.quotation} "
        f"authorities={t.consent.authorities} ({t.consent.method})"
    )
    for question in q.questions:
        if question.id in t.answers:
            typer.echo(f"\n[{question.id}] {question.ask(t.language)}\n{t.answers[question.id]}")
    for v in t.texts:
        typer.echo(f"\n[{v.kind} v{v.version}, {v.language}, {v.author}, {v.at}]\n{v.text}")


@testimony_app.command("photo")
def testimony_photo(
    testimony_id: Annotated[str, typer.Argument(help="Testimony id")],
    page: Annotated[int, typer.Argument(help="Page number", min=1)],
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write the image.")],
    original: Annotated[
        bool, typer.Option("--original", help="The original, metadata and all.")
    ] = False,
    code: CodeOption = None,
    user: UserOption = None,
    home: HomeOption = None,
) -> None:
    """Write a photographed page (metadata-free unless --original); a logged read.

    Example: tidetrace testimony photo tm-3f2a… 1 -o page1.jpg --code 123456
    """
    from tidetrace.intake.testimony import read_photo

    ws, actor, keyring, factor = _testimony(home, user, testimony_id, code)
    data, mime = read_photo(
        ws, actor, keyring, testimony_id, page, factor, "original" if original else "working"
    )
    output.write_bytes(data)
    typer.echo(f"wrote {output} ({mime}, {len(data)} bytes)")


@testimony_app.command("text")
def testimony_text(
    testimony_id: Annotated[str, typer.Argument(help="Testimony id")],
    file: Annotated[Path, typer.Argument(help="The text (UTF-8); - for stdin")],
    kind: Annotated[str, typer.Option(help="transcription or translation")] = "transcription",
    language: Annotated[str, typer.Option(help="ko, zh or en")] = "ko",
    code: CodeOption = None,
    user: UserOption = None,
    home: HomeOption = None,
) -> None:
    """Save a corrected transcription or a translation as a new version (author, time kept).

    Example: tidetrace testimony text tm-3f2a… fixed.txt --kind transcription --code 123456
    """
    from tidetrace.intake.testimony import add_text

    text = sys.stdin.read() if str(file) == "-" else file.read_text(encoding="utf-8")
    ws, actor, keyring, factor = _testimony(home, user, testimony_id, code)
    version = add_text(ws.engine, actor, keyring, testimony_id, kind, text, language, factor)
    typer.echo(f"{kind} version {version} saved")


@testimony_app.command("tag")
def testimony_tag(
    testimony_id: Annotated[str, typer.Argument(help="Testimony id")],
    start: Annotated[int, typer.Option(help="First character of the span (0-based).")],
    end: Annotated[int, typer.Option(help="One past the last character.")],
    facility: Annotated[str, typer.Option(help="Facility (entity id or name).")],
    period: Annotated[str, typer.Option(help="YYYY or YYYY-MM.")],
    question: Annotated[str | None, typer.Option(help="Question id (for answers).")] = None,
    source: Annotated[
        str, typer.Option(help="answer, transcription[@N] or translation[@N].")
    ] = "answer",
    indicator: Annotated[str | None, typer.Option(help="ILO indicator key.")] = None,
    fact: Annotated[str | None, typer.Option(help="Fact key.")] = None,
    stance: Annotated[str, typer.Option(help="supports or contradicts.")] = "supports",
    severity: Annotated[str, typer.Option(help="low, medium or high.")] = "medium",
    code: CodeOption = None,
    user: UserOption = None,
    home: HomeOption = None,
) -> None:
    """Tag an answer span with an ILO indicator and/or a fact (sealed, on the custody log).

    Example: tidetrace testimony tag tm-… --question q13 --start 0 --end 40
    --indicator physical_sexual_violence --facility plant-jinhui --period 2023-05
    """
    from tidetrace.intake.coding import add_tag

    ws, actor, keyring, factor = _testimony(home, user, testimony_id, code)
    tag = add_tag(
        ws.engine,
        actor,
        keyring,
        factor,
        testimony_id,
        start=start,
        end=end,
        facility=facility,
        period=period,
        source=source,
        question=question,
        indicator=indicator,
        fact=fact,
        stance=stance,
        severity=severity,
    )
    typer.echo(f"{tag.id}\t{tag.key}\t{tag.stance}\t{tag.facility}\t{tag.period}")


@testimony_app.command("facility")
def testimony_facility(
    case: CaseOption,
    name: Annotated[str, typer.Option("--name", help="The facility as coded.")],
    by_year: Annotated[bool, typer.Option("--by-year", help="Merge months into years.")] = False,
    code: CodeOption = None,
    as_json: JsonOption = False,
    user: UserOption = None,
    home: HomeOption = None,
) -> None:
    """Independent testimonies for and against each indicator and period, and sign-offs.

    Example: tidetrace testimony facility --case "Dandong plants" --name plant-jinhui --by-year
    """
    from tidetrace.intake.coding import facility_view

    ws, actor, keyring, factor = _member(home, user, case, code)
    view = facility_view(ws.engine, actor, keyring, factor, name, by_year=by_year)
    if as_json:
        print_json(
            {
                "facility": view.facility,
                "testimonies": view.testimonies,
                "cells": [
                    {
                        "key": c.key,
                        "period": c.period,
                        "supporting": c.supporting,
                        "contradicting": c.contradicting,
                    }
                    for c in view.cells
                ],
                "signoffs": [s.__dict__ for s in view.signoffs],
            }
        )
        return
    typer.echo(f"{view.facility}: {view.testimonies} people coded")
    for c in view.cells:
        typer.echo(f"  {c.label}\t{c.period}\t+{c.supporting}\t-{c.contradicting}")
    for s in view.signoffs:
        typer.echo(f"  sign-off: {s.verdict} {s.key} {s.period} by {s.reviewer} {s.at} {s.note}")


@testimony_app.command("signoff")
def testimony_signoff(
    case: CaseOption,
    facility: Annotated[str, typer.Option(help="The facility as coded.")],
    key: Annotated[str, typer.Option(help="ILO indicator or fact key.")],
    period: Annotated[str, typer.Option(help="YYYY or YYYY-MM.")],
    verdict: Annotated[str, typer.Option(help="consistent, inconsistent or insufficient.")],
    note: Annotated[str, typer.Option(help="What the review found.")] = "",
    code: CodeOption = None,
    user: UserOption = None,
    home: HomeOption = None,
) -> None:
    """Record an expert's consistency review of one cell on the custody log.

    Example: tidetrace testimony signoff --case "Dandong plants" --facility plant-jinhui
    --key debt_bondage --period 2023 --verdict consistent --code 123456
    """
    from tidetrace.intake.coding import sign_off

    ws, actor, keyring, factor = _member(home, user, case, code)
    s = sign_off(
        ws.engine,
        actor,
        keyring,
        factor,
        facility=facility,
        key=key,
        period=period,
        verdict=verdict,
        note=note,
    )
    typer.echo(f"signed off: {s.verdict} {s.key} {s.period} at {s.facility}")


@testimony_app.command("assign")
def testimony_assign(
    case: CaseOption,
    name: Annotated[str, typer.Argument(help="Field user")],
    remove: Annotated[bool, typer.Option("--remove", help="Take the assignment away.")] = False,
    user: UserOption = None,
    home: HomeOption = None,
) -> None:
    """Let a field user (intermediary) submit to a case — without reading anything.

    Example: tidetrace testimony assign --case "Dandong plants" fay
    """
    from tidetrace.intake.access import assign, unassign

    ws, actor, keyring, _ = _member(home, user, case, factor=False)
    if remove:
        unassign(ws.engine, actor, keyring, name)
        typer.echo(f"{name} may no longer submit to {keyring.case_id}")
        return
    assign(ws.engine, actor, keyring, name)
    typer.echo(f"{name} may submit to {keyring.case_id}")


@testimony_app.command("receipts")
def testimony_receipts(
    as_json: JsonOption = False, user: UserOption = None, home: HomeOption = None
) -> None:
    """Your own receipts: what you submitted (codename, day, case) — nobody else's.

    Example: tidetrace testimony receipts --user fay
    """
    from tidetrace.intake.testimony import list_receipts

    ws = open_workspace(home)
    rows = list_receipts(ws.engine, unlock_identity(ws, user))
    if as_json:
        print_json(rows)
        return
    for r in rows:
        typer.echo(f"{r['codename']}\t{r['day']}\t{r['case_id']}\t{r['testimony_id']}")


@testimony_app.command("aggregates")
def testimony_aggregates(
    case: CaseOption,
    k: Annotated[int, typer.Option(help="Suppress cells under k testimonies.", min=2)] = 3,
    publish: Annotated[
        str | None, typer.Option(help="Release to analysts under this title.")
    ] = None,
    code: CodeOption = None,
    user: UserOption = None,
    home: HomeOption = None,
) -> None:
    """k-suppressed counts per facility and indicator; --publish releases them to analysts.

    Example: tidetrace testimony aggregates --case "Dandong plants" --publish "Jinhui 2023"
    """
    from tidetrace.intake.publish import compute_aggregates, publish_aggregates

    ws, actor, keyring, factor = _member(home, user, case, code)
    if publish:
        snapshot = publish_aggregates(ws.engine, actor, keyring, factor, title=publish, k=k)
        typer.echo(f"released {snapshot}")
        return
    print_json(compute_aggregates(ws.engine, actor, keyring, factor, k=k).to_dict())


@testimony_app.command("verify")
def testimony_verify(home: HomeOption = None) -> None:
    """Check intake rows and photo blobs against the custody log (no key needed).

    Example: tidetrace testimony verify --home ./my-investigation
    """
    from tidetrace.intake.verify import verify_intake

    report = verify_intake(open_workspace(home))
    for problem in report.problems:
        typer.echo(str(problem))
    for note in report.notes:
        typer.echo(f"note: {note}")
    if report.problems:
        raise CliError(f"intake: {len(report.problems)} problem(s)")
    typer.echo(f"intake: {report.rows} sealed rows and {report.blobs} photo blobs as logged")


@quote_app.command("propose")
def quote_propose(
    testimony_id: Annotated[str, typer.Argument(help="Testimony id")],
    start: Annotated[int, typer.Option(help="First character.")],
    end: Annotated[int, typer.Option(help="One past the last character.")],
    question: Annotated[str | None, typer.Option(help="Question id (answers).")] = None,
    source: Annotated[
        str, typer.Option(help="answer, transcription[@N], translation[@N].")
    ] = "answer",
    code: CodeOption = None,
    user: UserOption = None,
    home: HomeOption = None,
) -> None:
    """Propose a span for quotation; prints what the redaction check flagged.

    Example: tidetrace testimony quote propose tm-3f2a… --question q13 --start 0 --end 80
    """
    from tidetrace.intake.publish import propose_quote

    ws, actor, keyring, factor = _testimony(home, user, testimony_id, code)
    q = propose_quote(
        ws.engine,
        actor,
        keyring,
        factor,
        testimony_id,
        start=start,
        end=end,
        source=source,
        question=question,
    )
    typer.echo(q.id)
    for flag in q.flags:
        typer.echo(f"  flagged {flag['kind']}:{flag['text']}")


@quote_app.command("review")
def quote_review(
    case: CaseOption,
    quote_id: Annotated[str, typer.Argument(help="Quote id")],
    redacted: Annotated[str, typer.Option(help="The text as it may be published.")],
    keep: Annotated[
        list[str] | None, typer.Option(help="kind:text=reason, for a flag kept on purpose.")
    ] = None,
    code: CodeOption = None,
    user: UserOption = None,
    home: HomeOption = None,
) -> None:
    """Approve a quote's redacted text (refused while anything flagged is left unexplained).

    Example: tidetrace testimony quote review --case "Dandong plants" qt-… --redacted "The
    manager […] hit us" --code 123456
    """
    from tidetrace.intake.publish import review_quote

    ws, actor, keyring, factor = _member(home, user, case, code)
    kept = {}
    for item in keep or []:
        key, _, reason = item.rpartition("=")
        kept[key] = reason
    q = review_quote(ws.engine, actor, keyring, factor, quote_id, redacted=redacted, keep=kept)
    typer.echo(f"{q.id} approved")


@quote_app.command("export")
def quote_export(
    case: CaseOption,
    quote_id: Annotated[str, typer.Argument(help="Quote id")],
    code: CodeOption = None,
    user: UserOption = None,
    home: HomeOption = None,
) -> None:
    """Print an approved quote as JSON (redacted text only: no codename, no date).

    Example: tidetrace testimony quote export --case "Dandong plants" qt-… --code 123456
    """
    from tidetrace.intake.publish import export_quote

    ws, actor, keyring, factor = _member(home, user, case, code)
    print_json(export_quote(ws.engine, actor, keyring, factor, quote_id))


@checkin_app.command("schedule")
def checkin_schedule(
    case: CaseOption,
    codename: Annotated[str, typer.Argument(help="Codename")],
    due: Annotated[str | None, typer.Option(help="Day it is due (YYYY-MM-DD).")] = None,
    in_days: Annotated[int | None, typer.Option(help="Due in this many days (e.g. 60).")] = None,
    user: UserOption = None,
    home: HomeOption = None,
) -> None:
    """Schedule a safety check-in (e.g. two months after publication).

    Example: tidetrace testimony checkin schedule --case "Dandong plants" amber-heron-4821
    --in-days 60
    """
    from tidetrace.intake.checkins import schedule

    ws, actor, keyring, _ = _member(home, user, case, factor=False)
    c = schedule(ws.engine, actor, keyring, codename, due=due, in_days=in_days)
    typer.echo(f"{c.id}\t{c.codename}\tdue {c.due}")


@checkin_app.command("record")
def checkin_record(
    case: CaseOption,
    checkin_id: Annotated[str, typer.Argument(help="Check-in id")],
    outcome: Annotated[str, typer.Option(help="safe, concern, no-contact or harmed.")],
    note: Annotated[str, typer.Option(help="What was learnt (sealed).")] = "",
    user: UserOption = None,
    home: HomeOption = None,
) -> None:
    """Record a check-in's outcome (sealed, on the custody log).

    Example: tidetrace testimony checkin record --case "Dandong plants" ci-… --outcome safe
    """
    from tidetrace.intake.checkins import record

    ws, actor, keyring, _ = _member(home, user, case, factor=False)
    c = record(ws.engine, actor, keyring, checkin_id, outcome, note)
    typer.echo(f"{c.id}\t{c.codename}\t{c.outcome}")


@checkin_app.command("list")
def checkin_list(
    case: CaseOption,
    overdue: Annotated[
        bool, typer.Option("--overdue", help="Only open check-ins past their day.")
    ] = False,
    user: UserOption = None,
    home: HomeOption = None,
) -> None:
    """A case's check-ins (overdue ones marked).

    Example: tidetrace testimony checkin list --case "Dandong plants" --overdue
    """
    from tidetrace.intake.checkins import list_checkins
    from tidetrace.vault.crypto import day_now

    ws, _actor, keyring, _ = _member(home, user, case, factor=False)
    today = day_now()
    for c in list_checkins(ws.engine, keyring):
        if overdue and not c.is_overdue(today):
            continue
        mark = "OVERDUE" if c.is_overdue(today) else (c.outcome or "open")
        typer.echo(f"{c.id}\t{c.codename}\tdue {c.due}\t{mark}")


# --- questionnaire ------------------------------------------------------------------------


@questionnaire_app.command("list")
def questionnaire_list() -> None:
    """Shipped questionnaires (id@version, questions, title).

    Example: tidetrace questionnaire list
    """
    from tidetrace.intake.questionnaire import list_questionnaires

    for q in list_questionnaires():
        typer.echo(f"{q.ref}\t{len(q.questions)} questions\t{q.title['en']}")


@questionnaire_app.command("show")
def questionnaire_show(
    ref: Annotated[str | None, typer.Argument(help="id or id@version")] = None,
    language: Annotated[str, typer.Option(help="ko, zh or en")] = "en",
    as_json: JsonOption = False,
) -> None:
    """The questions, each with the facts and ILO indicators it bears on.

    Example: tidetrace questionnaire show dprk-seafood-workers@1 --language zh
    """
    from tidetrace.intake.questionnaire import get_questionnaire, vocabulary

    q = get_questionnaire(ref)
    if as_json:
        print_json(q.to_dict())
        return
    vocab = vocabulary()
    typer.echo(f"{q.title.get(language, q.title['en'])} ({q.ref})")
    for question in q.questions:
        bears = ", ".join([vocab.label(k) for k in question.facts + question.ilo]) or "-"
        typer.echo(f"{question.id}  {question.ask(language)}\n      [{bears}]")


@questionnaire_app.command("print")
def questionnaire_print(
    output: Annotated[Path, typer.Option("-o", "--output", help="forms.pdf or forms.html")],
    ref: Annotated[str | None, typer.Argument(help="id or id@version")] = None,
    language: Annotated[str, typer.Option(help="ko, zh or en")] = "ko",
    count: Annotated[
        int, typer.Option(help="How many forms (each its own code).", min=1, max=200)
    ] = 1,
) -> None:
    """Printable forms, each with its own form code and no field for a name (PDF or HTML).

    Example: tidetrace questionnaire print --language ko --count 20 -o forms-ko.pdf
    """
    from tidetrace.intake.printable import form_html, form_pdf
    from tidetrace.intake.questionnaire import get_questionnaire

    q = get_questionnaire(ref)
    printed = (
        form_pdf(q, language, count)
        if output.suffix.lower() == ".pdf"
        else form_html(q, language, count)
    )
    output.write_bytes(printed.content)
    typer.echo(f"wrote {output}: {count} form(s), codes {', '.join(printed.codes)}")


# --- tip line -----------------------------------------------------------------------------


@tipline_app.command("init")
def tipline_init(
    retention_days: Annotated[int, typer.Option(help="Days a tip is kept before the purge.")] = 90,
    daily_limit: Annotated[int, typer.Option(help="Tips accepted per day (for everyone).")] = 500,
    user: UserOption = None,
    home: HomeOption = None,
) -> None:
    """Open the tip line, with you as its first recipient.

    Example: tidetrace tipline init --retention-days 90 --user ivan
    """
    from tidetrace.intake.tipline import init_tipline

    ws = open_workspace(home)
    info = init_tipline(
        ws.engine, unlock_identity(ws, user), retention_days=retention_days, daily_limit=daily_limit
    )
    typer.echo(f"tip line open (case {info.case_id}); recipients: {', '.join(info.recipients)}")


@tipline_app.command("recipient")
def tipline_recipient(
    name: Annotated[str, typer.Argument(help="Investigator or admin")],
    remove: Annotated[bool, typer.Option("--remove", help="Stop them receiving tips.")] = False,
    user: UserOption = None,
    home: HomeOption = None,
) -> None:
    """Add (or --remove) a recipient; removal renews the tip line's key pair.

    Example: tidetrace tipline recipient iris --user ivan
    """
    from tidetrace.intake.tipline import add_recipient, remove_recipient

    ws = open_workspace(home)
    actor = unlock_identity(ws, user)
    (remove_recipient if remove else add_recipient)(ws.engine, actor, name)
    typer.echo(f"{name} {'removed from' if remove else 'added to'} the tip line's recipients")


@tipline_app.command("config")
def tipline_config(
    retention_days: Annotated[int | None, typer.Option(help="Days a tip is kept.")] = None,
    daily_limit: Annotated[int | None, typer.Option(help="Tips accepted per day.")] = None,
    user: UserOption = None,
    home: HomeOption = None,
) -> None:
    """Show or change retention and the daily cap.

    Example: tidetrace tipline config --retention-days 60
    """
    from tidetrace.intake.tipline import configure, info

    ws = open_workspace(home)
    if retention_days is not None or daily_limit is not None:
        configure(
            ws.engine,
            unlock_identity(ws, user).user,
            retention_days=retention_days,
            daily_limit=daily_limit,
        )
    current = info(ws.engine)
    typer.echo(
        f"retention {current.retention_days} days; {current.daily_limit} tips a day; "
        f"key version {current.key.version}; recipients: {', '.join(current.recipients)}"
    )


@tipline_app.command("inbox")
def tipline_inbox(
    code: CodeOption = None, user: UserOption = None, home: HomeOption = None
) -> None:
    """Tips received (id, day, status, messages).

    Example: tidetrace tipline inbox --code 123456
    """
    from tidetrace.intake.tipline import inbox

    ws = open_workspace(home)
    actor = unlock_identity(ws, user)
    for row in inbox(ws.engine, actor, _factor(ws, actor, code)):
        typer.echo(f"{row.id}\t{row.day}\t{row.status}\t{row.parts}")


@tipline_app.command("read")
def tipline_read(
    tip_id: Annotated[str, typer.Argument(help="Tip id")],
    code: CodeOption = None,
    user: UserOption = None,
    home: HomeOption = None,
) -> None:
    """Open a tip (a logged read).

    Example: tidetrace tipline read tip-… --code 123456
    """
    from tidetrace.intake.tipline import read_tip

    ws = open_workspace(home)
    actor = unlock_identity(ws, user)
    tip = read_tip(ws.engine, actor, _factor(ws, actor, code), tip_id)
    for part in tip.parts:
        typer.echo(f"--- {part.kind} {part.day} {part.by or ''} {part.problem or ''}")
        typer.echo(part.text)
        for f in part.files:
            typer.echo(f"    file {part.seq}/{f.index}: {f.name} ({f.mime}, {f.size} bytes)")


@tipline_app.command("reply")
def tipline_reply(
    tip_id: Annotated[str, typer.Argument(help="Tip id")],
    message: Annotated[str, typer.Argument(help="The reply (whoever holds the receipt reads it)")],
    code: CodeOption = None,
    user: UserOption = None,
    home: HomeOption = None,
) -> None:
    """Reply to a tip.

    Example: tidetrace tipline reply tip-… "Thank you. Are you safe?" --code 123456
    """
    from tidetrace.intake.tipline import reply

    ws = open_workspace(home)
    actor = unlock_identity(ws, user)
    reply(ws.engine, actor, _factor(ws, actor, code), tip_id, message)
    typer.echo("reply sealed")


@tipline_app.command("promote")
def tipline_promote(
    tip_id: Annotated[str, typer.Argument(help="Tip id")],
    case: CaseOption,
    as_: Annotated[str, typer.Option("--as", help="evidence or testimony")] = "evidence",
    consent: Annotated[list[str] | None, typer.Option(help="For a testimony: KEY=yes|no.")] = None,
    code: CodeOption = None,
    user: UserOption = None,
    home: HomeOption = None,
) -> None:
    """Copy a tip into a case as evidence or as a testimony.

    Example: tidetrace tipline promote tip-… --case "Dandong plants" --as evidence
    """
    from tidetrace.intake.tipline import promote

    ws = open_workspace(home)
    actor = unlock_identity(ws, user)
    ids = promote(
        ws,
        actor,
        _factor(ws, actor, code),
        tip_id,
        case,
        as_=as_,
        consent=_consent(consent) if as_ == "testimony" else None,
        max_bytes=get_settings().max_upload_mb * MIB,
    )
    typer.echo("\n".join(ids))


@tipline_app.command("purge")
def tipline_purge(user: UserOption = None, home: HomeOption = None) -> None:
    """Destroy tips past the retention period, and key pairs no tip needs (logged).

    Example: tidetrace tipline purge (daily, from cron)
    """
    from tidetrace.auth.users import get_user
    from tidetrace.intake.tipline import purge

    ws = open_workspace(home)
    name = user or get_settings().user or "cli"
    if name != "cli":
        get_user(ws.engine, name)
    result = purge(ws, name)
    typer.echo(
        f"purged {result.tips} tip(s), {result.parts} message(s) and {result.keys} key pair(s) "
        f"from before {result.before}"
    )


# --- totp ---------------------------------------------------------------------------------


@totp_app.command("enrol")
def totp_enrol(
    code: Annotated[str | None, typer.Option(help="The first code (with --secret).")] = None,
    secret: Annotated[str | None, typer.Option(help="The secret printed by a first run.")] = None,
    user: UserOption = None,
    home: HomeOption = None,
) -> None:
    """Enrol a TOTP second factor: run once to get a secret, again with --secret and --code.

    Example: tidetrace totp enrol; then tidetrace totp enrol --secret ABCD… --code 123456
    """
    from tidetrace.intake.twofactor import enrol, new_secret, provisioning_uri

    ws = open_workspace(home)
    actor = unlock_identity(ws, user)
    if secret is None or code is None:
        fresh = new_secret()
        typer.echo(f"secret: {fresh}\nuri: {provisioning_uri(fresh, actor.name)}")
        typer.echo("add it to an authenticator app, then: tidetrace totp enrol --secret … --code …")
        return
    enrol(ws.engine, actor, secret, code)
    typer.echo(f"second factor enrolled for {actor.name}")


@totp_app.command("reset")
def totp_reset(
    name: Annotated[str, typer.Argument(help="Whose second factor to remove")],
    user: UserOption = None,
    home: HomeOption = None,
) -> None:
    """Remove a user's second factor (admins; e.g. a lost phone).

    Example: tidetrace totp reset ivan --user ada
    """
    from tidetrace.intake.twofactor import reset

    ws = open_workspace(home)
    reset(ws.engine, unlock_identity(ws, user).user, name)
    typer.echo(f"second factor of {name} removed: they enrol again at their next login")
