"""The evidence vault on the command line: ``case``, ``evidence`` and ``claim`` commands.

Every command acts as a user (``--user``, or ``TIDETRACE_USER``) whose password unlocks
their keys for this one command: typed at the TTY prompt, or ``TIDETRACE_PASSWORD`` for
scripts. Vault modules are imported inside the commands, so the rest of the CLI works
without the ``vault`` extra.
"""

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
from tidetrace.cli.identity import CaseOption, UserOption, open_member_case, unlock_identity
from tidetrace.exc import InputError
from tidetrace.settings import get_settings
from tidetrace.workspace import Workspace

if TYPE_CHECKING:
    from tidetrace.vault.cases import CaseKeyring
    from tidetrace.vault.items import Item
    from tidetrace.vault.keys import UnlockedUser
    from tidetrace.vault.verify import VaultReport

__all__ = ["register", "verify_vault_report"]

case_app = make_app("Evidence cases: create them, list yours, manage who holds the case key.")
evidence_app = make_app(
    "Evidence: add files and URLs (sealed, with custody), list, show, grade, redact, export."
)
claim_app = make_app("Claims and the evidence for and against them.")


def register(app: typer.Typer) -> None:
    """Attach ``case``, ``evidence`` and ``claim`` to the top-level app."""
    app.add_typer(case_app, name="case")
    app.add_typer(evidence_app, name="evidence")
    app.add_typer(claim_app, name="claim")


AboutOption = Annotated[
    list[str] | None,
    typer.Option(
        "--about", help="Entity id the evidence is about (repeatable).", show_default=False
    ),
]
GradeOption = Annotated[
    str | None,
    typer.Option(help="Admiralty grade: source reliability A-F + credibility 1-6, e.g. B2."),
]


def _warn(lines: list[str]) -> None:
    for line in lines:
        typer.echo(f"warning: {line}", err=True)


def _check_about(ws: Workspace, about: list[str]) -> None:
    from tidetrace.store.entities import EntityStore

    store = EntityStore(ws.engine)
    for entity_id in about:
        if store.get_entity(entity_id) is None:
            typer.echo(f"warning: no entity {entity_id!r} in the store (kept anyway)", err=True)


def _engagement(text: str) -> dict[str, int]:
    counts = {}
    for part in text.split(","):
        name, _, value = part.partition("=")
        if not name.strip() or not value.strip().isdigit():
            raise CliError(f"--engagement: {part!r} is not name=count", exit_code=2)
        counts[name.strip().lower()] = int(value)
    return counts


def _checked(values: dict[str, Any]) -> dict[str, Any]:
    """The options given, checked and normalised as ``evidence amend`` does (exit 2 if not)."""
    from tidetrace.vault.items import InvalidField, check_value

    out: dict[str, Any] = {}
    for name, value in values.items():
        if value is None:
            continue
        try:
            out[name] = check_value(name, value)
        except InvalidField as exc:
            raise CliError(f"--{exc.field.replace('_', '-')}: {exc.reason}", exit_code=2) from None
    return out


def _item_line(item: "Item") -> str:
    files = ",".join(sorted(item.meta.files)) or "-"
    return (
        f"{item.id}\t{item.kind}\t{item.meta.grade or '--'}\t{item.created_day}\t"
        f"{item.meta.title}\t[{files}]"
    )


def _item_json(item: "Item") -> dict[str, Any]:
    return {
        "id": item.id,
        "case": item.case_id,
        "created_day": item.created_day,
        **item.meta.to_dict(),
    }


# --- case ---------------------------------------------------------------------------------


@case_app.command("create")
def case_create(
    name: Annotated[str, typer.Argument(help="Case name (sealed; only members see it)")],
    user: UserOption = None,
    home: HomeOption = None,
) -> None:
    """Create a case with a fresh key; you are its first member.

    Example: tidetrace case create "Dandong plants 2023" --user alice
    """
    from tidetrace.vault.cases import create_case

    ws = open_workspace(home)
    case = create_case(ws.engine, unlock_identity(ws, user), name)
    typer.echo(f"{case.id}\t{case.name}")


