"""The per-row part of normalisation, as SQL that DuckDB and Spark both run.

Per-value cleaning of names, ports, dates and units happens in Python on distinct values
(``normalize.py``) and reaches this SQL as ``_<use>_<output>`` columns: the DuckDB engine
adds them in Arrow, the Spark engine joins broadcast lookup tables (:func:`lookup_sql`).
What is left is nearly unique per row and cheap in SQL: bill numbers, container numbers
with their ISO 6346 check digit, HS codes, weights and quantities, and the ids. It is
written once and rendered per dialect; the patterns use only what RE2 (DuckDB) and Java
regexes (Spark) read the same way: no backslashes, no look-arounds.
``tests/shipments/test_expressions.py`` holds both engines to the Python forms
(``HSCode``, ``ContainerNumber``).
"""

from collections.abc import Callable
from dataclasses import dataclass

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from tidetrace.ids.container import VALUES as CONTAINER_VALUES
from tidetrace.shipments.fields import (
    DEFAULT_MAX_LENGTH,
    MAX_LENGTH,
    PARQUET_COLUMNS,
    PARTITION_COLUMNS,
    RAW_FIELDS,
)
from tidetrace.shipments.normalize import DICTIONARIES
from tidetrace.shipments.prepare import (
    BLANK_PATTERN,
    MAX_REJECT_VALUE,
    MOJIBAKE_PATTERN,
    MOJIBAKE_REASON,
)

__all__ = [
    "CONTAINER_PATTERN",
    "DUCKDB",
    "HS_PATTERN",
    "ONE_HS_PATTERN",
    "SPARK",
    "Dialect",
    "Output",
    "SourceMeta",
    "build_rows",
    "derived_sql",
    "lookup_sql",
    "marks_sql",
    "passthrough_columns",
    "shipments_sql",
]

# Grouped as printed (0307.43, 0307.43.0050, 0307 43 00) or bare digits.
HS_PATTERN = "[0-9]{4}[.]?[0-9]{2}([.]?[0-9]{2}){0,2}|[0-9]{4} [0-9]{2}( ?[0-9]{2}){0,2}"
# One code and nothing else (the pattern's first alternative, whole): its only match.
ONE_HS_PATTERN = "^[0-9]{4}[.]?[0-9]{2}([.]?[0-9]{2}){0,2}$"
CONTAINER_PATTERN = "[A-Za-z]{3}[UJZujz][ -]?[0-9]{6}[ -]?[0-9]"
CLEAN_CONTAINER_PATTERN = "^[A-Z]{3}[UJZ][0-9]{7}$"
NUMBER_PATTERN = "[0-9]+([.][0-9]+)?|[.][0-9]+"
SPACES = "[ \t\r\n\f\v]+"
RECORD_STATUS = {
    "amended": ("A", "AMEND", "AMENDED", "AMENDMENT", "U", "UPDATE", "UPDATED", "C", "CORRECTED"),
    "deleted": ("D", "DEL", "DELETE", "DELETED", "CANCEL", "CANCELLED", "CANCELED", "X"),
}


