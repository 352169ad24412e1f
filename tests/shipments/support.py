"""Helpers for the shipments tests: workspaces, ingest calls, reading rows back, fixtures."""

import csv
import os
from pathlib import Path
from typing import Any

from tidetrace.shipments.ingest import IngestOptions, IngestReport, ingest_shipments
from tidetrace.shipments.store import ShipmentStore
from tidetrace.workspace import Workspace


def make_workspace(path: Path) -> Workspace:
    """A fresh SQLite workspace at ``path`` (for fixtures wider than one test)."""
    saved = os.environ.pop("TIDETRACE_DATABASE_URL", None)
    try:
        return Workspace.init(path)
    finally:
        if saved is not None:
            os.environ["TIDETRACE_DATABASE_URL"] = saved


def ingest(ws: Workspace, files: list[Path], **options: Any) -> IngestReport:
    """Ingest with the library API (options as for :class:`IngestOptions`)."""
    return ingest_shipments(ws, files, IngestOptions(**options))


def rows(
    ws: Workspace, sql: str = "SELECT * FROM all_versions ORDER BY row_id"
) -> list[dict[str, Any]]:
    """Rows of the workspace's shipments (every version) as dicts."""
    con = ShipmentStore(ws).connect()
    try:
        cursor = con.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    finally:
        con.close()


def write_csv(
    path: Path, header: list[str], lines: list[list[str]], encoding: str = "utf-8"
) -> Path:
    """A small CSV fixture."""
    with open(path, "w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(lines)
    return path
