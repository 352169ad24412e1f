"""The web app: ``create_app(ws)`` wires routes, middleware and the one error table.

Errors: a :class:`~tidetrace.exc.TidetraceError` becomes its ``status`` with
``{"detail": ...}`` under ``/api`` (and the other JSON paths) or an HTML error page
elsewhere; anything unexpected is logged with its traceback and answered with a bare 500.
Nothing logs query strings or client addresses: later public pages must not record
visitors, and uvicorn's access log is off in ``tidetrace serve``.
"""

from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from tidetrace import __version__
from tidetrace.exc import TidetraceError
from tidetrace.logs import get_logger
from tidetrace.settings import Settings, get_settings
from tidetrace.web import auth
from tidetrace.web.deps import Actor, LoginRequired, actor_for, iter_routes, route_permission
from tidetrace.web.middleware import (
    SECURITY_HEADERS,
    BodyLimitMiddleware,
    SecurityHeadersMiddleware,
)
from tidetrace.web.render import render_page
from tidetrace.web.routes import api, datasets, docs, entities, home, intake, report, search, vault
from tidetrace.workspace import Workspace

__all__ = ["JSON_PREFIXES", "create_app", "wants_json"]

log = get_logger("tidetrace.web")

STATIC_DIR = Path(__file__).parent / "static"
MIB = 1024 * 1024
# Paths answered in JSON, errors included; everything else is a page.
JSON_PREFIXES = ("/api/", "/healthz", "/openapi.json")
# Routes the app serves without an Allow declaration (files, not views).
UNDECLARED_OK = ("/static",)

TITLES = {
    400: "Bad request",
    401: "Log in",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    413: "Too large",
    422: "Invalid input",
    500: "Something went wrong",
}


def wants_json(request: Request) -> bool:
    """Whether errors for this request are JSON (the API) rather than a page."""
    path = request.url.path
    return path == "/api" or path.startswith(JSON_PREFIXES)


def _actor(request: Request) -> Actor:
    # An error page still shows the top bar; a broken session lookup must not hide the error.
    try:
        return actor_for(request)
    except Exception:  # noqa: BLE001 - the page is already an error page
        return Actor()


def error_response(request: Request, status: int, detail: str) -> Response:
    """The error as JSON or as a page, with the status."""
    if wants_json(request):
        headers = {"WWW-Authenticate": 'Cookie realm="tidetrace"'} if status == 401 else None
        return JSONResponse({"detail": detail}, status_code=status, headers=headers)
    title = TITLES.get(status, "Error")
    return render_page(
        request,
        "error.html",
        None,
        title=title,
        status_code=status,
        actor=_actor(request),
        extra={"status": status, "detail": detail},
    )


def _login_redirect(request: Request) -> Response:
    target = request.url.path
    if request.url.query:
        target = f"{target}?{request.url.query}"
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


async def handle_tidetrace_error(request: Request, exc: Exception) -> Response:
    """TidetraceError → its status; a page that needs a login redirects to /login."""
    assert isinstance(exc, TidetraceError)
    if isinstance(exc, LoginRequired) and not wants_json(request):
        return _login_redirect(request)
    if exc.status >= 500:
        log.error("request failed", path=request.url.path, status=exc.status, detail=exc.detail)
    return error_response(request, exc.status, exc.detail)


async def handle_http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own errors (unknown path, wrong method, body too large)."""
    assert isinstance(exc, StarletteHTTPException)
    response = error_response(request, exc.status_code, str(exc.detail))
    for name, value in (exc.headers or {}).items():
        response.headers.setdefault(name, value)
    return response


async def handle_validation_error(request: Request, exc: Exception) -> Response:
    """Invalid parameters → 422 with one readable line (the input is not echoed back)."""
    assert isinstance(exc, RequestValidationError)
    problems = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error.get("loc", ())[1:]) or "request"
        problems.append(f"{where}: {error.get('msg', 'invalid')}")
    return error_response(request, 422, "; ".join(problems) or "invalid request")


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    """A bug: log it with the traceback, tell the client only that it failed."""
    log.error("unhandled error", path=request.url.path, exc_info=exc)
    detail = "internal error; the administrator can find it in the server log"
    if wants_json(request):
        response: Response = JSONResponse({"detail": detail}, status_code=500)
    else:
        try:
            response = error_response(request, 500, detail)
        except Exception:  # noqa: BLE001 - rendering the error page failed too
            response = Response(detail, status_code=500, media_type="text/plain")
    # This handler runs outside the security-headers middleware.
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def check_routes(app: FastAPI) -> None:
    """Refuse to build an app with a route that declares no permission.

    Raises:
        RuntimeError: naming the routes without an ``Allow``.
    """
    missing = []
    for route in iter_routes(app):
        path = str(getattr(route, "path", ""))
        if path.startswith(UNDECLARED_OK):
            continue
        if route_permission(route) is None:
            missing.append(path)
    if missing:
        raise RuntimeError(f"routes without a permission declaration: {missing}")


def create_app(ws: Workspace, settings: Settings | None = None) -> FastAPI:
    """Build the web app for a workspace.

    Args:
        ws: the workspace whose store and users the app serves.
        settings: settings to use; read from the environment now when not given.

    Returns:
        The FastAPI app (serve it with uvicorn, or test it with ``TestClient``).
    """
    settings = settings if settings is not None else get_settings()
    app = FastAPI(
        title="tidetrace",
        version=__version__,
        summary="Trace forced labour through seafood supply chains, and prove what you find.",
        # Our own /docs and /openapi.json (routes/docs.py) declare who may read them.
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.workspace = ws
    app.state.settings = settings
    # Every request body, forms and uploads alike; an upload route may set a lower
    # max_body_size of its own. Added first, so the security headers wrap its 413.
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_upload_mb * MIB)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_exception_handler(TidetraceError, handle_tidetrace_error)
    app.add_exception_handler(StarletteHTTPException, handle_http_error)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(Exception, handle_unexpected)
    for module in (home, auth, search, entities, datasets, docs, api, vault, intake, report):
        app.include_router(module.router)
    from tidetrace.web.routes import lookup  # the public code lookup (registry domain)

    app.include_router(lookup.router)
    from tidetrace.web.routes import review  # match review (entity-resolution domain)

    app.include_router(review.router)
    from tidetrace.web.routes import shipments  # bills of lading (trade-records domain)

    app.include_router(shipments.router)
    from tidetrace.web.routes.graph import include_routes  # supply graph, screening, /match

    include_routes(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    check_routes(app)
    return app
