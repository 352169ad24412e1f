"""Bills of lading over HTTP: the JSON API under ``/api/shipments`` and the ``/shipments`` page.

The same library calls as the CLI, so the three ways in cannot drift:

- ``GET /api/shipments`` is ``tidetrace shipments query`` (JSON rows as ``--json``
  prints them, or formula-safe CSV as ``--csv`` does), with the total number of matches;
- ``GET /api/shipments/ingests`` is ``tidetrace shipments ingests --json``;
- ``POST /api/shipments/ingest`` is ``tidetrace ingest shipments`` on uploaded files.

Uploads are written to a private directory under the workspace's ``tmp/`` with their
own names (sanitised: AMS tables are grouped into sets by name), ingested, and deleted
whatever happened. The app's body limit (``TIDETRACE_MAX_UPLOAD_MB``) caps a request.
The ingest itself is crash-safe: a failed run publishes nothing of the failed source.
"""

import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

import pyarrow as pa
from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from tidetrace.exc import InputError, TidetraceError
from tidetrace.shipments.export import json_rows, write_csv
from tidetrace.shipments.store import ShipmentQuery, ShipmentStore, arrival_window
from tidetrace.web.context import doc
from tidetrace.web.deps import READ, WRITE, Actor, ActorDep, SettingsDep, WorkspaceDep, clean_text
from tidetrace.web.models import ErrorResponse
from tidetrace.web.render import render_page
from tidetrace.workspace import Workspace

__all__ = [
    "MAX_FILES",
    "MAX_LIMIT",
    "PAGE_LIMIT",
    "BillRow",
    "IngestResponse",
    "PartyCell",
    "ShipmentFilters",
    "ShipmentsContext",
    "ShipmentsResponse",
    "router",
    "safe_file_name",
]

router = APIRouter()

# The most bills one answer holds (JSON or CSV); `tidetrace shipments export` has no cap.
MAX_LIMIT = 10_000
# Bills the page lists; the download links ask for up to MAX_LIMIT.
PAGE_LIMIT = 100
# The furthest a page may start; past it, 'tidetrace shipments export' is the tool.
MAX_OFFSET = 10_000_000
# Files one upload may hold (an AMS set is a handful of tables).
MAX_FILES = 20
LAYOUTS = ("generic", "ams", "panjiva", "importyeti", "importgenius")
FILTERS = ("shipper", "consignee", "hs", "since", "until", "seafood")
_UNSAFE_NAME = re.compile(r"[^\w.()+-]+")
_NAME_LIMIT = 120
# A column mapping is a page of YAML; anything near this is not one.
MAX_MAPPING_BYTES = 256 * 1024

READ_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse, "description": "Not logged in."},
    403: {"model": ErrorResponse, "description": "The user's role may not use this."},
    422: {"model": ErrorResponse, "description": "A bad filter, named in the detail."},
}

# ------------------------------------------------------------------ parameters

