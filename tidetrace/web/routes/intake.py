"""Testimony intake pages and API: submit, read (with a second factor), code, publish safely.

Who sees what:

- ``field`` users (intermediaries) submit to the cases they are assigned to and list their
  own receipts; every other intake route refuses them.
- Case members (investigators, admins) submit, and — after a TOTP check in this session —
  read testimonies, code them, review quotes and release aggregates. Every read is a
  custody entry. Without the check, pages send them to ``/intake/2fa`` and the API
  answers 401.
- Analysts see released, k-suppressed aggregates only.

Upload forms are parsed in RAM (:func:`ram_form`), so a photo's plaintext never spools to
a temporary file on disk before it is sealed.
"""

import base64
import binascii
from dataclasses import asdict, dataclass, field
from pathlib import Path as FilePath
from typing import Annotated, Any, NamedTuple
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException, MultiPartParser

from tidetrace.auth.roles import Role
from tidetrace.auth.users import User
from tidetrace.exc import NotFoundError, TidetraceError
from tidetrace.web.context import doc
from tidetrace.web.deps import (
    ActorDep,
    Allow,
    LoginRequired,
    SettingsDep,
    WorkspaceDep,
    allow,
    clean_text,
)
from tidetrace.web.render import render_page
from tidetrace.workspace import Workspace

__all__ = [
    "AGGREGATE_READERS",
    "MEMBERS",
    "SUBMITTERS",
    "TESTIMONY_READERS",
    "SecondFactorAllow",
    "forget_second_factor",
    "ram_form",
    "router",
    "two_factor_next",
]

router = APIRouter()
MIB = 1024 * 1024
ASSETS = FilePath(__file__).resolve().parents[2] / "intake" / "assets"


class SecondFactorAllow(Allow):
    """Members who passed a TOTP check in this session (testimony and tip readers)."""

    async def __call__(self, request: Request, actor: ActorDep) -> Any:
        """Check the role and CSRF as :class:`Allow` does, then the second factor.

        Raises:
            SecondFactorRequired: an API call without a passed check (401).
            HTTPException: a page without one: 303 to the second-factor page.
        """
        from tidetrace.intake.twofactor import SecondFactorRequired, session_factor

        checked = await super().__call__(request, actor)
        if session_factor(checked.token, checked.user) is None:
            if request.url.path.startswith("/api/"):
                raise SecondFactorRequired(
                    "two-factor login required: pass your TOTP check at /intake/2fa"
                )
            target = request.url.path
            raise HTTPException(
                303,
                "two-factor login required",
                headers={"Location": f"/intake/2fa?next={quote(target, safe='')}"},
            )
        return checked


# The audiences of intake routes.
SUBMITTERS = allow(Role.ADMIN, Role.INVESTIGATOR, Role.FIELD)
MEMBERS = allow(Role.ADMIN, Role.INVESTIGATOR)
TESTIMONY_READERS = SecondFactorAllow([Role.ADMIN, Role.INVESTIGATOR])
AGGREGATE_READERS = allow(Role.ADMIN, Role.INVESTIGATOR, Role.ANALYST)

CaseIdPath = Annotated[str, Path(min_length=1, max_length=40, description="Case id.")]
ItemIdPath = Annotated[
    str, Path(min_length=1, max_length=40, description="Testimony, quote or check-in id.")
]
LangQuery = Annotated[str, Query(pattern="^(ko|zh|en)$", description="ko, zh or en.")]


class _RamMultiPartParser(MultiPartParser):
    # Larger than any accepted body: uploads stay in memory and never roll over to disk.
    spool_max_size = 1024 * MIB


async def ram_form(request: Request) -> None:
    """Parse a multipart body into memory before anything else reads it.

    Starlette spools uploads over 1 MiB to a temporary file on disk; for testimony photos
    and tip files that would be plaintext on a disk. Declared before the route's
    :class:`Allow`, whose CSRF check then reuses the parsed form.
    """
    ctype = request.headers.get("content-type", "")
    if not ctype.startswith("multipart/form-data") or request._form is not None:
        return
    limit = request.app.state.settings.max_upload_mb * MIB
    try:
        request._form = await _RamMultiPartParser(
            request.headers, request.stream(), max_files=25, max_fields=200, max_part_size=limit
        ).parse()
    except MultiPartException as exc:
        raise HTTPException(400, exc.message) from None


# --- Login hooks (called by tidetrace.web.auth) ------------------------------------------


def two_factor_next(user: User, target: str) -> str:
    """Where to go after a correct password: the second-factor page for testimony readers."""
    if user.role not in (Role.ADMIN, Role.INVESTIGATOR):
        return target
    from tidetrace.intake.twofactor import next_after_login

    return next_after_login(user, target)


def forget_second_factor(token: str) -> None:
    """On logout: the session's passed second factor is forgotten."""
    try:
        from tidetrace.intake.twofactor import forget_session
    except ImportError:  # without the vault extra there is nothing to forget
        return
    forget_session(token)


# --- Helpers ------------------------------------------------------------------------------


def _user(actor: Any) -> User:
    """The logged-in user (every intake route admits logged-in users only)."""
    if actor.user is None:
        raise LoginRequired("log in to see this page")
    user: User = actor.user
    return user


def _unlocked(actor: Any) -> Any:
    from tidetrace.vault.keys import session_user

    return session_user(actor.token, actor.user)


