"""The anonymous tip line (``/report``, ``/api/report``) and its recipients' inbox (``/tips``).

Public side — what protects the people who use it:

- Nothing on these routes stores or logs an IP address, a User-Agent or a time finer than
  the day; tidetrace's logger gets nothing from them and ``tidetrace serve`` runs uvicorn
  without an access log. Every response, errors included, carries a strict CSP (scripts
  and styles from this site only, no connections, no frames), ``Referrer-Policy:
  no-referrer``, ``Cache-Control: no-store`` and a ``Permissions-Policy`` denying
  geolocation, camera and microphone (:class:`StrictRoute`).
- The page works with JavaScript off: the server seals the text and (stripped) files in
  memory on receipt. With JavaScript on, the browser seals them itself with the vendored
  libsodium and the server only ever sees the sealed box.
- Forms carry the double-submit CSRF token (``Allow``) and a one-time token, so a form
  cannot be replayed; flooding is throttled for the whole line, never per person.
- ``POST /api/report`` is an anonymous JSON API without a session, so it has no CSRF token
  to check. It only accepts ``Content-Type: application/json``, which a cross-site page
  cannot send without a CORS preflight that this app never grants, and it refuses
  requests a browser marks ``Sec-Fetch-Site: cross-site``. Flooding is throttled as for
  the page. Nothing identifies a caller, so nothing is rate-limited per caller.
- ``POST /api/report/status`` answers every failure — malformed, unknown or purged
  receipt, throttled — with the same status and words, after the same minimum time.
"""

import asyncio
import base64
import binascii
import json
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path as FilePath
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Depends, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException

from tidetrace.auth.roles import Role
from tidetrace.exc import PermissionDenied, TidetraceError
from tidetrace.web.context import doc
from tidetrace.web.csrf import form_token
from tidetrace.web.deps import PUBLIC, ActorDep, Allow, SettingsDep, WorkspaceDep
from tidetrace.web.render import render_page
from tidetrace.web.routes.intake import TESTIMONY_READERS, ram_form
from tidetrace.workspace import Workspace

__all__ = ["STRICT_HEADERS", "TIPLINE_API", "TIPLINE_CSP", "StrictRoute", "router", "tips_router"]