@case_app.command("list")
def case_list(
    user: UserOption = None, as_json: JsonOption = False, home: HomeOption = None
) -> None:
    """List the cases you are a member of.

    Example: tidetrace case list --user alice
    """
    from tidetrace.vault.cases import list_cases

    ws = open_workspace(home)
    found = list_cases(ws.engine, unlock_identity(ws, user))
    if as_json:
        print_json([c.__dict__ for c in found])
        return
    for case in found:
        typer.echo(f"{case.id}\t{case.name}\t{case.created_day}\t{', '.join(case.members)}")


@case_app.command("add-member")
def case_add_member(
    case: Annotated[str, typer.Argument(help="Case id or name")],
    member: Annotated[str, typer.Argument(help="User to add (investigator or admin)")],
    user: UserOption = None,
    home: HomeOption = None,
) -> None:
    """Give another investigator the case key (sealed to their public key).

    Example: tidetrace case add-member "Dandong plants 2023" bob --user alice
    """
    from tidetrace.vault.cases import add_member

    ws = open_workspace(home)
    add_member(ws.engine, unlock_identity(ws, user), case, member)
    typer.echo(f"{member} added")


@case_app.command("remove-member")
def case_remove_member(
    case: Annotated[str, typer.Argument(help="Case id or name")],
    member: Annotated[str, typer.Argument(help="User to remove")],
    user: UserOption = None,
    home: HomeOption = None,
) -> None:
    """Take a member off a case and rotate its key (they cannot open anything new).

    Example: tidetrace case remove-member "Dandong plants 2023" bob --user alice
    """
    from tidetrace.vault.cases import remove_member

    ws = open_workspace(home)
    version = remove_member(ws.engine, unlock_identity(ws, user), case, member)
    typer.echo(f"{member} removed; case key rotated to version {version}")


@case_app.command("checkpoint")
def case_checkpoint(
    case: Annotated[str, typer.Argument(help="Case id or name")],
    user: UserOption = None,
    home: HomeOption = None,
) -> None:
    """Timestamp the case's custody log head at the configured TSA (TIDETRACE_TSA_URL).

    Example: TIDETRACE_TSA_URL=https://freetsa.org/tsr tidetrace case checkpoint C --user alice
    """
    from tidetrace.vault.custody import checkpoint

    settings = get_settings()
    if not settings.tsa_url:
        raise CliError("no timestamp authority: set TIDETRACE_TSA_URL", exit_code=2)
    ws, _actor, keyring = open_member_case(home, user, case)
    done = checkpoint(ws.engine, keyring.case_id, settings.tsa_url)
    if done is None:
        typer.echo("nothing to timestamp: the custody log is empty")
        return
    typer.echo(f"entry {done.seq} timestamped at {done.gen_time} by {done.tsa_url}")


# --- evidence -----------------------------------------------------------------------------