def _factor(actor: Any) -> Any:
    from tidetrace.intake.twofactor import session_factor

    return session_factor(actor.token, actor.user)


def _case(ws: Workspace, unlocked: Any, case_id: str) -> Any:
    from tidetrace.vault.cases import open_case

    return open_case(ws.engine, unlocked, case_id)


def _testimony_case(ws: Workspace, unlocked: Any, testimony_id: str) -> Any:
    from tidetrace.intake.testimony import testimony_case
    from tidetrace.vault.cases import is_member

    case_id = testimony_case(ws.engine, testimony_id)
    with ws.engine.connect() as conn:
        if not is_member(conn, case_id, unlocked.user.id):
            raise NotFoundError(f"no testimony {testimony_id!r}")
    return _case(ws, unlocked, case_id)


def _quote_case(ws: Workspace, unlocked: Any, quote_id: str) -> Any:
    from sqlalchemy import select

    from tidetrace.intake.tables import quote_table
    from tidetrace.vault.cases import is_member

    with ws.engine.connect() as conn:
        case_id = conn.execute(
            select(quote_table.c.case_id).where(quote_table.c.id == quote_id)
        ).scalar_one_or_none()
        if case_id is None or not is_member(conn, case_id, unlocked.user.id):
            raise NotFoundError(f"no quote {quote_id!r}")
    return _case(ws, unlocked, case_id)


class Opened(NamedTuple):
    """A case opened for a member who passed the second factor in this session."""

    unlocked: Any
    factor: Any
    case: Any


def _opened_case(ws: WorkspaceDep, actor: ActorDep, case_id: CaseIdPath) -> Opened:
    unlocked, factor = _with_factor(actor)
    return Opened(unlocked, factor, _case(ws, unlocked, case_id))


def _opened_testimony(ws: WorkspaceDep, actor: ActorDep, testimony_id: ItemIdPath) -> Opened:
    unlocked, factor = _with_factor(actor)
    return Opened(unlocked, factor, _testimony_case(ws, unlocked, testimony_id))


def _opened_quote(ws: WorkspaceDep, actor: ActorDep, quote_id: ItemIdPath) -> Opened:
    unlocked, factor = _with_factor(actor)
    return Opened(unlocked, factor, _quote_case(ws, unlocked, quote_id))


# Route parameters: declared after the route's Allow dependency, which FastAPI resolves
# first, so a case is opened only for someone the route admits.
CaseDep = Annotated[Opened, Depends(_opened_case)]
TestimonyCaseDep = Annotated[Opened, Depends(_opened_testimony)]
QuoteCaseDep = Annotated[Opened, Depends(_opened_quote)]


def _text(form: FormData, name: str, limit: int = 20_000) -> str:
    """A text field: one-line fields lose control characters; multi-line ones keep lines."""
    value = form.get(name)
    if not isinstance(value, str):
        return ""
    if "\n" in value:
        return value.replace("\x00", "").replace("\r\n", "\n").strip()[:limit]
    return clean_text(value)[:limit]


def _int(form: FormData, name: str) -> int:
    try:
        return int(str(form.get(name, "")).strip())
    except ValueError:
        raise TidetraceError(f"{name} must be a whole number") from None


async def _uploads(form: FormData, name: str) -> list[tuple[str, bytes]]:
    out = []
    for item in form.getlist(name):
        if isinstance(item, UploadFile) and item.filename:
            data = await item.read()
            if data:
                out.append((item.filename, data))
    return out


def _redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


# --- Contexts -----------------------------------------------------------------------------


@dataclass
class IntakeHomeContext:
    """The intake start page: cases one may submit to, and one's own receipts."""

    cases: list[dict[str, str]] = field(metadata=doc("Cases the user may submit to: id, name."))
    receipts: list[dict[str, Any]] = field(metadata=doc("The user's own receipts, newest first."))
    member: bool = field(metadata=doc("Whether the user is an investigator or admin."))
    tipline: bool = field(metadata=doc("Whether the user receives tip-line reports."))
    locked: bool = field(metadata=doc("The user's keys are not unlocked in this session."))


@dataclass
class NewTestimonyContext:
    """The submission form of one case."""

    case_id: str = field(metadata=doc("The case."))
    questionnaire: Any = field(metadata=doc("The questionnaire asked."))
    language: str = field(metadata=doc("Language the questions are shown in."))
    consent: dict[str, dict[str, str]] = field(metadata=doc("Consent items and their texts."))
    max_mb: int = field(metadata=doc("Largest accepted upload in MiB."))


@dataclass
class ReceiptContext:
    """What a submitter sees after submitting."""

    receipt: Any = field(metadata=doc("Testimony id, codename, case, day, photo count."))


@dataclass
class CaseIntakeContext:
    """A case's intake page (members with a second factor)."""

    case_id: str = field(metadata=doc("The case."))
    name: str = field(metadata=doc("The case's name (members only see it)."))
    testimonies: list[Any] = field(metadata=doc("Testimonies: id, codename, day."))
    checkins: list[Any] = field(metadata=doc("Check-ins with outcome."))
    overdue: list[Any] = field(metadata=doc("Open check-ins past their day."))
    facilities: list[str] = field(metadata=doc("Facilities named by the case's codings."))
    assignments: list[Any] = field(metadata=doc("Field users who may submit."))
    quotes: list[Any] = field(metadata=doc("Quotes: id, testimony, status."))
    today: str = field(metadata=doc("Today (UTC)."))