@dataclass(frozen=True)
class Dialect:
    """How DuckDB and Spark SQL spell the few functions they disagree on."""

    name: str

    @property
    def spark(self) -> bool:
        """True for Spark SQL."""
        return self.name == "spark"

    def lit(self, value: str) -> str:
        """A string literal (Spark SQL processes backslash escapes; DuckDB does not)."""
        if self.spark:
            return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
        return "'" + value.replace("'", "''") + "'"

    def replace(self, expr: str, pattern: str, repl: str) -> str:
        """Replace every match of ``pattern``."""
        flags = "" if self.spark else ", 'g'"
        return f"regexp_replace({expr}, {self.lit(pattern)}, {self.lit(repl)}{flags})"

    def extract(self, expr: str, pattern: str) -> str:
        """The first match, or ''."""
        return f"regexp_extract({expr}, {self.lit(pattern)}, 0)"

    def extract_all(self, expr: str, pattern: str) -> str:
        """Every match, as a list."""
        return f"regexp_extract_all({expr}, {self.lit(pattern)}, 0)"

    def transform(self, expr: str, body: Callable[[str], str]) -> str:
        """Apply ``body`` to each element of a list."""
        if self.spark:
            return f"transform({expr}, x -> {body('x')})"
        return f"list_transform({expr}, lambda x: {body('x')})"

    def filter(self, expr: str, body: Callable[[str], str]) -> str:
        """Keep the elements for which ``body`` is true."""
        if self.spark:
            return f"filter({expr}, x -> {body('x')})"
        return f"list_filter({expr}, lambda x: {body('x')})"

    def sorted_distinct(self, expr: str) -> str:
        """Distinct elements in ascending order (the same order in both engines)."""
        if self.spark:
            return f"array_sort(array_distinct({expr}))"
        return f"list_sort(list_distinct({expr}))"

    def matches(self, expr: str, pattern: str) -> str:
        """True when ``pattern`` matches somewhere in ``expr`` (anchor it to match all)."""
        if self.spark:
            return f"{expr} RLIKE {self.lit(pattern)}"
        return f"regexp_matches({expr}, {self.lit(pattern)})"

    def single(self, expr: str) -> str:
        """A one-element list."""
        return f"array({expr})" if self.spark else f"[{expr}]"

    @property
    def empty_list(self) -> str:
        """An empty list of strings."""
        return "CAST(array() AS ARRAY<STRING>)" if self.spark else "[]::VARCHAR[]"

    def size(self, expr: str) -> str:
        """Number of elements of a list."""
        return f"size({expr})" if self.spark else f"len({expr})"

    def byte_length(self, expr: str) -> str:
        """Length of a string in UTF-8 bytes (more than its characters: not all ASCII)."""
        return f"octet_length({expr})" if self.spark else f"strlen({expr})"

    def sha256(self, expr: str) -> str:
        """Hex SHA-256 of a string."""
        return f"sha2({expr}, 256)" if self.spark else f"sha256({expr})"


DUCKDB = Dialect("duckdb")
SPARK = Dialect("spark")


@dataclass(frozen=True)
class SourceMeta:
    """Per-source values every row records.

    Attributes:
        source_file: file name.
        source_sha256: content hash.
        layout: layout name.
        ingest_seq: ingest number.
    """

    source_file: str
    source_sha256: str
    layout: str
    ingest_seq: int


def lookup_sql(table: str = "raw") -> str:
    """Prepared rows with every lookup joined on (Spark; DuckDB does this in Arrow).

    Expects the lookup tables as views ``d_<name>`` with key columns ``k0`` ….
    """
    selects = ["p.*"]
    joins = []
    aliases = []
    for dictionary in DICTIONARIES:
        for label, key_columns in dictionary.roles:
            alias = f"{dictionary.name}_{label}"
            aliases.append(alias)
            cond = " AND ".join(
                f"{alias}.{k} = p.{col}"
                for k, col in zip(dictionary.key_columns(), key_columns, strict=True)
            )
            joins.append(f"LEFT JOIN d_{dictionary.name} AS {alias} ON {cond}")
            selects += [f"{alias}.{out} AS {name}" for out, name, _ in dictionary.columns(label)]
    # Lookups are small (distinct values): ship them to every task, never shuffle the rows.
    hint = f"/*+ BROADCAST({', '.join(aliases)}) */"
    return f"SELECT {hint} {', '.join(selects)} FROM {table} AS p {' '.join(joins)}"  # noqa: S608


