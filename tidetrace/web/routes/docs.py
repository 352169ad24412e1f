"""API documentation: ``/openapi.json`` and a server-rendered reference at ``/docs``.

FastAPI's default ``/docs`` loads Swagger UI from a CDN and starts it with an inline
script; our CSP (``script-src 'self'``) and the no-CDN rule forbid both. So ``/docs`` is a
plain page rendered from the same OpenAPI document, listing who may call each endpoint.
Both need a reader's login: the public pages already say what tidetrace is, and the API
surface of an investigation server is nobody else's business.
"""

from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse

from tidetrace.web.context import doc
from tidetrace.web.deps import READ, ActorDep, iter_routes, route_permission
from tidetrace.web.render import render_page

__all__ = ["DocsContext", "EndpointDoc", "ParamDoc", "build_docs", "router"]

router = APIRouter()


@dataclass
class ParamDoc:
    """One parameter of an endpoint."""

    name: str = field(metadata=doc("Parameter name."))
    where: str = field(metadata=doc("query, path, header or cookie."))
    required: bool = field(metadata=doc("Whether it must be given."))
    type: str = field(metadata=doc("JSON schema type and limits, in short."))
    description: str = field(metadata=doc("What it means."))


@dataclass
class EndpointDoc:
    """One API endpoint."""

    method: str = field(metadata=doc("HTTP method."))
    path: str = field(metadata=doc("URL path, with {placeholders}."))
    summary: str = field(metadata=doc("One line on what it does."))
    description: str = field(metadata=doc("Longer description (the route's docstring)."))
    audience: str = field(metadata=doc("Who may call it: 'public' or the roles."))
    params: list[ParamDoc] = field(metadata=doc("Its parameters."))
    response: str = field(metadata=doc("Name of the response model."))


@dataclass
class DocsContext:
    """What the API reference page shows."""

    title: str = field(metadata=doc("API title."))
    version: str = field(metadata=doc("API version."))
    endpoints: list[EndpointDoc] = field(metadata=doc("Endpoints by path."))


def _type_text(schema: dict[str, Any]) -> str:
    if "anyOf" in schema:
        return " or ".join(_type_text(s) for s in schema["anyOf"])
    parts = [str(schema.get("type", "any"))]
    for key in ("minimum", "maximum", "minLength", "maxLength"):
        if key in schema:
            parts.append(f"{key}={schema[key]}")
    return " ".join(parts)


def _audiences(app: FastAPI) -> dict[tuple[str, str], str]:
    out: dict[tuple[str, str], str] = {}
    for route in iter_routes(app):
        allowed = route_permission(route)
        path = getattr(route, "path_format", None)
        if allowed is None or path is None:
            continue
        audience = "public" if allowed.public else ", ".join(sorted(r.value for r in allowed.roles))
        for method in getattr(route, "methods", None) or ():
            out[(method.lower(), path)] = audience
    return out


def build_docs(app: FastAPI) -> DocsContext:
    """Fill the reference page's context from the app's OpenAPI document."""
    spec = app.openapi()
    audiences = _audiences(app)
    endpoints = []
    for path, operations in sorted(spec.get("paths", {}).items()):
        for method, op in operations.items():
            params = [
                ParamDoc(
                    name=p["name"],
                    where=p.get("in", ""),
                    required=bool(p.get("required")),
                    type=_type_text(p.get("schema", {})),
                    description=p.get("description") or p.get("schema", {}).get("description", ""),
                )
                for p in op.get("parameters", [])
            ]
            ok = op.get("responses", {}).get("200", {})
            ref = ok.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
            endpoints.append(
                EndpointDoc(
                    method=method.upper(),
                    path=path,
                    summary=op.get("summary", ""),
                    description=op.get("description", ""),
                    audience=audiences.get((method, path), "?"),
                    params=params,
                    response=ref.rsplit("/", 1)[-1] if ref else "",
                )
            )
    info = spec.get("info", {})
    return DocsContext(
        title=info.get("title", ""), version=info.get("version", ""), endpoints=endpoints
    )


@router.get("/openapi.json", include_in_schema=False, dependencies=[Depends(READ)])
def openapi_json(request: Request) -> JSONResponse:
    """The OpenAPI document of the JSON API."""
    return JSONResponse(request.app.openapi())


@router.get(
    "/docs", response_class=HTMLResponse, include_in_schema=False, dependencies=[Depends(READ)]
)
def docs_page(request: Request, actor: ActorDep) -> HTMLResponse:
    """A readable reference of the JSON API."""
    ctx = build_docs(request.app)
    return render_page(request, "docs.html", ctx, title="API reference", actor=actor)
