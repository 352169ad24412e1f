"""Reading sources into chunks of raw rows, the same way for every engine.

A *source* is one CSV or XLSX file, or one set of AMS tables joined on their identifier.
Reading turns it into Arrow tables whose columns are the raw fields
(:data:`~tidetrace.shipments.fields.RAW_FIELDS`, "" when absent) plus ``source_row``, in
chunks of a fixed number of rows. Both engines start from these chunks, so they see the
same rows and reject the same malformed lines.

CSV is parsed by Arrow's streaming reader (bounded memory, quoted newlines allowed).
Lines with the wrong number of cells are rejected with their line number; everything
else is kept as text for normalisation to judge.
"""

import codecs
import datetime as dt
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from tidetrace.exc import InputError
from tidetrace.shipments.detect import FileSniff
from tidetrace.shipments.fields import RAW_FIELDS
from tidetrace.shipments.layouts import FieldSpec, Layout, header_key

__all__ = [
    "MAX_REJECTS_KEPT",
    "RawSource",
    "Reject",
    "TranscodingReader",
    "csv_batches",
    "locate_lines",
    "read_chunks",
    "read_pieces",
    "xlsx_headers",
]

CSV_BLOCK = 1 << 24
MAX_REJECTS_KEPT = 100_000
MAX_REJECT_TEXT = 1000
XLSX_HEADER_SEARCH = 20


@dataclass(frozen=True)
class Reject:
    """A row that is not stored, and why.

    Attributes:
        file: file name.
        row: the record (for malformed lines: the line number in the file).
        field: the raw field or column at fault ("" for the whole line).
        value: the offending value, cut to 1000 characters.
        reason: what is wrong.
    """

    file: str
    row: int
    field: str
    value: str
    reason: str


@dataclass
class RawSource:
    """One thing to ingest: a file, or an AMS table set.

    Attributes:
        name: the name rows record as ``source_file``.
        sha256: content hash (for AMS: of the tables' hashes and roles).
        layout: how to read it.
        layout_note: how the layout was chosen.
        files: the file(s); for AMS, table name → file.
        rejects: malformed lines found while reading (filled by :func:`read_chunks`).
        rejected_total: all malformed lines, also those past :data:`MAX_REJECTS_KEPT`.
    """

    name: str
    sha256: str
    layout: Layout
    layout_note: str
    files: dict[str, FileSniff]
    rejects: list[Reject] = field(default_factory=list)
    rejected_total: int = 0

    @property
    def size(self) -> int:
        """Bytes read."""
        return sum(f.size for f in self.files.values())

    @property
    def encoding_note(self) -> str:
        """The encoding(s) and how they were chosen."""
        notes = {f"{f.encoding} ({f.encoding_note})" for f in self.files.values()}
        return "; ".join(sorted(notes))


