"""Evidence vault pages and API: cases, evidence, an item with its custody, claims.

Only investigators and admins reach these routes (``WRITE``), and only a case's members
see it: the case key is opened with the keys the member unlocked at login, kept in this
server process for the session (``tidetrace.vault.keys.session_user``). A non-member gets
404, as for a case that does not exist. Opening an item page or its API twin is a signed
"view" entry on the custody log; downloading a file is an "export".

Files are always sent as attachments (``application/octet-stream``, a sandboxing CSP), so a
captured web page can never run in tidetrace's origin. Originals are not downloadable
here; the CLI exports them on purpose (``evidence get --role original``, bundles).

Every write the CLI has is here too, as a form (redirecting to the page it changed) and
an API route (JSON, or multipart for files), calling the same vault functions: cases and
members, file upload (streamed into the workspace by :func:`upload_form`), notes, URL
capture (behind :mod:`tidetrace.vault.netguard`), claims, links, verification steps,
amendments of an item's recorded facts (``PATCH`` on the item; a form on its page),
redaction, and bundle and FtM exports. Writes to a case refuse non-members (404) before
their input is read (:func:`case_member`). API errors are ``{"detail": ...}`` with the
shared ``ErrorResponse`` model, like every other API route.
"""

import re
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path as FilePath
from typing import TYPE_CHECKING, Annotated, Any, BinaryIO, cast

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from fastapi.types import DecoratedCallable
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from starlette.background import BackgroundTask
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException, MultiPartParser

from tidetrace.auth.users import User
from tidetrace.exc import NotFoundError, TidetraceError
from tidetrace.logs import get_logger
from tidetrace.web.context import doc
from tidetrace.web.deps import (
    WRITE,
    Actor,
    ActorDep,
    SettingsDep,
    WorkspaceDep,
    actor_for,
    clean_text,
    get_workspace,
)
from tidetrace.web.models import ErrorResponse
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
# The same error shape as every other API route (``{"detail": ...}``, as in yente), and
# documented the same way.
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "The request cannot be carried out as asked."},
    401: {
        "model": ErrorResponse,
        "description": "Not logged in, or the vault keys are not unlocked in this session.",
    },
    403: {
        "model": ErrorResponse,
        "description": "The user's role may not use this, or a missing CSRF token.",
    },
    404: {
        "model": ErrorResponse,
        "description": "No such case among yours, or no such item or claim in it.",
    },
    422: {"model": ErrorResponse, "description": "Invalid parameters or input."},
}
UPLOAD_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    413: {"model": ErrorResponse, "description": "The upload is over TIDETRACE_MAX_UPLOAD_MB."},
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
    kinds: list[str] = field(default_factory=list, metadata=doc("Evidence kinds."))
    indicators: list[str] = field(
        default_factory=list, metadata=doc("ILO forced-labour indicators (labels).")
    )
    grades: list[str] = field(default_factory=list, metadata=doc("Admiralty grades."))


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
    items: list[ItemRow] = field(
        default_factory=list, metadata=doc("The case's items (the link form offers them).")
    )
    grades: list[str] = field(default_factory=list, metadata=doc("Admiralty grades."))


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
    from tidetrace.vault.items import KINDS, list_items

    unlocked, keyring = _open(ws, actor, case_id)
    return CaseContext(
        kinds=list(KINDS),
        indicators=list(ILO_INDICATORS.values()),
        grades=_grades(),
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
        from tidetrace.vault.items import describe_amendment

        return describe_amendment(payload)
    return ""


def build_item(ws: Workspace, actor: Actor, case_id: str, item_id: str) -> ItemContext:
    """An item page; opening it is a signed view entry."""
    from tidetrace.vault.claims import claims_for_item
    from tidetrace.vault.custody import history
    from tidetrace.vault.items import view_item

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
        grades=_grades(),
    )


def _grades() -> list[str]:
    from tidetrace.vault.items import CREDIBILITY, RELIABILITY

    return [r + c for r in RELIABILITY for c in CREDIBILITY]


def build_claim(ws: Workspace, actor: Actor, case_id: str, claim_id: str) -> ClaimContext:
    """A claim with the evidence for and against it."""
    from tidetrace.vault.claims import ILO_INDICATORS, get_claim
    from tidetrace.vault.items import list_items

    unlocked, keyring = _open(ws, actor, case_id)
    claim = get_claim(ws.engine, keyring, claim_id)
    case_items = [_item_row(i) for i in list_items(ws.engine, keyring)]

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
        items=case_items,
        grades=_grades(),
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


# --- Writing: uploads ---------------------------------------------------------------------


class _WorkspaceUploadParser(MultiPartParser):
    """Starlette's multipart parser, with each uploaded file written to a private file.

    Starlette spools an upload over 1 MiB to a temporary file in the system's temp
    directory, outside the workspace and its cleanup. Here each file part streams to a
    file in a private directory under the workspace (any size up to the body limit, never
    held in memory), which the capture code reads like a file given on the command line.
    """

    def __init__(self, request: Request, directory: FilePath) -> None:
        super().__init__(
            request.headers, request.stream(), max_files=1, max_fields=60, max_part_size=64 * 1024
        )
        self.directory = directory

    def on_headers_finished(self) -> None:
        super().on_headers_finished()
        upload = self._current_part.file
        if upload is None:
            return
        # Swap the spooled file Starlette just made for one in our directory.
        self._files_to_close_on_error.pop().close()
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed with the form
            dir=self.directory, prefix="upload-", delete=False
        )
        self._files_to_close_on_error.append(handle)  # type: ignore[arg-type]
        upload.file = cast(BinaryIO, handle)