ShipperQuery = Annotated[
    str | None,
    Query(
        max_length=200,
        description="Text in the shipper's cleaned name (any case and punctuation), "
        "or a party id (tt-party-…).",
    ),
]
ConsigneeQuery = Annotated[
    str | None,
    Query(max_length=200, description="Text in the consignee's cleaned name, or a party id."),
]
HsQuery = Annotated[
    str | None,
    Query(max_length=13, description="HS code prefix: digits, dots allowed (0307, 1605.54)."),
]
SinceQuery = Annotated[
    str | None,
    Query(
        max_length=10,
        description="Arrived on or after this day (YYYY-MM-DD).",
        examples=["2023-01-01"],
    ),
]
UntilQuery = Annotated[
    str | None,
    Query(
        max_length=10,
        description="Arrived on or before this day (YYYY-MM-DD).",
        examples=["2023-12-31"],
    ),
]
BillQuery = Annotated[
    str | None,
    Query(max_length=64, description="Bill of lading number; house bills under it match too."),
]
SeafoodQuery = Annotated[
    bool, Query(description="Only bills with a seafood HS code (chapter 03, 1604, 1605).")
]
DatasetQuery = Annotated[
    str | None,
    Query(
        max_length=64,
        pattern=r"^[a-z][a-z0-9_]{1,63}$",
        description="Only this dataset (as given to the ingest).",
    ),
]
HistoryQuery = Annotated[
    bool, Query(description="Every filed version of each bill, not only the latest.")
]
ShipmentLimitQuery = Annotated[
    int, Query(ge=1, le=MAX_LIMIT, description=f"At most this many bills, 1-{MAX_LIMIT}.")
]
OffsetQuery = Annotated[
    int,
    Query(
        ge=0,
        le=MAX_OFFSET,
        description="Skip this many bills first: the next page is offset + limit (the order "
        "is stable, so pages neither overlap nor miss a bill).",
    ),
]
FormatQuery = Annotated[
    Literal["json", "csv"],
    Query(alias="format", description="json (every column) or csv (formula-safe columns)."),
]
IngestsDatasetQuery = Annotated[
    str | None,
    Query(max_length=64, pattern=r"^[a-z][a-z0-9_]{1,63}$", description="Only this dataset."),
]
FilesForm = Annotated[
    list[UploadFile],
    File(
        description="CSV/XLSX files of bills of lading; the tables of an AMS set go together. "
        "The request must fit the server's upload limit (TIDETRACE_MAX_UPLOAD_MB)."
    ),
]
MappingForm = Annotated[
    UploadFile | None,
    File(
        description="A YAML column mapping (as 'tidetrace ingest shipments --mapping') for a "
        "layout none of the built-in ones fits; used for every file, instead of `format`."
    ),
]
LayoutForm = Annotated[
    str,
    Form(
        alias="format",
        max_length=32,
        description=f"Layout: {', '.join(LAYOUTS)}; empty to detect it from the headers.",
    ),
]
IngestDatasetForm = Annotated[
    str,
    Form(max_length=64, description="Dataset to add the bills to (a-z, 0-9, _)."),
]
EncodingForm = Annotated[
    str,
    Form(max_length=32, description="Text encoding (gb18030, big5, cp949 …); empty to detect."),
]
RejectRateForm = Annotated[
    float,
    Form(
        ge=0.0,
        le=1.0,
        description="A file whose share of rejected rows is higher is not stored (0-1).",
    ),
]

# ------------------------------------------------------------------ response models


