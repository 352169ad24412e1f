"""Page rendering: one Jinja2 environment (autoescape always on) and the page helper.

Views fill a context dataclass (see :mod:`tidetrace.web.context`) and call
:func:`render_page`; templates read it as ``ctx`` and the actor as ``actor``.
"""

from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from followthemoney.types import registry
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import HTMLResponse

from tidetrace.model import model
from tidetrace.web.csrf import set_form_cookie
from tidetrace.web.deps import Actor, actor_for

__all__ = ["TEMPLATE_DIR", "entity_url", "environment", "render_page"]

TEMPLATE_DIR = Path(__file__).parent / "templates"


def entity_url(entity_id: str) -> str:
    """The page of an entity; the id is percent-encoded as one path segment."""
    return "/entities/" + quote(entity_id, safe="")


def safe_href(url: str | None) -> str | None:
    """``url`` when it is http(s), else None: dataset URLs come from imported files."""
    if url is None:
        return None
    scheme = urlsplit(url.strip()).scheme.lower()
    return url.strip() if scheme in ("http", "https") else None


def schema_label(name: str) -> str:
    """The human label of a schema name (the name itself when unknown)."""
    schema = model.get(name)
    return schema.label if schema is not None else name


def topic_label(code: str) -> str:
    """The label of an FtM topic code, e.g. ``sanction`` → "Sanctioned"."""
    label = registry.topic.caption(code)
    return str(label) if label else code


def value_hint(value: str, prop_type: str) -> str | None:
    """A readable name for a coded value (``kp`` → "North Korea"), or None."""
    if prop_type not in ("country", "topic", "language", "gender"):
        return None
    prop = registry.get(prop_type)
    caption = prop.caption(value) if prop is not None else None
    return str(caption) if caption and caption != value else None


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The Jinja2 environment; autoescape is on for every template, not only ``.html``."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["entity_url"] = entity_url
    env.filters["safe_href"] = safe_href
    env.filters["schema_label"] = schema_label
    env.filters["topic_label"] = topic_label
    env.filters["value_hint"] = value_hint
    return env


def render_page(
    request: Request,
    template: str,
    ctx: Any,
    *,
    title: str,
    status_code: int = 200,
    actor: Actor | None = None,
    extra: dict[str, Any] | None = None,
) -> HTMLResponse:
    """Render ``template`` with ``ctx`` into a response.

    Args:
        request: the request (for the actor and the pre-session CSRF cookie).
        template: template file name under ``templates/``.
        ctx: the view's context dataclass, available as ``ctx``.
        title: the page title (escaped like everything else).
        status_code: the HTTP status.
        actor: the actor; looked up from the request when not given.
        extra: further template variables (error pages use it).

    Returns:
        The HTML response, with the double-submit cookie set when a public form minted one.
    """
    actor = actor if actor is not None else actor_for(request)
    variables: dict[str, Any] = {
        "ctx": ctx,
        "actor": actor,
        "title": title,
        "path": request.url.path,
        "top_query": getattr(ctx, "query", ""),
    }
    variables.update(extra or {})
    html = environment().get_template(template).render(variables)
    response = HTMLResponse(html, status_code=status_code)
    set_form_cookie(request, response, request.app.state.settings.cookie_secure)
    return response