def marks_sql(d: Dialect, table: str) -> str:
    """``prepare.mark_chunk`` as SQL: the rows of ``table`` with unit keys and reject marks.

    The same checks in the same order (NUL, mojibake, length, then the bill number), so the
    first failing check names the field as in Arrow; the Spark engine runs this on its
    executors. ``tests/shipments/test_spark.py`` holds it to the Arrow form.
    """
    checks: list[tuple[str, str, str]] = []
    for name in RAW_FIELDS:
        checks.append((f"instr({name}, chr(0)) > 0", name, "contains a NUL character"))
    for name in RAW_FIELDS:
        # Mojibake is never ASCII: the regex runs only where a value has more bytes than
        # characters (a few rows), not on every value of every row.
        not_ascii = f"{d.byte_length(name)} > char_length({name})"
        checks.append(
            (f"({not_ascii} AND {d.matches(name, MOJIBAKE_PATTERN)})", name, MOJIBAKE_REASON)
        )
    for name in RAW_FIELDS:
        limit = MAX_LENGTH.get(name, DEFAULT_MAX_LENGTH)
        checks.append((f"char_length({name}) > {limit}", name, f"longer than {limit} characters"))
    bill = "bill_of_lading"
    checks.append((d.matches(bill, BLANK_PATTERN), bill, "missing bill of lading number"))
    checks.append(
        (
            f"{d.replace(bill, '[^A-Za-z0-9]', '')} = ''",
            bill,
            "no letters or digits in the bill of lading number",
        )
    )
    # Which check failed first, evaluated once; field and reason follow from its number.
    failed = " ".join(f"WHEN {cond} THEN {i}" for i, (cond, _, _) in enumerate(checks))
    field = " ".join(f"WHEN {i} THEN {d.lit(name)}" for i, (_, name, _) in enumerate(checks))
    reason = " ".join(f"WHEN {i} THEN {d.lit(why)}" for i, (_, _, why) in enumerate(checks))
    value = " ".join(
        f"WHEN {d.lit(name)} THEN substr({name}, 1, {MAX_REJECT_VALUE})" for name in RAW_FIELDS
    )

    def unit_key(unit: str, amount: str) -> str:
        # As prepare._unit_key: "12000 KGS" with a blank unit column has its unit in the weight.
        return f"CASE WHEN trim({unit}) = '' THEN {d.extract(amount, '[A-Za-z]+')} ELSE {unit} END"

    marked = (
        f"SELECT *, {unit_key('weight_unit', 'weight')} AS weight_unit_key, "  # noqa: S608
        f"{unit_key('quantity_unit', 'quantity')} AS quantity_unit_key, "
        f"CASE {failed} END AS reject_check FROM {table}"
    )
    checked = (
        f"SELECT *, CASE reject_check {field} END AS reject_field, "  # noqa: S608
        f"CASE reject_check {reason} END AS reject_reason FROM ({marked}) AS c"
    )
    kept = ", ".join([*RAW_FIELDS, "source_row", "weight_unit_key", "quantity_unit_key"])
    return (
        f"SELECT {kept}, reject_field, CASE reject_field {value} END AS reject_value, "  # noqa: S608
        f"reject_reason FROM ({checked}) AS m"
    )


def _number(d: Dialect, expr: str) -> str:
    digits = d.extract(d.replace(expr, "[, ]", ""), NUMBER_PATTERN)
    return f"CASE WHEN {digits} = '' THEN NULL ELSE CAST({digits} AS DOUBLE) END"


def _container_ok(var: str) -> str:
    values = "'" + CONTAINER_VALUES + "'"
    terms = " + ".join(
        f"(instr({values}, substr({var}, {i + 1}, 1)) - 1) * {1 << i}" for i in range(10)
    )
    return f"(({terms}) % 11) % 10 = CAST(substr({var}, 11, 1) AS INT)"


def _chapter_ok(var: str) -> str:
    """The chapter (first two digits) is one of the nomenclature's, as ranges."""
    from tidetrace.ids.hs import _chapters as chapters

    numbers = sorted(int(c) for c in chapters())
    runs: list[tuple[int, int]] = []
    for n in numbers:
        if runs and runs[-1][1] == n - 1:
            runs[-1] = (runs[-1][0], n)
        else:
            runs.append((n, n))
    chapter = f"substr({var}, 1, 2)"
    return "(" + " OR ".join(f"{chapter} BETWEEN '{a:02d}' AND '{b:02d}'" for a, b in runs) + ")"


