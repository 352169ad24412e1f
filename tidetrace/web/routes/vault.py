"""Evidence vault pages and API: cases, evidence, an item with its custody, claims.

Only investigators and admins reach these routes (``WRITE``), and only a case's members
see it: the case key is opened with the keys the member unlocked at login, kept in this
server process for the session (``tidetrace.vault.keys.session_user``). A non-member gets
404, as for a case that does not exist. Opening an item page or its API twin is a signed
"view" entry on the custody log; downloading a file is an "export".

Files are always sent as attachments (``application/octet-stream``, a sandboxing CSP), so a
captured web page can never run in tidetrace's origin. Originals are not downloadable
here; the CLI exports them on purpose (``evidence get --role original``, bundles).
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path as FilePath
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from tidetrace.auth.users import User
from tidetrace.exc import NotFoundError, TidetraceError
from tidetrace.logs import get_logger
from tidetrace.web.context import doc
from tidetrace.web.deps import WRITE, Actor, ActorDep, WorkspaceDep
from tidetrace.web.render import render_page
from tidetrace.workspace import Workspace

if TYPE_CHECKING:
    from tidetrace.vault.cases import CaseKeyring
    from tidetrace.vault.items import Item
    from tidetrace.vault.keys import UnlockedUser

__all__ = [
    "CaseContext",
    "CasesContext",
    "ClaimContext",
    "ItemContext",
    "router",
    "unlock_after_login",
]

router = APIRouter()
log = get_logger("tidetrace.web.vault")

CaseIdPath = Annotated[
    str, Path(min_length=1, max_length=40, pattern=r"^[a-z0-9-]+$", description="Case id.")
]
ItemIdPath = Annotated[
    str, Path(min_length=1, max_length=40, pattern=r"^[a-z0-9-]+$", description="Item id.")
]
ClaimIdPath = Annotated[
    str, Path(min_length=1, max_length=40, pattern=r"^[a-z0-9-]+$", description="Claim id.")
]
# Files a member may download from the web: shareable ones, never the original.
WEB_ROLES = ("working", "text")
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not logged in, or the vault keys are not unlocked in this session."},
    403: {"description": "The user's role may not use this, or a missing CSRF token."},
    404: {"description": "No such case among yours, or no such item or claim in it."},
}


# --- Contexts (pages and API share them) --------------------------------------------------


@dataclass
class CaseRow:
    """A case in a list."""

    id: str = field(metadata=doc("Case id."))
    name: str = field(metadata=doc("Case name (sealed at rest)."))
    created_day: str = field(metadata=doc("Day the case was created (UTC)."))
    members: list[str] = field(metadata=doc("Users holding the case key."))
    items: int = field(metadata=doc("How many evidence items it holds."))
    claims: int = field(metadata=doc("How many claims it holds."))


@dataclass
class CasesContext:
    """The case list: the cases the user is a member of."""

    cases: list[CaseRow] = field(metadata=doc("The user's cases, by name."))


@dataclass
class ItemRow:
    """An evidence item in a list."""

    id: str = field(metadata=doc("Item id."))
    kind: str = field(metadata=doc("video, image, satellite_image, document, web_page …"))
    title: str = field(metadata=doc("Short description."))
    grade: str | None = field(metadata=doc("Admiralty grade, e.g. B2."))
    created_day: str = field(metadata=doc("Day it was added (UTC)."))
    about: list[str] = field(metadata=doc("Entity ids it is about."))
    files: list[str] = field(metadata=doc("Its files: original, working, text …"))
    flags: int = field(metadata=doc("Keyframes flagged for Korean-language text."))


@dataclass
class ClaimRow:
    """A claim in a list."""

    id: str = field(metadata=doc("Claim id."))
    text: str = field(metadata=doc("The claim."))
    indicator: str | None = field(metadata=doc("ILO forced-labour indicator (label), if any."))
    supporting: int = field(metadata=doc("Items linked as support."))
    contradicting: int = field(metadata=doc("Items linked as contradiction."))


@dataclass
class CaseContext:
    """A case page: its evidence and claims."""

    case: CaseRow = field(metadata=doc("The case."))
    items: list[ItemRow] = field(metadata=doc("Its evidence, newest first."))
    claims: list[ClaimRow] = field(metadata=doc("Its claims."))


@dataclass
class FileRow:
    """One file of an item."""

    role: str = field(metadata=doc("original, working, text …"))
    name: str = field(metadata=doc("File name (the original's as collected)."))
    mime: str = field(metadata=doc("Type detected from the content."))
    size: int = field(metadata=doc("Size in bytes."))
    sha256: str = field(metadata=doc("SHA-256 of the file."))
    derived_from: str | None = field(metadata=doc("SHA-256 of the file it was made from."))
    tool: str | None = field(metadata=doc("Tool and version that made it."))
    removed: list[str] = field(metadata=doc("Metadata removed from it."))
    downloadable: bool = field(metadata=doc("Whether the web offers it for download."))


@dataclass
class CustodyRow:
    """One custody entry about the item."""

    seq: int = field(metadata=doc("Entry number in the case's log."))
    at: str = field(metadata=doc("Exact time (UTC)."))
    actor: str = field(metadata=doc("Who acted (and signed)."))
    action: str = field(metadata=doc("capture, view, export, grade, link, redaction, amend …"))
    summary: str = field(metadata=doc("What changed, in a line."))
    hash: str = field(metadata=doc("The entry's hash (chained to the one before)."))


@dataclass
class LinkRow:
    """A claim an item bears on, or an item bearing on a claim."""

    claim_id: str = field(metadata=doc("Claim id."))
    claim: str = field(metadata=doc("Claim text."))
    item_id: str = field(metadata=doc("Item id."))
    item: str = field(metadata=doc("Item title."))
    stance: str = field(metadata=doc("supports or contradicts."))
    grade: str | None = field(metadata=doc("Grade given to the link."))
    note: str | None = field(metadata=doc("Why."))


@dataclass
class ItemContext:
    """An item page: everything recorded about it, its files and custody history."""

    case: CaseRow = field(metadata=doc("The case."))
    item: ItemRow = field(metadata=doc("The item in brief."))
    grade_text: str = field(metadata=doc("The grade with its meaning."))
    meta: dict[str, Any] = field(metadata=doc("Everything recorded: who, when, how, where …"))
    files: list[FileRow] = field(metadata=doc("Its files with hashes and derivations."))
    custody: list[CustodyRow] = field(metadata=doc("Its custody history, oldest first."))
    claims: list[LinkRow] = field(metadata=doc("Claims it is linked to."))
    grades: list[str] = field(metadata=doc("Grades offered by the grade form."))


@dataclass
class ClaimContext:
    """A claim page: the evidence for and against it."""

    case: CaseRow = field(metadata=doc("The case."))
    id: str = field(metadata=doc("Claim id."))
    text: str = field(metadata=doc("The claim."))
    about: list[str] = field(metadata=doc("Entity ids it is about."))
    indicator: str | None = field(metadata=doc("ILO indicator, as a label."))
    period: str | None = field(metadata=doc("When the claim holds."))
    author: str = field(metadata=doc("Who wrote it."))
    at: str = field(metadata=doc("When it was written."))
    supporting: list[LinkRow] = field(metadata=doc("Evidence supporting it."))
    contradicting: list[LinkRow] = field(metadata=doc("Evidence contradicting it."))


class GradeRequest(BaseModel):
    """A new grade for an item."""

    grade: str = Field(min_length=2, max_length=2, description="e.g. B2")
    reason: str | None = Field(default=None, max_length=2000, description="Why (logged).")


def unlock_after_login(ws: Workspace, user: User, password: str, token: str, hours: int) -> None:
    """The login route's hook: unlock the user's vault keys for the new session.

    A login must not fail because of the vault: without the ``vault`` extra, or when the
    password no longer opens the stored keys, the vault pages say they are locked instead.
    """
    try:
        from tidetrace.vault.keys import unlock_for_session
    except ImportError:
        return
    try:
        unlock_for_session(ws.engine, user, password, token, hours)
    except TidetraceError as exc:
        log.warning("vault keys not unlocked at login", user=user.name, detail=exc.detail)


# --- Building the contexts ----------------------------------------------------------------


def _unlocked(actor: Actor) -> "UnlockedUser":
    from tidetrace.vault.keys import session_user

    return session_user(actor.token, actor.user)


def _open(ws: Workspace, actor: Actor, case_id: str) -> tuple["UnlockedUser", "CaseKeyring"]:
    from tidetrace.vault.cases import is_member, open_case

    unlocked = _unlocked(actor)
    with ws.engine.connect() as conn:
        # By id only: names are for people typing at a terminal.
        if not is_member(conn, case_id, unlocked.user.id):
            raise NotFoundError("no such case among yours")
    return unlocked, open_case(ws.engine, unlocked, case_id)


def _case_row(ws: Workspace, unlocked: "UnlockedUser", case_id: str) -> CaseRow:
    from tidetrace.vault.cases import list_cases
    from tidetrace.vault.tables import claim_table, item_table

    info = next(c for c in list_cases(ws.engine, unlocked) if c.id == case_id)
    with ws.engine.connect() as conn:
        n_items = conn.execute(
            select(func.count()).select_from(item_table).where(item_table.c.case_id == case_id)
        ).scalar_one()
        n_claims = conn.execute(
            select(func.count()).select_from(claim_table).where(claim_table.c.case_id == case_id)
        ).scalar_one()
    return CaseRow(info.id, info.name, info.created_day, info.members, n_items, n_claims)


def _item_row(item: "Item") -> ItemRow:
    return ItemRow(
        id=item.id,
        kind=item.kind,
        title=item.meta.title,
        grade=item.meta.grade,
        created_day=item.created_day,
        about=item.meta.about,
        files=sorted(item.meta.files),
        flags=len(item.meta.flags),
    )


def build_cases(ws: Workspace, actor: Actor) -> CasesContext:
    """The user's cases."""
    from tidetrace.vault.cases import list_cases

    unlocked = _unlocked(actor)
    return CasesContext([_case_row(ws, unlocked, c.id) for c in list_cases(ws.engine, unlocked)])