async def upload_form(request: Request) -> AsyncIterator[None]:
    """Parse an upload form for a case member, its file streamed into the workspace.

    Declared before the route's :class:`Allow`, whose CSRF check then reuses the parsed
    form. Nothing is read for anyone who is not a member of the case with unlocked keys:
    those requests go on unparsed to be refused. The body limit is the app's
    ``BodyLimitMiddleware`` (``TIDETRACE_MAX_UPLOAD_MB``): a declared larger body is
    refused before it is read, a chunked one as soon as it passes the limit. The private
    directory is removed when the request is done, whatever happened.
    """
    ctype = request.headers.get("content-type", "")
    actor = actor_for(request)
    if not ctype.startswith("multipart/form-data") or not actor.can_write:
        yield
        return
    ws = get_workspace(request)
    _open(ws, actor, str(request.path_params.get("case_id", "")))
    ws.tmp_dir.mkdir(parents=True, exist_ok=True)
    directory = FilePath(tempfile.mkdtemp(prefix="upload-", dir=ws.tmp_dir))
    form: FormData | None = None
    try:
        try:
            form = await _WorkspaceUploadParser(request, directory).parse()
        except MultiPartException as exc:
            raise HTTPException(400, exc.message) from None
        request._form = form
        yield
    finally:
        if form is not None:
            await form.close()
        shutil.rmtree(directory, ignore_errors=True)


async def parsed_form(request: Request) -> FormData:
    """The request's form (already parsed by :func:`upload_form` for uploads)."""
    return await request.form()


FormDep = Annotated[FormData, Depends(parsed_form)]
MAX_FIELD = 2000
_ENTITY_ID = re.compile(r"^[\w.:/-]{1,255}$")


def _field(form: FormData, name: str, limit: int = MAX_FIELD) -> str | None:
    """A text field without control characters (None when empty); too long is an error."""
    value = form.get(name)
    if not isinstance(value, str):
        return None
    clean = clean_text(value)
    if len(clean) > limit:
        raise TidetraceError(f"field {name!r}: at most {limit} characters")
    return clean or None


def _text_field(form: FormData, name: str, limit: int = 20_000) -> str | None:
    """A multi-line field: lines kept, other control characters dropped."""
    value = form.get(name)
    if not isinstance(value, str):
        return None
    lines = [clean_text(line) for line in value.replace("\r\n", "\n").split("\n")]
    clean = "\n".join(lines).strip()
    if len(clean) > limit:
        raise TidetraceError(f"field {name!r}: at most {limit} characters")
    return clean or None


def _entity_ids(values: list[str]) -> list[str]:
    """Entity ids from fields that may hold several, separated by commas or spaces."""
    out: list[str] = []
    for value in values:
        for part in re.split(r"[,\s]+", value):
            if not part:
                continue
            if not _ENTITY_ID.match(part):
                raise TidetraceError(f"field 'about': {part[:40]!r} is not an entity id")
            if part not in out:
                out.append(part)
    return out[:50]


def _form_about(form: FormData) -> list[str]:
    return _entity_ids([v for v in form.getlist("about") if isinstance(v, str)])


def _upload(form: FormData, name: str = "file") -> tuple[FilePath, str]:
    """The uploaded file's path in the private directory, and its name as sent."""
    upload = form.get(name)
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise TidetraceError(f"field {name!r}: choose a file to upload")
    # The name as the browser sent it, as collected: only its last part, printable.
    sent = clean_text(upload.filename.replace("\\", "/").rsplit("/", 1)[-1])[:255]
    handle = cast(Any, upload.file)
    handle.flush()
    return FilePath(handle.name), sent or "upload"


def _checked(fields: dict[str, Any]) -> dict[str, Any]:
    """Descriptive fields of a new item checked and normalised as an amendment's are
    (ISO 8601 times, lengths), so adding accepts nothing an amendment would refuse."""
    from tidetrace.vault.items import check_value

    return {name: check_value(name, value) for name, value in fields.items()}


# Item fields the upload and capture forms take, beyond title/about/grade/kind.
ITEM_FIELDS = (
    "method",
    "collected_by",
    "collected_at",
    "claimed_location",
    "location_method",
    "claimed_time",
    "time_method",
    "platform",
    "account",
    "posted_at",
    "caption",
    "notes",
)


class AddedItem(BaseModel):
    """What adding evidence produced."""

    item: ItemRow = Field(description="The new item.")
    warnings: list[str] = Field(description="What the investigator should know (lying names …).")
    claim: str | None = Field(default=None, description="The claim it was linked to, if any.")