def _hs_codes(d: Dialect) -> str:
    """Every HS code of a field, sorted, as a list (empty when none)."""
    hs = d.transform(d.extract_all("hs_code", HS_PATTERN), lambda x: d.replace(x, "[^0-9]", ""))
    hs = d.filter(hs, lambda x: f"length({x}) BETWEEN 6 AND 10 AND {_chapter_ok(x)}")
    one = "replace(hs_code, '.', '')"
    # Most fields hold one code as printed: no list work for them.
    return (
        f"CASE WHEN {d.matches('hs_code', ONE_HS_PATTERN)} "
        f"THEN CASE WHEN {_chapter_ok(one)} THEN {d.single(one)} ELSE {d.empty_list} END "
        f"ELSE {d.sorted_distinct(hs)} END"
    )


def _base(d: Dialect) -> str:
    """First pass: the values several output columns are built from."""
    containers = d.transform(
        d.extract_all("container", CONTAINER_PATTERN),
        lambda x: f"upper({d.replace(x, '[^A-Za-z0-9]', '')})",
    )
    containers = d.sorted_distinct(d.filter(containers, _container_ok))
    # Most bills carry one container, already written in the ISO form: no list work.
    containers = (
        f"CASE WHEN {d.matches('container', CLEAN_CONTAINER_PATTERN)} "
        f"THEN CASE WHEN {_container_ok('container')} THEN {d.single('container')} "
        f"ELSE {d.empty_list} END ELSE {containers} END"
    )

    def alnum(expr: str) -> str:
        # Letters and digits only, upper-cased after the strip so both engines see ASCII.
        return f"nullif(upper({d.replace(expr, '[^A-Za-z0-9]', '')}), '')"

    arrival = "coalesce(_arrival_day, _eta_day)"
    return (
        "SELECT *, "  # noqa: S608
        f"{alnum('bill_of_lading')} AS _bill, "
        f"{alnum('master_bill_of_lading')} AS _master, "
        f"{_hs_codes(d)} AS _hs, "
        f"{containers} AS _containers, "
        f"{_number(d, 'weight')} AS _weight, "
        f"{_number(d, 'quantity')} AS _quantity, "
        f"CAST(coalesce(year({arrival}), 0) AS INT) AS arrival_year, "
        f"CAST(coalesce(month({arrival}), 0) AS INT) AS arrival_month "
        "FROM prep"
    )


ArrowRecipe = Callable[[pa.Table], "pa.Array | pa.ChunkedArray"]


@dataclass(frozen=True)
class Output:
    """One Parquet column: its SQL, and for columns that only pass a value on, its Arrow form.

    A column that copies a raw field (blank as null), a constant or a looked-up value costs
    SQL a full copy of its strings; the DuckDB engine takes those from the prepared Arrow
    chunk instead (:func:`passthrough_columns`), and Spark runs the SQL. The two forms
    live side by side so they cannot drift: ``test_expressions.py`` holds the engine's rows
    equal to the all-SQL rows, ``test_spark.py`` the two engines' output.
    """

    sql: str
    arrow: ArrowRecipe | None = None


def _nullif_blank(column: "pa.Array | pa.ChunkedArray") -> "pa.Array | pa.ChunkedArray":
    """Blank strings as nulls, sharing the column's text (only a validity bitmap is new)."""
    if isinstance(column, pa.ChunkedArray):
        return pa.chunked_array([_nullif_blank(c) for c in column.chunks], column.type)
    if column.offset != 0 or column.type != pa.string():
        return pc.if_else(pc.equal(column, ""), pa.scalar(None, column.type), column)
    # False for blanks and for nulls: its value bits are exactly the new validity.
    keep = pc.fill_null(pc.not_equal(column, ""), False)
    if keep.offset != 0:
        return pc.if_else(keep, column, pa.scalar(None, column.type))
    _validity, offsets, data = column.buffers()
    return pa.Array.from_buffers(
        column.type, len(column), [keep.buffers()[1], offsets, data], offset=0
    )


def _plain(column: "pa.Array | pa.ChunkedArray") -> "pa.Array | pa.ChunkedArray":
    """A looked-up column as plain values (string lookups arrive dictionary-encoded)."""
    if pa.types.is_dictionary(column.type):
        return pc.cast(column, column.type.value_type)
    return column


def _raw(field: str) -> Output:
    return Output(f"nullif({field}, '')", lambda t: _nullif_blank(t.column(field)))


