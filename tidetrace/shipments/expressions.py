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
    "SPARK",
    "Dialect",
    "SourceMeta",
    "lookup_sql",
    "marks_sql",
    "shipments_sql",
]

# Grouped as printed (0307.43, 0307.43.0050, 0307 43 00) or bare digits.
HS_PATTERN = "[0-9]{4}[.]?[0-9]{2}([.]?[0-9]{2}){0,2}|[0-9]{4} [0-9]{2}( ?[0-9]{2}){0,2}"
CONTAINER_PATTERN = "[A-Za-z]{3}[UJZujz][ -]?[0-9]{6}[ -]?[0-9]"
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

    def size(self, expr: str) -> str:
        """Number of elements of a list."""
        return f"size({expr})" if self.spark else f"len({expr})"

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
        checks.append((f"{name} RLIKE {d.lit(MOJIBAKE_PATTERN)}", name, MOJIBAKE_REASON))
    for name in RAW_FIELDS:
        limit = MAX_LENGTH.get(name, DEFAULT_MAX_LENGTH)
        checks.append((f"char_length({name}) > {limit}", name, f"longer than {limit} characters"))
    bill = "bill_of_lading"
    checks.append((f"{bill} RLIKE {d.lit(BLANK_PATTERN)}", bill, "missing bill of lading number"))
    checks.append(
        (
            f"{d.replace(bill, '[^A-Za-z0-9]', '')} = ''",
            bill,
            "no letters or digits in the bill of lading number",
        )
    )
    field = " ".join(f"WHEN {cond} THEN {d.lit(name)}" for cond, name, _ in checks)
    reason = " ".join(f"WHEN {cond} THEN {d.lit(why)}" for cond, _, why in checks)
    value = " ".join(
        f"WHEN {d.lit(name)} THEN substr({name}, 1, {MAX_REJECT_VALUE})" for name in RAW_FIELDS
    )

    def unit_key(unit: str, amount: str) -> str:
        # As prepare._unit_key: "12000 KGS" with a blank unit column has its unit in the weight.
        return f"CASE WHEN trim({unit}) = '' THEN {d.extract(amount, '[A-Za-z]+')} ELSE {unit} END"

    marked = (
        f"SELECT *, {unit_key('weight_unit', 'weight')} AS weight_unit_key, "  # noqa: S608
        f"{unit_key('quantity_unit', 'quantity')} AS quantity_unit_key, "
        f"CASE {field} END AS reject_field, CASE {reason} END AS reject_reason FROM {table}"
    )
    kept = ", ".join([*RAW_FIELDS, "source_row", "weight_unit_key", "quantity_unit_key"])
    return (
        f"SELECT {kept}, reject_field, CASE reject_field {value} END AS reject_value, "  # noqa: S608
        f"reject_reason FROM ({marked}) AS m"
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


def _base(d: Dialect) -> str:
    """First pass: the values several output columns are built from."""
    hs = d.transform(d.extract_all("hs_code", HS_PATTERN), lambda x: d.replace(x, "[^0-9]", ""))
    hs = d.filter(hs, lambda x: f"length({x}) BETWEEN 6 AND 10 AND {_chapter_ok(x)}")
    containers = d.transform(
        d.extract_all("container", CONTAINER_PATTERN),
        lambda x: f"upper({d.replace(x, '[^A-Za-z0-9]', '')})",
    )
    containers = d.filter(containers, _container_ok)

    def alnum(expr: str) -> str:
        # Letters and digits only, upper-cased after the strip so both engines see ASCII.
        return f"nullif(upper({d.replace(expr, '[^A-Za-z0-9]', '')}), '')"

    arrival = "coalesce(_arrival_day, _eta_day)"
    return (
        "SELECT *, "  # noqa: S608
        f"{alnum('bill_of_lading')} AS _bill, "
        f"{alnum('master_bill_of_lading')} AS _master, "
        f"{d.sorted_distinct(hs)} AS _hs, "
        f"{d.sorted_distinct(containers)} AS _containers, "
        f"{_number(d, 'weight')} AS _weight, "
        f"{_number(d, 'quantity')} AS _quantity, "
        f"CAST(coalesce(year({arrival}), 0) AS INT) AS arrival_year, "
        f"CAST(coalesce(month({arrival}), 0) AS INT) AS arrival_month "
        "FROM prep"
    )


def _outputs(d: Dialect, meta: SourceMeta) -> dict[str, str]:
    def raw(field: str) -> str:
        return f"nullif({field}, '')"

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
    exprs: dict[str, str] = {
        "row_id": f"{d.lit(meta.source_sha256[:24] + ':')} || CAST(source_row AS STRING)",
        "shipment_id": (
            "'tt-shipment-' || substr("
            + d.sha256("_bill || '|' || coalesce(_carrier_name, '')")
            + ", 1, 24)"
        ),
        "source_file": d.lit(meta.source_file),
        "source_sha256": d.lit(meta.source_sha256),
        "source_row": "source_row",
        "layout": d.lit(meta.layout),
        "ingest_seq": f"CAST({int(meta.ingest_seq)} AS BIGINT)",
        "record_id": raw("record_id"),
        "record_status_raw": raw("record_status"),
        "record_status": f"CASE {status_cases} ELSE 'original' END",
        "filing_date_raw": raw("filing_date"),
        "filing_date": "_filing_day",
        "bill_of_lading_raw": raw("bill_of_lading"),
        "bill_of_lading": "_bill",
        "master_bill_of_lading_raw": raw("master_bill_of_lading"),
        "master_bill_of_lading": "CASE WHEN _master <> _bill THEN _master END",
        "is_house_bill": "coalesce(_master IS NOT NULL AND _master <> _bill, false)",
    }
    for role in ("shipper", "consignee", "notify"):
        exprs |= {
            f"{role}_name_raw": raw(f"{role}_name"),
            f"{role}_name": f"_{role}_name",
            f"{role}_status": f"coalesce(_{role}_status, 'blank')",
            f"{role}_is_forwarder": f"coalesce(_{role}_is_forwarder, false)",
            f"{role}_address_raw": raw(f"{role}_address"),
            f"{role}_address": f"_{role}_address",
            f"{role}_country_raw": raw(f"{role}_country"),
            f"{role}_country": f"_{role}_country",
            f"{role}_id": f"_{role}_id",
        }
    exprs |= {
        "carrier_raw": raw("carrier"),
        "carrier": "_carrier_name",
        "vessel_raw": raw("vessel"),
        "vessel_name": "_vessel_name",
        "vessel_imo_raw": raw("vessel_imo"),
        "vessel_imo": "_vessel_imo",
        "port_of_lading_raw": raw("port_of_lading"),
        "port_of_lading": "_pol_port",
        "port_of_unlading_raw": raw("port_of_unlading"),
        "port_of_unlading": "_pod_port",
        "country_of_origin_raw": raw("country_of_origin"),
        "country_of_origin": "_origin_country",
        "departure_date_raw": raw("departure_date"),
        "departure_date": "_departure_day",
        "arrival_date_raw": raw("arrival_date"),
        "arrival_date": "_arrival_day",
        "estimated_arrival_date_raw": raw("estimated_arrival_date"),
        "estimated_arrival_date": "_eta_day",
        "hs_code_raw": raw("hs_code"),
        "hs_code": some("_hs"),
        "is_seafood": f"coalesce({d.size(seafood)} > 0, false)",
        "description_raw": raw("description"),
        "goods_description": description,
        "weight_raw": raw("weight"),
        "weight_unit_raw": raw("weight_unit"),
        "weight_kg": "_weight * _weight_factor",
        "quantity_raw": raw("quantity"),
        "quantity": "_quantity",
        "quantity_unit_raw": raw("quantity_unit"),
        "quantity_unit": "_qty_unit",
        "container_raw": raw("container"),
        "container_number": some("_containers"),
    }
    missing = {c.name for c in PARQUET_COLUMNS} - set(exprs)
    assert not missing, missing
    return exprs


def shipments_sql(d: Dialect, meta: SourceMeta) -> str:
    """Prepared rows (relation ``prep``, lookups joined) → the Parquet columns + partition.

    Args:
        d: the SQL dialect.
        meta: the source's values.
    """
    outputs = _outputs(d, meta)
    columns = [f"{outputs[c.name]} AS {c.name}" for c in PARQUET_COLUMNS]
    columns += list(PARTITION_COLUMNS)
    return f"SELECT {', '.join(columns)} FROM ({_base(d)}) AS b"  # noqa: S608