def _add_upload(
    ws: Workspace, actor: Actor, case_id: str, form: FormData, tsa_url: str | None
) -> AddedItem:
    """Add an uploaded file with the same code as ``tidetrace evidence add FILE``."""
    from tidetrace.vault import claims, items

    unlocked, keyring = _open(ws, actor, case_id)
    path, name = _upload(form)
    fields = _checked({k: v for k in ITEM_FIELDS if (v := _field(form, k)) is not None})
    method = fields.pop("method", None) or "tidetrace web upload"
    collected_by = fields.pop("collected_by", None)
    collected_at = fields.pop("collected_at", None)
    about = _form_about(form)
    result = items.add_file(
        ws, unlocked, keyring, path, kind=_field(form, "kind", 40), title=_field(form, "title"),
        about=about, grade=_field(form, "grade", 2), method=method, collected_by=collected_by,
        collected_at=collected_at, original_name=name, tsa_url=tsa_url, **fields,
    )  # fmt: skip
    claim_id = None
    claim_text = _field(form, "claim")
    if claim_text:
        made = claims.add_claim(ws, unlocked, keyring, claim_text, about=about)
        stance = _field(form, "stance", 20) or "supports"
        claims.link(ws, unlocked, keyring, made.id, result.item.id, stance)
        claim_id = made.id
    return AddedItem(item=_item_row(result.item), warnings=result.warnings, claim=claim_id)


def _redact_upload(
    ws: Workspace, actor: Actor, case_id: str, item_id: str, form: FormData
) -> ItemRow:
    from tidetrace.vault.items import add_redaction

    unlocked, keyring = _open(ws, actor, case_id)
    path, _name = _upload(form)
    note = _field(form, "note")
    if not note:
        raise TidetraceError("field 'note': say what was redacted and why")
    return _item_row(add_redaction(ws, unlocked, keyring, item_id, path, note))


# --- Writing: everything else, shared by forms and API ------------------------------------


def _create_case(ws: Workspace, actor: Actor, name: str) -> CaseRow:
    from tidetrace.vault.cases import create_case

    unlocked = _unlocked(actor)
    case = create_case(ws.engine, unlocked, name)
    return _case_row(ws, unlocked, case.id)


class MembersResponse(BaseModel):
    """A case's members after a change."""

    members: list[str] = Field(description="Users holding the case key.")
    key_version: int = Field(description="The case key's version (removal rotates it).")


def _add_member(ws: Workspace, actor: Actor, case_id: str, name: str) -> MembersResponse:
    from tidetrace.vault.cases import add_member, case_members

    unlocked, keyring = _open(ws, actor, case_id)
    add_member(ws.engine, unlocked, case_id, name)
    with ws.engine.connect() as conn:
        return MembersResponse(members=case_members(conn, case_id), key_version=keyring.version)


def _remove_member(ws: Workspace, actor: Actor, case_id: str, name: str) -> MembersResponse:
    from tidetrace.vault.cases import case_members, remove_member

    unlocked, _keyring = _open(ws, actor, case_id)
    version = remove_member(ws.engine, unlocked, case_id, name)
    with ws.engine.connect() as conn:
        return MembersResponse(members=case_members(conn, case_id), key_version=version)


def _add_note(
    ws: Workspace,
    actor: Actor,
    case_id: str,
    text: str,
    title: str | None,
    about: list[str],
    grade: str | None,
    tsa_url: str | None,
) -> AddedItem:
    from tidetrace.vault.items import add_note

    unlocked, keyring = _open(ws, actor, case_id)
    result = add_note(
        ws, unlocked, keyring, text, title=title, about=about, grade=grade, tsa_url=tsa_url
    )
    return AddedItem(item=_item_row(result.item), warnings=result.warnings)


def _capture(
    ws: Workspace,
    actor: Actor,
    case_id: str,
    url: str,
    fields: dict[str, Any],
    allow_hosts: tuple[str, ...],
    tsa_url: str | None,
) -> AddedItem:
    """Capture a URL as the CLI does, but only from public addresses (see ``netguard``)."""
    from tidetrace.vault.capture import capture_url
    from tidetrace.vault.netguard import AddressGuard

    unlocked, keyring = _open(ws, actor, case_id)
    described = {
        k: v for k, v in fields.items() if k in ("platform", "account", "posted_at", "caption")
    }
    fields = {**fields, **_checked(described)}
    result = capture_url(
        ws, unlocked, keyring, url, guard=AddressGuard.from_hosts(allow_hosts), tsa_url=tsa_url,
        **fields,
    )  # fmt: skip
    return AddedItem(item=_item_row(result.item), warnings=result.warnings)


def _add_claim(
    ws: Workspace,
    actor: Actor,
    case_id: str,
    text: str,
    about: list[str],
    indicator: str | None,
    period: str | None,
) -> str:
    from tidetrace.vault.claims import add_claim

    unlocked, keyring = _open(ws, actor, case_id)
    return add_claim(ws, unlocked, keyring, text, about, indicator, period).id


def _link(
    ws: Workspace,
    actor: Actor,
    case_id: str,
    claim_id: str,
    item_id: str,
    stance: str,
    grade: str | None,
    note: str | None,
) -> None:
    from tidetrace.vault.claims import link

    unlocked, keyring = _open(ws, actor, case_id)
    link(ws, unlocked, keyring, claim_id, item_id, stance, grade, note)


def _verification(ws: Workspace, actor: Actor, case_id: str, item_id: str, step: str) -> ItemRow:
    from tidetrace.vault.items import add_verification_step

    unlocked, keyring = _open(ws, actor, case_id)
    return _item_row(add_verification_step(ws, unlocked, keyring, item_id, step))