MIB = 1024 * 1024
INTAKE = FilePath(__file__).resolve().parents[2] / "intake"
LANGS = ("ko", "zh", "en")
# Scripts from this site only. 'wasm-unsafe-eval' lets libsodium compile its embedded
# WebAssembly (it allows no JavaScript eval); without it the library falls back to its
# slower pure-JavaScript build.
TIPLINE_CSP = (
    "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "
    "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
STRICT_HEADERS: dict[str, str] = {
    "Content-Security-Policy": TIPLINE_CSP,
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Permissions-Policy": "geolocation=(), camera=(), microphone=()",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "X-Robots-Tag": "noindex, nofollow",
}
# Every receipt lookup takes at least this long, found or not, so timing tells nothing.
STATUS_FLOOR = 0.35
# The JSON API for the public: no session, so no CSRF token (see the module docstring).
TIPLINE_API = Allow(Role, public=True, csrf=False)


@lru_cache(maxsize=1)
def texts() -> dict[str, dict[str, str]]:
    """The tip line's words per language (``intake/data/tipline.yml``)."""
    data: dict[str, dict[str, str]] = yaml.safe_load(
        (INTAKE / "data" / "tipline.yml").read_text(encoding="utf-8")
    )
    return data


def _lang(value: object) -> str:
    return value if isinstance(value, str) and value in LANGS else "ko"


class StrictRoute(APIRoute):
    """A route whose every response — errors included — carries :data:`STRICT_HEADERS`.

    Errors are turned into responses here rather than by the app's handlers (which run
    outside the route and would add the ordinary headers instead).
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The route's handler, wrapped."""
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                response = await original(request)
            except Exception as exc:  # noqa: BLE001 - every error gets the strict headers
                response = await _error(request, exc)
            for name, value in STRICT_HEADERS.items():
                response.headers[name] = value
            return response

        return handler


async def _error(request: Request, exc: Exception) -> Response:
    """The error as the tip line shows it: JSON under /api, else a page in its language."""
    from tidetrace.web import app as web_app

    if isinstance(exc, TidetraceError):
        status, detail = exc.status, exc.detail
    elif isinstance(exc, HTTPException):
        status, detail = exc.status_code, str(exc.detail)
    elif isinstance(exc, RequestValidationError):
        status, detail = 422, "invalid input"
    else:
        return await web_app.handle_unexpected(request, exc)
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": detail}, status_code=status)
    lang = _lang(request.query_params.get("lang"))
    ctx = ReportErrorContext(lang=lang, t=texts()[lang], detail=detail)
    return render_page(
        request, "report_error.html", ctx, title=ctx.t["error_title"], status_code=status
    )


router = APIRouter(route_class=StrictRoute)
tips_router = APIRouter()


# --- Contexts -----------------------------------------------------------------------------


@dataclass
class ReportContext:
    """The tip form."""

    lang: str = field(metadata=doc("Page language."))
    t: dict[str, str] = field(metadata=doc("Words in that language."))
    languages: dict[str, str] = field(metadata=doc("Language code -> its own name."))
    form_token: str = field(metadata=doc("Double-submit CSRF token."))
    once: str = field(metadata=doc("One-time token of this form."))
    key: str = field(metadata=doc("Tip-line public key, base64 (for sealing in the browser)."))
    key_version: int = field(metadata=doc("Its version."))
    max_bytes: int = field(metadata=doc("Largest sealed report accepted, bytes."))
    receipt: str = field(metadata=doc("The receipt, on follow-up forms (else empty)."))


@dataclass
class ReportReceiptContext:
    """After a report: the receipt, shown once."""

    lang: str = field(metadata=doc("Page language."))
    t: dict[str, str] = field(metadata=doc("Words in that language."))
    receipt: str = field(metadata=doc("The receipt (never stored; shown once)."))


@dataclass
class ReportStatusContext:
    """Replies to a tip, read with its receipt."""

    lang: str = field(metadata=doc("Page language."))
    t: dict[str, str] = field(metadata=doc("Words in that language."))
    form_token: str = field(metadata=doc("Double-submit CSRF token."))
    replies: list[dict[str, str]] | None = field(metadata=doc("Replies; None before a lookup."))
    more: ReportContext | None = field(metadata=doc("The form to send more, after a lookup."))
    sent_more: bool = field(metadata=doc("An addition was just received."))


@dataclass
class ReportErrorContext:
    """A tip-line error, in the page's language."""

    lang: str = field(metadata=doc("Page language."))
    t: dict[str, str] = field(metadata=doc("Words in that language."))
    detail: str = field(metadata=doc("What went wrong."))


@dataclass
class InboxContext:
    """The recipients' inbox."""

    tips: list[Any] = field(metadata=doc("Tips: id, day, status, number of messages."))


@dataclass
class TipContext:
    """One tip, opened for a recipient."""

    tip: Any = field(metadata=doc("The opened tip."))
    cases: list[dict[str, str]] = field(metadata=doc("The recipient's cases to promote into."))


# --- Public pages -------------------------------------------------------------------------


def _form_context(
    request: Request, ws: Workspace, settings: Any, lang: str, receipt: str = ""
) -> ReportContext:
    from tidetrace.intake import tipline

    key = tipline.public_key(ws.engine)
    return ReportContext(
        lang=lang,
        t=texts()[lang],
        languages={code: texts()[code]["language_name"] for code in LANGS},
        form_token=form_token(request),
        once=tipline.issue_form_token(ws.engine),
        key=base64.b64encode(key.public).decode("ascii"),
        key_version=key.version,
        max_bytes=_sealed_limit(settings),
        receipt=receipt,
    )


def _sealed_limit(settings: Any) -> int:
    # A sealed report carries its files in base64 (4/3) inside JSON.
    return int(settings.max_upload_mb * MIB * 4 // 3) + 64 * 1024


@router.get(
    "/report", response_class=HTMLResponse, include_in_schema=False, dependencies=[Depends(PUBLIC)]
)
def report_form(
    request: Request, ws: WorkspaceDep, settings: SettingsDep, lang: str | None = None
) -> HTMLResponse:
    """The tip form (Korean, Chinese or English; works without JavaScript)."""
    language = _lang(lang)
    ctx = _form_context(request, ws, settings, language)
    return render_page(request, "report_form.html", ctx, title=ctx.t["title"])


async def _read_upload(item: object) -> bytes | None:
    if isinstance(item, UploadFile) and item.filename:
        data = await item.read()
        return data or None
    return None


async def _files(form: FormData) -> list[Any]:
    from tidetrace.intake.tipline import TipFile

    out = []
    for item in form.getlist("files"):
        data = await _read_upload(item)
        if data is not None and isinstance(item, UploadFile):
            out.append(TipFile(item.filename or "file", data))
    return out


def _field(form: FormData, name: str, limit: int) -> str:
    value = form.get(name)
    return value.replace("\x00", "")[:limit] if isinstance(value, str) else ""


@router.post(
    "/report",
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(ram_form), Depends(PUBLIC)],
)
async def report_submit(request: Request, ws: WorkspaceDep, settings: SettingsDep) -> HTMLResponse:
    """Receive a report: sealed by the browser, or sealed here on arrival; show the receipt."""
    from tidetrace.intake import tipline

    form = await request.form()
    lang = _lang(form.get("language"))
    once = _field(form, "form_token", 200)
    sealed = await _read_upload(form.get("sealed"))
    max_bytes = settings.max_upload_mb * MIB
    if sealed is not None:
        version = _field(form, "key_version", 10)
        receipt = await run_in_threadpool(
            lambda: tipline.submit_sealed(
                ws,
                sealed=sealed,
                key_version=int(version) if version.isdigit() else -1,
                form_token=once,
                max_bytes=_sealed_limit(settings),
            )
        )
    else:
        message = _field(form, "message", tipline.MAX_MESSAGE + 10)
        files = await _files(form)
        receipt = await run_in_threadpool(
            lambda: tipline.submit_plain(
                ws,
                message=message,
                language=lang,
                files=files,
                form_token=once,
                max_file_bytes=max_bytes,
            )
        )
    ctx = ReportReceiptContext(lang=lang, t=texts()[lang], receipt=receipt)
    return render_page(request, "report_receipt.html", ctx, title=ctx.t["receipt_title"])


@router.get(
    "/report/status",
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(PUBLIC)],
)
def report_status_form(request: Request, lang: str | None = None) -> HTMLResponse:
    """Enter a receipt to read replies (the receipt never goes in a URL)."""
    language = _lang(lang)
    ctx = ReportStatusContext(
        lang=language,
        t=texts()[language],
        form_token=form_token(request),
        replies=None,
        more=None,
        sent_more=False,
    )
    return render_page(request, "report_status.html", ctx, title=ctx.t["status_title"])