@dataclass
class TestimonyContext:
    """One opened testimony."""

    testimony: Any = field(metadata=doc("The opened testimony."))
    questions: list[tuple[str, str, str]] = field(
        metadata=doc("Answered questions: id, question text, answer.")
    )
    tags: list[Any] = field(metadata=doc("Codings of this testimony."))
    ilo: dict[str, dict[str, str]] = field(metadata=doc("ILO indicators and labels."))
    facts: dict[str, dict[str, str]] = field(metadata=doc("Facts and labels."))
    severity: tuple[str, ...] = field(metadata=doc("Severity levels."))


@dataclass
class QuoteContext:
    """A quote, its flags and its review."""

    quote: Any = field(metadata=doc("The quote."))


@dataclass
class FacilityContext:
    """What the codings say about one facility."""

    case_id: str = field(metadata=doc("The case."))
    view: Any = field(metadata=doc("Cells per indicator and period, sign-offs."))
    verdicts: tuple[str, ...] = field(metadata=doc("Possible sign-off verdicts."))


@dataclass
class AggregatesContext:
    """Released, k-suppressed aggregates."""

    snapshots: list[dict[str, Any]] = field(metadata=doc("Snapshots, newest first."))


@dataclass
class QuestionnairesContext:
    """Shipped questionnaires and their printable forms."""

    questionnaires: list[Any] = field(metadata=doc("Every questionnaire version."))


@dataclass
class TwoFactorContext:
    """The second-factor page: enrol or enter a code."""

    enrolled: bool = field(metadata=doc("Whether the user has a second factor."))
    secret: str = field(metadata=doc("A new secret to enrol (when not enrolled)."))
    uri: str = field(metadata=doc("Its otpauth:// URI."))
    next: str = field(metadata=doc("Where to go after the check."))
    error: str | None = field(metadata=doc("Why the last attempt failed."))
    locked: bool = field(metadata=doc("The user's keys are not unlocked (log in again)."))


# --- Second factor ------------------------------------------------------------------------


def _two_factor_page(
    request: Request,
    ws: Workspace,
    actor: Any,
    next_path: str,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    from tidetrace.intake import twofactor
    from tidetrace.vault.keys import VaultLocked

    enrolled = twofactor.is_enrolled(ws.engine, actor.user.id)
    secret = "" if enrolled else twofactor.new_secret()
    try:
        _unlocked(actor)
        locked = False
    except VaultLocked:
        locked = True
    ctx = TwoFactorContext(
        enrolled=enrolled,
        secret=secret,
        uri=twofactor.provisioning_uri(secret, actor.user.name) if secret else "",
        next=next_path,
        error=error,
        locked=locked,
    )
    return render_page(
        request, "intake_2fa.html", ctx, title="Two-factor check", actor=actor, status_code=status
    )


@router.get(
    "/intake/2fa",
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(MEMBERS)],
)
def two_factor_form(
    request: Request, ws: WorkspaceDep, actor: ActorDep, next: str | None = None
) -> Response:
    """Enter a TOTP code (or enrol one) before reading testimonies."""
    from tidetrace.web.auth import safe_next

    return _two_factor_page(request, ws, actor, safe_next(next))


@router.post(
    "/intake/2fa",
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(MEMBERS)],
)
async def two_factor_submit(
    request: Request, ws: WorkspaceDep, settings: SettingsDep, actor: ActorDep
) -> Response:
    """Check a code (or enrol a new secret with its first code); bind it to the session."""
    from tidetrace.intake import twofactor
    from tidetrace.web.auth import safe_next

    form = await request.form()
    target = safe_next(_text(form, "next", 2000) or "/intake")
    code = _text(form, "code", 20)
    secret = _text(form, "secret", 64)
    try:
        unlocked = _unlocked(actor)
        if secret:
            factor = twofactor.enrol(ws.engine, unlocked, secret, code)
        else:
            factor = twofactor.verify(ws.engine, unlocked, code)
    except TidetraceError as exc:
        return _two_factor_page(request, ws, actor, target, exc.detail, status=exc.status)
    twofactor.mark_session(actor.token or "", factor, settings.session_hours)
    return _redirect(target)


# --- Home, receipts, questionnaires -------------------------------------------------------


@router.get(
    "/intake",
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(SUBMITTERS)],
)
def intake_home(request: Request, ws: WorkspaceDep, actor: ActorDep) -> HTMLResponse:
    """Cases to submit to and one's own receipts."""
    from tidetrace.intake.access import assigned_cases
    from tidetrace.intake.testimony import list_receipts
    from tidetrace.vault.cases import list_cases
    from tidetrace.vault.keys import VaultLocked

    member = actor.role in (Role.ADMIN, Role.INVESTIGATOR)
    cases: list[dict[str, str]] = []
    receipts: list[dict[str, Any]] = []
    tipline = False
    locked = False
    try:
        unlocked = _unlocked(actor)
        receipts = list_receipts(ws.engine, unlocked)
        if member:
            from tidetrace.intake.tables import tipline_table

            with ws.engine.connect() as conn:
                from sqlalchemy import select

                tip_case = conn.execute(select(tipline_table.c.case_id)).scalar_one_or_none()
            for case in list_cases(ws.engine, unlocked):
                if case.id == tip_case:
                    tipline = True
                    continue
                cases.append({"id": case.id, "name": case.name})
    except VaultLocked:
        locked = True
    if not member:
        with ws.engine.connect() as conn:
            cases = [{"id": c, "name": c} for c in assigned_cases(conn, _user(actor).id)]
    ctx = IntakeHomeContext(
        cases=cases, receipts=receipts, member=member, tipline=tipline, locked=locked
    )
    return render_page(request, "intake_home.html", ctx, title="Testimonies", actor=actor)


