"""CSRF tokens: the session's token for logged-in forms, a double-submit token before login.

Forms carry the token in a hidden ``csrf_token`` field; JSON clients send the
``X-CSRF-Token`` header. Tokens are compared with :func:`hmac.compare_digest`.

Before login there is no session to tie a token to, so the login form (and later the
public tip-line form) uses a double-submit token: the same random value in an HttpOnly
``tidetrace_csrf`` cookie and in the form. A cross-site page can neither read the cookie
nor, with SameSite=Strict, make the browser send it, so it cannot forge a login.
"""

import hmac
import secrets

from starlette.requests import Request
from starlette.responses import Response

from tidetrace.exc import PermissionDenied

__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "FORM_COOKIE",
    "SAFE_METHODS",
    "check_form_token",
    "check_session_token",
    "form_token",
    "set_form_cookie",
]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
FORM_COOKIE = "tidetrace_csrf"
_MAX_TOKEN = 128
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
MISSING_MESSAGE = (
    "missing or wrong CSRF token: reload the page and submit the form again "
    "(API clients send the X-CSRF-Token header)"
)


async def submitted_token(request: Request) -> str | None:
    """The token a request carries: the ``X-CSRF-Token`` header, else the form field."""
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    ctype = request.headers.get("content-type", "").lower()
    if ctype.startswith(_FORM_TYPES):
        # Starlette caches the parsed form on the request, so the route's Form() params
        # reuse it rather than reading the body twice.
        form = await request.form()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


def _same(expected: str | None, given: str | None) -> bool:
    if not expected or not given or len(given) > _MAX_TOKEN:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


async def check_session_token(request: Request, expected: str | None) -> None:
    """Raise PermissionDenied unless the request carries the session's CSRF token."""
    if not _same(expected, await submitted_token(request)):
        raise PermissionDenied(MISSING_MESSAGE)


async def check_form_token(request: Request) -> None:
    """Raise PermissionDenied unless the form token matches the double-submit cookie."""
    if not _same(request.cookies.get(FORM_COOKIE), await submitted_token(request)):
        raise PermissionDenied(MISSING_MESSAGE)


def form_token(request: Request) -> str:
    """The pre-session token for a public form: the cookie's, or a new one.

    A new token is remembered on the request; :func:`set_form_cookie` (called by the
    page renderer) then sets the cookie on the response.
    """
    current = request.cookies.get(FORM_COOKIE)
    if current and 20 <= len(current) <= _MAX_TOKEN:
        return current
    new = getattr(request.state, "new_form_token", None)
    if not isinstance(new, str):
        new = secrets.token_urlsafe(32)
        request.state.new_form_token = new
    return new


def set_form_cookie(request: Request, response: Response, secure: bool) -> None:
    """Set the double-submit cookie when :func:`form_token` minted a new token."""
    new = getattr(request.state, "new_form_token", None)
    if isinstance(new, str):
        response.set_cookie(
            FORM_COOKIE, new, httponly=True, samesite="strict", secure=secure, path="/"
        )