def _bundle_response(
    ws: Workspace,
    actor: Actor,
    case_id: str,
    item_ids: list[str],
    purpose: str | None,
    tsa_url: str | None,
    tsa_ca_file: FilePath | None,
) -> Response:
    """Build an export bundle in the workspace's tmp area and send it as a download.

    Working copies and text only: originals keep their metadata (GPS, serials) and leave
    the vault from the command line, on purpose (``evidence export --originals``).
    """
    from tidetrace.vault.bundle import DEFAULT_ROLES, export_bundle

    unlocked, keyring = _open(ws, actor, case_id)
    ws.tmp_dir.mkdir(parents=True, exist_ok=True)
    directory = FilePath(tempfile.mkdtemp(prefix="bundle-", dir=ws.tmp_dir))
    try:
        result = export_bundle(
            ws, unlocked, keyring, directory / f"{case_id}-bundle.zip",
            item_ids=item_ids or None, roles=DEFAULT_ROLES, purpose=purpose, tsa_url=tsa_url,
            tsa_ca_file=tsa_ca_file,
        )  # fmt: skip
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    return FileResponse(
        result.path,
        media_type="application/zip",
        filename=result.path.name,
        headers={"Content-Security-Policy": "sandbox; default-src 'none'"},
        background=BackgroundTask(shutil.rmtree, directory, ignore_errors=True),
    )


def _ftm_response(ws: Workspace, actor: Actor, case_id: str, purpose: str | None) -> Response:
    from tidetrace.vault.ftm import export_ftm, ftm_lines

    unlocked, keyring = _open(ws, actor, case_id)
    entities = export_ftm(ws, unlocked, keyring, purpose=purpose)
    return StreamingResponse(
        (line.encode("utf-8") for line in ftm_lines(entities)),
        media_type="application/x-ndjson",
        headers={
            "Content-Disposition": f'attachment; filename="{case_id}.ftm.json"',
            "Content-Security-Policy": "sandbox; default-src 'none'",
        },
    )


def case_member(request: Request, ws: WorkspaceDep, actor: ActorDep) -> None:
    """Refuse a non-member (404, as for no such case) before the request's fields are read.

    Declared after the route's :class:`Allow`, so visitors and other roles are refused by
    it first; then a write to someone else's case never gets as far as a 422 about its
    input.
    """
    if actor.can_write:
        _open(ws, actor, str(request.path_params.get("case_id", "")))