def _looked_up(name: str, default: str | bool | None = None) -> Output:
    if default is None:
        return Output(name, lambda t: _plain(t.column(name)))
    literal = ("true" if default else "false") if isinstance(default, bool) else f"'{default}'"
    return Output(
        f"coalesce({name}, {literal})",
        lambda t: pc.fill_null(_plain(t.column(name)), default),
    )


def _constant(d: Dialect, value: str | int) -> Output:
    if isinstance(value, int):
        return Output(
            f"CAST({value} AS BIGINT)", lambda t: pa.repeat(pa.scalar(value, pa.int64()), len(t))
        )
    return Output(d.lit(value), lambda t: pa.repeat(pa.scalar(value, pa.string()), len(t)))


def _outputs(d: Dialect, meta: SourceMeta) -> dict[str, Output]:
    def some(expr: str) -> str:
        return f"CASE WHEN {d.size(expr)} = 0 THEN NULL ELSE {expr} END"

    seafood = d.filter(
        "_hs", lambda x: f"substr({x}, 1, 2) = '03' OR substr({x}, 1, 4) IN ('1604', '1605')"
    )
    status_cases = " ".join(
        f"WHEN upper(trim(record_status)) IN ({', '.join(repr(v) for v in values)}) THEN '{name}'"
        for name, values in RECORD_STATUS.items()
    )
    # Only descriptions with runs of spaces or line breaks pay for the regex.
    messy = " OR ".join(
        f"instr(description, {w}) > 0" for w in ("'  '", "chr(9)", "chr(10)", "chr(13)")
    )
    description = (
        f"nullif(trim(CASE WHEN {messy} THEN {d.replace('description', SPACES, ' ')} "
        "ELSE description END), '')"
    )
    outputs: dict[str, Output] = {
        "row_id": Output(f"{d.lit(meta.source_sha256[:24] + ':')} || CAST(source_row AS STRING)"),
        "shipment_id": Output(
            "'tt-shipment-' || substr("
            + d.sha256("_bill || '|' || coalesce(_carrier_name, '')")
            + ", 1, 24)"
        ),
        "source_file": _constant(d, meta.source_file),
        "source_sha256": _constant(d, meta.source_sha256),
        "source_row": Output("source_row", lambda t: t.column("source_row")),
        "layout": _constant(d, meta.layout),
        "ingest_seq": _constant(d, int(meta.ingest_seq)),
        "record_id": _raw("record_id"),
        "record_status_raw": _raw("record_status"),
        "record_status": Output(f"CASE {status_cases} ELSE 'original' END"),
        "filing_date_raw": _raw("filing_date"),
        "filing_date": _looked_up("_filing_day"),
        "bill_of_lading_raw": _raw("bill_of_lading"),
        "bill_of_lading": Output("_bill"),
        "master_bill_of_lading_raw": _raw("master_bill_of_lading"),
        "master_bill_of_lading": Output("CASE WHEN _master <> _bill THEN _master END"),
        "is_house_bill": Output("coalesce(_master IS NOT NULL AND _master <> _bill, false)"),
    }
    for role in ("shipper", "consignee", "notify"):
        outputs |= {
            f"{role}_name_raw": _raw(f"{role}_name"),
            f"{role}_name": _looked_up(f"_{role}_name"),
            f"{role}_status": _looked_up(f"_{role}_status", "blank"),
            f"{role}_is_forwarder": _looked_up(f"_{role}_is_forwarder", False),
            f"{role}_address_raw": _raw(f"{role}_address"),
            f"{role}_address": _looked_up(f"_{role}_address"),
            f"{role}_country_raw": _raw(f"{role}_country"),
            f"{role}_country": _looked_up(f"_{role}_country"),
            f"{role}_id": _looked_up(f"_{role}_id"),
        }
    outputs |= {
        "carrier_raw": _raw("carrier"),
        "carrier": _looked_up("_carrier_name"),
        "vessel_raw": _raw("vessel"),
        "vessel_name": _looked_up("_vessel_name"),
        "vessel_imo_raw": _raw("vessel_imo"),
        "vessel_imo": _looked_up("_vessel_imo"),
        "port_of_lading_raw": _raw("port_of_lading"),
        "port_of_lading": _looked_up("_pol_port"),
        "port_of_unlading_raw": _raw("port_of_unlading"),
        "port_of_unlading": _looked_up("_pod_port"),
        "country_of_origin_raw": _raw("country_of_origin"),
        "country_of_origin": _looked_up("_origin_country"),
        "departure_date_raw": _raw("departure_date"),
        "departure_date": _looked_up("_departure_day"),
        "arrival_date_raw": _raw("arrival_date"),
        "arrival_date": _looked_up("_arrival_day"),
        "estimated_arrival_date_raw": _raw("estimated_arrival_date"),
        "estimated_arrival_date": _looked_up("_eta_day"),
        "hs_code_raw": _raw("hs_code"),
        "hs_code": Output(some("_hs")),
        "is_seafood": Output(f"coalesce({d.size(seafood)} > 0, false)"),
        "description_raw": _raw("description"),
        "goods_description": Output(description),
        "weight_raw": _raw("weight"),
        "weight_unit_raw": _raw("weight_unit"),
        "weight_kg": Output("_weight * _weight_factor"),
        "quantity_raw": _raw("quantity"),
        "quantity": Output("_quantity"),
        "quantity_unit_raw": _raw("quantity_unit"),
        "quantity_unit": _looked_up("_qty_unit"),
        "container_raw": _raw("container"),
        "container_number": Output(some("_containers")),
    }
    missing = {c.name for c in PARQUET_COLUMNS} - set(outputs)
    assert not missing, missing
    return outputs


