"""Checks every row passes before any engine sees it, in Arrow, once for both engines.

A row is rejected (and written to the rejects file, never stored) when one of its fields
holds a NUL character, looks like mojibake (UTF-8 text that was read with the wrong codec
somewhere upstream, or bytes our decoder could not read, shown as U+FFFD), is longer than
its field allows (:data:`~tidetrace.shipments.fields.MAX_LENGTH`), or when the bill of
lading number is missing or has no letters or digits. The first failing check names the
field. Running the checks here, on the shared chunks, means DuckDB and Spark store and
reject exactly the same rows.

Also derived here, for the same reason: the unit keys the unit lookups join on (a weight
written ``12000 KGS`` with no unit column has its unit in the weight).
"""

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tidetrace.shipments.fields import DEFAULT_MAX_LENGTH, MAX_LENGTH, RAW_FIELDS, REJECT_SCHEMA

__all__ = [
    "BLANK_PATTERN",
    "MARK_COLUMNS",
    "MAX_REJECT_VALUE",
    "MOJIBAKE_PATTERN",
    "MOJIBAKE_REASON",
    "looks_mojibake",
    "mark_chunk",
    "prepare_chunk",
]

# UTF-8 read as Windows-1252 or Latin-1 and saved again: a lead byte C2-F4 shown as
# Â…ô followed by a continuation byte 80-BF shown as a C1 control, a Latin-1 symbol or
# one of cp1252's punctuation marks; U+FFFD (bytes lost); 锟斤拷 (U+FFFD twice, read as GBK).
_LEAD = "".join(chr(c) for c in range(0xC2, 0xF5))
_NEXT = "".join(chr(c) for c in range(0x80, 0xC0)) + "€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ"
MOJIBAKE_PATTERN = f"[{re.escape(_LEAD)}][{re.escape(_NEXT)}]|\ufffd|锟斤拷"
_MOJIBAKE = re.compile(MOJIBAKE_PATTERN)
# A bill of only whitespace is missing. Python's (and Arrow's) whitespace, spelled so RE2
# (DuckDB, Arrow) and Java (Spark) read the pattern the same: ASCII as \xHH, the rest as is.
_SPACES = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())
BLANK_PATTERN = "^[" + "".join(f"\\x{ord(c):02X}" if ord(c) < 0x80 else c for c in _SPACES) + "]*$"
MAX_REJECT_VALUE = 1000
MOJIBAKE_REASON = (
    "mojibake: text decoded with the wrong encoding before it reached us (or bytes that "
    "could not be decoded); re-export as UTF-8 or pass --encoding"
)


def looks_mojibake(text: str) -> bool:
    """True when text shows the marks of a wrong decode (the check rows are rejected on)."""
    return _MOJIBAKE.search(text) is not None


def _unit_key(unit: pa.ChunkedArray, amount: pa.ChunkedArray) -> pa.ChunkedArray:
    # "12000 KGS" in the weight column, nothing in the unit column: the unit is in the weight.
    letters = pc.struct_field(pc.extract_regex(amount, r"(?P<u>[A-Za-z]+)"), [0])
    letters = pc.fill_null(letters, "")
    return pc.if_else(pc.equal(pc.utf8_trim(unit, " "), ""), letters, unit)


def _byte_summary(column: "pa.Array | pa.ChunkedArray") -> tuple[bool, bool, int]:
    """Whether a text column may hold a NUL, whether it is all ASCII, its longest value in bytes.

    Read straight from the Arrow buffers (a pass over the bytes, no per-row work), so the
    precise per-row checks run only on the columns where they can find something: most
    columns of most chunks are clean ASCII well under their length limit.
    """
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    may_nul, all_ascii, longest = False, True, 0
    for chunk in chunks:
        if not len(chunk):
            continue
        if chunk.type != pa.string():
            return True, False, 1 << 62
        _validity, offsets_buffer, data_buffer = chunk.buffers()
        offsets = np.frombuffer(offsets_buffer, dtype=np.int32)
        offsets = offsets[chunk.offset : chunk.offset + len(chunk) + 1]
        longest = max(longest, int(np.diff(offsets).max()))
        if data_buffer is None or offsets[-1] == offsets[0]:
            continue
        data = np.frombuffer(data_buffer, dtype=np.uint8)[offsets[0] : offsets[-1]]
        may_nul = may_nul or bool(data.min() == 0)
        all_ascii = all_ascii and bool(data.max() < 0x80)
    return may_nul, all_ascii, longest