def _see(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


FormText = Annotated[str, Form(max_length=MAX_FIELD)]
FormLong = Annotated[str, Form(max_length=20_000)]


# --- Writing: pages (forms; CSRF checked by WRITE) ----------------------------------------


@router.post("/cases", include_in_schema=False, dependencies=[Depends(WRITE)])
def case_create_form(
    ws: WorkspaceDep, actor: ActorDep, name: Annotated[str, Form(max_length=200)]
) -> Response:
    """Create a case (you become its first member), then show it."""
    return _see(f"/cases/{_create_case(ws, actor, clean_text(name)).id}")


@router.post(
    "/cases/{case_id}/members",
    include_in_schema=False,
    dependencies=[Depends(WRITE), Depends(case_member)],
)
def member_add_form(
    case_id: CaseIdPath,
    ws: WorkspaceDep,
    actor: ActorDep,
    name: Annotated[str, Form(max_length=200)],
) -> Response:
    """Give another investigator the case key."""
    _add_member(ws, actor, case_id, clean_text(name))
    return _see(f"/cases/{case_id}")


@router.post(
    "/cases/{case_id}/members/remove",
    include_in_schema=False,
    dependencies=[Depends(WRITE), Depends(case_member)],
)
def member_remove_form(
    case_id: CaseIdPath,
    ws: WorkspaceDep,
    actor: ActorDep,
    name: Annotated[str, Form(max_length=200)],
) -> Response:
    """Take a member off the case and rotate its key."""
    assert actor.user is not None  # WRITE admits logged-in users only
    _remove_member(ws, actor, case_id, clean_text(name))
    return _see("/cases" if clean_text(name) == actor.user.name else f"/cases/{case_id}")


@router.post(
    "/cases/{case_id}/items",
    include_in_schema=False,
    dependencies=[Depends(upload_form), Depends(WRITE), Depends(case_member)],
)
def item_upload_form(
    case_id: CaseIdPath, ws: WorkspaceDep, actor: ActorDep, settings: SettingsDep, form: FormDep
) -> Response:
    """Add an uploaded file as evidence, then show the new item."""
    added = _add_upload(ws, actor, case_id, form, settings.tsa_url)
    return _see(f"/cases/{case_id}/items/{added.item.id}")


@router.post(
    "/cases/{case_id}/notes",
    include_in_schema=False,
    dependencies=[Depends(WRITE), Depends(case_member)],
)
def note_form(
    case_id: CaseIdPath, ws: WorkspaceDep, actor: ActorDep, settings: SettingsDep, form: FormDep
) -> Response:
    """Add a note as evidence, then show it."""
    added = _add_note(
        ws, actor, case_id, _text_field(form, "text") or "", _field(form, "title"),
        _form_about(form), _field(form, "grade", 2), settings.tsa_url,
    )  # fmt: skip
    return _see(f"/cases/{case_id}/items/{added.item.id}")


@router.post(
    "/cases/{case_id}/captures",
    include_in_schema=False,
    dependencies=[Depends(WRITE), Depends(case_member)],
)
def capture_form(
    case_id: CaseIdPath, ws: WorkspaceDep, actor: ActorDep, settings: SettingsDep, form: FormDep
) -> Response:
    """Capture a public URL as WARC evidence, then show the new item."""
    fields: dict[str, Any] = {
        k: v
        for k in ("kind", "title", "grade", "platform", "account", "posted_at", "caption")
        if (v := _field(form, k)) is not None
    }
    added = _capture(
        ws, actor, case_id, _field(form, "url") or "", {**fields, "about": _form_about(form)},
        settings.capture_allow_hosts, settings.tsa_url,
    )  # fmt: skip
    return _see(f"/cases/{case_id}/items/{added.item.id}")


@router.post(
    "/cases/{case_id}/claims",
    include_in_schema=False,
    dependencies=[Depends(WRITE), Depends(case_member)],
)
def claim_form(case_id: CaseIdPath, ws: WorkspaceDep, actor: ActorDep, form: FormDep) -> Response:
    """Write a claim, then show it."""
    claim_id = _add_claim(
        ws, actor, case_id, _field(form, "text") or "", _form_about(form),
        _field(form, "indicator", 100), _field(form, "period", 100),
    )  # fmt: skip
    return _see(f"/cases/{case_id}/claims/{claim_id}")


@router.post(
    "/cases/{case_id}/claims/{claim_id}/links",
    include_in_schema=False,
    dependencies=[Depends(WRITE), Depends(case_member)],
)
def link_form(
    case_id: CaseIdPath,
    claim_id: ClaimIdPath,
    ws: WorkspaceDep,
    actor: ActorDep,
    item_id: Annotated[str, Form(max_length=40)],
    stance: Annotated[str, Form(max_length=20)] = "supports",
    grade: Annotated[str, Form(max_length=2)] = "",
    note: FormText = "",
) -> Response:
    """Link an item to the claim as support or contradiction, then show the claim."""
    _link(ws, actor, case_id, claim_id, item_id, stance, grade or None, clean_text(note) or None)
    return _see(f"/cases/{case_id}/claims/{claim_id}")


@router.post(
    "/cases/{case_id}/items/{item_id}/verification",
    include_in_schema=False,
    dependencies=[Depends(WRITE), Depends(case_member)],
)
def verification_form(
    case_id: CaseIdPath, item_id: ItemIdPath, ws: WorkspaceDep, actor: ActorDep, step: FormText
) -> Response:
    """Record a verification step done on the item."""
    _verification(ws, actor, case_id, item_id, clean_text(step))
    return _see(f"/cases/{case_id}/items/{item_id}")


def _form_engagement(text: str) -> dict[str, Any]:
    """``likes=120, shares=4`` as typed in the form (the vault checks names and counts)."""
    from tidetrace.vault.items import InvalidField

    counts: dict[str, Any] = {}
    for part in re.split(r"[,;\n]+", text):
        if not part.strip():
            continue
        name, _, value = part.partition("=")
        if not value.strip().isdigit():
            raise InvalidField("engagement", f"{part.strip()[:40]!r} is not name=count")
        counts[name.strip()] = int(value.strip())
    return counts


@router.post(
    "/cases/{case_id}/items/{item_id}/amend",
    include_in_schema=False,
    dependencies=[Depends(WRITE), Depends(case_member)],
)
def amend_form(
    case_id: CaseIdPath, item_id: ItemIdPath, ws: WorkspaceDep, actor: ActorDep, form: FormDep
) -> Response:
    """Correct the recorded facts from the item page's form, then show the item.

    The form sends every field back; only those that differ change. Values go to the
    vault as typed, so a control character is refused with the field's name rather than
    silently dropped.
    """
    from tidetrace.vault.items import AMENDABLE

    changes: dict[str, Any] = {}
    for name in sorted(AMENDABLE):
        value = form.get(name)
        if not isinstance(value, str):
            continue  # not on the form (a captured page's own facts are not offered)
        if name == "about":
            changes[name] = re.split(r"[,\s]+", value)
        elif name == "engagement":
            changes[name] = _form_engagement(value)
        else:
            changes[name] = value
    reason = form.get("reason")
    _amend(ws, actor, case_id, item_id, changes, reason if isinstance(reason, str) else None)
    return _see(f"/cases/{case_id}/items/{item_id}")


@router.post(
    "/cases/{case_id}/items/{item_id}/redaction",
    include_in_schema=False,
    dependencies=[Depends(upload_form), Depends(WRITE), Depends(case_member)],
)
def redaction_form(
    case_id: CaseIdPath, item_id: ItemIdPath, ws: WorkspaceDep, actor: ActorDep, form: FormDep
) -> Response:
    """Replace the shareable working copy with a redacted file (the original stays)."""
    _redact_upload(ws, actor, case_id, item_id, form)
    return _see(f"/cases/{case_id}/items/{item_id}")


@router.post(
    "/cases/{case_id}/export",
    include_in_schema=False,
    dependencies=[Depends(WRITE), Depends(case_member)],
)
def export_form(
    case_id: CaseIdPath, ws: WorkspaceDep, actor: ActorDep, settings: SettingsDep, form: FormDep
) -> Response:
    """Download an export bundle (zip, verifiable offline) of the chosen or all items."""
    item_ids = [v for v in form.getlist("items") if isinstance(v, str) and v][:1000]
    return _bundle_response(
        ws, actor, case_id, item_ids, _field(form, "purpose"), settings.tsa_url,
        settings.tsa_ca_file,
    )  # fmt: skip


@router.post(
    "/cases/{case_id}/export/ftm",
    include_in_schema=False,
    dependencies=[Depends(WRITE), Depends(case_member)],
)
def export_ftm_form(
    case_id: CaseIdPath, ws: WorkspaceDep, actor: ActorDep, purpose: FormText = ""
) -> Response:
    """Download the case's items and claims as FtM JSON lines (metadata and hashes)."""
    return _ftm_response(ws, actor, case_id, clean_text(purpose) or None)


# --- Writing: API (JSON, or multipart for files; send X-CSRF-Token) -----------------------


class CaseRequest(BaseModel):
    """A new case."""

    name: str = Field(min_length=1, max_length=200, description="Case name (sealed at rest).")


class MemberRequest(BaseModel):
    """A user to give the case key to."""

    name: str = Field(min_length=1, max_length=200, description="User name (investigator/admin).")


class NoteRequest(BaseModel):
    """An investigator's note, kept as an evidence item."""

    text: str = Field(min_length=1, max_length=20_000, description="The note (sealed).")
    title: str | None = Field(default=None, max_length=MAX_FIELD, description="Short title.")
    about: list[str] = Field(default_factory=list, max_length=50, description="Entity ids.")
    grade: str | None = Field(default=None, max_length=2, description="e.g. B2")


class CaptureRequest(BaseModel):
    """A public URL to capture as WARC (non-public addresses are refused)."""

    url: str = Field(min_length=1, max_length=4000, description="http(s) URL.")
    kind: str | None = Field(default=None, max_length=40, description="web_page or social_post.")
    title: str | None = Field(default=None, max_length=MAX_FIELD)
    about: list[str] = Field(default_factory=list, max_length=50, description="Entity ids.")
    grade: str | None = Field(default=None, max_length=2, description="e.g. B2")
    platform: str | None = Field(default=None, max_length=200)
    account: str | None = Field(default=None, max_length=MAX_FIELD)
    posted_at: str | None = Field(default=None, max_length=100)
    caption: str | None = Field(default=None, max_length=20_000)


class ClaimRequest(BaseModel):
    """A claim evidence can support or contradict."""

    text: str = Field(min_length=1, max_length=2000, description="The claim.")
    about: list[str] = Field(default_factory=list, max_length=50, description="Entity ids.")
    indicator: str | None = Field(
        default=None, max_length=100, description="ILO indicator, e.g. 'restriction of movement'."
    )
    period: str | None = Field(default=None, max_length=100, description="When, e.g. 2023-11.")


class LinkRequest(BaseModel):
    """An item bearing on a claim."""

    item_id: str = Field(min_length=1, max_length=40, description="Evidence item id.")
    stance: str = Field(default="supports", description="supports or contradicts.")
    grade: str | None = Field(default=None, max_length=2, description="Default: the item's.")
    note: str | None = Field(default=None, max_length=MAX_FIELD, description="Why (sealed).")


class VerificationRequest(BaseModel):
    """A verification step done on an item."""

    step: str = Field(min_length=1, max_length=MAX_FIELD, description="What was checked, how.")


class AmendRequest(BaseModel):
    """Recorded facts to correct or complete: only the fields sent change; null clears one.

    Values are checked by the vault (ISO 8601 times, lengths, no control characters …) and
    refused with the field's name; a value equal to the recorded one is no change.
    """

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, max_length=20_000, description="Short description.")
    about: list[str] | None = Field(
        default=None, max_length=200, description="Entity ids it is about (replaces the list)."
    )
    method: str | None = Field(default=None, max_length=20_000, description="How collected.")
    collected_by: str | None = Field(default=None, max_length=20_000)
    collected_at: str | None = Field(default=None, max_length=20_000, description="ISO 8601.")
    source_url: str | None = Field(default=None, max_length=20_000, description="http(s) URL.")
    platform: str | None = Field(default=None, max_length=20_000)
    account: str | None = Field(default=None, max_length=20_000)
    posted_at: str | None = Field(default=None, max_length=20_000, description="ISO 8601.")
    captured_at: str | None = Field(default=None, max_length=20_000, description="ISO 8601.")
    caption: str | None = Field(default=None, max_length=100_000)
    engagement: dict[str, int] | None = Field(
        default=None, max_length=200, description='Counts when captured, e.g. {"likes": 120}.'
    )
    claimed_location: str | None = Field(default=None, max_length=20_000)
    location_method: str | None = Field(
        default=None, max_length=20_000, description="How the location was verified."
    )
    claimed_time: str | None = Field(
        default=None, max_length=20_000, description="ISO 8601: 2023-11, a date, start/end."
    )
    time_method: str | None = Field(
        default=None, max_length=20_000, description="How the time was verified."
    )
    notes: str | None = Field(default=None, max_length=100_000)
    reason: str | None = Field(default=None, max_length=20_000, description="Why (logged).")


