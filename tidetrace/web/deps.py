"""Shared route dependencies: the workspace, the store, the actor, and who may call a route.

Every route declares its audience with exactly one :class:`Allow`, normally as
``dependencies=[Depends(READ)]`` or ``dependencies=[Depends(allow(Role.ADMIN))]``.
:func:`iter_routes` and :func:`route_permission` find that declaration again, so
``create_app`` refuses to start and ``tests/web/test_permissions.py`` fails when a route
has none.

``Allow`` also enforces CSRF for state-changing methods (POST, PUT, PATCH, DELETE): a
route cannot forget it, because declaring who may call a route is what turns it on.
"""

import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Path, Query, Request
from fastapi.dependencies.models import Dependant

from tidetrace.auth.roles import ADMINS, READERS, WRITERS, Role
from tidetrace.auth.users import Session, User, load_session
from tidetrace.exc import PermissionDenied, TidetraceError
from tidetrace.settings import Settings
from tidetrace.store.entities import EntityStore
from tidetrace.web.csrf import SAFE_METHODS, check_form_token, check_session_token
from tidetrace.workspace import Workspace

__all__ = [
    "ADMIN_ONLY",
    "LOGGED_IN",
    "PUBLIC",
    "READ",
    "SESSION_COOKIE",
    "WRITE",
    "Actor",
    "ActorDep",
    "Allow",
    "EntityIdPath",
    "LimitQuery",
    "LoginRequired",
    "SchemaQuery",
    "SearchQuery",
    "SessionDep",
    "SettingsDep",
    "StoreDep",
    "WorkspaceDep",
    "allow",
    "allow_logged_in",
    "allow_public",
    "clean_text",
    "iter_routes",
    "route_permission",
]

SESSION_COOKIE = "tidetrace_session"


class LoginRequired(TidetraceError):
    """The route needs a logged-in user and the request has no live session.

    Pages answer with a redirect to ``/login?next=...``; the API answers 401.
    """

    STATUS = 401


def get_workspace(request: Request) -> Workspace:
    """The workspace the app was created for."""
    ws: Workspace = request.app.state.workspace
    return ws


def get_settings_dep(request: Request) -> Settings:
    """The settings snapshot taken when the app was created."""
    settings: Settings = request.app.state.settings
    return settings