class _Model(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ShipmentsResponse(_Model):
    """Bills of lading matching the filters, the latest version of each."""

    total: int = Field(description="How many bills match (versions, with history).")
    limit: int = Field(description="The most bills asked for.")
    offset: int = Field(description="Bills skipped before this answer's first.")
    count: int = Field(
        description="Bills in this answer: `limit` at most, from `offset` on, by arrival date."
    )
    bills: list[dict[str, Any]] = Field(
        description="One object per bill with every stored column, as "
        "'tidetrace shipments query --json' prints it (dates as YYYY-MM-DD, hs_code a list)."
    )


class IngestRecordModel(_Model):
    """One ingested file (or AMS set) of a dataset."""

    id: int = Field(description="Ingest number (rows carry it as ingest_seq).")
    dataset: str = Field(description="Dataset.")
    sha256: str = Field(description="SHA-256 of the content: the same content is ingested once.")
    source_file: str = Field(description="File name as uploaded or given.")
    size: int = Field(description="Bytes read.")
    layout: str = Field(description="Layout the file was read with.")
    encoding: str = Field(description="Encoding and how it was chosen.")
    engine: str = Field(description="duckdb or spark.")
    chunk_rows: int = Field(description="Rows per chunk (the unit of resuming).")
    status: str = Field(description="running, publishing, done or failed.")
    rows: int = Field(description="Rows stored.")
    rejected: int = Field(description="Rows rejected.")
    actor: str = Field(description="Who ingested it.")
    started_at: str = Field(description="When it started (UTC).")
    finished_at: str | None = Field(description="When it finished (UTC), if it did.")


class IngestsResponse(_Model):
    """Every ingest, oldest first."""

    ingests: list[IngestRecordModel] = Field(description="One per file or AMS set.")


class SourceModel(_Model):
    """What happened to one uploaded file (or AMS set)."""

    name: str = Field(description="File name (AMS: the header table's, plus the others).")
    sha256: str = Field(description="Content hash.")
    layout: str = Field(description="Layout and how it was chosen, e.g. 'generic (detected)'.")
    encoding: str = Field(description="Encoding and how it was chosen.")
    status: str = Field(description="ingested, resumed, skipped (already in) or failed.")
    rows: int = Field(description="Rows that passed the checks (stored unless failed).")
    rejected: int = Field(description="Rows rejected.")
    reject_rate: float = Field(description="Rejected over all rows read.")
    seconds: float = Field(description="Time taken.")
    message: str = Field(description="Why it was skipped or failed.")


class RejectModel(_Model):
    """A rejected row."""

    file: str = Field(description="File it was in.")
    row: int | None = Field(description="Row number in that file.")
    field: str = Field(description="Field that failed.")
    value: str = Field(description="Its value (formula-neutralised).")
    reason: str = Field(description="Why it was rejected.")


class IngestResponse(_Model):
    """What an ingest did (tidetrace.shipments.summary.report_dict)."""

    dataset: str = Field(description="Dataset the bills went to.")
    engine: str = Field(description="Engine used.")
    rows: int = Field(description="Rows stored by this run.")
    rejected: int = Field(description="Rows rejected by this run.")
    seconds: float = Field(description="Wall time.")
    max_reject_rate: float = Field(description="The reject limit applied.")
    sources: list[SourceModel] = Field(description="One per file or AMS set.")
    skipped: list[str] = Field(description="Sources skipped: their content was already in.")
    failed: list[str] = Field(description="Sources over the reject limit: not stored.")
    rejects_file: str | None = Field(
        description="The rejects CSV, relative to the workspace (None when none rejected)."
    )
    rejects: list[RejectModel] = Field(description="The first rejected rows.")


class IngestFailedResponse(_Model):
    """Some files were over the reject limit: they were not stored (the others were)."""

    detail: str = Field(description="Which files were not stored.")
    report: IngestResponse = Field(description="The whole report.")


# ------------------------------------------------------------------ queries


def _text(value: str | None) -> str | None:
    if value is None:
        return None
    return clean_text(value) or None


def _api_error(exc: InputError) -> InputError:
    """The store names fields as CLI options (``--hs``); the API names them as parameters."""
    reason = exc.reason.replace("--", "")
    return InputError(exc.path.removeprefix("--"), reason, exc.line, exc.field)


def shipment_query(
    *,
    shipper: str | None = None,
    consignee: str | None = None,
    hs: str | None = None,
    since: str | None = None,
    until: str | None = None,
    bill: str | None = None,
    seafood: bool = False,
    dataset: str | None = None,
    history: bool = False,
    limit: int = PAGE_LIMIT,
    offset: int = 0,
) -> ShipmentQuery:
    """The store query for the given parameters (empty text counts as not given).

    Raises:
        InputError: a bad date (the field is named), or since after until.
    """
    try:
        first, last = arrival_window(_text(since), _text(until))
    except InputError as exc:
        raise _api_error(exc) from None
    return ShipmentQuery(
        shipper=_text(shipper),
        consignee=_text(consignee),
        hs=_text(hs),
        since=first,
        until=last,
        bill=_text(bill),
        seafood=seafood,
        dataset=_text(dataset),
        history=history,
        limit=limit,
        offset=offset,
    )


def run_query(ws: Workspace, q: ShipmentQuery) -> tuple[pa.Table, int]:
    """The bills ``q`` finds (up to its limit) and how many match in all.

    Raises:
        InputError: a filter the store refuses (an HS prefix that is not digits …).
    """
    store = ShipmentStore(ws)
    try:
        table = store.query(q)
        # A short page that is not past the end tells the total without counting.
        short = table.num_rows < q.limit and (table.num_rows > 0 or q.offset == 0)
        total = q.offset + table.num_rows if short else store.count(q)
    except InputError as exc:
        raise _api_error(exc) from None
    return table, total


# ------------------------------------------------------------------ uploads


def safe_file_name(sent: str | None, taken: set[str]) -> str:
    """A name to save an upload under: its last part, letters, digits and ``._-()+``.

    The name is kept as far as possible, because the ingest records it and groups AMS
    tables by it. A name already ``taken`` gets ``-2``, ``-3`` … before its suffix, and
    the new name is added to ``taken``.
    """
    base = clean_text(unicodedata.normalize("NFC", (sent or "").replace("\\", "/")))
    base = _UNSAFE_NAME.sub("_", base.rsplit("/", 1)[-1]).lstrip(".") or "upload"
    stem, dot, suffix = base.rpartition(".")
    if not dot or len(suffix) > 10:
        stem, suffix = base, ""
    stem = stem[: _NAME_LIMIT - len(suffix) - 4] or "upload"
    ext = f".{suffix}" if suffix else ""
    name, n = f"{stem}{ext}", 1
    while name.lower() in taken:
        n += 1
        name = f"{stem}-{n}{ext}"
    taken.add(name.lower())
    return name


def _save(uploads: Sequence[UploadFile], directory: Path) -> list[Path]:
    taken: set[str] = set()
    paths = []
    for upload in uploads:
        path = directory / safe_file_name(upload.filename, taken)
        with open(path, "xb") as out:
            shutil.copyfileobj(upload.file, out, 1024 * 1024)
        paths.append(path)
    return paths


def _save_mapping(upload: UploadFile, directory: Path) -> Path:
    """The mapping beside the data files, not among them (it is no trade file)."""
    text = upload.file.read(MAX_MAPPING_BYTES + 1)
    if len(text) > MAX_MAPPING_BYTES:
        raise InputError("mapping", f"over {MAX_MAPPING_BYTES // 1024} KiB: not a column mapping")
    (directory / "mapping").mkdir()
    path = directory / "mapping" / safe_file_name(upload.filename or "mapping.yml", set())
    path.write_bytes(text)
    return path


def _without_dir(exc: TidetraceError, directory: Path) -> TidetraceError:
    """The error as the client may see it: file names, not the server's directories."""
    prefix = str(directory) + os.sep
    if isinstance(exc, InputError):
        path = exc.path.removeprefix(prefix).removeprefix("--")
        return InputError(path, exc.reason.replace(prefix, ""), exc.line, exc.field)
    return TidetraceError(exc.detail.replace(prefix, ""), exc.status)


def ingest_uploads(
    ws: Workspace,
    actor: Actor,
    uploads: Sequence[UploadFile],
    *,
    layout: str | None,
    dataset: str,
    encoding: str | None,
    max_reject_rate: float,
    mapping: UploadFile | None = None,
) -> dict[str, Any]:
    """Save the uploads in a private directory, ingest them, delete them.

    Returns:
        :func:`tidetrace.shipments.summary.report_dict` of the run.

    Raises:
        InputError: no file, too many, a layout and a mapping both, a mapping that is
            not one, or a file the ingest cannot read (named by its uploaded name);
            nothing was written.
        TidetraceError: another ingest into the dataset is running.
    """
    from tidetrace.shipments.ingest import IngestOptions, ingest_shipments
    from tidetrace.shipments.summary import report_dict

    files = [u for u in uploads if u.filename]
    if not files:
        raise InputError("files", "choose at least one file to ingest")
    if len(files) > MAX_FILES:
        raise InputError("files", f"at most {MAX_FILES} files at once")
    if mapping is not None and not mapping.filename:
        mapping = None  # a form's empty file field
    if mapping is not None and layout:
        raise InputError("format", "give a layout or a mapping, not both")
    options = IngestOptions(
        dataset=dataset or "shipments",
        layout=layout or None,
        encoding=encoding or None,
        max_reject_rate=max_reject_rate,
        actor=actor.user.name if actor.user is not None else "web",
    )
    ws.tmp_dir.mkdir(parents=True, exist_ok=True)
    directory = Path(tempfile.mkdtemp(prefix="shipments-upload-", dir=ws.tmp_dir))
    try:
        if mapping is not None:
            options.mapping = _save_mapping(mapping, directory)
        paths = _save(files, directory)
        report = ingest_shipments(ws, paths, options)
    except TidetraceError as exc:
        raise _without_dir(exc, directory) from None
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return report_dict(report, ws.home)


def _failed_detail(summary: dict[str, Any]) -> str:
    names = ", ".join(summary["failed"])
    return f"{len(summary['failed'])} file(s) over the reject limit, not stored: {names}"


# ------------------------------------------------------------------ API


@router.get(
    "/api/shipments",
    summary="Query bills of lading",
    response_model=ShipmentsResponse,
    tags=["shipments"],
    dependencies=[Depends(READ)],
    responses={
        **READ_ERRORS,
        200: {
            "description": "The bills, as JSON or (format=csv) as a formula-safe CSV file.",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
    },
)
def api_shipments(
    ws: WorkspaceDep,
    shipper: ShipperQuery = None,
    consignee: ConsigneeQuery = None,
    hs: HsQuery = None,
    since: SinceQuery = None,
    until: UntilQuery = None,
    bill: BillQuery = None,
    seafood: SeafoodQuery = False,
    dataset: DatasetQuery = None,
    history: HistoryQuery = False,
    limit: ShipmentLimitQuery = PAGE_LIMIT,
    offset: OffsetQuery = 0,
    format_: FormatQuery = "json",
) -> Response | ShipmentsResponse:
    """Bills of lading filtered by party, HS code and arrival date, the latest version of
    each, ordered by arrival: 'tidetrace shipments query'. The CSV neutralises cells that
    a spreadsheet would run as formulas; its X-Total-Count header is the number of matches.
    """
    q = shipment_query(
        shipper=shipper,
        consignee=consignee,
        hs=hs,
        since=since,
        until=until,
        bill=bill,
        seafood=seafood,
        dataset=dataset,
        history=history,
        limit=limit,
        offset=offset,
    )
    table, total = run_query(ws, q)
    if format_ == "csv":
        out = StringIO()
        write_csv(table, out)
        return Response(
            out.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": 'attachment; filename="shipments.csv"',
                "X-Total-Count": str(total),
            },
        )
    return ShipmentsResponse(
        total=total, limit=limit, offset=offset, count=table.num_rows, bills=json_rows(table)
    )


@router.get(
    "/api/shipments/ingests",
    summary="List ingested trade files",
    response_model=IngestsResponse,
    tags=["shipments"],
    dependencies=[Depends(READ)],
    responses=READ_ERRORS,
)
def api_ingests(ws: WorkspaceDep, dataset: IngestsDatasetQuery = None) -> IngestsResponse:
    """Every ingested file or AMS set: dataset, status, rows, rejects, layout, encoding
    and who ingested it ('tidetrace shipments ingests')."""
    from tidetrace.shipments.manifest import Manifest

    rows = Manifest(ws.engine).list(dataset)
    return IngestsResponse(ingests=[IngestRecordModel.model_validate(r) for r in rows])


@router.post(
    "/api/shipments/ingest",
    summary="Ingest bills of lading",
    response_model=IngestResponse,
    tags=["shipments"],
    dependencies=[Depends(WRITE)],
    responses={
        400: {"model": ErrorResponse, "description": "Another ingest into the dataset runs."},
        401: {"model": ErrorResponse, "description": "Not logged in."},
        403: {"model": ErrorResponse, "description": "Not an investigator, or no CSRF token."},
        413: {"model": ErrorResponse, "description": "Over the upload limit."},
        422: {
            "model": IngestFailedResponse,
            "description": "A file over the reject limit (the report says which; others "
            "were stored), or a bad parameter or unreadable file ({detail} only).",
        },
    },
)
def api_ingest(
    ws: WorkspaceDep,
    actor: ActorDep,
    files: FilesForm,
    layout: LayoutForm = "",
    mapping: MappingForm = None,
    dataset: IngestDatasetForm = "shipments",
    encoding: EncodingForm = "",
    max_reject_rate: RejectRateForm = 0.05,
) -> Response | IngestResponse:
    """Upload CSV/XLSX files (CBP AMS tables, Panjiva/ImportGenius/ImportYeti exports,
    generic CSV) and ingest them into a dataset: 'tidetrace ingest shipments'. Layout and
    encoding are detected and reported; content already in the dataset is skipped. Send
    the session's CSRF token as the X-CSRF-Token header (GET /api/session tells it).
    """
    summary = ingest_uploads(
        ws,
        actor,
        files,
        layout=_text(layout),
        dataset=_text(dataset) or "shipments",
        encoding=_text(encoding),
        max_reject_rate=max_reject_rate,
        mapping=mapping,
    )
    report = IngestResponse.model_validate(summary)
    if summary["failed"]:
        body = IngestFailedResponse(detail=_failed_detail(summary), report=report)
        return JSONResponse(body.model_dump(), status_code=422)
    return report


# ------------------------------------------------------------------ page


@dataclass
class ShipmentFilters:
    """The search form's values, as typed."""

    shipper: str = field(metadata=doc("Text in the shipper name, or a party id."))
    consignee: str = field(metadata=doc("Text in the consignee name, or a party id."))
    hs: str = field(metadata=doc("HS code prefix."))
    since: str = field(metadata=doc("First arrival day (YYYY-MM-DD), or empty."))
    until: str = field(metadata=doc("Last arrival day (YYYY-MM-DD), or empty."))
    seafood: bool = field(metadata=doc("Only seafood HS codes."))


@dataclass
class PartyCell:
    """A shipper or consignee as a bill names it."""

    label: str = field(
        metadata=doc("The cleaned name, or the status in brackets for an unnamed party.")
    )
    raw: str = field(metadata=doc("The name as the file wrote it."))
    status: str = field(
        metadata=doc("named, blank, not_available, to_order, redacted or same_as_other.")
    )
    forwarder: bool = field(metadata=doc("A freight forwarder or NVOCC, not the trader."))
    country: str = field(metadata=doc("ISO country code, or empty."))
    href: str | None = field(metadata=doc("This page filtered on the party's id, if named."))


@dataclass
class BillRow:
    """One bill of the results table."""

    arrival: str = field(metadata=doc("Arrival day (YYYY-MM-DD), or empty when unknown."))
    estimated: bool = field(metadata=doc("The arrival day is the estimated one."))
    bill: str = field(metadata=doc("Bill of lading number."))
    dataset: str = field(metadata=doc("Dataset the bill is in."))
    record_status: str = field(metadata=doc("original, amended or deleted."))
    shipper: PartyCell = field(metadata=doc("The shipper."))
    consignee: PartyCell = field(metadata=doc("The consignee."))
    hs_codes: list[str] = field(metadata=doc("HS codes on the bill."))
    weight_kg: float | None = field(metadata=doc("Gross weight in kg, when known."))
    port_of_lading: str = field(metadata=doc("Port of lading (UN/LOCODE when known)."))
    port_of_unlading: str = field(metadata=doc("Port of unlading."))


@dataclass
class ShipmentsContext:
    """What the shipments page shows."""

    filters: ShipmentFilters = field(metadata=doc("The search form's values."))
    searched: bool = field(metadata=doc("Whether the form was submitted (results shown)."))
    bills: list[BillRow] = field(metadata=doc("The first matching bills by arrival date."))
    total: int = field(metadata=doc("How many bills match in all."))
    offset: int = field(metadata=doc("Matching bills before the first one listed."))
    pages: dict[str, str] = field(
        metadata=doc("previous / next → URL of that page of the same search, where there is one.")
    )
    page_limit: int = field(metadata=doc("The most bills the page lists."))
    download_limit: int = field(metadata=doc("The most bills a download holds."))
    downloads: dict[str, str] = field(metadata=doc("Format → API URL of the same search."))
    error: str | None = field(metadata=doc("Why the search could not run, if so."))
    ingest: dict[str, Any] | None = field(
        metadata=doc("The report of the ingest just run (IngestResponse's fields), or None.")
    )
    ingest_error: str | None = field(metadata=doc("Why the upload could not be ingested."))
    layouts: list[str] = field(metadata=doc("Layouts the upload form offers."))
    max_upload_mb: int = field(metadata=doc("The largest upload accepted, in MiB."))


def _party(row: dict[str, Any], role: str) -> PartyCell:
    name = row.get(f"{role}_name")
    status = row.get(f"{role}_status") or "blank"
    party_id = row.get(f"{role}_id")
    return PartyCell(
        label=name or f"[{status}]",
        raw=row.get(f"{role}_name_raw") or "",
        status=status,
        forwarder=bool(row.get(f"{role}_is_forwarder")),
        country=row.get(f"{role}_country") or "",
        href=f"/shipments?{urlencode({role: party_id})}" if party_id else None,
    )


def bill_rows(table: pa.Table) -> list[BillRow]:
    """The results table's rows from the store's rows."""
    out = []
    for row in table.to_pylist():
        arrival = row.get("arrival_date")
        estimated = arrival is None and row.get("estimated_arrival_date") is not None
        shown = arrival if arrival is not None else row.get("estimated_arrival_date")
        out.append(
            BillRow(
                arrival=shown.isoformat() if shown is not None else "",
                estimated=estimated,
                bill=row.get("bill_of_lading") or "",
                dataset=row.get("dataset") or "",
                record_status=row.get("record_status") or "",
                shipper=_party(row, "shipper"),
                consignee=_party(row, "consignee"),
                hs_codes=[c for c in row.get("hs_code") or [] if c],
                weight_kg=row.get("weight_kg"),
                port_of_lading=row.get("port_of_lading") or "",
                port_of_unlading=row.get("port_of_unlading") or "",
            )
        )
    return out


def _filter_params(filters: ShipmentFilters) -> dict[str, str]:
    params: dict[str, str] = {
        name: value
        for name in ("shipper", "consignee", "hs", "since", "until")
        if (value := clean_text(getattr(filters, name)))
    }
    if filters.seafood:
        params["seafood"] = "true"
    return params


def _pages(filters: ShipmentFilters, offset: int, total: int) -> dict[str, str]:
    """Links to the page before and after this one, where there is one."""
    params = _filter_params(filters)
    pages: dict[str, str] = {}
    if offset > 0:
        before = max(0, min(offset, total) - PAGE_LIMIT)
        pages["previous"] = "/shipments?" + urlencode({**params, "offset": before})
    if offset + PAGE_LIMIT < total and offset + PAGE_LIMIT <= MAX_OFFSET:
        pages["next"] = "/shipments?" + urlencode({**params, "offset": offset + PAGE_LIMIT})
    return pages


def _downloads(filters: ShipmentFilters) -> dict[str, str]:
    params = _filter_params(filters)
    params["limit"] = str(MAX_LIMIT)
    return {
        fmt: "/api/shipments?" + urlencode({**params, "format": fmt}) for fmt in ("csv", "json")
    }


def _context(
    settings_mb: int,
    filters: ShipmentFilters | None = None,
    **values: Any,
) -> ShipmentsContext:
    return ShipmentsContext(
        filters=filters or ShipmentFilters("", "", "", "", "", False),
        searched=values.get("searched", False),
        bills=values.get("bills", []),
        total=values.get("total", 0),
        offset=values.get("offset", 0),
        pages=values.get("pages", {}),
        page_limit=PAGE_LIMIT,
        download_limit=MAX_LIMIT,
        downloads=values.get("downloads", {}),
        error=values.get("error"),
        ingest=values.get("ingest"),
        ingest_error=values.get("ingest_error"),
        layouts=list(LAYOUTS),
        max_upload_mb=settings_mb,
    )


@router.get(
    "/shipments",
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(READ)],
)
def shipments_page(
    request: Request,
    ws: WorkspaceDep,
    actor: ActorDep,
    settings: SettingsDep,
    shipper: Annotated[str, Query(max_length=200)] = "",
    consignee: Annotated[str, Query(max_length=200)] = "",
    hs: Annotated[str, Query(max_length=13)] = "",
    since: Annotated[str, Query(max_length=10)] = "",
    until: Annotated[str, Query(max_length=10)] = "",
    seafood: bool = False,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> HTMLResponse:
    """The search form and, once submitted, the matching bills (a page at a time) with
    download links."""
    filters = ShipmentFilters(shipper, consignee, hs, since, until, seafood)
    # A next-page link of a search without filters carries only the offset.
    searched = any(name in request.query_params for name in (*FILTERS, "offset"))
    ctx = _context(settings.max_upload_mb, filters)
    status = 200
    if searched:
        try:
            q = shipment_query(
                shipper=shipper,
                consignee=consignee,
                hs=hs,
                since=since,
                until=until,
                seafood=seafood,
                limit=PAGE_LIMIT,
                offset=offset,
            )
            table, total = run_query(ws, q)
            ctx = _context(
                settings.max_upload_mb,
                filters,
                searched=True,
                bills=bill_rows(table),
                total=total,
                offset=offset,
                pages=_pages(filters, offset, total),
                downloads=_downloads(filters),
            )
        except InputError as exc:
            ctx = _context(settings.max_upload_mb, filters, error=exc.detail)
            status = 422
    return render_page(
        request, "shipments.html", ctx, title="Shipments", status_code=status, actor=actor
    )


@router.post(
    "/shipments/ingest",
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(WRITE)],
)
def shipments_ingest_page(
    request: Request,
    ws: WorkspaceDep,
    actor: ActorDep,
    settings: SettingsDep,
    files: Annotated[list[UploadFile], File()],
    layout: Annotated[str, Form(alias="format", max_length=32)] = "",
    mapping: Annotated[UploadFile | None, File()] = None,
    dataset: Annotated[str, Form(max_length=64)] = "shipments",
    encoding: Annotated[str, Form(max_length=32)] = "",
    max_reject_rate: Annotated[float, Form(ge=0.0, le=1.0)] = 0.05,
) -> HTMLResponse:
    """Ingest the uploaded files and show what happened."""
    try:
        summary = ingest_uploads(
            ws,
            actor,
            files,
            layout=_text(layout),
            dataset=_text(dataset) or "shipments",
            encoding=_text(encoding),
            max_reject_rate=max_reject_rate,
            mapping=mapping,
        )
    except TidetraceError as exc:
        ctx = _context(settings.max_upload_mb, ingest_error=exc.detail)
        return render_page(
            request, "shipments.html", ctx, title="Shipments", status_code=exc.status, actor=actor
        )
    error = _failed_detail(summary) if summary["failed"] else None
    ctx = _context(settings.max_upload_mb, ingest=summary, ingest_error=error)
    return render_page(
        request,
        "shipments.html",
        ctx,
        title="Shipments: ingest",
        status_code=422 if error else 200,
        actor=actor,
    )