class AmendedItem(BaseModel):
    """What an amendment changed."""

    item: ItemRow = Field(description="The item in brief.")
    meta: dict[str, Any] = Field(description="Everything recorded about it, after the change.")
    changes: dict[str, dict[str, Any]] = Field(
        description='Each changed field: {"from": old value, "to": new value}.'
    )
    custody_entry: int | None = Field(
        description="The signed custody entry recording it (null: nothing changed)."
    )


def _amend(
    ws: Workspace,
    actor: Actor,
    case_id: str,
    item_id: str,
    changes: dict[str, Any],
    reason: str | None,
) -> AmendedItem:
    from tidetrace.vault.items import amend_item

    unlocked, keyring = _open(ws, actor, case_id)
    done = amend_item(ws, unlocked, keyring, item_id, changes, reason)
    meta = done.item.meta.to_dict()
    meta.pop("files", None)
    return AmendedItem(
        item=_item_row(done.item),
        meta=meta,
        changes={k: {"from": old, "to": new} for k, (old, new) in done.changes.items()},
        custody_entry=done.entry.seq if done.entry is not None else None,
    )


class ExportRequest(BaseModel):
    """What to export."""

    items: list[str] = Field(
        default_factory=list, max_length=1000, description="Item ids (default: all)."
    )
    purpose: str | None = Field(default=None, max_length=MAX_FIELD, description="Why (logged).")