def build_case(ws: Workspace, actor: Actor, case_id: str) -> CaseContext:
    """A case with its items and claims."""
    from tidetrace.vault.claims import ILO_INDICATORS, list_claims
    from tidetrace.vault.items import list_items

    unlocked, keyring = _open(ws, actor, case_id)
    return CaseContext(
        case=_case_row(ws, unlocked, case_id),
        items=[_item_row(i) for i in list_items(ws.engine, keyring)],
        claims=[
            ClaimRow(
                c.id,
                c.body.text,
                ILO_INDICATORS.get(c.body.indicator, c.body.indicator)
                if c.body.indicator
                else None,
                len(c.supporting),
                len(c.contradicting),
            )
            for c in list_claims(ws.engine, keyring)
        ],
    )


def _summary(action: str, payload: dict[str, Any]) -> str:
    if action == "grade":
        return f"grade {payload.get('from') or '--'} → {payload.get('to')}" + (
            f" ({payload['reason']})" if payload.get("reason") else ""
        )
    if action in ("capture", "export", "redaction"):
        files = payload.get("files") or {}
        parts = [f"{role} {str(info.get('sha256', ''))[:12]}…" for role, info in files.items()]
        extra = f"; {payload['purpose']}" if payload.get("purpose") else ""
        return ", ".join(parts) + extra
    if action == "link":
        return f"{payload.get('stance')} claim {payload.get('claim')}"
    if action == "amend":
        if "verification" in payload:
            return f"verified: {payload['verification'].get('step', '')}"
        return "changed " + ", ".join(sorted(payload.get("changed") or {}))
    return ""