def shipments_sql(d: Dialect, meta: SourceMeta) -> str:
    """Prepared rows (relation ``prep``, lookups joined) → the Parquet columns + partition.

    Args:
        d: the SQL dialect.
        meta: the source's values.
    """
    outputs = _outputs(d, meta)
    columns = [f"{outputs[c.name].sql} AS {c.name}" for c in PARQUET_COLUMNS]
    columns += list(PARTITION_COLUMNS)
    return f"SELECT {', '.join(columns)} FROM ({_base(d)}) AS b"  # noqa: S608


def derived_sql(d: Dialect, meta: SourceMeta) -> str:
    """Only the columns SQL must compute, + partition (the rest: :func:`passthrough_columns`)."""
    return _derived_sql(d, _outputs(d, meta))


def _derived_sql(d: Dialect, outputs: dict[str, Output]) -> str:
    columns = [
        f"{outputs[c.name].sql} AS {c.name}"
        for c in PARQUET_COLUMNS
        if outputs[c.name].arrow is None
    ]
    columns += list(PARTITION_COLUMNS)
    return f"SELECT {', '.join(columns)} FROM ({_base(d)}) AS b"  # noqa: S608


def passthrough_columns(
    prep: pa.Table, meta: SourceMeta
) -> dict[str, "pa.Array | pa.ChunkedArray"]:
    """The columns that only pass a raw, constant or looked-up value on, from the prepared chunk."""
    return _passthrough(prep, _outputs(DUCKDB, meta))


def _passthrough(
    prep: pa.Table, outputs: dict[str, Output]
) -> dict[str, "pa.Array | pa.ChunkedArray"]:
    return {name: out.arrow(prep) for name, out in outputs.items() if out.arrow is not None}


def build_rows(con: "duckdb.DuckDBPyConnection", prep: pa.Table, meta: SourceMeta) -> pa.Table:
    """A prepared chunk → its Parquet rows (+ partition columns), the DuckDB engine's way.

    DuckDB computes what needs SQL (in the chunk's row order: the connection keeps
    insertion order); the columns that only pass values on are taken from Arrow.
    """
    outputs = _outputs(DUCKDB, meta)
    con.register("prep", prep)
    try:
        derived = con.execute(_derived_sql(DUCKDB, outputs)).to_arrow_table()
    finally:
        con.unregister("prep")
    passed = _passthrough(prep, outputs)
    names = [c.name for c in PARQUET_COLUMNS] + list(PARTITION_COLUMNS)
    columns = [passed[n] if n in passed else derived.column(n) for n in names]
    return pa.table(columns, names=names)