async def _floor(started: float) -> None:
    remaining = STATUS_FLOOR - (time.monotonic() - started)
    if remaining > 0:
        await asyncio.sleep(remaining)


@router.post(
    "/report/status",
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(PUBLIC)],
)
async def report_status(request: Request, ws: WorkspaceDep, settings: SettingsDep) -> HTMLResponse:
    """Replies to a tip, for whoever holds its receipt; a form to send more."""
    from tidetrace.intake import tipline

    started = time.monotonic()
    form = await request.form()
    lang = _lang(form.get("language"))
    receipt = _field(form, "receipt", 64)
    try:
        found = await run_in_threadpool(tipline.replies, ws.engine, receipt)
    except TidetraceError:
        await _floor(started)
        raise tipline.ReceiptFailure() from None
    await _floor(started)
    ctx = ReportStatusContext(
        lang=lang,
        t=texts()[lang],
        form_token=form_token(request),
        replies=found,
        more=_form_context(request, ws, settings, lang, receipt=receipt),
        sent_more=False,
    )
    return render_page(request, "report_status.html", ctx, title=ctx.t["status_title"])


@router.post(
    "/report/more",
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(ram_form), Depends(PUBLIC)],
)
async def report_more(request: Request, ws: WorkspaceDep, settings: SettingsDep) -> HTMLResponse:
    """Add to an earlier report (sealed by the browser, or here on arrival)."""
    from tidetrace.intake import tipline

    started = time.monotonic()
    form = await request.form()
    lang = _lang(form.get("language"))
    receipt = _field(form, "receipt", 64)
    sealed = await _read_upload(form.get("sealed"))
    version = _field(form, "key_version", 10)
    message = _field(form, "message", tipline.MAX_MESSAGE + 10)
    files = await _files(form)
    try:
        await run_in_threadpool(
            lambda: tipline.add_more(
                ws,
                receipt,
                message=message,
                language=lang,
                sealed=sealed,
                key_version=int(version) if version.isdigit() else -1,
                files=files,
                form_token=_field(form, "form_token", 200),
                max_bytes=_sealed_limit(settings)
                if sealed is not None
                else settings.max_upload_mb * MIB,
            )
        )
    finally:
        await _floor(started)
    ctx = ReportStatusContext(
        lang=lang,
        t=texts()[lang],
        form_token=form_token(request),
        replies=None,
        more=None,
        sent_more=True,
    )
    return render_page(request, "report_status.html", ctx, title=ctx.t["status_title"])