@router.get(
    "/intake/questionnaires",
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(SUBMITTERS)],
)
def questionnaires_page(request: Request, actor: ActorDep) -> HTMLResponse:
    """Shipped questionnaires, with links to their printable forms."""
    from tidetrace.intake.questionnaire import list_questionnaires

    ctx = QuestionnairesContext(questionnaires=list_questionnaires())
    return render_page(
        request, "intake_questionnaires.html", ctx, title="Questionnaires", actor=actor
    )


@router.get(
    "/intake/questionnaires/form.css", include_in_schema=False, dependencies=[Depends(SUBMITTERS)]
)
def printable_css() -> Response:
    """The printed form's stylesheet (linked: the CSP allows no inline style)."""
    return Response((ASSETS / "printable.css").read_bytes(), media_type="text/css")


@router.get(
    "/intake/questionnaires/{ref}/form", include_in_schema=False, dependencies=[Depends(SUBMITTERS)]
)
def printable_form(
    ref: Annotated[str, Path(max_length=80)],
    lang: LangQuery = "ko",
    count: Annotated[int, Query(ge=1, le=50)] = 1,
) -> Response:
    """Printable forms (HTML), each with a fresh form code and no name field."""
    from tidetrace.intake.printable import form_html
    from tidetrace.intake.questionnaire import get_questionnaire

    printed = form_html(
        get_questionnaire(ref), lang, count, css_href="/intake/questionnaires/form.css"
    )
    return Response(printed.content, media_type=printed.media_type)


@router.get(
    "/intake/questionnaires/{ref}/form.pdf",
    include_in_schema=False,
    dependencies=[Depends(SUBMITTERS)],
)
def printable_pdf(
    ref: Annotated[str, Path(max_length=80)],
    lang: LangQuery = "ko",
    count: Annotated[int, Query(ge=1, le=50)] = 1,
) -> Response:
    """The same forms as a PDF (rendered by headless Chromium)."""
    from tidetrace.intake.printable import form_pdf
    from tidetrace.intake.questionnaire import get_questionnaire

    printed = form_pdf(get_questionnaire(ref), lang, count)
    name = f"{get_questionnaire(ref).ref.replace('@', '-v')}-{lang}.pdf"
    return Response(
        printed.content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# --- Submitting ---------------------------------------------------------------------------


@router.get(
    "/intake/cases/{case_id}/new",
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(SUBMITTERS)],
)
def new_testimony_form(
    request: Request,
    ws: WorkspaceDep,
    settings: SettingsDep,
    actor: ActorDep,
    case_id: CaseIdPath,
    lang: LangQuery = "ko",
    questionnaire: Annotated[str | None, Query(max_length=80)] = None,
) -> HTMLResponse:
    """The submission form: answers, photographed pages, consent (required), no name field."""
    from tidetrace.intake.access import check_submitter
    from tidetrace.intake.questionnaire import get_questionnaire, vocabulary

    with ws.engine.connect() as conn:
        check_submitter(conn, case_id, _user(actor))
    ctx = NewTestimonyContext(
        case_id=case_id,
        questionnaire=get_questionnaire(questionnaire),
        language=lang,
        consent=vocabulary().consent,
        max_mb=settings.max_upload_mb,
    )
    return render_page(request, "intake_new.html", ctx, title="New testimony", actor=actor)


def _member_pair(ws: Workspace, actor: Any, case_id: str) -> Any:
    """(unlocked, keyring) when the actor is a member of the case, else None."""
    from tidetrace.vault.cases import is_member

    if actor.role not in (Role.ADMIN, Role.INVESTIGATOR):
        return None
    with ws.engine.connect() as conn:
        if not is_member(conn, case_id, actor.user.id):
            return None
    unlocked = _unlocked(actor)
    return unlocked, _case(ws, unlocked, case_id)


@router.post(
    "/intake/cases/{case_id}/testimonies",
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(ram_form), Depends(SUBMITTERS)],
)
async def submit_testimony_page(
    request: Request, ws: WorkspaceDep, settings: SettingsDep, actor: ActorDep, case_id: CaseIdPath
) -> HTMLResponse:
    """Seal and store a testimony from the web form; show its receipt."""
    from starlette.concurrency import run_in_threadpool

    from tidetrace.intake.questionnaire import get_questionnaire
    from tidetrace.intake.testimony import Photo, Submission, parse_consent, submit

    form = await request.form()
    q = get_questionnaire(_text(form, "questionnaire", 80) or None)
    answers = {question.id: _text(form, f"answer_{question.id}") for question in q.questions}
    consent = parse_consent(
        {
            key: _text(form, f"consent_{key}", 10)
            for key in ("publication", "quotation", "authorities")
        }
        | {"method": _text(form, "consent_method", 20) or "oral"}
    )
    photos = [Photo(data, name) for name, data in await _uploads(form, "photos")]
    submission = Submission(
        questionnaire=q.ref,
        language=_text(form, "language", 2) or "ko",
        answers={k: v for k, v in answers.items() if v},
        consent=consent,
        photos=photos,
        via=_text(form, "via", 64) or None,
        codename=_text(form, "codename", 64) or None,
        form_code=_text(form, "form_code", 20) or None,
        ocr=_text(form, "ocr", 3) == "yes",
    )
    member = await run_in_threadpool(_member_pair, ws, actor, case_id)
    receipt = await run_in_threadpool(
        submit,
        ws,
        _user(actor),
        case_id,
        submission,
        max_photo_bytes=settings.max_upload_mb * MIB,
        member=member,
    )
    return render_page(
        request,
        "intake_receipt.html",
        ReceiptContext(receipt=receipt),
        title="Testimony saved",
        actor=actor,
    )


