"""Screen a buyer's supplier list: who each supplier is, what is known against it, and how
much of what it bought traces to flagged facilities.

Input is a CSV with a header. Only a name column is required; columns are recognised by
name, case-insensitively (:data:`COLUMN_ALIASES`): ``name``, ``country``, ``address``,
``identifier`` (an approval code, IMO, LEI, registration number …), and the buyer's own
``ref``. Other columns are carried through to the report. Names may be in any script.

For each supplier the report gives the best matches with explained scores (the entity-
resolution scorer, :mod:`tidetrace.screen.matching`), the flags on the best match, and,
when that entity is in the supply graph, its exposure: kilograms received, the most of it
that can trace to flagged facilities, and through whom (:mod:`tidetrace.graph.exposure`).
"""

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tidetrace.exc import InputError
from tidetrace.graph.graphdb import Window
from tidetrace.resolve.records import Record
from tidetrace.screen.index import ScreenIndex
from tidetrace.screen.matching import DEFAULT_THRESHOLD, ScoredMatch, example_record, match_example
from tidetrace.workspace import Workspace

__all__ = [
    "COLUMN_ALIASES",
    "MAX_SUPPLIERS",
    "ScreenReport",
    "Supplier",
    "SupplierResult",
    "parse_suppliers",
    "read_suppliers",
    "screen_suppliers",
]

COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "name": (
        "name",
        "supplier",
        "supplier_name",
        "company",
        "company_name",
        "vendor",
        "名称",
        "供应商",
        "공급업체",
        "상호",
    ),
    "country": ("country", "country_code", "nation", "国家", "국가"),
    "address": ("address", "addr", "地址", "주소"),
    "identifier": (
        "identifier",
        "identifiers",
        "registration_number",
        "reg_no",
        "approval_code",
        "approval_number",
        "establishment_code",
        "imo",
        "lei",
        "uscc",
        "fei",
    ),
    "ref": ("ref", "id", "reference", "supplier_id", "vendor_id", "code"),
}
MAX_SUPPLIERS = 20_000
MAX_MATCHES = 5
MAX_CELL = 2000
# Candidates scoring below this are not worth a reader's time, even as near misses.
NEAR_MISS = 0.2


@dataclass
class Supplier:
    """One row of the supplier list.

    Attributes:
        row: 1-based line number in the file.
        name: the supplier's name as given.
        country: as given (name or code), or None.
        address: as given, or None.
        identifiers: identifiers as given (a cell may hold several, split on ``;``).
        ref: the buyer's own reference, or None.
        extra: other columns, carried through to the report.
    """

    row: int
    name: str
    country: str | None = None
    address: str | None = None
    identifiers: list[str] = field(default_factory=list)
    ref: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def example(self) -> dict[str, list[str]]:
        """The supplier as FtM properties (what a ``/match`` query would send)."""
        props: dict[str, list[str]] = {"name": [self.name]}
        if self.country:
            props["country"] = [self.country]
        if self.address:
            props["address"] = [self.address]
        if self.identifiers:
            props["registrationNumber"] = list(self.identifiers)
        return props


@dataclass
class SupplierResult:
    """What screening found for one supplier.

    Attributes:
        supplier: the input row.
        status: ``flagged`` (the match itself is flagged), ``exposed`` (it received goods
            that can trace to flagged facilities), ``match`` (known, nothing found
            against it), ``no-match``, or ``error`` (the row could not be read).
        matches: the best candidates, best first.
        best: the best candidate at or above the threshold, or None.
        exposure: exposure of the best match when it is in the supply graph.
        error: why the row could not be screened.
    """

    supplier: Supplier
    status: str
    matches: list[ScoredMatch] = field(default_factory=list)
    best: ScoredMatch | None = None
    exposure: dict[str, Any] | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        s = self.supplier
        return {
            "row": s.row,
            "ref": s.ref,
            "input": {
                "name": s.name,
                "country": s.country,
                "address": s.address,
                "identifiers": s.identifiers,
                **({"extra": s.extra} if s.extra else {}),
            },
            "status": self.status,
            "error": self.error,
            "best": _match_dict(self.best) if self.best else None,
            "matches": [_match_dict(m) for m in self.matches],
            "flags": self.best.flags if self.best else [],
            "exposure": self.exposure,
        }


def _match_dict(m: ScoredMatch) -> dict[str, Any]:
    return {
        "id": m.entry.id,
        "caption": m.entry.caption,
        "schema": m.entry.schema,
        "datasets": m.entry.datasets,
        "score": m.score,
        "match": m.match,
        "features": m.features,
        "explanation": m.explain(),
        "flags": m.flags,
    }


@dataclass
class ScreenReport:
    """A screened supplier list."""

    results: list[SupplierResult]
    threshold: float
    window: Window
    generated_at: str
    graph_version: str | None
    index_size: int
    source: str = ""

    def counts(self) -> dict[str, int]:
        """Suppliers per status."""
        out: dict[str, int] = {}
        for r in self.results:
            out[r.status] = out.get(r.status, 0) + 1
        return out

    def to_dict(self) -> dict[str, Any]:
        """The JSON report."""
        return {
            "source": self.source,
            "generated_at": self.generated_at,
            "threshold": self.threshold,
            "window": self.window.to_dict(),
            "graph_version": self.graph_version,
            "index_size": self.index_size,
            "counts": self.counts(),
            "suppliers": [r.to_dict() for r in self.results],
        }