class FtmExportRequest(BaseModel):
    """Why the case is exported as FtM."""

    purpose: str | None = Field(default=None, max_length=MAX_FIELD, description="Why (logged).")


def _api_post(
    path: str, summary: str, model: Any = None, **extra: Any
) -> Callable[[DecoratedCallable], DecoratedCallable]:
    """``router.post`` for a vault API write: WRITE, the vault tag and error table."""
    return router.post(
        path,
        summary=summary,
        response_model=model,
        tags=["vault"],
        dependencies=extra.pop(
            "dependencies",
            [Depends(WRITE), Depends(case_member)] if "{case_id}" in path else [Depends(WRITE)],
        ),
        responses=extra.pop("responses", ERRORS),
        **extra,
    )


@_api_post("/api/cases", "Create a case", CaseRow, status_code=201)
def api_case_create(body: CaseRequest, ws: WorkspaceDep, actor: ActorDep) -> CaseRow:
    """Create a case with a fresh key; you are its first member."""
    return _create_case(ws, actor, clean_text(body.name))


@_api_post("/api/cases/{case_id}/members", "Add a member", MembersResponse)
def api_member_add(
    case_id: CaseIdPath, body: MemberRequest, ws: WorkspaceDep, actor: ActorDep
) -> MembersResponse:
    """Give another investigator or admin the case key (sealed to their public key)."""
    return _add_member(ws, actor, case_id, clean_text(body.name))


@router.delete(
    "/api/cases/{case_id}/members/{member}",
    summary="Remove a member",
    response_model=MembersResponse,
    tags=["vault"],
    dependencies=[Depends(WRITE), Depends(case_member)],
    responses=ERRORS,
)
def api_member_remove(
    case_id: CaseIdPath,
    member: Annotated[str, Path(min_length=1, max_length=200, description="User name.")],
    ws: WorkspaceDep,
    actor: ActorDep,
) -> MembersResponse:
    """Take a member off the case and rotate its key (they open nothing new)."""
    return _remove_member(ws, actor, case_id, member)


@_api_post(
    "/api/cases/{case_id}/items",
    "Upload a file as evidence",
    AddedItem,
    status_code=201,
    dependencies=[Depends(upload_form), Depends(WRITE), Depends(case_member)],
    responses=UPLOAD_ERRORS,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {
                            "file": {"type": "string", "format": "binary"},
                            "title": {"type": "string"},
                            "about": {"type": "string", "description": "Entity ids"},
                            "grade": {"type": "string", "description": "e.g. B2"},
                            "kind": {"type": "string"},
                            "claim": {"type": "string", "description": "Link to a new claim"},
                            "stance": {"type": "string"},
                            **{name: {"type": "string"} for name in ITEM_FIELDS},
                        },
                    }
                }
            },
        }
    },
)
def api_item_upload(
    case_id: CaseIdPath, ws: WorkspaceDep, actor: ActorDep, settings: SettingsDep, form: FormDep
) -> AddedItem:
    """Add a file (multipart field ``file``): sealed original, stripped working copy.

    The type comes from the content, never the name; the file streams to the workspace
    (up to TIDETRACE_MAX_UPLOAD_MB). Same code as ``tidetrace evidence add FILE``.
    """
    return _add_upload(ws, actor, case_id, form, settings.tsa_url)


@_api_post("/api/cases/{case_id}/notes", "Add a note", AddedItem, status_code=201)
def api_note(
    case_id: CaseIdPath, body: NoteRequest, ws: WorkspaceDep, actor: ActorDep, settings: SettingsDep
) -> AddedItem:
    """Add an investigator's note as a sealed evidence item."""
    return _add_note(
        ws, actor, case_id, body.text, body.title, _entity_ids(body.about), body.grade,
        settings.tsa_url,
    )  # fmt: skip