@router.get("/report/tipline.js", include_in_schema=False, dependencies=[Depends(PUBLIC)])
def tipline_js() -> Response:
    """The script that seals a report in the browser (from this site, never a CDN)."""
    return Response((INTAKE / "assets" / "tipline.js").read_bytes(), media_type="text/javascript")


@router.get("/report/report.css", include_in_schema=False, dependencies=[Depends(PUBLIC)])
def report_css() -> Response:
    """The tip pages' stylesheet."""
    return Response((INTAKE / "assets" / "report.css").read_bytes(), media_type="text/css")


ICON = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">'
    b'<rect width="16" height="16" rx="3" fill="#073f53"/></svg>'
)


@router.get("/report/icon.svg", include_in_schema=False, dependencies=[Depends(PUBLIC)])
def report_icon() -> Response:
    """A plain icon from this site, so the browser asks nobody else for one."""
    return Response(ICON, media_type="image/svg+xml")


@router.get("/report/{rest:path}", include_in_schema=False, dependencies=[Depends(PUBLIC)])
def report_not_found(rest: str) -> Response:
    """Any other path under /report: a 404 that still carries the strict headers."""
    raise HTTPException(404, "Not Found")


# --- Public JSON API ----------------------------------------------------------------------


async def json_only(request: Request) -> None:
    """The anonymous API's stand-in for a CSRF token (see the module docstring).

    Raises:
        PermissionDenied: not JSON, or a browser says the request comes from another site.
    """
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json":
        raise PermissionDenied(
            "CSRF protection: this API accepts only Content-Type: application/json"
        )
    if request.headers.get("sec-fetch-site", "same-origin") == "cross-site":
        raise PermissionDenied("CSRF protection: cross-site requests are refused")


async def _json_body(request: Request, limit: int) -> dict[str, Any] | None:
    body = await request.body()
    if len(body) > limit:
        raise HTTPException(413, "too large")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


