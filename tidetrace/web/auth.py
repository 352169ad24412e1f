"""Logging in and out.

The session cookie is HttpOnly, SameSite=Strict and Secure when ``cookie_secure`` is set.
Strict works for our login because the form, its POST and the 303 that follows are all
same-site; the price is that a link to a tidetrace page followed from another site (a
mail, a chat) arrives without the cookie and shows the login form. For a tool holding
investigation material we take that over Lax, which would send the cookie on those
cross-site navigations.
"""

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tidetrace.auth.users import authenticate, end_session, start_session
from tidetrace.vault.keys import forget_session
from tidetrace.web.context import doc
from tidetrace.web.csrf import FORM_COOKIE, form_token
from tidetrace.web.deps import (
    LOGGED_IN,
    PUBLIC,
    SESSION_COOKIE,
    Actor,
    ActorDep,
    SettingsDep,
    WorkspaceDep,
    clean_text,
)
from tidetrace.web.render import render_page
from tidetrace.web.routes.intake import forget_second_factor, two_factor_next
from tidetrace.web.routes.vault import unlock_after_login

__all__ = ["LoginContext", "router", "safe_next"]

router = APIRouter()

# Same words whether the user is unknown or the password wrong: no user enumeration.
LOGIN_FAILED = "Wrong user name or password."
MAX_NEXT = 2000


@dataclass
class LoginContext:
    """What the login page shows."""

    next: str = field(metadata=doc("Local path to go to after logging in."))
    form_token: str = field(metadata=doc("Pre-session CSRF token (also in a cookie)."))
    username: str = field(metadata=doc("The user name typed last time, to type it once."))
    error: str | None = field(metadata=doc("Why the last attempt failed, if it did."))


def safe_next(target: str | None) -> str:
    """``target`` when it is a path on this site, else ``/``: no open redirects.

    ``//host`` and ``/\\host`` are read by browsers as other sites, so they are refused.
    """
    if not target or len(target) > MAX_NEXT or clean_text(target) != target:
        return "/"
    if not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target


def _login_page(
    request: Request,
    actor: Actor,
    next_path: str,
    username: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    ctx = LoginContext(
        next=next_path, form_token=form_token(request), username=username, error=error
    )
    return render_page(
        request, "login.html", ctx, title="Log in", actor=actor, status_code=status_code
    )


@router.get(
    "/login", response_class=HTMLResponse, include_in_schema=False, dependencies=[Depends(PUBLIC)]
)
def login_form(request: Request, actor: ActorDep, next: str | None = None) -> Response:
    """The login form; a logged-in user goes straight on to ``next``."""
    target = safe_next(next)
    if actor.logged_in:
        return RedirectResponse(target, status_code=303)
    return _login_page(request, actor, target)


@router.post(
    "/login", response_class=HTMLResponse, include_in_schema=False, dependencies=[Depends(PUBLIC)]
)
def login_submit(
    request: Request,
    ws: WorkspaceDep,
    settings: SettingsDep,
    actor: ActorDep,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=MAX_NEXT)] = "/",
) -> Response:
    """Check the password; on success start a session and go to ``next``."""
    target = safe_next(next)
    user = authenticate(ws.engine, username, password) if username and password else None
    if user is None:
        return _login_page(
            request, actor, target, username=username[:64], error=LOGIN_FAILED, status_code=401
        )
    if actor.token is not None:
        # A fresh session on every login: an old (possibly planted) cookie stops working.
        end_session(ws.engine, actor.token)
    token, _session = start_session(ws.engine, user, settings.session_hours)
    unlock_after_login(ws, user, password, token, settings.session_hours)
    response = RedirectResponse(two_factor_next(user, target), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_hours * 3600,
        httponly=True,
        samesite="strict",
        secure=settings.cookie_secure,
        path="/",
    )
    response.delete_cookie(
        FORM_COOKIE, path="/", httponly=True, samesite="strict", secure=settings.cookie_secure
    )
    return response


@router.post("/logout", include_in_schema=False, dependencies=[Depends(LOGGED_IN)])
def logout(ws: WorkspaceDep, settings: SettingsDep, actor: ActorDep) -> Response:
    """End the session (the cookie value stops working) and go to the login page."""
    if actor.token is not None:
        end_session(ws.engine, actor.token)
        forget_second_factor(actor.token)
        forget_session(actor.token)  # unlocked vault keys leave server memory now
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=settings.cookie_secure
    )
    return response