WorkspaceDep = Annotated[Workspace, Depends(get_workspace)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def get_store(ws: WorkspaceDep) -> EntityStore:
    """The entity store of the workspace."""
    return EntityStore(ws.engine)


StoreDep = Annotated[EntityStore, Depends(get_store)]


@dataclass(frozen=True)
class Actor:
    """Who is making the request.

    Attributes:
        user: the logged-in user, or None for an anonymous visitor.
        csrf_token: the session's CSRF token, which every form of a logged-in page carries.
        token: the session cookie value (only to end the session on logout).
    """

    user: User | None = None
    csrf_token: str | None = None
    token: str | None = None

    @property
    def role(self) -> Role:
        """The user's role; anonymous visitors act as ``public``."""
        return self.user.role if self.user is not None else Role.PUBLIC

    @property
    def logged_in(self) -> bool:
        """Whether there is a live session."""
        return self.user is not None

    def can(self, roles: Iterable[Role]) -> bool:
        """Whether a logged-in actor has one of ``roles``."""
        return self.user is not None and self.user.role in set(roles)

    @property
    def can_read(self) -> bool:
        """Whether the actor may see the entity store (search, entities, datasets)."""
        return self.can(READERS)

    @property
    def can_write(self) -> bool:
        """Whether the actor may work on cases and change data (investigators, admins)."""
        return self.can(WRITERS)


def actor_for(request: Request) -> Actor:
    """The actor of a request, from its session cookie; cached on the request.

    Error handlers call this too, so it must work outside the dependency system.
    """
    cached = getattr(request.state, "actor", None)
    if isinstance(cached, Actor):
        return cached
    actor = Actor()
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        session: Session | None = load_session(get_workspace(request).engine, token)
        if session is not None:
            actor = Actor(user=session.user, csrf_token=session.csrf_token, token=token)
    request.state.actor = actor
    return actor


def get_actor(request: Request) -> Actor:
    """Dependency form of :func:`actor_for`."""
    return actor_for(request)


ActorDep = Annotated[Actor, Depends(get_actor)]
# The same thing under the name the session-minded reader looks for.
SessionDep = ActorDep


class Allow:
    """Who may call a route, declared once per route; also enforces CSRF on writes.

    Args:
        roles: roles of logged-in users that may call the route.
        public: anyone may call it, logged in or not.
        csrf: check a CSRF token on POST/PUT/PATCH/DELETE (on by default; a route that
            turns it off must authenticate each request some other way).

    Attributes:
        roles: as given (every role when public).
        public: as given.
        csrf: as given.
    """

    def __init__(self, roles: Iterable[Role], *, public: bool = False, csrf: bool = True) -> None:
        self.roles = frozenset(roles)
        self.public = public
        self.csrf = csrf
        if not self.roles and not public:
            raise ValueError("a route must admit at least one role, or be public")

    def __repr__(self) -> str:
        if self.public:
            return "Allow(public)"
        return f"Allow({', '.join(sorted(r.value for r in self.roles))})"

    async def __call__(self, request: Request, actor: ActorDep) -> Actor:
        """Check the actor and, for writes, the CSRF token.

        Returns:
            The actor, so a route may also take ``Annotated[Actor, Depends(READ)]``.

        Raises:
            LoginRequired: an anonymous request to a non-public route.
            PermissionDenied: the wrong role, or a missing or wrong CSRF token.
        """
        if not self.public:
            if actor.user is None:
                raise LoginRequired("log in to see this page")
            if actor.user.role not in self.roles:
                raise PermissionDenied(f"your role ({actor.user.role.value}) may not use this page")
        if self.csrf and request.method not in SAFE_METHODS:
            if self.public:
                # Public forms (login, later the tip line) have no session to tie a token
                # to: they use the double-submit cookie instead.
                await check_form_token(request)
            else:
                await check_session_token(request, actor.csrf_token)
        return actor


def allow(*roles: Role) -> Allow:
    """Admit logged-in users with one of ``roles``.

    Example: ``@router.get("/cases", dependencies=[Depends(allow(Role.ADMIN))])``
    """
    if Role.PUBLIC in roles:
        raise ValueError("use allow_public() for routes anonymous visitors may use")
    return Allow(roles)


def allow_public() -> Allow:
    """Admit everyone, including anonymous visitors (forms use a pre-session CSRF token)."""
    return Allow(Role, public=True)


def allow_logged_in() -> Allow:
    """Admit any logged-in user, whatever their role (e.g. logout)."""
    return Allow(Role)


# The declarations routes use; new audiences get a new constant here rather than ad hoc.
PUBLIC = allow_public()
LOGGED_IN = allow_logged_in()
READ = allow(*READERS)
WRITE = allow(*WRITERS)
ADMIN_ONLY = allow(*ADMINS)


def _walk(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _walk(sub)


def iter_routes(app: FastAPI) -> Iterator[Any]:
    """Every route of the app, routes of included routers included.

    FastAPI (0.120+) keeps an included router as one entry of ``app.routes``;
    ``iter_route_contexts`` expands it into the effective routes, whose ``dependant``
    carries the router's dependencies too. Each item has ``path``, ``path_format``,
    ``methods`` and, for API routes, ``dependant``.
    """
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI copies routes into app.routes on include
        yield from app.routes
        return
    yield from iter_route_contexts(app.routes)


def route_permissions(route: Any) -> list[Allow]:
    """Every :class:`Allow` a route depends on (directly, via its router, or nested)."""
    dependant = getattr(route, "dependant", None)
    if not isinstance(dependant, Dependant):
        return []
    return [d.call for d in _walk(dependant) if isinstance(d.call, Allow)]


def route_permission(route: Any) -> Allow | None:
    """The one :class:`Allow` a route (an item of :func:`iter_routes`) declares, or None.

    Raises:
        ValueError: the route declares more than one, which would be ambiguous.
    """
    found = route_permissions(route)
    if len(found) > 1:
        raise ValueError(f"route {getattr(route, 'path', route)!r} declares {found}")
    return found[0] if found else None


def clean_text(text: str) -> str:
    """``text`` without control characters, trimmed.

    Queries and ids go to SQL as bound parameters, so this is not about injection: NUL
    is refused by PostgreSQL, and bidi or escape characters only confuse the page.
    """
    return "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cs")).strip()


# Shared parameter aliases, so every route validates the same way.
SearchQuery = Annotated[
    str,
    Query(max_length=500, description="Name (any script) or identifier, e.g. an IMO number."),
]
SchemaQuery = Annotated[
    str | None,
    Query(max_length=64, description="Only entities of this FtM schema (or its descendants)."),
]
LimitQuery = Annotated[int, Query(ge=1, le=100, description="How many results, 1-100.")]
EntityIdPath = Annotated[
    str, Path(min_length=1, max_length=255, description="Entity id (canonical or source id).")
]