def build_item(ws: Workspace, actor: Actor, case_id: str, item_id: str) -> ItemContext:
    """An item page; opening it is a signed view entry."""
    from tidetrace.vault.claims import claims_for_item
    from tidetrace.vault.custody import history
    from tidetrace.vault.items import CREDIBILITY, RELIABILITY, view_item

    unlocked, keyring = _open(ws, actor, case_id)
    item = view_item(ws, unlocked, keyring, item_id)
    meta = item.meta.to_dict()
    meta.pop("files", None)
    files = [
        FileRow(
            role=role,
            name=info.name,
            mime=info.mime,
            size=info.size,
            sha256=info.sha256,
            derived_from=info.derived_from,
            tool=info.tool,
            removed=info.removed,
            downloadable=role in WEB_ROLES,
        )
        for role, info in sorted(item.meta.files.items())
    ]
    custody = [
        CustodyRow(
            seq=e.entry.seq,
            at=e.at,
            actor=e.entry.actor,
            action=e.entry.action,
            summary=_summary(e.entry.action, e.payload),
            hash=e.entry.hash,
        )
        for e in history(ws.engine, keyring, item_id)
    ]
    links = [
        LinkRow(c.id, c.body.text, item.id, item.title, lk.body.stance, lk.body.grade, lk.body.note)
        for c, lk in claims_for_item(ws.engine, keyring, item_id)
    ]
    return ItemContext(
        case=_case_row(ws, unlocked, case_id),
        item=_item_row(item),
        grade_text=item.grade_text,
        meta=meta,
        files=files,
        custody=custody,
        claims=links,
        grades=[r + c for r in RELIABILITY for c in CREDIBILITY],
    )