@router.post(
    "/api/report",
    tags=["tip line"],
    dependencies=[Depends(json_only), Depends(TIPLINE_API)],
    responses={
        403: {"description": "Not JSON (CSRF protection)."},
        422: {"description": "Missing message, unknown language, or too long."},
        503: {"description": "The tip line is busy (throttled for everyone) or closed."},
    },
)
async def api_report(request: Request, ws: WorkspaceDep, settings: SettingsDep) -> JSONResponse:
    """Send an anonymous tip: ``{"message": TEXT, "language": "ko"|"zh"|"en"}`` → ``{"receipt"}``.

    The text is sealed on arrival and never stored readable. A client that seals itself
    sends ``{"sealed": BASE64, "key_version": N}`` instead (the key is on ``/report``).
    """
    from tidetrace.intake import tipline

    data = await _json_body(request, _sealed_limit(settings))
    if data is None:
        raise TidetraceError('send a JSON object: {"message": …, "language": "ko"|"zh"|"en"}', 422)
    if isinstance(data.get("sealed"), str):
        try:
            sealed = base64.b64decode(data["sealed"], validate=True)
        except (binascii.Error, ValueError):
            raise TidetraceError("sealed is not base64", 422) from None
        version = data.get("key_version")
        receipt = await run_in_threadpool(
            lambda: tipline.submit_sealed(
                ws,
                sealed=sealed,
                key_version=version if isinstance(version, int) else -1,
                form_token=None,
                max_bytes=_sealed_limit(settings),
            )
        )
    else:
        message, language = data.get("message"), data.get("language")
        if not isinstance(message, str) or not message.strip() or language not in LANGS:
            raise TidetraceError('"message" (text) and "language" (ko, zh or en) are required', 422)
        receipt = await run_in_threadpool(
            lambda: tipline.submit_plain(
                ws,
                message=message,
                language=str(language),
                files=[],
                form_token=None,
                max_file_bytes=settings.max_upload_mb * MIB,
            )
        )
    return JSONResponse({"receipt": receipt})


@router.post(
    "/api/report/status",
    tags=["tip line"],
    dependencies=[Depends(json_only), Depends(TIPLINE_API)],
    responses={404: {"description": "Any failure: the same answer and timing for all."}},
)
async def api_report_status(request: Request, ws: WorkspaceDep) -> JSONResponse:
    """Replies to a tip: ``{"receipt": "..."}`` → ``{"replies": [{"text", "day"}]}``.

    A wrong, malformed or purged receipt, a malformed request and a throttled lookup all
    get the same 404 and words, after the same minimum time.
    """
    from tidetrace.intake import tipline

    started = time.monotonic()
    try:
        data = await _json_body(request, 4096)
        receipt = data.get("receipt") if data is not None else None
        if not isinstance(receipt, str):
            raise tipline.ReceiptFailure()
        found = await run_in_threadpool(tipline.replies, ws.engine, receipt)
    except (TidetraceError, HTTPException):
        await _floor(started)
        return JSONResponse({"detail": tipline.GENERIC_FAILURE}, status_code=404)
    await _floor(started)
    return JSONResponse({"replies": found})


# --- Recipients ---------------------------------------------------------------------------


def _recipient(actor: Any) -> tuple[Any, Any]:
    from tidetrace.intake.twofactor import session_factor
    from tidetrace.vault.keys import session_user

    return session_user(actor.token, actor.user), session_factor(actor.token, actor.user)


@tips_router.get(
    "/tips",
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(TESTIMONY_READERS)],
)
def inbox_page(request: Request, ws: WorkspaceDep, actor: ActorDep) -> HTMLResponse:
    """Tips received (recipients with a second factor)."""
    from tidetrace.intake import tipline

    unlocked, factor = _recipient(actor)
    ctx = InboxContext(tips=tipline.inbox(ws.engine, unlocked, factor))
    return render_page(request, "report_inbox.html", ctx, title="Tip line", actor=actor)