class TranscodingReader(io.RawIOBase):
    """A binary stream that re-encodes another stream's text as UTF-8.

    Undecodable bytes become U+FFFD, so only the rows holding them are rejected (the
    mojibake check catches U+FFFD) rather than the whole file.

    Args:
        raw: the file, opened for binary reading, positioned after any BOM.
        encoding: its codec.
    """

    def __init__(self, raw: IO[bytes], encoding: str) -> None:
        super().__init__()
        self._raw = raw
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        self._buffer = b""
        self._eof = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while len(self._buffer) < len(view) and not self._eof:
            block = self._raw.read(1 << 20)
            if not block:
                self._eof = True
                self._buffer += self._decoder.decode(b"", final=True).encode("utf-8")
            else:
                self._buffer += self._decoder.decode(block).encode("utf-8")
        size = min(len(view), len(self._buffer))
        view[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size

    def close(self) -> None:
        self._raw.close()
        super().close()


# ------------------------------------------------------------------------ mapping


def _column(batch: pa.RecordBatch, index: dict[str, int], name: str) -> pa.Array:
    pos = index.get(header_key(name))
    if pos is None:
        return pa.array([""] * batch.num_rows, pa.string())
    return batch.column(pos)


def _blank(array: pa.Array) -> pa.Array:
    return pc.equal(pc.utf8_trim_whitespace(array), "")


def _apply(spec: FieldSpec, batch: pa.RecordBatch, index: dict[str, int]) -> pa.Array:
    if spec.kind == "const":
        return pa.array([spec.value] * batch.num_rows, pa.string())
    columns = [_column(batch, index, name) for name in spec.columns]
    if spec.kind == "column":
        return columns[0]
    result = columns[0]
    for column in columns[1:]:
        if spec.kind == "any":
            result = pc.if_else(_blank(result), column, result)
        else:
            joined = pc.binary_join_element_wise(result, column, spec.sep)
            result = pc.if_else(_blank(result), column, pc.if_else(_blank(column), result, joined))
    return result


def map_batch(batch: pa.RecordBatch, layout: Layout, index: dict[str, int], start: int) -> pa.Table:
    """Turn a batch of source columns into raw fields, numbering rows from ``start``."""
    arrays = []
    for name in RAW_FIELDS:
        spec = layout.columns.get(name)
        if spec is None:
            arrays.append(pa.array([""] * batch.num_rows, pa.string()))
        else:
            arrays.append(pc.cast(_apply(spec, batch, index), pa.string()))
    rows = pa.array(range(start, start + batch.num_rows), pa.int64())
    return pa.Table.from_arrays([*arrays, rows], names=[*RAW_FIELDS, "source_row"])


def _header_index(headers: list[str]) -> dict[str, int]:
    index: dict[str, int] = {}
    for pos, name in enumerate(headers):
        index.setdefault(header_key(name), pos)
    return index


# ---------------------------------------------------------------------------- CSV


def _open_text_stream(sniff: FileSniff) -> Any:
    fh = open(sniff.path, "rb")  # noqa: SIM115 - closed by the reader that wraps it
    fh.seek(sniff.bom)
    if sniff.encoding in ("utf-8", "utf-8-sig") and not sniff.lossy:
        return fh
    codec = "utf-8" if sniff.encoding == "utf-8-sig" else sniff.encoding
    return io.BufferedReader(TranscodingReader(fh, codec), buffer_size=1 << 20)


def csv_batches(
    sniff: FileSniff, rejects: list[Reject], counter: list[int]
) -> Iterator[pa.RecordBatch]:
    names = [f"c{i}" for i in range(len(sniff.headers))]
    texts: list[str] = []

    def invalid(row: Any) -> str:
        counter[0] += 1
        if len(texts) < MAX_REJECTS_KEPT:
            texts.append(row.text or "")
            rejects.append(
                Reject(
                    sniff.path.name,
                    0,
                    "",
                    (row.text or "")[:MAX_REJECT_TEXT],
                    f"expected {row.expected_columns} cells, found {row.actual_columns}",
                )
            )
        return "skip"

    stream = _open_text_stream(sniff)
    try:
        reader = pacsv.open_csv(
            stream,
            read_options=pacsv.ReadOptions(
                column_names=names, skip_rows=sniff.header_lines, block_size=CSV_BLOCK
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=sniff.delimiter,
                quote_char='"',
                double_quote=True,
                escape_char=False,
                newlines_in_values=True,
                ignore_empty_lines=True,
                invalid_row_handler=invalid,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            yield batch
    except pa.ArrowInvalid as exc:
        raise InputError(sniff.path, f"cannot parse as CSV: {exc}") from None
    finally:
        stream.close()


def locate_lines(sniff: FileSniff, rejects: list[Reject]) -> list[Reject]:
    """Give malformed-line rejects their line numbers (one pass over the file)."""
    pending = [r for r in rejects if r.row == 0]
    if not pending:
        return rejects
    located: list[Reject] = []
    codec = "utf-8" if sniff.encoding == "utf-8-sig" else sniff.encoding
    want = iter(pending)
    current = next(want, None)
    with open(sniff.path, encoding=codec, errors="replace", newline="") as fh:
        if sniff.bom and codec == "utf-8":
            fh.read(1)
        for lineno, line in enumerate(fh, start=1):
            if current is None:
                break
            first = current.value.split("\n", 1)[0].rstrip("\r")
            if line.rstrip("\r\n") == first and lineno > sniff.header_lines:
                located.append(
                    Reject(current.file, lineno, current.field, current.value, current.reason)
                )
                current = next(want, None)
    # A line we could not find again (it spans a quoted newline) keeps row 0: "unknown".
    while current is not None:
        located.append(current)
        current = next(want, None)
    return [r for r in rejects if r.row != 0] + located


# ---------------------------------------------------------------------------- XLSX


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _open_workbook(path: Path) -> Any:
    from openpyxl import load_workbook  # type: ignore[import-untyped]

    try:
        # Formulas are read as their text: a formula in a name cell is kept (and shown
        # neutralised on export), never evaluated.
        return load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds on a bad file
        raise InputError(path, f"cannot open the workbook: {type(exc).__name__}: {exc}") from None


def xlsx_headers(path: Path) -> tuple[int, list[str]]:
    """Header row of the first sheet: the first of its first rows with three or more cells.

    Returns:
        ``(row number, header names)``.
    """
    workbook = _open_workbook(path)
    try:
        sheet = workbook.worksheets[0]
        for number, row in enumerate(
            sheet.iter_rows(max_row=XLSX_HEADER_SEARCH, values_only=True), 1
        ):
            cells = [_cell_text(v).strip() for v in row]
            if sum(1 for c in cells if c) >= 3:
                while cells and not cells[-1]:
                    cells.pop()
                return number, cells
    finally:
        workbook.close()
    raise InputError(path, f"no header row in the first {XLSX_HEADER_SEARCH} rows of the sheet")


def _xlsx_batches(sniff: FileSniff, batch_rows: int) -> Iterator[pa.RecordBatch]:
    workbook = _open_workbook(sniff.path)
    width = len(sniff.headers)
    names = [f"c{i}" for i in range(width)]
    try:
        sheet = workbook.worksheets[0]
        columns: list[list[str]] = [[] for _ in range(width)]
        for row in sheet.iter_rows(min_row=sniff.header_lines + 1, values_only=True):
            cells = [_cell_text(v) for v in row[:width]]
            if not any(c.strip() for c in cells):
                continue
            cells += [""] * (width - len(cells))
            for i, cell in enumerate(cells):
                columns[i].append(cell)
            if len(columns[0]) >= batch_rows:
                yield pa.RecordBatch.from_arrays([pa.array(c, pa.string()) for c in columns], names)
                columns = [[] for _ in range(width)]
        if columns[0]:
            yield pa.RecordBatch.from_arrays([pa.array(c, pa.string()) for c in columns], names)
    finally:
        workbook.close()


# ---------------------------------------------------------------------------- chunks


def _single_file_tables(source: RawSource) -> Iterator[pa.Table]:
    sniff = next(iter(source.files.values()))
    index = _header_index(sniff.headers)
    counter = [0]
    start = 1
    batches = (
        _xlsx_batches(sniff, 65536)
        if sniff.kind == "xlsx"
        else csv_batches(sniff, source.rejects, counter)
    )
    for batch in batches:
        yield map_batch(batch, source.layout, index, start)
        start += batch.num_rows
    source.rejected_total = counter[0]
    if sniff.kind == "csv" and source.rejects:
        source.rejects[:] = locate_lines(sniff, source.rejects)


def _source_tables(source: RawSource, workdir: Path) -> Iterator[pa.Table]:
    if source.layout.multi_table:
        from tidetrace.shipments.ams import ams_tables

        return ams_tables(source, workdir)
    return _single_file_tables(source)


def read_chunks(
    source: RawSource, chunk_rows: int, workdir: Path
) -> Iterator[tuple[int, pa.Table]]:
    """The source's raw rows in chunks of ``chunk_rows`` (the last may be shorter).

    Malformed lines are collected in ``source.rejects`` as reading goes; the list is
    complete once the iterator is exhausted.

    Args:
        source: what to read.
        chunk_rows: rows per chunk; chunk *i* holds rows ``i*chunk_rows+1`` onwards.
        workdir: scratch directory (AMS tables are staged there).

    Yields:
        ``(chunk index, table)``.
    """
    pieces: list[pa.Table] = []
    for index, piece, last in read_pieces(source, chunk_rows, workdir):
        pieces.append(piece)
        if last:
            yield index, pa.concat_tables(pieces)
            pieces = []


def read_pieces(
    source: RawSource, chunk_rows: int, workdir: Path
) -> Iterator[tuple[int, pa.Table, bool]]:
    """The same chunks as :func:`read_chunks`, in the pieces the reader produces them.

    A piece is a read batch (tens of thousands of rows) cut at chunk boundaries, so the
    work after reading can start on a chunk before all of it is read.

    Yields:
        ``(chunk index, piece, whether it is the chunk's last piece)``.
    """
    index, filled = 0, 0
    held: tuple[int, pa.Table, bool] | None = None
    for table in _source_tables(source, workdir):
        rest = table
        while rest.num_rows:
            take = min(rest.num_rows, chunk_rows - filled)
            piece, rest = rest.slice(0, take), rest.slice(take)
            filled += take
            full = filled == chunk_rows
            # One piece held back: the last piece of a short final chunk is known only
            # when the source ends.
            if held is not None:
                yield held
            held = (index, piece, full)
            if full:
                index, filled = index + 1, 0
    if held is not None:
        yield held[0], held[1], True


_AMS_NAME = re.compile(r"^ams__([a-z]+)_(.+)$", re.IGNORECASE)


def ams_group_key(path: Path) -> str:
    """Which AMS set a table file belongs to, from names like ``ams__header_2020__2020….csv``."""
    match = _AMS_NAME.match(path.stem)
    return match.group(2) if match else ""
