"""The screening page: upload a supplier CSV, see the results, download the report.

``POST /screen`` takes the CSV (multipart; the app's upload limit applies), screens it
(:mod:`tidetrace.screen.screening`) and shows the results with links to the report as
HTML, CSV (formula-neutralised) and JSON. The three files are kept under the workspace's
``tmp/screen`` for :data:`KEEP_HOURS` and can be downloaded only by the user who uploaded
the list; the list itself is not kept.
"""

import json
import re
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from tidetrace.exc import InputError, NotFoundError
from tidetrace.graph.graphdb import Window
from tidetrace.screen.index import get_index
from tidetrace.screen.report import render, report_tables
from tidetrace.screen.screening import parse_suppliers, screen_suppliers
from tidetrace.web.context import doc
from tidetrace.web.deps import READ, ActorDep, WorkspaceDep
from tidetrace.web.render import render_page
from tidetrace.workspace import Workspace

__all__ = ["KEEP_HOURS", "ScreenContext", "router"]

router = APIRouter()

KEEP_HOURS = 24
FORMATS = ("html", "csv", "json")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
MEDIA = {
    "html": "text/html; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
}
TokenPath = Annotated[str, PathParam(min_length=32, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
FormatPath = Annotated[Literal["html", "csv", "json"], PathParam(description="html, csv or json")]


@dataclass
class ScreenContext:
    """What the screening page shows."""

    threshold: float = field(metadata=doc("Score at which a candidate counts as the supplier."))
    results: Markup | None = field(
        metadata=doc("The screened list as escaped HTML tables, or None before an upload.")
    )
    downloads: dict[str, str] = field(metadata=doc("Format → URL of the downloadable report."))
    counts: dict[str, int] = field(metadata=doc("Suppliers per status."))
    filename: str = field(metadata=doc("The uploaded file's name."))
    error: str | None = field(metadata=doc("Why the upload could not be screened, if so."))


def _dir(ws: Workspace) -> Path:
    path = ws.tmp_dir / "screen"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _sweep(folder: Path) -> None:
    cutoff = time.time() - KEEP_HOURS * 3600
    for path in folder.iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            continue


def _empty(threshold: float = 0.7, error: str | None = None) -> ScreenContext:
    return ScreenContext(threshold, None, {}, {}, "", error)


@router.get(
    "/screen",
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(READ)],
)
def screen_page(request: Request, actor: ActorDep) -> HTMLResponse:
    """The upload form."""
    return render_page(request, "screen_page.html", _empty(), title="Screen suppliers", actor=actor)


@router.post(
    "/screen",
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(READ)],
)
def screen_upload(
    request: Request,
    ws: WorkspaceDep,
    actor: ActorDep,
    suppliers: Annotated[UploadFile, File(description="Supplier list (CSV, UTF-8)")],
    threshold: Annotated[float, Form(ge=0.0, le=1.0)] = 0.7,
    since: Annotated[str, Form(max_length=10)] = "",
    until: Annotated[str, Form(max_length=10)] = "",
) -> HTMLResponse:
    """Screen the uploaded list and show the results with download links."""
    from datetime import date

    assert actor.user is not None  # READ admits logged-in readers only
    name = (suppliers.filename or "suppliers.csv").replace("\\", "/").rsplit("/", 1)[-1][:120]
    try:
        raw = suppliers.file.read()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InputError(
                name, "not UTF-8: save the list as 'CSV UTF-8' and upload it again"
            ) from None
        try:
            window = Window(
                date.fromisoformat(since) if since else None,
                date.fromisoformat(until) if until else None,
            )
        except ValueError:
            raise InputError("since", "dates are YYYY-MM-DD") from None
        rows = parse_suppliers(text, name)
    except InputError as exc:
        ctx = _empty(threshold, exc.detail)
        return render_page(
            request, "screen_page.html", ctx, title="Screen suppliers", status_code=422, actor=actor
        )
    report = screen_suppliers(
        ws, get_index(ws), rows, threshold=threshold, window=window, source=name
    )
    folder = _dir(ws)
    _sweep(folder)
    token = secrets.token_urlsafe(32)
    for fmt in FORMATS:
        (folder / f"{token}.{fmt}").write_text(render(report, fmt), encoding="utf-8", newline="")  # type: ignore[arg-type]
    (folder / f"{token}.owner").write_text(json.dumps({"user": actor.user.id, "file": name}))
    ctx = ScreenContext(
        threshold=threshold,
        results=report_tables(report, link=True),
        downloads={fmt: f"/screen/reports/{token}.{fmt}" for fmt in FORMATS},
        counts=report.counts(),
        filename=name,
        error=None,
    )
    return render_page(request, "screen_page.html", ctx, title="Screening results", actor=actor)


@router.get(
    "/screen/reports/{token}.{fmt}",
    include_in_schema=False,
    dependencies=[Depends(READ)],
)
def screen_download(
    token: TokenPath, fmt: FormatPath, ws: WorkspaceDep, actor: ActorDep
) -> Response:
    """A screening report, to the user who uploaded the list (others get 404)."""
    if not _TOKEN.match(token) or fmt not in FORMATS or actor.user is None:
        raise NotFoundError("no such report")
    folder = _dir(ws)
    try:
        owner = json.loads((folder / f"{token}.owner").read_text())
        body = (folder / f"{token}.{fmt}").read_bytes()
    except (OSError, ValueError):
        raise NotFoundError("no such report (reports are kept for a day)") from None
    if owner.get("user") != actor.user.id:
        raise NotFoundError("no such report")
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(str(owner.get("file", "suppliers"))).stem)[:60]
    return Response(
        body,
        media_type=MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="screening-{stem}.{fmt}"'},
    )