def build_claim(ws: Workspace, actor: Actor, case_id: str, claim_id: str) -> ClaimContext:
    """A claim with the evidence for and against it."""
    from tidetrace.vault.claims import ILO_INDICATORS, get_claim

    unlocked, keyring = _open(ws, actor, case_id)
    claim = get_claim(ws.engine, keyring, claim_id)

    def rows(links: list[Any]) -> list[LinkRow]:
        return [
            LinkRow(claim.id, claim.body.text, lk.item_id, lk.item_title, lk.body.stance,
                    lk.body.grade, lk.body.note)
            for lk in links
        ]  # fmt: skip

    indicator = claim.body.indicator
    return ClaimContext(
        case=_case_row(ws, unlocked, case_id),
        id=claim.id,
        text=claim.body.text,
        about=claim.body.about,
        indicator=ILO_INDICATORS.get(indicator, indicator) if indicator else None,
        period=claim.body.period,
        author=claim.body.author,
        at=claim.body.at,
        supporting=rows(claim.supporting),
        contradicting=rows(claim.contradicting),
    )


# --- Pages --------------------------------------------------------------------------------


@router.get(
    "/cases", response_class=HTMLResponse, include_in_schema=False, dependencies=[Depends(WRITE)]
)
def cases_page(request: Request, ws: WorkspaceDep, actor: ActorDep) -> HTMLResponse:
    """The cases the user is a member of."""
    ctx = build_cases(ws, actor)
    return render_page(request, "vault_cases.html", ctx, title="Cases", actor=actor)


@router.get(
    "/cases/{case_id}",
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(WRITE)],
)
def case_page(
    request: Request, case_id: CaseIdPath, ws: WorkspaceDep, actor: ActorDep
) -> HTMLResponse:
    """A case's evidence and claims."""
    ctx = build_case(ws, actor, case_id)
    return render_page(request, "vault_case.html", ctx, title=ctx.case.name, actor=actor)


@router.get(
    "/cases/{case_id}/items/{item_id}",
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(WRITE)],
)
def item_page(
    request: Request, case_id: CaseIdPath, item_id: ItemIdPath, ws: WorkspaceDep, actor: ActorDep
) -> HTMLResponse:
    """An evidence item: what is recorded, its files, claims and custody history."""
    ctx = build_item(ws, actor, case_id, item_id)
    return render_page(request, "vault_item.html", ctx, title=ctx.item.title, actor=actor)


