"""An ingest report as plain data: what the HTTP API returns and the web page shows.

:class:`~tidetrace.shipments.ingest.IngestReport` is written for the terminal
(``summary_lines``); :func:`report_dict` gives the same facts as JSON-ready values, with
the rejects file named relative to the workspace (a client has no business with the
server's directories) and the first rejected rows read back from it.
"""

import csv
from pathlib import Path
from typing import Any

from tidetrace.shipments.ingest import IngestReport

__all__ = ["REJECTS_SHOWN", "read_rejects", "report_dict"]

# Rejected rows returned with a report; the rejects file has them all.
REJECTS_SHOWN = 20
_REJECT_FIELDS = ("file", "row", "field", "value", "reason")


def read_rejects(path: Path, limit: int = REJECTS_SHOWN) -> list[dict[str, Any]]:
    """The first ``limit`` rows of a rejects CSV (file, row, field, value, reason).

    Values are as the rejects file holds them: formula-neutralised text, so a value that
    began with ``=`` starts with ``'``.

    Args:
        path: the rejects CSV the ingest wrote.
        limit: how many rows at most.

    Returns:
        One dict per row, ``row`` as an int (None when the file has no number there).
    """
    out: list[dict[str, Any]] = []
    if limit <= 0 or not path.is_file():
        return out
    with open(path, encoding="utf-8", newline="") as fh:
        for record in csv.DictReader(fh):
            row = {name: record.get(name) or "" for name in _REJECT_FIELDS}
            number = str(row["row"])
            row["row"] = int(number) if number.isdigit() else None
            out.append(row)
            if len(out) >= limit:
                break
    return out


def _shown_path(path: Path, home: Path | None) -> str:
    if home is not None:
        try:
            return path.resolve().relative_to(home.resolve()).as_posix()
        except ValueError:
            pass
    return str(path)


def report_dict(
    report: IngestReport, home: Path | None = None, rejects_shown: int = REJECTS_SHOWN
) -> dict[str, Any]:
    """What an ingest did, as JSON-ready values.

    Args:
        report: the report :func:`~tidetrace.shipments.ingest.ingest_shipments` returned.
        home: the workspace directory; the rejects file is named relative to it.
        rejects_shown: how many rejected rows to include (0: none).

    Returns:
        ``dataset``, ``engine``, ``rows`` (stored by this run), ``rejected``, ``seconds``,
        ``max_reject_rate``; ``sources`` (one dict per file or AMS set: ``name``,
        ``sha256``, ``layout`` and ``encoding`` with how each was chosen, ``status`` —
        ingested, resumed, skipped or failed —, ``rows``, ``rejected``, ``reject_rate``,
        ``seconds``, ``message``); the names of the sources ``skipped`` as already
        ingested and of those ``failed`` (over the reject limit, not stored);
        ``rejects_file`` (None when no row was rejected) and its first ``rejects``.
    """
    sources = [
        {
            "name": s.name,
            "sha256": s.sha256,
            "layout": s.layout_note,
            "encoding": s.encoding_note,
            "status": s.status,
            "rows": s.rows,
            "rejected": s.rejected,
            "reject_rate": round(s.reject_rate, 6),
            "seconds": round(s.seconds, 3),
            "message": s.message,
        }
        for s in report.sources
    ]
    rejects_path = report.rejects_path
    return {
        "dataset": report.dataset,
        "engine": report.engine,
        "rows": report.rows,
        "rejected": report.rejected,
        "seconds": round(report.seconds, 3),
        "max_reject_rate": report.max_reject_rate,
        "sources": sources,
        "skipped": [s.name for s in report.sources if s.status == "skipped"],
        "failed": [s.name for s in report.failed],
        "rejects_file": None if rejects_path is None else _shown_path(rejects_path, home),
        "rejects": [] if rejects_path is None else read_rejects(rejects_path, rejects_shown),
    }
