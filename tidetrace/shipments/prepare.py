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

import pyarrow as pa
import pyarrow.compute as pc

from tidetrace.shipments.fields import DEFAULT_MAX_LENGTH, MAX_LENGTH, RAW_FIELDS, REJECT_SCHEMA

__all__ = ["MOJIBAKE_PATTERN", "looks_mojibake", "prepare_chunk"]

# UTF-8 read as Windows-1252 or Latin-1 and saved again: a lead byte C2-F4 shown as
# Â…ô followed by a continuation byte 80-BF shown as a C1 control, a Latin-1 symbol or
# one of cp1252's punctuation marks; U+FFFD (bytes lost); 锟斤拷 (U+FFFD twice, read as GBK).
_LEAD = "".join(chr(c) for c in range(0xC2, 0xF5))
_NEXT = "".join(chr(c) for c in range(0x80, 0xC0)) + "€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ"
MOJIBAKE_PATTERN = f"[{re.escape(_LEAD)}][{re.escape(_NEXT)}]|\ufffd|锟斤拷"
_MOJIBAKE = re.compile(MOJIBAKE_PATTERN)
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


def prepare_chunk(chunk: pa.Table, source_file: str) -> tuple[pa.Table, pa.Table]:
    """Split a chunk of raw rows into rows to store and rejected rows.

    Args:
        chunk: raw fields plus ``source_row``.
        source_file: the name rejects record.

    Returns:
        ``(good, rejects)``: the good rows with the unit keys added, and the rejects as
        (file, row, field, value, reason).
    """
    n = chunk.num_rows
    field = pa.nulls(n, pa.string())
    reason = pa.nulls(n, pa.string())

    def mark(mask: pa.Array, name: str, why: str) -> None:
        nonlocal field, reason
        fresh = pc.and_(mask, pc.is_null(reason))
        if pc.any(fresh).as_py():
            field = pc.if_else(fresh, name, field)
            reason = pc.if_else(fresh, why, reason)

    columns = {name: chunk.column(name) for name in RAW_FIELDS}
    for name, column in columns.items():
        mark(pc.match_substring(column, "\x00"), name, "contains a NUL character")
    for name, column in columns.items():
        non_ascii = pc.invert(pc.string_is_ascii(column))
        if pc.any(non_ascii).as_py():
            mark(pc.match_substring_regex(column, MOJIBAKE_PATTERN), name, MOJIBAKE_REASON)
    for name, column in columns.items():
        limit = MAX_LENGTH.get(name, DEFAULT_MAX_LENGTH)
        mark(pc.greater(pc.utf8_length(column), limit), name, f"longer than {limit} characters")
    bill = columns["bill_of_lading"]
    mark(
        pc.equal(pc.utf8_trim_whitespace(bill), ""),
        "bill_of_lading",
        "missing bill of lading number",
    )
    alnum = pc.replace_substring_regex(bill, "[^A-Za-z0-9]", "")
    mark(pc.equal(alnum, ""), "bill_of_lading", "no letters or digits in the bill of lading number")

    bad = pc.is_valid(reason)
    good = chunk.filter(pc.invert(bad))
    good = good.append_column(
        "weight_unit_key", _unit_key(good.column("weight_unit"), good.column("weight"))
    )
    good = good.append_column(
        "quantity_unit_key", _unit_key(good.column("quantity_unit"), good.column("quantity"))
    )
    if not pc.any(bad).as_py():
        return good, REJECT_SCHEMA.empty_table()
    rejected = chunk.filter(bad)
    bad_field = pc.filter(field, bad)
    values = pa.nulls(rejected.num_rows, pa.string())
    for name in RAW_FIELDS:
        values = pc.if_else(pc.equal(bad_field, name), rejected.column(name), values)
    values = pc.utf8_slice_codeunits(values, 0, MAX_REJECT_VALUE)
    rejects = pa.table(
        {
            "file": pa.array([source_file] * rejected.num_rows, pa.string()),
            "row": rejected.column("source_row"),
            "field": bad_field,
            "value": values,
            "reason": pc.filter(reason, bad),
        },
        schema=REJECT_SCHEMA,
    )
    return good, rejects