MARK_COLUMNS: tuple[str, ...] = (
    "weight_unit_key",
    "quantity_unit_key",
    "reject_field",
    "reject_value",
    "reject_reason",
)


def mark_chunk(chunk: pa.Table | pa.RecordBatch) -> pa.Table:
    """Every row of a chunk with its unit keys and, when it fails a check, why.

    The one place the checks live: :func:`prepare_chunk` splits its result for the DuckDB
    engine, and the Spark engine runs it on its executors (``mapInArrow``).

    Args:
        chunk: raw fields plus ``source_row``.

    Returns:
        The chunk plus :data:`MARK_COLUMNS`: the unit keys the unit lookups join on, and
        ``reject_field`` / ``reject_value`` (cut to 1000 characters) / ``reject_reason``,
        null for rows that pass.
    """
    table = chunk if isinstance(chunk, pa.Table) else pa.Table.from_batches([chunk])
    n = table.num_rows
    field = pa.nulls(n, pa.string())
    reason = pa.nulls(n, pa.string())

    def mark(mask: pa.Array, name: str, why: str) -> None:
        nonlocal field, reason
        fresh = pc.and_(mask, pc.is_null(reason))
        if pc.any(fresh).as_py():
            field = pc.if_else(fresh, name, field)
            reason = pc.if_else(fresh, why, reason)

    columns = {name: table.column(name) for name in RAW_FIELDS}
    summary = {name: _byte_summary(column) for name, column in columns.items()}
    for name, column in columns.items():
        if summary[name][0]:
            mark(pc.match_substring(column, "\x00"), name, "contains a NUL character")
    for name, column in columns.items():
        if not summary[name][1]:
            mark(pc.match_substring_regex(column, MOJIBAKE_PATTERN), name, MOJIBAKE_REASON)
    for name, column in columns.items():
        limit = MAX_LENGTH.get(name, DEFAULT_MAX_LENGTH)
        # No value has more characters than bytes.
        if summary[name][2] > limit:
            mark(pc.greater(pc.utf8_length(column), limit), name, f"longer than {limit} characters")
    bill = columns["bill_of_lading"]
    mark(
        pc.match_substring_regex(bill, BLANK_PATTERN),
        "bill_of_lading",
        "missing bill of lading number",
    )
    alnum = pc.replace_substring_regex(bill, "[^A-Za-z0-9]", "")
    mark(pc.equal(alnum, ""), "bill_of_lading", "no letters or digits in the bill of lading number")

    value = pa.nulls(n, pa.string())
    if pc.any(pc.is_valid(reason)).as_py():
        for name in RAW_FIELDS:
            value = pc.if_else(pc.equal(field, name), columns[name], value)
        value = pc.utf8_slice_codeunits(value, 0, MAX_REJECT_VALUE)
    marks = (
        _unit_key(table.column("weight_unit"), table.column("weight")),
        _unit_key(table.column("quantity_unit"), table.column("quantity")),
        field,
        value,
        reason,
    )
    for name, array in zip(MARK_COLUMNS, marks, strict=True):
        table = table.append_column(name, array)
    return table


def prepare_chunk(chunk: pa.Table, source_file: str) -> tuple[pa.Table, pa.Table]:
    """Split a chunk of raw rows into rows to store and rejected rows.

    Args:
        chunk: raw fields plus ``source_row``.
        source_file: the name rejects record.

    Returns:
        ``(good, rejects)``: the good rows with the unit keys added, and the rejects as
        (file, row, field, value, reason).
    """
    marked = mark_chunk(chunk)
    bad = pc.is_valid(marked.column("reject_reason"))
    good = marked.filter(pc.invert(bad)).drop_columns(list(MARK_COLUMNS[2:]))
    if not pc.any(bad).as_py():
        return good, REJECT_SCHEMA.empty_table()
    rejected = marked.filter(bad)
    rejects = pa.table(
        {
            "file": pa.array([source_file] * rejected.num_rows, pa.string()),
            "row": rejected.column("source_row"),
            "field": rejected.column("reject_field"),
            "value": rejected.column("reject_value"),
            "reason": rejected.column("reject_reason"),
        },
        schema=REJECT_SCHEMA,
    )
    return good, rejects
