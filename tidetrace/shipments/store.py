"""The shipments dataset on disk, and DuckDB queries over it.

Layout (hive style, so DuckDB and Spark both read the partition columns from the path)::

    <workspace>/parquet/shipments/dataset=<name>/src=<content hash>/
        arrival_year=2023/arrival_month=5/*.parquet      rows of one source
        _rejects/*.parquet                               its rejected rows

Each ingested source is one ``src=`` directory, published with a single rename, so a
query sees a source entirely or not at all. Rows without any arrival date sit under
``arrival_year=0/arrival_month=0``.

A bill filed again (amended, corrected, or the same bill in two overlapping exports) is
kept as another row with the same ``shipment_id`` (bill of lading + carrier). Queries
show each bill once, as its latest version: latest filing date, then the latest ingest,
then the later row; a latest version marked deleted hides the bill. ``history`` shows
every version.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from tidetrace.exc import InputError
from tidetrace.shipments.fields import PARQUET_SCHEMA
from tidetrace.shipments.normalize import clean_name
from tidetrace.workspace import Workspace

__all__ = [
    "VERSION_ORDER",
    "ShipmentQuery",
    "ShipmentStore",
    "arrival_window",
    "data_files",
    "dataset_dir",
    "source_dir",
]

ROOT = "shipments"
VERSION_ORDER = "filing_date DESC NULLS LAST, ingest_seq DESC, source_row DESC"
_PARTY_ID = re.compile(r"^tt-party-[0-9a-f]{24}$")


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def dataset_dir(ws: Workspace, dataset: str) -> Path:
    """Where a dataset's sources live."""
    return ws.parquet_dir / ROOT / f"dataset={dataset}"


def source_dir(ws: Workspace, dataset: str, sha256: str) -> Path:
    """Where one ingested source's rows live."""
    return dataset_dir(ws, dataset) / f"src={sha256[:24]}"


def data_files(directory: Path) -> list[Path]:
    """The row files under a source (or staging) directory, not its rejects."""
    if not directory.exists():
        return []
    return sorted(directory.glob("arrival_year=*/arrival_month=*/*.parquet"))


@dataclass
class ShipmentQuery:
    """Filters for :meth:`ShipmentStore.query`.

    Attributes:
        shipper: text in the shipper's cleaned name, or a party id.
        consignee: text in the consignee's cleaned name, or a party id.
        hs: HS code prefix (digits; dots allowed).
        since: first arrival date (inclusive).
        until: last arrival date (inclusive).
        bill: a bill of lading number; house bills under it as master match too.
        seafood: only bills with a seafood HS code.
        dataset: only this dataset.
        history: every version instead of the latest one.
        limit: at most this many rows (0: no limit).
        offset: skip this many rows first (the order is stable, so pages do not overlap).
    """

    shipper: str | None = None
    consignee: str | None = None
    hs: str | None = None
    since: date | None = None
    until: date | None = None
    bill: str | None = None
    seafood: bool = False
    dataset: str | None = None
    history: bool = False
    limit: int = 100
    offset: int = 0


def _day(text: str | None, option: str) -> date | None:
    if text is None or not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(option, f"{text!r} is not a date (YYYY-MM-DD)") from None


def arrival_window(since: str | None, until: str | None) -> tuple[date | None, date | None]:
    """The arrival days of a query as typed (``YYYY-MM-DD``; blank is not given).

    Raises:
        InputError: naming ``--since`` or ``--until``: not a date, or since after until.
    """
    first, last = _day(since, "--since"), _day(until, "--until")
    if first is not None and last is not None and first > last:
        raise InputError("--since", f"{first} is after --until {last}")
    return first, last


def _party_filter(column: str, text: str, params: list[Any]) -> str:
    if _PARTY_ID.match(text.strip()):
        params.append(text.strip())
        return f"{column}_id = ?"
    needle = clean_name(text)
    if not needle:
        raise InputError(f"--{column}", "nothing to search for after cleaning")
    params.append(needle)
    return f"contains({column}_name, ?)"


