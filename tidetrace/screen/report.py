"""Write a screening report as HTML, CSV or JSON.

CSV cells go through :func:`tidetrace.screen.safety.neutralise`: supplier names come from
the buyer's file and candidate names from trade records typed by strangers, and either may
start with ``=`` (CSV injection). HTML is autoescaped; JSON is JSON.
"""

import io
import json
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from tidetrace.exc import InputError
from tidetrace.graph.render import ASSETS
from tidetrace.screen.safety import neutralise
from tidetrace.screen.screening import ScreenReport

__all__ = ["CSV_COLUMNS", "Format", "format_for", "render", "report_tables", "write_csv"]

Format = Literal["html", "csv", "json"]
TEMPLATES = Path(__file__).parent / "templates"
CSV_COLUMNS = (
    "row",
    "ref",
    "name",
    "country",
    "address",
    "identifiers",
    "status",
    "best_id",
    "best_name",
    "best_schema",
    "best_datasets",
    "score",
    "explanation",
    "flags",
    "kg_received",
    "kg_traceable_to_flagged",
    "share_traceable_to_flagged",
    "flagged_sources",
    "through",
    "other_candidates",
)


def format_for(path: Path | None, given: str | None = None) -> Format:
    """The report format: as given, else from the file extension, else JSON on stdout."""
    name = (given or (path.suffix.lstrip(".") if path is not None else "json")).lower()
    if name not in ("html", "csv", "json"):
        raise InputError("-o", f"cannot write {name!r}: use .html, .csv or .json")
    return name  # type: ignore[return-value]


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["entity_url"] = lambda i: "/entities/" + quote(str(i), safe="")
    return env


def report_tables(report: ScreenReport, link: bool = False) -> Markup:
    """The summary and results tables (escaped HTML), for the web page."""
    env = _env()
    html = env.get_template("_summary.html").render(report=report)
    html += env.get_template("_table.html").render(report=report, link=link)
    return Markup(html)  # noqa: S704 - rendered by an autoescaping environment


def write_csv(report: ScreenReport) -> str:
    """The report as CSV text, one row per supplier, every cell neutralised."""
    import csv

    out = io.StringIO()
    writer = csv.writer(out)
    extra_keys: list[str] = []
    for r in report.results:
        for key in r.supplier.extra:
            if key not in extra_keys:
                extra_keys.append(key)
    writer.writerow([neutralise(c) for c in (*CSV_COLUMNS, *extra_keys)])
    for r in report.results:
        s = r.supplier
        best = r.best
        exp = r.exposure or {}
        share = exp.get("share")
        row = [
            s.row,
            s.ref or "",
            s.name,
            s.country or "",
            s.address or "",
            "; ".join(s.identifiers),
            r.status if r.error is None else f"error: {r.error}",
            best.entry.id if best else "",
            best.entry.caption if best else "",
            best.entry.schema if best else "",
            ", ".join(best.entry.datasets) if best else "",
            f"{best.score:.4f}" if best else (f"{r.matches[0].score:.4f}" if r.matches else ""),
            best.explain() if best else "",
            "; ".join(f"{f['kind']}: {f['reason']}" for f in best.flags) if best else "",
            exp.get("kg_in", ""),
            exp.get("kg_flagged", ""),
            "" if share is None else f"{share:.4f}",
            "; ".join(x["name"] for x in exp.get("sources", [])),
            "; ".join(x["name"] for x in exp.get("via", [])),
            "; ".join(
                f"{m.entry.caption} ({m.score:.2f})"
                for m in r.matches
                if best is None or m.entry.id != best.entry.id
            ),
            *[s.extra.get(k, "") for k in extra_keys],
        ]
        writer.writerow([neutralise(v) for v in row])
    return out.getvalue()


def render(report: ScreenReport, fmt: Format) -> str:
    """The report in one format, as text."""
    if fmt == "json":
        return json.dumps(report.to_dict(), ensure_ascii=False, indent=2, default=str) + "\n"
    if fmt == "csv":
        # The byte-order mark makes spreadsheets read the CSV as UTF-8 (CJK names intact).
        return "\ufeff" + write_csv(report)
    css = Markup((ASSETS / "trace.css").read_text(encoding="utf-8"))  # noqa: S704 - our file
    return _env().get_template("report.html").render(report=report, link=False, css=css)
