"""Traces as HTML: one self-contained offline file, and the pieces the web pages reuse.

The offline report inlines the vendored d3 and d3-sankey (``tidetrace/web/static/vendor``,
licences beside them) and :file:`assets/trace.js`, so it opens from disk with no network.
The web pages load the same files from ``/static/vendor`` and ``/graph/assets`` instead,
because the app's Content-Security-Policy forbids inline scripts.
"""

import re
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from tidetrace.graph.exposure import ExposureResult
from tidetrace.graph.trace import TraceResult

__all__ = ["ASSETS", "VENDOR", "asset_path", "kg_text", "report_html", "trace_tables"]

ASSETS = Path(__file__).parent / "assets"
VENDOR = Path(__file__).parent.parent / "web" / "static" / "vendor"
TEMPLATES = Path(__file__).parent / "templates"
_ASSET_NAME = re.compile(r"^[a-z0-9_-]+\.(js|css)$")


def asset_path(name: str) -> Path | None:
    """The file of a graph asset (``trace.js``, ``trace.css``), or None for any other name."""
    if not _ASSET_NAME.match(name):
        return None
    path = ASSETS / name
    return path if path.is_file() else None


def kg_text(value: float | None) -> str:
    """Kilograms for a table cell: ``12,345`` or ``–`` when unknown."""
    if value is None:
        return "–"
    return f"{value:,.0f}"


def _entity_url(entity_id: str) -> str:
    from urllib.parse import quote

    return "/entities/" + quote(entity_id, safe="")


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["kg"] = kg_text
    env.filters["entity_url"] = _entity_url
    return env


def _script(path: Path) -> Markup:
    text = path.read_text(encoding="utf-8")
    # Inlined code must not end the <script> element early.
    return Markup(text.replace("</script", "<\\/script"))  # noqa: S704 - our own vendored files


def trace_tables(result: TraceResult, link: bool = False) -> Markup:
    """The entities and paths tables of a trace as HTML (escaped).

    Args:
        result: the trace.
        link: link entity names to their pages (the web app) or not (offline files).
    """
    names = {n.id: n.name for n in result.nodes}
    html = _env().get_template("_tables.html").render(result=result, names=names, link=link)
    return Markup(html)  # noqa: S704 - rendered by an autoescaping environment


def report_html(
    result: TraceResult,
    title: str | None = None,
    exposure: ExposureResult | None = None,
) -> str:
    """A standalone HTML report of a trace (or an exposure and its upstream trace).

    Args:
        result: the trace to draw.
        title: the page title (default from the start's name and direction).
        exposure: when given, its figures head the report.

    Returns:
        The HTML document, with every script inlined.
    """
    start = result.node(result.start)
    start_name = start.name if start is not None else result.start
    title = title or f"{start_name}: {result.direction} trace"
    summary: list[tuple[str, str]] = []
    if exposure is not None:
        share = exposure.share
        summary = [
            ("Received", f"{kg_text(exposure.kg_in)} kg"),
            (
                "Can trace to flagged",
                f"≤ {kg_text(exposure.kg_flagged)} kg"
                + (f" ({share:.1%} at most)" if share is not None else ""),
            ),
            ("Before flag dates", f"≤ {kg_text(exposure.kg_flagged_before)} kg"),
            (
                "Through",
                ", ".join(f"{v.name} (≤ {kg_text(v.kg_flagged)} kg)" for v in exposure.via[:8])
                or "–",
            ),
        ]
    data: dict[str, Any] = result.to_dict()
    return (
        _env()
        .get_template("report.html")
        .render(
            title=title,
            start_name=start_name,
            result=result,
            summary=summary,
            data=data,
            tables=trace_tables(result),
            css=Markup((ASSETS / "trace.css").read_text(encoding="utf-8")),  # noqa: S704
            d3=_script(VENDOR / "d3" / "d3.min.js"),
            sankey=_script(VENDOR / "d3-sankey" / "d3-sankey.min.js"),
            script=_script(ASSETS / "trace.js"),
            generated=datetime.now(UTC).replace(microsecond=0).isoformat(),
        )
    )