def _where(q: ShipmentQuery, params: list[Any]) -> str:
    clauses: list[str] = []
    if q.shipper:
        clauses.append(_party_filter("shipper", q.shipper, params))
    if q.consignee:
        clauses.append(_party_filter("consignee", q.consignee, params))
    if q.hs:
        digits = re.sub(r"[\s.\-]", "", q.hs)
        if not digits.isdigit() or len(digits) > 10:
            raise InputError("--hs", f"{q.hs!r} is not an HS code prefix (digits)")
        # Safe to inline: digits only, checked above (DuckDB takes no parameters in lambdas).
        clauses.append(f"len(list_filter(hs_code, lambda x: starts_with(x, '{digits}'))) > 0")
    arrival = "coalesce(arrival_date, estimated_arrival_date)"
    if q.since is not None:
        # The partition test lets DuckDB skip whole directories before reading a file.
        clauses.append(
            f"(arrival_year > {q.since.year} OR (arrival_year = {q.since.year} "
            f"AND arrival_month >= {q.since.month}))"
        )
        params.append(q.since)
        clauses.append(f"{arrival} >= ?")
    if q.until is not None:
        clauses.append(
            f"arrival_year > 0 AND (arrival_year < {q.until.year} OR (arrival_year = "
            f"{q.until.year} AND arrival_month <= {q.until.month}))"
        )
        params.append(q.until)
        clauses.append(f"{arrival} <= ?")
    if q.bill:
        number = re.sub(r"[^A-Za-z0-9]", "", q.bill).upper()
        if not number:
            raise InputError("--bill", "no letters or digits in the bill number")
        params.extend([number, number])
        clauses.append("(bill_of_lading = ? OR master_bill_of_lading = ?)")
    if q.seafood:
        clauses.append("is_seafood")
    return " AND ".join(clauses) if clauses else "true"


def _select(q: ShipmentQuery, columns: str) -> tuple[str, list[Any]]:
    """The SQL selecting ``columns`` of the rows ``q`` finds (no order, no limit)."""
    params: list[Any] = []
    where = _where(q, params)
    if q.history:
        return f"SELECT {columns} FROM all_versions WHERE {where}", params  # noqa: S608
    # Three steps, reading wide rows only once: the bills that match (partition pruning
    # applies), the latest version of each from a few narrow columns, then the matching
    # rows that are those latest versions.
    sql = (
        "WITH cand AS (SELECT DISTINCT dataset, shipment_id "  # noqa: S608
        f"FROM all_versions WHERE {where}), "
        "latest AS (SELECT v.dataset, v.row_id, v.record_status FROM all_versions v "
        "SEMI JOIN cand ON v.dataset = cand.dataset AND v.shipment_id = cand.shipment_id "
        "QUALIFY row_number() OVER (PARTITION BY v.dataset, v.shipment_id "
        f"ORDER BY {VERSION_ORDER}) = 1) "
        f"SELECT {columns} FROM all_versions a SEMI JOIN latest l ON l.dataset = a.dataset "
        "AND l.row_id = a.row_id AND l.record_status <> 'deleted' "
        f"WHERE {where}"
    )
    return sql, params + params