@router.get(
    "/intake/receipts",
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(SUBMITTERS)],
)
def receipts_page(request: Request) -> Response:
    """One's own receipts are on the intake start page."""
    return _redirect("/intake")


# --- Reading and working on a case (members, second factor) -------------------------------


@router.get(
    "/intake/cases/{case_id}",
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(TESTIMONY_READERS)],
)
def case_page(request: Request, ws: WorkspaceDep, actor: ActorDep, opened: CaseDep) -> HTMLResponse:
    """A case's testimonies, check-ins (overdue first), facilities and field users."""
    from tidetrace.intake import checkins, coding, publish
    from tidetrace.intake.access import assignments
    from tidetrace.intake.testimony import list_testimonies
    from tidetrace.vault.cases import list_cases
    from tidetrace.vault.crypto import day_now

    unlocked, _, case = opened
    with ws.engine.connect() as conn:
        assigned = assignments(conn, case.case_id)
    names = {c.id: c.name for c in list_cases(ws.engine, unlocked)}
    ctx = CaseIntakeContext(
        case_id=case.case_id,
        name=names.get(case.case_id, case.case_id),
        testimonies=list_testimonies(ws.engine, unlocked, case),
        checkins=checkins.list_checkins(ws.engine, case),
        overdue=checkins.overdue(ws.engine, case.case_id),
        facilities=coding.facilities(ws.engine, case),
        assignments=assigned,
        quotes=publish.list_quotes(ws.engine, case),
        today=day_now(),
    )
    return render_page(request, "intake_case.html", ctx, title="Case intake", actor=actor)


def _testimony_context(ws: Workspace, opened: Opened, testimony_id: str) -> TestimonyContext:
    from tidetrace.intake import coding
    from tidetrace.intake.questionnaire import get_questionnaire, vocabulary
    from tidetrace.intake.testimony import read_testimony

    case = opened.case
    testimony = read_testimony(ws.engine, opened.unlocked, case, testimony_id, opened.factor)
    q = get_questionnaire(testimony.questionnaire)
    questions = [
        (x.id, x.ask(testimony.language), testimony.answers[x.id])
        for x in q.questions
        if x.id in testimony.answers
    ]
    vocab = vocabulary()
    return TestimonyContext(
        testimony=testimony,
        questions=questions,
        tags=coding.list_tags(ws.engine, case, testimony_id),
        ilo=vocab.ilo,
        facts=vocab.facts,
        severity=vocab.severity,
    )


def _with_factor(actor: Any) -> tuple[Any, Any]:
    return _unlocked(actor), _factor(actor)


@router.get(
    "/intake/testimonies/{testimony_id}",
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(TESTIMONY_READERS)],
)
def testimony_page(
    request: Request,
    ws: WorkspaceDep,
    actor: ActorDep,
    testimony_id: ItemIdPath,
    opened: TestimonyCaseDep,
) -> HTMLResponse:
    """One testimony: answers, photos, transcription versions, codings (a logged read)."""
    ctx = _testimony_context(ws, opened, testimony_id)
    return render_page(
        request,
        "intake_testimony.html",
        ctx,
        title=f"Testimony {ctx.testimony.codename}",
        actor=actor,
    )


@router.get(
    "/intake/testimonies/{testimony_id}/photos/{page}",
    include_in_schema=False,
    dependencies=[Depends(TESTIMONY_READERS)],
)
def testimony_photo(
    ws: WorkspaceDep,
    testimony_id: ItemIdPath,
    page: Annotated[int, Path(ge=1, le=100)],
    opened: TestimonyCaseDep,
    original: bool = False,
) -> Response:
    """A photographed page: the metadata-free copy, or the sealed original (a logged read)."""
    from tidetrace.intake.testimony import read_photo

    role = "original" if original else "working"
    data, mime = read_photo(
        ws, opened.unlocked, opened.case, testimony_id, page, opened.factor, role
    )
    return Response(data, media_type=mime, headers={"Content-Disposition": "inline"})


@router.post(
    "/intake/testimonies/{testimony_id}/texts",
    include_in_schema=False,
    dependencies=[Depends(TESTIMONY_READERS)],
)
async def add_text_route(
    request: Request,
    ws: WorkspaceDep,
    testimony_id: ItemIdPath,
    opened: TestimonyCaseDep,
) -> Response:
    """Save a corrected transcription or a translation as a new version."""
    from tidetrace.intake.testimony import add_text

    form = await request.form()
    unlocked, factor, case = opened
    add_text(
        ws.engine,
        unlocked,
        case,
        testimony_id,
        _text(form, "kind", 20),
        _text(form, "text", 400_000),
        _text(form, "language", 2),
        factor,
    )
    return _redirect(f"/intake/testimonies/{testimony_id}")