@router.post(
    "/cases/{case_id}/items/{item_id}/grade",
    include_in_schema=False,
    dependencies=[Depends(WRITE)],
)
def item_grade(
    case_id: CaseIdPath,
    item_id: ItemIdPath,
    ws: WorkspaceDep,
    actor: ActorDep,
    grade: Annotated[str, Form(min_length=2, max_length=2)],
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Change an item's grade (a signed custody entry), then show the item again."""
    from tidetrace.vault.items import set_grade

    unlocked, keyring = _open(ws, actor, case_id)
    set_grade(ws, unlocked, keyring, item_id, grade, reason.strip() or None)
    return RedirectResponse(f"/cases/{case_id}/items/{item_id}", status_code=303)


@router.get(
    "/cases/{case_id}/items/{item_id}/files/{role}",
    include_in_schema=False,
    dependencies=[Depends(WRITE)],
)
def item_file(
    case_id: CaseIdPath,
    item_id: ItemIdPath,
    role: Annotated[str, Path(pattern=r"^(working|text)$", description="working or text")],
    ws: WorkspaceDep,
    actor: ActorDep,
) -> Response:
    """Download a shareable file of an item (logged as an export)."""
    from tidetrace.vault import custody
    from tidetrace.vault.items import get_item, read_file

    unlocked, keyring = _open(ws, actor, case_id)
    item = get_item(ws.engine, keyring, item_id)
    info = item.meta.files.get(role)
    if info is None:
        raise NotFoundError(f"this item has no {role} file")
    chunks: Iterator[bytes] = read_file(ws, keyring, item, role)
    with ws.engine.begin() as conn:
        custody.append(
            conn,
            keyring,
            unlocked,
            "export",
            item_id,
            details={"files": {role: {"sha256": info.sha256, "size": info.size}}, "via": "web"},
        )
    suffix = FilePath(info.name).suffix if role != "text" else ".txt"
    return StreamingResponse(
        chunks,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="{item_id}-{role}{suffix}"',
            "Content-Security-Policy": "sandbox; default-src 'none'",
            "Content-Length": str(info.size),
        },
    )


@router.get(
    "/cases/{case_id}/claims/{claim_id}",
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(WRITE)],
)
def claim_page(
    request: Request, case_id: CaseIdPath, claim_id: ClaimIdPath, ws: WorkspaceDep, actor: ActorDep
) -> HTMLResponse:
    """A claim with the evidence supporting and contradicting it."""
    ctx = build_claim(ws, actor, case_id, claim_id)
    return render_page(request, "vault_claim.html", ctx, title="Claim", actor=actor)


# --- API ----------------------------------------------------------------------------------


@router.get(
    "/api/cases",
    summary="Your cases",
    response_model=CasesContext,
    tags=["vault"],
    dependencies=[Depends(WRITE)],
    responses=ERRORS,
)
def api_cases(ws: WorkspaceDep, actor: ActorDep) -> CasesContext:
    """The cases you are a member of."""
    return build_cases(ws, actor)


@router.get(
    "/api/cases/{case_id}",
    summary="A case's evidence and claims",
    response_model=CaseContext,
    tags=["vault"],
    dependencies=[Depends(WRITE)],
    responses=ERRORS,
)
def api_case(case_id: CaseIdPath, ws: WorkspaceDep, actor: ActorDep) -> CaseContext:
    """A case: its evidence items and claims."""
    return build_case(ws, actor, case_id)


@router.get(
    "/api/cases/{case_id}/items/{item_id}",
    summary="An evidence item with its custody history",
    response_model=ItemContext,
    tags=["vault"],
    dependencies=[Depends(WRITE)],
    responses=ERRORS,
)
def api_item(
    case_id: CaseIdPath, item_id: ItemIdPath, ws: WorkspaceDep, actor: ActorDep
) -> ItemContext:
    """An item, its files and custody history (the read is logged as a view)."""
    return build_item(ws, actor, case_id, item_id)


@router.post(
    "/api/cases/{case_id}/items/{item_id}/grade",
    summary="Change an item's grade",
    response_model=ItemRow,
    tags=["vault"],
    dependencies=[Depends(WRITE)],
    responses=ERRORS,
)
def api_item_grade(
    case_id: CaseIdPath, item_id: ItemIdPath, body: GradeRequest, ws: WorkspaceDep, actor: ActorDep
) -> ItemRow:
    """Set the Admiralty grade (send X-CSRF-Token); the change is a signed custody entry."""
    from tidetrace.vault.items import set_grade

    unlocked, keyring = _open(ws, actor, case_id)
    return _item_row(set_grade(ws, unlocked, keyring, item_id, body.grade, body.reason))


@router.get(
    "/api/cases/{case_id}/claims/{claim_id}",
    summary="A claim with the evidence for and against it",
    response_model=ClaimContext,
    tags=["vault"],
    dependencies=[Depends(WRITE)],
    responses=ERRORS,
)
def api_claim(
    case_id: CaseIdPath, claim_id: ClaimIdPath, ws: WorkspaceDep, actor: ActorDep
) -> ClaimContext:
    """A claim and its linked evidence."""
    return build_claim(ws, actor, case_id, claim_id)