@evidence_app.command("add")
def evidence_add(
    source: Annotated[str, typer.Argument(help="A file, or an http(s) URL to capture")],
    case: CaseOption,
    about: AboutOption = None,
    claim: Annotated[
        str | None, typer.Option(help="Write this claim and link the evidence to it.")
    ] = None,
    stance: Annotated[str, typer.Option(help="supports or contradicts (with --claim)")] = (
        "supports"
    ),
    kind: Annotated[
        str | None,
        typer.Option(
            help="video, image, satellite_image, document, web_page, social_post (default: "
            "from the content)"
        ),
    ] = None,
    grade: GradeOption = None,
    title: Annotated[str | None, typer.Option(help="Short description.")] = None,
    method: Annotated[str | None, typer.Option(help="How it was collected (tool).")] = None,
    collected_by: Annotated[str | None, typer.Option(help="Who collected it.")] = None,
    collected_at: Annotated[str | None, typer.Option(help="When it was collected.")] = None,
    claimed_location: Annotated[str | None, typer.Option(help="Where it claims to be.")] = None,
    location_method: Annotated[
        str | None, typer.Option(help="How the location was verified.")
    ] = None,
    claimed_time: Annotated[str | None, typer.Option(help="When it claims to be.")] = None,
    time_method: Annotated[str | None, typer.Option(help="How the time was verified.")] = None,
    platform: Annotated[str | None, typer.Option(help="Social platform (posts).")] = None,
    account: Annotated[str | None, typer.Option(help="Posting account (posts).")] = None,
    posted_at: Annotated[str | None, typer.Option(help="When it was posted (posts).")] = None,
    caption: Annotated[str | None, typer.Option(help="The post's caption (posts).")] = None,
    engagement: Annotated[
        str | None, typer.Option(help="Counts when captured (posts), e.g. likes=120,shares=4")
    ] = None,
    notes: Annotated[str | None, typer.Option(help="Notes (sealed).")] = None,
    no_ocr: Annotated[bool, typer.Option("--no-ocr", help="Skip Hangul OCR of video.")] = False,
    user: UserOption = None,
    as_json: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Add a file or capture a URL: sealed original, stripped working copy, custody entry.

    The real type comes from the content, not the name. URLs are captured as WARC with a
    text extraction, capture time and TLS/server facts. With --claim the evidence is linked
    to a new claim.

    Example: tidetrace evidence add clip.mp4 --case "Dandong plants 2023" --about fac-1 --grade B2
    """
    from tidetrace.vault import capture, claims, items

    ws, actor, keyring = open_member_case(home, user, case)
    about_ids = list(about or [])
    _check_about(ws, about_ids)
    extra: dict[str, Any] = {
        k: v
        for k, v in {
            "claimed_location": claimed_location,
            "location_method": location_method,
            "claimed_time": claimed_time,
            "time_method": time_method,
            "platform": platform,
            "account": account,
            "posted_at": posted_at,
            "caption": caption,
            "notes": notes,
            "engagement": _engagement(engagement) if engagement else None,
        }.items()
        if v is not None
    }
    checked = _checked(
        {**extra, "title": title, "method": method, "collected_by": collected_by,
         "collected_at": collected_at}
    )  # fmt: skip
    title, method = checked.pop("title", None), checked.pop("method", None)
    collected_by, collected_at = (
        checked.pop("collected_by", None),
        checked.pop("collected_at", None),
    )
    extra = checked
    tsa_url = get_settings().tsa_url
    if source.startswith(("http://", "https://")):
        result = capture.capture_url(
            ws, actor, keyring, source, kind=kind, title=title, about=about_ids, grade=grade,
            tsa_url=tsa_url, **extra,
        )  # fmt: skip
    else:
        path = Path(source)
        if not path.is_file():
            raise InputError(path, "no such file (or a URL without http:// or https://)")
        result = items.add_file(
            ws, actor, keyring, path, kind=kind, title=title, about=about_ids, grade=grade,
            method=method, collected_by=collected_by, collected_at=collected_at,
            ocr=not no_ocr, tsa_url=tsa_url, **extra,
        )  # fmt: skip
    _warn(result.warnings)
    claim_id = None
    if claim is not None:
        made = claims.add_claim(ws, actor, keyring, claim, about=about_ids)
        claims.link(ws, actor, keyring, made.id, result.item.id, stance)
        claim_id = made.id
    if as_json:
        print_json({**_item_json(result.item), "claim": claim_id, "warnings": result.warnings})
        return
    original = result.item.meta.files["original"]
    typer.echo(f"added {result.item.id} ({result.item.kind}) sha256 {original.sha256}")
    if claim_id is not None:
        typer.echo(f"claim {claim_id} ({stance})")


@evidence_app.command("note")
def evidence_note(
    text: Annotated[str, typer.Argument(help="The note")],
    case: CaseOption,
    about: AboutOption = None,
    grade: GradeOption = None,
    title: Annotated[str | None, typer.Option(help="Short description.")] = None,
    user: UserOption = None,
    home: HomeOption = None,
) -> None:
    """Add an investigator's note as a sealed evidence item.

    Example: tidetrace evidence note "Trucks left at 02:00" --case C --about fac-1 --user alice
    """
    from tidetrace.vault import items

    ws, actor, keyring = open_member_case(home, user, case)
    result = items.add_note(
        ws, actor, keyring, text, title=title, about=list(about or []), grade=grade,
        tsa_url=get_settings().tsa_url,
    )  # fmt: skip
    _warn(result.warnings)
    typer.echo(f"added {result.item.id} (note)")


@evidence_app.command("list")
def evidence_list(
    case: CaseOption,
    about: Annotated[str | None, typer.Option(help="Only items about this entity.")] = None,
    kind: Annotated[str | None, typer.Option(help="Only this kind.")] = None,
    user: UserOption = None,
    as_json: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """List a case's evidence: id, kind, grade, day, title, files.

    Example: tidetrace evidence list --case "Dandong plants 2023" --about fac-1 --user alice
    """
    from tidetrace.vault.items import list_items

    ws, _actor, keyring = open_member_case(home, user, case)
    found = list_items(ws.engine, keyring, about=about, kind=kind)
    if as_json:
        print_json([_item_json(i) for i in found])
        return
    for item in found:
        typer.echo(_item_line(item))


@evidence_app.command("show")
def evidence_show(
    item_id: Annotated[str, typer.Argument(help="Evidence item id")],
    case: CaseOption,
    user: UserOption = None,
    as_json: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Show an item with its files, hashes and custody history (the view is logged).

    Example: tidetrace evidence show ev-0123abcd --case "Dandong plants 2023" --user alice
    """
    from tidetrace.vault.custody import history
    from tidetrace.vault.items import describe_amendment, view_item

    ws, actor, keyring = open_member_case(home, user, case)
    item = view_item(ws, actor, keyring, item_id)
    entries = history(ws.engine, keyring, item_id)
    if as_json:
        print_json(
            {
                **_item_json(item),
                "custody": [
                    {**e.entry.public(), "at": e.at, "details": e.payload} for e in entries
                ],
            }
        )
        return
    meta = item.meta
    typer.echo(f"{item.id}  {meta.title}  ({item.kind}, {item.grade_text})")
    for label, value in (
        ("about", ", ".join(meta.about)),
        ("collected", f"{meta.collected_by} at {meta.collected_at} ({meta.method})"),
        ("source", meta.source_url),
        ("location", meta.claimed_location and f"{meta.claimed_location} [{meta.location_method}]"),
        ("time", meta.claimed_time and f"{meta.claimed_time} [{meta.time_method}]"),
        ("notes", meta.notes or meta.text),
    ):
        if value:
            typer.echo(f"  {label}: {value}")
    for step in meta.verification:
        typer.echo(f"  verified: {step['step']} ({step['by']}, {step['at']})")
    for role, info in meta.files.items():
        derived = f" from {info.derived_from[:12]}… by {info.tool}" if info.derived_from else ""
        typer.echo(
            f"  file {role}: {info.name} {info.mime} {info.size} B sha256 {info.sha256}{derived}"
        )
    for flag in meta.flags:
        typer.echo(f"  Korean text at {flag['t']:.1f}s (review): {flag['text']}")
    for warning in meta.warnings:
        typer.echo(f"  warning: {warning}")
    typer.echo("  custody:")
    for e in entries:
        line = f"    {e.entry.seq}\t{e.at}\t{e.entry.actor}\t{e.entry.action}"
        if e.entry.action == "amend":
            line += f"\t{describe_amendment(e.payload)}"
        typer.echo(line)


@evidence_app.command("grade")
def evidence_grade(
    item_id: Annotated[str, typer.Argument(help="Evidence item id")],
    grade: Annotated[str, typer.Argument(help="e.g. B2")],
    case: CaseOption,
    reason: Annotated[str | None, typer.Option(help="Why (sealed, logged).")] = None,
    user: UserOption = None,
    home: HomeOption = None,
) -> None:
    """Change an item's Admiralty grade (the change is a signed custody entry).

    Example: tidetrace evidence grade ev-0123abcd A2 --case C --reason "second source" --user alice
    """
    from tidetrace.vault.items import set_grade

    ws, actor, keyring = open_member_case(home, user, case)
    item = set_grade(ws, actor, keyring, item_id, grade, reason)
    typer.echo(f"{item.id}: {item.grade_text}")


@evidence_app.command("amend")
def evidence_amend(
    item_id: Annotated[str, typer.Argument(help="Evidence item id")],
    case: CaseOption,
    title: Annotated[str | None, typer.Option(help="Short description.")] = None,
    about: Annotated[
        list[str] | None,
        typer.Option(
            "--about",
            help="Entity id the evidence is about (repeatable; replaces the list; '' empties it).",
            show_default=False,
        ),
    ] = None,
    method: Annotated[str | None, typer.Option(help="How it was collected (tool).")] = None,
    collected_by: Annotated[str | None, typer.Option(help="Who collected it.")] = None,
    collected_at: Annotated[
        str | None, typer.Option(help="When it was collected (ISO 8601).")
    ] = None,
    source_url: Annotated[str | None, typer.Option(help="Where it was found (http/https).")] = None,
    claimed_location: Annotated[str | None, typer.Option(help="Where it claims to be.")] = None,
    location_method: Annotated[
        str | None, typer.Option(help="How the location was verified.")
    ] = None,
    claimed_time: Annotated[
        str | None,
        typer.Option(help="When it claims to be (ISO 8601: 2023-11, a date, start/end)."),
    ] = None,
    time_method: Annotated[str | None, typer.Option(help="How the time was verified.")] = None,
    platform: Annotated[str | None, typer.Option(help="Social platform (posts).")] = None,
    account: Annotated[str | None, typer.Option(help="Posting account (posts).")] = None,
    posted_at: Annotated[
        str | None, typer.Option(help="When it was posted (posts; ISO 8601).")
    ] = None,
    captured_at: Annotated[
        str | None, typer.Option(help="When the post was captured (ISO 8601).")
    ] = None,
    caption: Annotated[str | None, typer.Option(help="The post's caption (posts).")] = None,
    engagement: Annotated[
        str | None, typer.Option(help="Counts when captured (posts), e.g. likes=120,shares=4")
    ] = None,
    notes: Annotated[str | None, typer.Option(help="Notes (sealed).")] = None,
    reason: Annotated[str | None, typer.Option(help="Why (sealed, logged).")] = None,
    user: UserOption = None,
    as_json: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Correct or complete what is recorded about an item (claimed place and time, caption …).

    Only the options given change; an empty value ('') clears a field. The amendment is a
    signed custody entry keeping each field's old and new value and the reason.

    Example: tidetrace evidence amend ev-0123 --case C --claimed-time 2023-11-04 --reason "re-dated"
    """
    from tidetrace.vault.items import InvalidField, amend_item, describe_amendment

    given: dict[str, Any] = {
        "title": title, "method": method, "collected_by": collected_by,
        "collected_at": collected_at, "source_url": source_url,
        "claimed_location": claimed_location, "location_method": location_method,
        "claimed_time": claimed_time, "time_method": time_method, "platform": platform,
        "account": account, "posted_at": posted_at, "captured_at": captured_at,
        "caption": caption, "notes": notes,
    }  # fmt: skip
    changes = {name: value for name, value in given.items() if value is not None}
    if about is not None:
        changes["about"] = [part for value in about for part in value.split(",")]
    if engagement is not None:
        changes["engagement"] = _engagement(engagement) if engagement.strip() else {}
    if not changes:
        raise CliError("nothing to amend: give at least one field option (see --help)", 2)
    ws, actor, keyring = open_member_case(home, user, case)
    try:
        done = amend_item(ws, actor, keyring, item_id, changes, reason)
    except InvalidField as exc:
        raise CliError(f"--{exc.field.replace('_', '-')}: {exc.reason}", exit_code=2) from None
    if as_json:
        print_json(
            {
                **_item_json(done.item),
                "changes": {k: {"from": old, "to": new} for k, (old, new) in done.changes.items()},
                "custody_entry": done.entry.seq if done.entry is not None else None,
            }
        )
        return
    if done.entry is None:
        typer.echo(f"{item_id}: nothing changed (the values given are the recorded ones)")
        return
    summary = describe_amendment(
        {"from": {k: v[0] for k, v in done.changes.items()},
         "to": {k: v[1] for k, v in done.changes.items()}}
    )  # fmt: skip
    typer.echo(f"{item_id}: {summary} (custody entry {done.entry.seq})")


@evidence_app.command("verification")
def evidence_verification(
    item_id: Annotated[str, typer.Argument(help="Evidence item id")],
    step: Annotated[str, typer.Argument(help="What was checked and how")],
    case: CaseOption,
    user: UserOption = None,
    home: HomeOption = None,
) -> None:
    """Record a verification step done on an item.

    Example: tidetrace evidence verification ev-0123 "geolocated: Sentinel-2 2023-11-04" --case C
    """
    from tidetrace.vault.items import add_verification_step

    ws, actor, keyring = open_member_case(home, user, case)
    item = add_verification_step(ws, actor, keyring, item_id, step)
    typer.echo(f"{item.id}: {len(item.meta.verification)} verification step(s)")


@evidence_app.command("redact")
def evidence_redact(
    item_id: Annotated[str, typer.Argument(help="Evidence item id")],
    file: Annotated[Path, typer.Argument(help="The redacted file (made in an editor)")],
    case: CaseOption,
    note: Annotated[str, typer.Option(help="What was redacted and why.")],
    user: UserOption = None,
    home: HomeOption = None,
) -> None:
    """Replace an item's shareable working copy with a redacted file (original untouched).

    Example: tidetrace evidence redact ev-0123 blurred.jpg --case C --note "faces blurred"
    """
    from tidetrace.vault.items import add_redaction

    if not file.is_file():
        raise InputError(file, "no such file")
    ws, actor, keyring = open_member_case(home, user, case)
    item = add_redaction(ws, actor, keyring, item_id, file, note)
    typer.echo(f"{item.id}: working copy {item.meta.files['working'].sha256}")


@evidence_app.command("get")
def evidence_get(
    item_id: Annotated[str, typer.Argument(help="Evidence item id")],
    case: CaseOption,
    output: Annotated[Path, typer.Option("-o", "--output", help="File to write.")],
    role: Annotated[str, typer.Option(help="working, original or text")] = "working",
    purpose: Annotated[str | None, typer.Option(help="Why (logged).")] = None,
    user: UserOption = None,
    home: HomeOption = None,
) -> None:
    """Write one file of an item (hash checked on the way out; the export is logged).

    Example: tidetrace evidence get ev-0123 --case C --role working -o gate.jpg --user alice
    """
    from tidetrace.vault.items import export_file

    ws, actor, keyring = open_member_case(home, user, case)
    if output.exists():
        raise CliError(f"{output} exists: not overwriting evidence", exit_code=2)
    with open(output, "xb") as dest:
        info = export_file(ws, actor, keyring, item_id, dest, role=role, purpose=purpose)
    typer.echo(f"wrote {output} ({info.size} B, sha256 {info.sha256})")


@evidence_app.command("export")
def evidence_export(
    case: CaseOption,
    output: Annotated[Path, typer.Option("-o", "--output", help="Bundle zip to write.")],
    items_: Annotated[
        list[str] | None, typer.Argument(help="Item ids (default: every item)", show_default=False)
    ] = None,
    originals: Annotated[
        bool, typer.Option("--originals", help="Include the originals, metadata and all.")
    ] = False,
    purpose: Annotated[str | None, typer.Option(help="Why (logged).")] = None,
    format_: Annotated[
        str,
        typer.Option(
            "--format",
            help="bundle (zip verifiable offline) or ftm (FtM JSON lines: Evidence and "
            "Claim entities, metadata and hashes only)",
        ),
    ] = "bundle",
    user: UserOption = None,
    home: HomeOption = None,
) -> None:
    """Export a bundle verifiable offline: files, manifest, custody log, timestamps, keys.

    Inside the zip, 'python3 verify_bundle.py' checks it with no tidetrace installed.
    With --format ftm: the case's items and claims as FtM entities (no file contents).

    Example: tidetrace evidence export --case C -o petition.zip --purpose "CBP petition"
    """
    from tidetrace.vault.bundle import DEFAULT_ROLES, export_bundle

    if format_ not in ("bundle", "ftm"):
        raise CliError(f"--format: {format_!r} is not bundle or ftm", exit_code=2)
    settings = get_settings()
    ws, actor, keyring = open_member_case(home, user, case)
    if format_ == "ftm":
        _export_ftm(ws, actor, keyring, output, items_, originals, purpose)
        return
    roles = (*DEFAULT_ROLES, "original") if originals else DEFAULT_ROLES
    result = export_bundle(
        ws, actor, keyring, output, item_ids=list(items_ or []) or None, roles=roles,
        purpose=purpose, tsa_url=settings.tsa_url, tsa_ca_file=settings.tsa_ca_file,
    )  # fmt: skip
    _warn(result.warnings)
    typer.echo(
        f"wrote {result.path}: {result.files} file(s), {result.entries} custody entries, "
        f"{result.checkpoints} timestamp(s)"
    )


def _export_ftm(
    ws: Workspace,
    actor: "UnlockedUser",
    keyring: "CaseKeyring",
    output: Path,
    items_: list[str] | None,
    originals: bool,
    purpose: str | None,
) -> None:
    import tempfile

    from tidetrace.vault.ftm import export_ftm, ftm_lines

    if items_ or originals:
        raise CliError("--format ftm exports the whole case and no files", exit_code=2)
    entities = export_ftm(ws, actor, keyring, purpose=purpose)
    output.parent.mkdir(parents=True, exist_ok=True)
    # Written beside the target and renamed: a reader never sees half a file.
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=output.parent, suffix=".part", delete=False
    ) as tmp:
        tmp.writelines(ftm_lines(entities))
    Path(tmp.name).replace(output)
    typer.echo(f"wrote {output}: {len(entities)} FtM entities")


@evidence_app.command("verify")
def evidence_verify(case: CaseOption, user: UserOption = None, home: HomeOption = None) -> None:
    """Decrypt every file of a case and check it against its recorded SHA-256.

    'tidetrace verify' checks everything that needs no key; this also opens the files.

    Example: tidetrace evidence verify --case "Dandong plants 2023" --user alice
    """
    from tidetrace.vault.verify import verify_contents

    ws, _actor, keyring = open_member_case(home, user, case)
    checked, problems = verify_contents(ws, keyring)
    for problem in problems:
        typer.echo(str(problem))
    if problems:
        raise CliError(f"{len(problems)} problem(s) in {checked} file(s)")
    typer.echo(f"{checked} file(s) decrypt and match their SHA-256")


# --- claim --------------------------------------------------------------------------------


@claim_app.command("add")
def claim_add(
    text: Annotated[
        str, typer.Argument(help="The claim, e.g. 'NK workers at Facility X, 2023-11'")
    ],
    case: CaseOption,
    about: AboutOption = None,
    indicator: Annotated[
        str | None, typer.Option(help="ILO forced-labour indicator, e.g. 'restriction of movement'")
    ] = None,
    period: Annotated[str | None, typer.Option(help="When, e.g. 2023-11")] = None,
    user: UserOption = None,
    home: HomeOption = None,
) -> None:
    """Write a claim (sealed) that evidence can support or contradict.

    Example: tidetrace claim add "Machines labelled in Korean" --case C --about fac-1 --user alice
    """
    from tidetrace.vault.claims import add_claim

    ws, actor, keyring = open_member_case(home, user, case)
    _check_about(ws, list(about or []))
    claim = add_claim(ws, actor, keyring, text, list(about or []), indicator, period)
    typer.echo(f"{claim.id}\t{claim.body.text}")


@claim_app.command("link")
def claim_link(
    claim_id: Annotated[str, typer.Argument(help="Claim id")],
    item_id: Annotated[str, typer.Argument(help="Evidence item id")],
    case: CaseOption,
    stance: Annotated[str, typer.Option(help="supports or contradicts")] = "supports",
    grade: GradeOption = None,
    note: Annotated[str | None, typer.Option(help="Why (sealed).")] = None,
    user: UserOption = None,
    home: HomeOption = None,
) -> None:
    """Link an evidence item to a claim as support or contradiction.

    Example: tidetrace claim link cl-0123 ev-4567 --case C --stance contradicts --grade C3
    """
    from tidetrace.vault.claims import link

    ws, actor, keyring = open_member_case(home, user, case)
    made = link(ws, actor, keyring, claim_id, item_id, stance, grade, note)
    typer.echo(f"{made.id}: {item_id} {made.body.stance} {claim_id} ({made.body.grade or '--'})")


@claim_app.command("list")
def claim_list(
    case: CaseOption,
    about: Annotated[str | None, typer.Option(help="Only claims about this entity.")] = None,
    user: UserOption = None,
    as_json: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """List a case's claims with how much evidence supports and contradicts each.

    Example: tidetrace claim list --case "Dandong plants 2023" --user alice
    """
    from dataclasses import asdict

    from tidetrace.vault.claims import list_claims

    ws, _actor, keyring = open_member_case(home, user, case)
    found = list_claims(ws.engine, keyring, about=about)
    if as_json:
        print_json(
            [
                {"id": c.id, "created_day": c.created_day, **asdict(c.body),
                 "links": [{"id": lk.id, "item": lk.item_id, **asdict(lk.body)} for lk in c.links]}
                for c in found
            ]
        )  # fmt: skip
        return
    for c in found:
        typer.echo(
            f"{c.id}\t+{len(c.supporting)}/-{len(c.contradicting)}\t{c.body.text}"
            + (f"\t[{c.body.indicator}]" if c.body.indicator else "")
        )


@claim_app.command("show")
def claim_show(
    claim_id: Annotated[str, typer.Argument(help="Claim id")],
    case: CaseOption,
    user: UserOption = None,
    home: HomeOption = None,
) -> None:
    """Show a claim with each linked item, its stance and grade.

    Example: tidetrace claim show cl-0123 --case "Dandong plants 2023" --user alice
    """
    from tidetrace.vault.claims import get_claim

    ws, _actor, keyring = open_member_case(home, user, case)
    claim = get_claim(ws.engine, keyring, claim_id)
    typer.echo(f"{claim.id}  {claim.body.text}")
    if claim.body.about:
        typer.echo(f"  about: {', '.join(claim.body.about)}")
    for lk in claim.links:
        typer.echo(f"  {lk.body.stance}\t{lk.body.grade or '--'}\t{lk.item_id}\t{lk.item_title}")


# --- verify (called by `tidetrace verify`) -------------------------------------------------


def verify_vault_report(ws: Workspace) -> "VaultReport | None":
    """Check the vault and print each problem; None when the vault extra is missing.

    Called by ``tidetrace verify``: needs no key, checks custody chains, signatures,
    timestamp checkpoints (against TIDETRACE_TSA_CA_FILE), sealed rows and blob files.
    """
    try:
        from tidetrace.vault.verify import verify_vault
    except ImportError:
        typer.echo("evidence vault: not checked (install the 'vault' extra)")
        return None
    report = verify_vault(ws, get_settings().tsa_ca_file)
    for problem in report.problems:
        typer.echo(f"evidence vault: {problem}")
    for note in report.notes:
        typer.echo(f"evidence vault: note: {note}")
    if report.ok:
        typer.echo(
            f"evidence vault: {report.cases} case(s), {report.entries} custody entries, "
            f"{report.rows} sealed rows, {report.blobs} blobs intact"
        )
    return report