def _column_map(header: list[str], path: str) -> dict[str, int]:
    lowered = [h.strip().lower().replace(" ", "_") for h in header]
    found: dict[str, int] = {}
    for std, aliases in COLUMN_ALIASES.items():
        for alias in aliases:
            if alias in lowered:
                found[std] = lowered.index(alias)
                break
    if "name" not in found:
        names = ", ".join(COLUMN_ALIASES["name"][:5])
        raise InputError(path, f"no name column (one of: {names} …)", line=1)
    return found


def parse_suppliers(text: str, path: str = "-") -> list[Supplier]:
    """Suppliers from CSV text (any delimiter among , ; tab; a header row).

    Raises:
        InputError: no header, no name column, too many rows, or malformed CSV.
    """
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise InputError(path, "the file is empty")
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        header = next(reader)
        columns = _column_map(header, path)
        known = set(columns.values())
        suppliers: list[Supplier] = []
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if len(suppliers) >= MAX_SUPPLIERS:
                raise InputError(path, f"more than {MAX_SUPPLIERS} suppliers; split the file")

            def cell(std: str, row: list[str] = row) -> str | None:
                i = columns.get(std)
                if i is None or i >= len(row):
                    return None
                value = " ".join(row[i].split())[:MAX_CELL]
                return value or None

            extra = {
                header[i].strip(): row[i][:MAX_CELL]
                for i in range(min(len(header), len(row)))
                if i not in known and header[i].strip()
            }
            idents = cell("identifier")
            suppliers.append(
                Supplier(
                    row=reader.line_num,
                    name=cell("name") or "",
                    country=cell("country"),
                    address=cell("address"),
                    identifiers=[v.strip() for v in (idents or "").split(";") if v.strip()],
                    ref=cell("ref"),
                    extra=extra,
                )
            )
    except csv.Error as exc:
        raise InputError(path, f"malformed CSV: {exc}", line=reader.line_num) from None
    except StopIteration:
        raise InputError(path, "no header row") from None
    return suppliers


def read_suppliers(path: Path, encoding: str = "utf-8-sig") -> list[Supplier]:
    """Suppliers from a CSV file.

    Raises:
        InputError: unreadable file, wrong encoding (with a hint), or bad CSV.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(path, f"cannot read file: {exc.strerror or exc}") from None
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InputError(
            path,
            f"not {encoding}: {exc.reason} at byte {exc.start}; "
            "try --encoding gb18030 (Chinese) or --encoding cp949 (Korean)",
        ) from None
    except LookupError:
        raise InputError("--encoding", f"unknown encoding {encoding!r}") from None
    return parse_suppliers(text, str(path))


def _exposure_summary(ws: Workspace, entity_id: str, window: Window) -> dict[str, Any] | None:
    from tidetrace.graph.exposure import exposure
    from tidetrace.graph.flags import load_flag_index
    from tidetrace.graph.graphdb import open_graph

    try:
        graph = open_graph(ws)
    except Exception:  # noqa: BLE001 - no graph built: nothing to trace
        return None
    if entity_id not in graph.index:
        return None
    result = exposure(graph, load_flag_index(ws.engine), entity_id, window)
    share = result.share
    return {
        "kg_in": round(result.kg_in, 1),
        "kg_flagged": round(result.kg_flagged, 1),
        "kg_flagged_before": round(result.kg_flagged_before, 1),
        "share": None if share is None else round(share, 4),
        "sources": [
            {
                "id": s.id,
                "name": s.name,
                "tier": s.tier,
                "kg": s.to_dict()["kg"],
                "flags": [f["reason"] for f in s.flags],
            }
            for s in result.sources
        ],
        "asserted_sources": [
            {"id": s.id, "name": s.name, "tier": s.tier, "confidence": s.confidence}
            for s in result.asserted
        ],
        "via": [v.to_dict() for v in result.via if v.kg_flagged > 0],
    }


def screen_suppliers(
    ws: Workspace,
    index: ScreenIndex,
    suppliers: list[Supplier],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    window: Window | None = None,
    limit: int = MAX_MATCHES,
    source: str = "",
) -> ScreenReport:
    """Screen every supplier.

    Args:
        ws: the workspace (for the graph).
        index: the screening index.
        suppliers: the rows to screen.
        threshold: score at which a candidate counts as the supplier.
        window: time window for exposure.
        limit: candidates reported per supplier.
        source: the file name, for the report.

    Returns:
        The report.
    """
    window = window or Window()
    cache: dict[str, dict[str, Any] | None] = {}
    results: list[SupplierResult] = []
    for supplier in suppliers:
        if not supplier.name:
            results.append(SupplierResult(supplier, "error", error="no name"))
            continue
        try:
            record: Record = example_record("Company", supplier.example(), f"row-{supplier.row}")
        except InputError as exc:
            results.append(SupplierResult(supplier, "error", error=exc.reason))
            continue
        _total, matches = match_example(
            index, record, limit=limit, threshold=threshold, cutoff=NEAR_MISS
        )
        best = matches[0] if matches and matches[0].match else None
        exposure = None
        status = "no-match"
        if best is not None:
            if best.entry.id not in cache:
                cache[best.entry.id] = _exposure_summary(ws, best.entry.id, window)
            exposure = cache[best.entry.id]
            if best.flags:
                status = "flagged"
            elif exposure and (exposure["kg_flagged"] > 0 or exposure["asserted_sources"]):
                status = "exposed"
            else:
                status = "match"
        results.append(SupplierResult(supplier, status, matches, best, exposure))
    return ScreenReport(
        results=results,
        threshold=threshold,
        window=window,
        generated_at=datetime.now(UTC).replace(microsecond=0).isoformat(),
        graph_version=index.graph_version,
        index_size=len(index.entries),
        source=source,
    )