@router.post(
    "/intake/testimonies/{testimony_id}/tags",
    include_in_schema=False,
    dependencies=[Depends(TESTIMONY_READERS)],
)
async def add_tag_route(
    request: Request,
    ws: WorkspaceDep,
    testimony_id: ItemIdPath,
    opened: TestimonyCaseDep,
) -> Response:
    """Tag an answer span with an ILO indicator and/or a fact."""
    from tidetrace.intake.coding import add_tag

    form = await request.form()
    unlocked, factor, case = opened
    add_tag(
        ws.engine,
        unlocked,
        case,
        factor,
        testimony_id,
        start=_int(form, "start"),
        end=_int(form, "end"),
        facility=_text(form, "facility", 255),
        period=_text(form, "period", 10),
        source=_text(form, "source", 30) or "answer",
        question=_text(form, "question", 20) or None,
        indicator=_text(form, "indicator", 60) or None,
        fact=_text(form, "fact", 60) or None,
        stance=_text(form, "stance", 20) or "supports",
        severity=_text(form, "severity", 20) or "medium",
    )
    return _redirect(f"/intake/testimonies/{testimony_id}")


@router.post(
    "/intake/testimonies/{testimony_id}/quotes",
    include_in_schema=False,
    dependencies=[Depends(TESTIMONY_READERS)],
)
async def propose_quote_route(
    request: Request,
    ws: WorkspaceDep,
    testimony_id: ItemIdPath,
    opened: TestimonyCaseDep,
) -> Response:
    """Propose a span for quotation; it then waits for its redaction review."""
    from tidetrace.intake.publish import propose_quote

    form = await request.form()
    unlocked, factor, case = opened
    quote_ = propose_quote(
        ws.engine,
        unlocked,
        case,
        factor,
        testimony_id,
        start=_int(form, "start"),
        end=_int(form, "end"),
        source=_text(form, "source", 30) or "answer",
        question=_text(form, "question", 20) or None,
    )
    return _redirect(f"/intake/quotes/{quote_.id}")


@router.get(
    "/intake/quotes/{quote_id}",
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(TESTIMONY_READERS)],
)
def quote_page(
    request: Request, ws: WorkspaceDep, actor: ActorDep, quote_id: ItemIdPath, opened: QuoteCaseDep
) -> HTMLResponse:
    """A quote with its flags, and the redaction review form."""
    from tidetrace.intake.publish import get_quote

    unlocked, factor, case = opened
    ctx = QuoteContext(quote=get_quote(ws.engine, unlocked, case, factor, quote_id))
    return render_page(request, "intake_quote.html", ctx, title="Quote review", actor=actor)


@router.post(
    "/intake/quotes/{quote_id}/review",
    include_in_schema=False,
    dependencies=[Depends(TESTIMONY_READERS)],
)
async def review_quote_route(
    request: Request, ws: WorkspaceDep, quote_id: ItemIdPath, opened: QuoteCaseDep
) -> Response:
    """Approve the redacted text; every flag left in it must be kept with a reason."""
    from tidetrace.intake.publish import review_quote

    form = await request.form()
    unlocked, factor, case = opened
    keep = {}
    for line in _text(form, "keep", 4000).splitlines():
        key, _, reason = line.partition("=")
        if key.strip():
            keep[key.strip()] = reason.strip()
    review_quote(
        ws.engine,
        unlocked,
        case,
        factor,
        quote_id,
        redacted=_text(form, "redacted", 4000),
        keep=keep,
    )
    return _redirect(f"/intake/quotes/{quote_id}")


@router.get(
    "/intake/quotes/{quote_id}/export",
    include_in_schema=False,
    dependencies=[Depends(TESTIMONY_READERS)],
)
def export_quote_route(
    ws: WorkspaceDep, quote_id: ItemIdPath, opened: QuoteCaseDep
) -> JSONResponse:
    """The publishable quote (redacted text only); refused before the redaction review."""
    from tidetrace.intake.publish import export_quote

    unlocked, factor, case = opened
    return JSONResponse(
        export_quote(ws.engine, unlocked, case, factor, quote_id),
        headers={"Content-Disposition": f'attachment; filename="quote-{quote_id}.json"'},
    )


@router.get(
    "/intake/cases/{case_id}/facility",
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(TESTIMONY_READERS)],
)
def facility_page(
    request: Request,
    ws: WorkspaceDep,
    actor: ActorDep,
    opened: CaseDep,
    name: Annotated[str, Query(min_length=1, max_length=255)],
    by_year: bool = False,
) -> HTMLResponse:
    """Per indicator and period: independent testimonies for and against; sign-offs."""
    from tidetrace.intake.coding import VERDICTS, facility_view

    unlocked, factor, case = opened
    view = facility_view(ws.engine, unlocked, case, factor, name, by_year=by_year)
    ctx = FacilityContext(case_id=case.case_id, view=view, verdicts=VERDICTS)
    return render_page(request, "intake_facility.html", ctx, title=f"Facility {name}", actor=actor)