@_api_post("/api/cases/{case_id}/captures", "Capture a URL", AddedItem, status_code=201)
def api_capture(
    case_id: CaseIdPath,
    body: CaptureRequest,
    ws: WorkspaceDep,
    actor: ActorDep,
    settings: SettingsDep,
) -> AddedItem:
    """Capture a public web page or post as WARC with a text extraction.

    Hosts that are, or resolve to, loopback, private, link-local, multicast or reserved
    addresses are refused (each redirect too), unless listed in
    TIDETRACE_CAPTURE_ALLOW_HOSTS.
    """
    fields = body.model_dump(exclude={"url", "about"}, exclude_none=True)
    fields["about"] = _entity_ids(body.about)
    return _capture(
        ws, actor, case_id, body.url, fields, settings.capture_allow_hosts, settings.tsa_url
    )


@_api_post("/api/cases/{case_id}/claims", "Write a claim", ClaimContext, status_code=201)
def api_claim_create(
    case_id: CaseIdPath, body: ClaimRequest, ws: WorkspaceDep, actor: ActorDep
) -> ClaimContext:
    """Write a claim (sealed) that evidence can support or contradict."""
    claim_id = _add_claim(
        ws, actor, case_id, body.text, _entity_ids(body.about), body.indicator, body.period
    )
    return build_claim(ws, actor, case_id, claim_id)


@_api_post("/api/cases/{case_id}/claims/{claim_id}/links", "Link an item to a claim", ClaimContext)
def api_link(
    case_id: CaseIdPath, claim_id: ClaimIdPath, body: LinkRequest, ws: WorkspaceDep, actor: ActorDep
) -> ClaimContext:
    """Link an evidence item to the claim as support or contradiction, with a grade."""
    _link(ws, actor, case_id, claim_id, body.item_id, body.stance, body.grade, body.note)
    return build_claim(ws, actor, case_id, claim_id)


@_api_post(
    "/api/cases/{case_id}/items/{item_id}/verification", "Record a verification step", ItemRow
)
def api_verification(
    case_id: CaseIdPath,
    item_id: ItemIdPath,
    body: VerificationRequest,
    ws: WorkspaceDep,
    actor: ActorDep,
) -> ItemRow:
    """Record a verification step done on an item (a signed custody entry)."""
    return _verification(ws, actor, case_id, item_id, clean_text(body.step))


@router.patch(
    "/api/cases/{case_id}/items/{item_id}",
    summary="Amend an item's recorded facts",
    response_model=AmendedItem,
    tags=["vault"],
    dependencies=[Depends(WRITE), Depends(case_member)],
    responses=ERRORS,
)
def api_item_amend(
    case_id: CaseIdPath, item_id: ItemIdPath, body: AmendRequest, ws: WorkspaceDep, actor: ActorDep
) -> AmendedItem:
    """Correct or complete what is recorded: claimed place and time and how they were
    verified, caption, platform, account, posted time, title, notes …

    Only the fields sent change (null clears one). The change is a signed custody entry
    keeping each field's old and new value and the reason. Same code as ``tidetrace
    evidence amend``.
    """
    changes = body.model_dump(exclude_unset=True, exclude={"reason"})
    return _amend(ws, actor, case_id, item_id, changes, body.reason)


@_api_post(
    "/api/cases/{case_id}/items/{item_id}/redaction",
    "Replace the working copy with a redacted file",
    ItemRow,
    dependencies=[Depends(upload_form), Depends(WRITE), Depends(case_member)],
    responses=UPLOAD_ERRORS,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file", "note"],
                        "properties": {
                            "file": {"type": "string", "format": "binary"},
                            "note": {"type": "string", "description": "What and why"},
                        },
                    }
                }
            },
        }
    },
)
def api_redaction(
    case_id: CaseIdPath, item_id: ItemIdPath, ws: WorkspaceDep, actor: ActorDep, form: FormDep
) -> ItemRow:
    """Upload a redacted file (multipart ``file`` and ``note``); it is stripped of metadata."""
    return _redact_upload(ws, actor, case_id, item_id, form)


@_api_post(
    "/api/cases/{case_id}/export",
    "Export a bundle (zip)",
    response_class=Response,
    responses={**ERRORS, 200: {"content": {"application/zip": {}}, "description": "The zip."}},
)
def api_export(
    case_id: CaseIdPath,
    body: ExportRequest,
    ws: WorkspaceDep,
    actor: ActorDep,
    settings: SettingsDep,
) -> Response:
    """A bundle verifiable offline (working copies, manifest, custody log, timestamps, keys).

    Originals are exported from the command line only (``evidence export --originals``).
    """
    return _bundle_response(
        ws, actor, case_id, body.items, body.purpose, settings.tsa_url, settings.tsa_ca_file
    )


@_api_post(
    "/api/cases/{case_id}/export/ftm",
    "Export as FtM JSON lines",
    response_class=Response,
    responses={
        **ERRORS,
        200: {"content": {"application/x-ndjson": {}}, "description": "FtM entities."},
    },
)
def api_export_ftm(
    case_id: CaseIdPath, body: FtmExportRequest, ws: WorkspaceDep, actor: ActorDep
) -> Response:
    """The case's items (``Evidence``) and claims (``Claim``): metadata and hashes only."""
    return _ftm_response(ws, actor, case_id, body.purpose)