TipIdPath = Annotated[str, Path(min_length=1, max_length=40, description="Tip id.")]


@tips_router.get(
    "/tips/{tip_id}",
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(TESTIMONY_READERS)],
)
def tip_page(
    request: Request, ws: WorkspaceDep, actor: ActorDep, tip_id: TipIdPath
) -> HTMLResponse:
    """One tip, opened (a logged read), with reply and promote forms."""
    from tidetrace.intake import tipline
    from tidetrace.vault.cases import list_cases

    unlocked, factor = _recipient(actor)
    tip = tipline.read_tip(ws.engine, unlocked, factor, tip_id)
    tip_case = tipline.tipline_case_id(ws.engine)
    cases = [
        {"id": c.id, "name": c.name} for c in list_cases(ws.engine, unlocked) if c.id != tip_case
    ]
    return render_page(
        request, "report_tip.html", TipContext(tip=tip, cases=cases), title="Tip", actor=actor
    )


@tips_router.get(
    "/tips/{tip_id}/files/{seq}/{index}",
    include_in_schema=False,
    dependencies=[Depends(TESTIMONY_READERS)],
)
def tip_file(
    ws: WorkspaceDep,
    settings: SettingsDep,
    actor: ActorDep,
    tip_id: TipIdPath,
    seq: Annotated[int, Path(ge=1, le=10_000)],
    index: Annotated[int, Path(ge=0, le=20)],
) -> Response:
    """A file of a tip, metadata-stripped (a logged read)."""
    from tidetrace.intake import tipline

    unlocked, factor = _recipient(actor)
    data, mime, _name = tipline.read_tip_file(
        ws, unlocked, factor, tip_id, seq, index, settings.max_upload_mb * MIB
    )
    return Response(data, media_type=mime, headers={"Content-Disposition": "attachment"})


@tips_router.post(
    "/tips/{tip_id}/reply", include_in_schema=False, dependencies=[Depends(TESTIMONY_READERS)]
)
async def tip_reply(
    request: Request, ws: WorkspaceDep, actor: ActorDep, tip_id: TipIdPath
) -> Response:
    """Reply: sealed for the recipients and for whoever holds the receipt."""
    from tidetrace.intake import tipline

    form = await request.form()
    unlocked, factor = _recipient(actor)
    tipline.reply(
        ws.engine, unlocked, factor, tip_id, _field(form, "message", tipline.MAX_REPLY + 10)
    )
    return RedirectResponse(f"/tips/{tip_id}", status_code=303)


@tips_router.post(
    "/tips/{tip_id}/promote", include_in_schema=False, dependencies=[Depends(TESTIMONY_READERS)]
)
async def tip_promote(
    request: Request, ws: WorkspaceDep, settings: SettingsDep, actor: ActorDep, tip_id: TipIdPath
) -> Response:
    """Copy a tip into a case as evidence or as a testimony (with a consent record)."""
    from tidetrace.intake import tipline
    from tidetrace.intake.testimony import parse_consent

    form = await request.form()
    unlocked, factor = _recipient(actor)
    as_ = _field(form, "as", 20)
    consent = None
    if as_ == "testimony":
        consent = parse_consent(
            {
                k: _field(form, f"consent_{k}", 10)
                for k in ("publication", "quotation", "authorities")
            }
        )
    case_id = _field(form, "case", 40)
    await run_in_threadpool(
        lambda: tipline.promote(
            ws,
            unlocked,
            factor,
            tip_id,
            case_id,
            as_=as_,
            consent=consent,
            max_bytes=settings.max_upload_mb * MIB,
        )
    )
    target = f"/intake/cases/{case_id}" if as_ == "testimony" else f"/tips/{tip_id}"
    return RedirectResponse(target, status_code=303)


# One router for app.py to include; the recipients' pages keep ordinary headers.
router.include_router(tips_router)