class ShipmentStore:
    """Read access to the shipments datasets of a workspace.

    Args:
        ws: the workspace.
    """

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.root = ws.parquet_dir / ROOT

    def datasets(self) -> list[str]:
        """Names of the datasets with at least one source."""
        if not self.root.exists():
            return []
        return sorted(
            p.name.removeprefix("dataset=")
            for p in self.root.glob("dataset=*")
            if any(p.glob("src=*/arrival_year=*/arrival_month=*/*.parquet"))
        )

    def files(self, dataset: str | None = None) -> list[Path]:
        """Every row file (of one dataset)."""
        pattern = f"dataset={dataset or '*'}/src=*/arrival_year=*/arrival_month=*/*.parquet"
        return sorted(self.root.glob(pattern)) if self.root.exists() else []

    def connect(self, dataset: str | None = None) -> duckdb.DuckDBPyConnection:
        """A DuckDB connection with the view ``all_versions`` (every row, every version).

        The view has the Parquet columns plus ``dataset``, ``src``, ``arrival_year`` and
        ``arrival_month`` from the directory names.
        """
        con = duckdb.connect()
        files = self.files(dataset)
        if not files:
            con.register("_empty", PARQUET_SCHEMA.empty_table())
            con.execute(
                "CREATE VIEW all_versions AS SELECT *, NULL::VARCHAR AS dataset, "
                "NULL::VARCHAR AS src, 0 AS arrival_year, 0 AS arrival_month FROM _empty"
            )
            return con
        pattern = str(self.root / f"dataset={dataset or '*'}" / "src=*" / "arrival_year=*")
        pattern += "/arrival_month=*/*.parquet"
        con.execute(
            "CREATE VIEW all_versions AS SELECT * FROM read_parquet("  # noqa: S608
            f"{_sql_text(pattern)}, hive_partitioning = true, "
            "hive_types = {'dataset': VARCHAR, 'src': VARCHAR, 'arrival_year': INTEGER, "
            "'arrival_month': INTEGER})"
        )
        return con

    def query(self, q: ShipmentQuery) -> pa.Table:
        """Bills matching the filters: the latest version of each (or every version).

        A bill whose latest version no longer matches (an amendment changed its consignee)
        is not returned: the filters apply to the version shown.
        """
        sql, params = _select(q, "*" if q.history else "a.*")
        if q.offset < 0:
            raise InputError("--offset", "must be 0 or more")
        limit = f"LIMIT {int(q.limit)}" if q.limit > 0 else ""
        limit += f" OFFSET {int(q.offset)}" if q.offset else ""
        order = "ORDER BY coalesce(arrival_date, estimated_arrival_date) NULLS LAST, dataset, "
        order += "bill_of_lading, ingest_seq, source_row"
        con = self.connect(q.dataset)
        try:
            return con.execute(f"{sql} {order} {limit}", params).to_arrow_table()
        finally:
            con.close()

    def count(self, q: ShipmentQuery) -> int:
        """How many bills :meth:`query` finds without its limit (versions, with ``history``)."""
        sql, params = _select(q, "count(*)")
        con = self.connect(q.dataset)
        try:
            row = con.execute(sql, params).fetchone()
        finally:
            con.close()
        return int(row[0]) if row is not None else 0

    def iter_latest(
        self, dataset: str | None = None, batch_rows: int = 65536
    ) -> Iterator[dict[str, Any]]:
        """Every bill's latest version, as dicts, streamed (for entity export)."""
        con = self.connect(dataset)
        try:
            reader = con.execute(
                "SELECT * FROM all_versions QUALIFY row_number() OVER "  # noqa: S608
                f"(PARTITION BY dataset, shipment_id ORDER BY {VERSION_ORDER}) = 1 "
                "AND record_status <> 'deleted' ORDER BY dataset, shipment_id"
            ).to_arrow_reader(batch_rows)
            for batch in reader:
                yield from batch.to_pylist()
        finally:
            con.close()

    def counts(self) -> dict[str, dict[str, int]]:
        """Per dataset: rows (every version) and bills (latest versions, not deleted)."""
        con = self.connect()
        try:
            rows = con.execute(
                "SELECT dataset, count(*), count(DISTINCT shipment_id) FROM all_versions "
                "GROUP BY dataset ORDER BY dataset"
            ).fetchall()
        finally:
            con.close()
        return {r[0]: {"rows": int(r[1]), "bills": int(r[2])} for r in rows if r[0] is not None}