@router.post(
    "/intake/cases/{case_id}/signoffs",
    include_in_schema=False,
    dependencies=[Depends(TESTIMONY_READERS)],
)
async def sign_off_route(
    request: Request, ws: WorkspaceDep, case_id: CaseIdPath, opened: CaseDep
) -> Response:
    """Record an expert's consistency review of one cell on the custody log."""
    from tidetrace.intake.coding import sign_off

    form = await request.form()
    unlocked, factor, case = opened
    facility = _text(form, "facility", 255)
    sign_off(
        ws.engine,
        unlocked,
        case,
        factor,
        facility=facility,
        key=_text(form, "key", 60),
        period=_text(form, "period", 10),
        verdict=_text(form, "verdict", 20),
        note=_text(form, "note", 2000),
    )
    return _redirect(f"/intake/cases/{case_id}/facility?name={quote(facility, safe='')}")


@router.post(
    "/intake/cases/{case_id}/checkins",
    include_in_schema=False,
    dependencies=[Depends(TESTIMONY_READERS)],
)
async def schedule_checkin_route(
    request: Request, ws: WorkspaceDep, case_id: CaseIdPath, opened: CaseDep
) -> Response:
    """Schedule a safety check-in for a codename."""
    from tidetrace.intake.checkins import schedule

    form = await request.form()
    unlocked, _, case = opened
    in_days = _text(form, "in_days", 5)
    schedule(
        ws.engine,
        unlocked,
        case,
        _text(form, "codename", 64),
        due=_text(form, "due", 10) or None,
        in_days=int(in_days) if in_days.isdigit() else None,
    )
    return _redirect(f"/intake/cases/{case_id}")


@router.post(
    "/intake/cases/{case_id}/checkins/{checkin_id}",
    include_in_schema=False,
    dependencies=[Depends(TESTIMONY_READERS)],
)
async def record_checkin_route(
    request: Request,
    ws: WorkspaceDep,
    case_id: CaseIdPath,
    opened: CaseDep,
    checkin_id: ItemIdPath,
) -> Response:
    """Record a check-in's outcome (sealed)."""
    from tidetrace.intake.checkins import record

    form = await request.form()
    unlocked, _, case = opened
    record(
        ws.engine, unlocked, case, checkin_id, _text(form, "outcome", 20), _text(form, "note", 4000)
    )
    return _redirect(f"/intake/cases/{case_id}")


@router.post(
    "/intake/cases/{case_id}/assignments",
    include_in_schema=False,
    dependencies=[Depends(TESTIMONY_READERS)],
)
async def assign_route(
    request: Request, ws: WorkspaceDep, case_id: CaseIdPath, opened: CaseDep
) -> Response:
    """Let a field user submit to this case."""
    from tidetrace.intake.access import assign

    form = await request.form()
    unlocked, _, case = opened
    assign(ws.engine, unlocked, case, _text(form, "user", 64))
    return _redirect(f"/intake/cases/{case_id}")


@router.post(
    "/intake/cases/{case_id}/aggregates",
    include_in_schema=False,
    dependencies=[Depends(TESTIMONY_READERS)],
)
async def publish_route(request: Request, ws: WorkspaceDep, opened: CaseDep) -> Response:
    """Release k-suppressed aggregates to analysts."""
    from tidetrace.intake.publish import DEFAULT_K, publish_aggregates

    form = await request.form()
    unlocked, factor, case = opened
    k_text = _text(form, "k", 3)
    publish_aggregates(
        ws.engine,
        unlocked,
        case,
        factor,
        title=_text(form, "title", 200),
        k=int(k_text) if k_text.isdigit() else DEFAULT_K,
    )
    return _redirect("/intake/aggregates")


@router.get(
    "/intake/aggregates",
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(AGGREGATE_READERS)],
)
def aggregates_page(request: Request, ws: WorkspaceDep, actor: ActorDep) -> HTMLResponse:
    """Released aggregates: counts under k show as "fewer than k", never a number."""
    from tidetrace.intake.publish import list_published

    ctx = AggregatesContext(snapshots=list_published(ws.engine))
    return render_page(
        request, "intake_aggregates.html", ctx, title="Testimony aggregates", actor=actor
    )


@router.get(
    "/intake/assets/intake.css", include_in_schema=False, dependencies=[Depends(SUBMITTERS)]
)
def intake_css() -> Response:
    """The intake pages' small stylesheet."""
    return Response((ASSETS / "intake.css").read_bytes(), media_type="text/css")


# --- JSON API -----------------------------------------------------------------------------

API_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not logged in, or no second factor in this session."},
    403: {"description": "The role may not use this, or a missing CSRF token."},
    404: {"description": "Not a case (or testimony) of yours."},
    422: {"description": "Invalid input."},
}


class PhotoIn(BaseModel):
    """A photographed page, base64-encoded."""

    name: str = Field("page", max_length=255)
    data: str = Field(..., description="Base64 of the image file.")


class TestimonyIn(BaseModel):
    """A testimony submitted through the API."""

    questionnaire: str | None = Field(None, max_length=80, description="id or id@version.")
    language: str = Field(..., pattern="^(ko|zh|en)$")
    answers: dict[str, str] = Field(default_factory=dict, description="question id -> answer")
    consent: dict[str, Any] = Field(
        ..., description="publication, quotation, authorities: yes/no (all required); method."
    )
    photos: list[PhotoIn] = Field(default_factory=list, max_length=20)
    via: str | None = Field(None, max_length=64, description="Codename of the intermediary chain.")
    codename: str | None = Field(None, max_length=64, description="Existing codename (follow-up).")
    form_code: str | None = Field(None, max_length=20)
    ocr: bool = False


class ReceiptOut(BaseModel):
    """What a submitter gets back."""

    testimony_id: str
    codename: str
    case_id: str
    day: str
    photos: int
    warnings: list[str]


@router.get(
    "/api/intake/questionnaires",
    tags=["intake"],
    dependencies=[Depends(SUBMITTERS)],
    responses=API_ERRORS,
)
def api_questionnaires() -> list[dict[str, Any]]:
    """Every questionnaire version with its questions, facts and ILO indicators."""
    from tidetrace.intake.questionnaire import list_questionnaires

    return [q.to_dict() for q in list_questionnaires()]


@router.post(
    "/api/intake/cases/{case_id}/testimonies",
    tags=["intake"],
    response_model=ReceiptOut,
    dependencies=[Depends(SUBMITTERS)],
    responses=API_ERRORS,
)
def api_submit(
    body: TestimonyIn, ws: WorkspaceDep, settings: SettingsDep, actor: ActorDep, case_id: CaseIdPath
) -> ReceiptOut:
    """Seal and store a testimony (members and assigned field users)."""
    from tidetrace.intake.testimony import Photo, Submission, parse_consent, submit

    photos = []
    for photo in body.photos:
        try:
            photos.append(Photo(base64.b64decode(photo.data, validate=True), photo.name))
        except (binascii.Error, ValueError):
            raise TidetraceError(f"photo {photo.name!r} is not valid base64") from None
    submission = Submission(
        questionnaire=body.questionnaire,
        language=body.language,
        answers=body.answers,
        consent=parse_consent(body.consent),
        photos=photos,
        via=body.via,
        codename=body.codename,
        form_code=body.form_code,
        ocr=body.ocr,
    )
    receipt = submit(
        ws,
        _user(actor),
        case_id,
        submission,
        max_photo_bytes=settings.max_upload_mb * MIB,
        member=_member_pair(ws, actor, case_id),
    )
    return ReceiptOut(**asdict(receipt))


@router.get(
    "/api/intake/receipts",
    tags=["intake"],
    dependencies=[Depends(SUBMITTERS)],
    responses=API_ERRORS,
)
def api_receipts(ws: WorkspaceDep, actor: ActorDep) -> list[dict[str, Any]]:
    """The caller's own receipts (nobody else's, whatever their role)."""
    from tidetrace.intake.testimony import list_receipts

    return list_receipts(ws.engine, _unlocked(actor))


@router.get(
    "/api/intake/cases/{case_id}/testimonies",
    tags=["intake"],
    dependencies=[Depends(TESTIMONY_READERS)],
    responses=API_ERRORS,
)
def api_testimonies(ws: WorkspaceDep, opened: CaseDep) -> list[dict[str, Any]]:
    """A case's testimonies: id, codename, day (no content)."""
    from tidetrace.intake.testimony import list_testimonies

    return [asdict(t) for t in list_testimonies(ws.engine, opened.unlocked, opened.case)]


@router.get(
    "/api/intake/testimonies/{testimony_id}",
    tags=["intake"],
    dependencies=[Depends(TESTIMONY_READERS)],
    responses=API_ERRORS,
)
def api_testimony(
    ws: WorkspaceDep, testimony_id: ItemIdPath, opened: TestimonyCaseDep
) -> dict[str, Any]:
    """One testimony, opened (a logged read)."""
    from tidetrace.intake.testimony import read_testimony

    unlocked, factor, case = opened
    return asdict(read_testimony(ws.engine, unlocked, case, testimony_id, factor))


@router.get(
    "/api/intake/cases/{case_id}/facility",
    tags=["intake"],
    dependencies=[Depends(TESTIMONY_READERS)],
    responses=API_ERRORS,
)
def api_facility(
    ws: WorkspaceDep,
    opened: CaseDep,
    name: Annotated[str, Query(min_length=1, max_length=255)],
) -> dict[str, Any]:
    """Independent testimonies per indicator and period at one facility, and sign-offs."""
    from tidetrace.intake.coding import facility_view

    unlocked, factor, case = opened
    view = facility_view(ws.engine, unlocked, case, factor, name)
    return {
        "facility": view.facility,
        "testimonies": view.testimonies,
        "cells": [
            {
                "key": c.key,
                "label": c.label,
                "period": c.period,
                "supporting": c.supporting,
                "contradicting": c.contradicting,
            }
            for c in view.cells
        ],
        "signoffs": [asdict(s) for s in view.signoffs],
    }


@router.get(
    "/api/intake/aggregates",
    tags=["intake"],
    dependencies=[Depends(AGGREGATE_READERS)],
    responses=API_ERRORS,
)
def api_aggregates(ws: WorkspaceDep) -> list[dict[str, Any]]:
    """Released, k-suppressed aggregates (``count`` is null under k)."""
    from tidetrace.intake.publish import list_published

    return list_published(ws.engine)


@router.get(
    "/api/intake/quotes/{quote_id}/export",
    tags=["intake"],
    dependencies=[Depends(TESTIMONY_READERS)],
    responses=API_ERRORS,
)
def api_export_quote(
    ws: WorkspaceDep, quote_id: ItemIdPath, opened: QuoteCaseDep
) -> dict[str, Any]:
    """An approved quote's redacted text (409 before its redaction review)."""
    from tidetrace.intake.publish import export_quote

    unlocked, factor, case = opened
    return export_quote(ws.engine, unlocked, case, factor, quote_id)
