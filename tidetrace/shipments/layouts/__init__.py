"""Column mappings from the layouts investigators hold onto tidetrace's raw fields.

A layout is YAML data (``tidetrace/shipments/layouts/*.yml``); a user's ``--mapping M.yml``
has the same format. Each entry of ``columns`` maps one raw field
(:data:`tidetrace.shipments.fields.RAW_FIELDS`) to the source, in one of these forms::

    bill_of_lading: Bill of Lading Number          # one column (header matched ignoring case)
    shipper_name: {any: [Shipper (Original), Shipper]}   # first non-blank of these
    shipper_address: {join: [Address 1, City, Zip], sep: ", "}   # non-blank ones joined
    weight_unit: {const: KG}                        # the same value on every row
    hs_code: {agg: tariff.harmonized_number, sep: ", "}   # many rows of a table (AMS)

``detect.required`` lists the headers that identify the layout. A multi-table layout
(``ams``) instead has ``tables``, each with its own ``detect`` headers, joined on ``key``,
and its columns name ``table.column``. ``options.date_order`` says how to read dates like
``03/04/2023`` (``mdy``, ``dmy`` or ``ymd``).
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tidetrace.exc import InputError
from tidetrace.shipments.fields import RAW_FIELDS, REQUIRED_FIELDS

__all__ = [
    "BUILTIN",
    "LAYOUT_DIR",
    "FieldSpec",
    "Layout",
    "TableSpec",
    "builtin_layouts",
    "header_key",
    "load_layout",
]

LAYOUT_DIR = Path(__file__).parent
BUILTIN = ("generic", "ams", "panjiva", "importyeti", "importgenius")
DATE_ORDERS = ("mdy", "dmy", "ymd")


def header_key(name: str) -> str:
    """How headers are compared: case, surrounding space, inner spacing and BOM ignored."""
    return " ".join(name.replace("\ufeff", "").split()).casefold()


@dataclass(frozen=True)
class FieldSpec:
    """Where one raw field comes from.

    Attributes:
        kind: ``column``, ``any``, ``join``, ``const`` or ``agg``.
        columns: the source columns (``table.column`` in multi-table layouts).
        sep: separator for ``join`` and ``agg``.
        value: the constant for ``const``.
    """

    kind: str
    columns: tuple[str, ...] = ()
    sep: str = " "
    value: str = ""


@dataclass(frozen=True)
class TableSpec:
    """One table of a multi-table layout.

    Attributes:
        name: the table's name in the layout (``header``, ``tariff`` …).
        detect: headers that identify a file as this table.
        required: the layout cannot be read without this table.
        many: several rows per key (aggregated), rather than one.
    """

    name: str
    detect: tuple[str, ...]
    required: bool = False
    many: bool = False


@dataclass(frozen=True)
class Layout:
    """A column mapping.

    Attributes:
        name: short name (``panjiva``); a user mapping is ``mapping:<file stem>``.
        title: what it reads.
        columns: raw field → where it comes from.
        detect: headers that identify a single-table layout.
        date_order: how to read ambiguous numeric dates.
        tables: the tables of a multi-table layout (empty for single-table ones).
        key: the join key of a multi-table layout.
        path: the YAML file.
    """

    name: str
    title: str
    columns: dict[str, FieldSpec]
    detect: tuple[str, ...] = ()
    date_order: str = "mdy"
    tables: dict[str, TableSpec] = field(default_factory=dict)
    key: str | None = None
    path: Path | None = None

    @property
    def multi_table(self) -> bool:
        """True for layouts of several joined tables (AMS)."""
        return bool(self.tables)

    def source_columns(self) -> set[str]:
        """Every source column any field reads."""
        return {col for spec in self.columns.values() for col in spec.columns}

    def match_score(self, headers: list[str]) -> int:
        """How well a single file's headers fit: 0 when a detect header is missing.

        Otherwise one point per source column present, so the most specific layout wins
        when several would do.
        """
        if self.multi_table:
            return 0
        present = {header_key(h) for h in headers}
        if not all(header_key(h) in present for h in self.detect):
            return 0
        return 1 + sum(header_key(c) in present for c in self.source_columns())

    def match_table(self, headers: list[str]) -> str | None:
        """The table of a multi-table layout that a file's headers are, or None."""
        present = {header_key(h) for h in headers}
        best: tuple[int, str] | None = None
        for table in self.tables.values():
            if all(header_key(h) in present for h in table.detect):
                score = len(table.detect)
                if best is None or score > best[0]:
                    best = (score, table.name)
        return None if best is None else best[1]


def _spec(raw: Any, where: str, path: Path) -> FieldSpec:
    if isinstance(raw, str):
        return FieldSpec("column", (raw,))
    if isinstance(raw, dict) and len(raw) in (1, 2):
        sep = raw.get("sep", " ")
        if not isinstance(sep, str):
            raise InputError(path, "sep must be a string", field=where)
        for kind in ("column", "any", "join", "const", "agg"):
            if kind not in raw:
                continue
            value = raw[kind]
            if kind == "const":
                if not isinstance(value, str | int | float):
                    raise InputError(path, "const must be a single value", field=where)
                return FieldSpec("const", value=str(value))
            names = [value] if isinstance(value, str) else value
            if (
                not isinstance(names, list)
                or not names
                or not all(isinstance(n, str) for n in names)
            ):
                raise InputError(path, f"{kind} needs a column name or a list of them", field=where)
            if kind in ("column", "agg") and len(names) != 1:
                raise InputError(path, f"{kind} takes one column", field=where)
            return FieldSpec(kind, tuple(names), sep=sep)
    raise InputError(
        path,
        "expected a column name or one of {column|any|join|const|agg: …}",
        field=where,
    )


def _parse(data: Any, path: Path, name: str | None) -> Layout:
    if not isinstance(data, dict):
        raise InputError(path, "a mapping must be a YAML object with 'columns'")
    columns_raw = data.get("columns")
    if not isinstance(columns_raw, dict) or not columns_raw:
        raise InputError(path, "missing 'columns': raw field → source column", field="columns")
    columns: dict[str, FieldSpec] = {}
    for raw_field, raw_spec in columns_raw.items():
        if raw_field not in RAW_FIELDS:
            raise InputError(
                path, f"unknown field; known: {', '.join(RAW_FIELDS)}", field=str(raw_field)
            )
        columns[raw_field] = _spec(raw_spec, raw_field, path)
    missing = [f for f in REQUIRED_FIELDS if f not in columns]
    if missing:
        raise InputError(path, f"the mapping must fill {', '.join(missing)}", field="columns")
    options = data.get("options") or {}
    if not isinstance(options, dict):
        raise InputError(path, "options must be an object", field="options")
    date_order = str(options.get("date_order", "mdy"))
    if date_order not in DATE_ORDERS:
        raise InputError(
            path, f"date_order must be one of {', '.join(DATE_ORDERS)}", field="options"
        )
    tables: dict[str, TableSpec] = {}
    for table_name, table in (data.get("tables") or {}).items():
        if not isinstance(table, dict) or not isinstance(table.get("detect"), list):
            raise InputError(path, "each table needs a 'detect' list", field=f"tables.{table_name}")
        tables[str(table_name)] = TableSpec(
            name=str(table_name),
            detect=tuple(str(h) for h in table["detect"]),
            required=bool(table.get("required", False)),
            many=bool(table.get("many", False)),
        )
    key = data.get("key")
    if tables:
        if not isinstance(key, str):
            raise InputError(path, "a multi-table layout needs a 'key' column", field="key")
        for raw_field, spec in columns.items():
            for col in spec.columns:
                table_name = col.split(".", 1)[0]
                if "." not in col or table_name not in tables:
                    raise InputError(path, f"{col!r} is not table.column", field=raw_field)
                if spec.kind != "agg" and tables[table_name].many:
                    raise InputError(path, f"{table_name} has many rows: use agg", field=raw_field)
    detect_raw = (data.get("detect") or {}).get("required", []) if not tables else []
    detect = tuple(str(h) for h in detect_raw)
    if not tables and not detect:
        # A user mapping without detect headers is detected by the columns it reads.
        detect = tuple(
            spec.columns[0] for f, spec in columns.items() if f in REQUIRED_FIELDS and spec.columns
        )
    return Layout(
        name=name or str(data.get("name") or path.stem),
        title=str(data.get("title") or path.stem),
        columns=columns,
        detect=detect,
        date_order=date_order,
        tables=tables,
        key=key if isinstance(key, str) else None,
        path=path,
    )


def load_layout(path: Path, name: str | None = None) -> Layout:
    """Read and check a layout or user mapping file.

    Args:
        path: the YAML file.
        name: the name to give it (default: its ``name``, else the file stem).

    Raises:
        InputError: the file is missing, not YAML, or not a valid mapping.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(path, "no such mapping file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(path, f"cannot read the mapping: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise InputError(path, "not valid YAML", line=line) from None
    return _parse(data, path, name)


def builtin_layouts() -> dict[str, Layout]:
    """The layouts shipped with tidetrace, by name."""
    return {name: load_layout(LAYOUT_DIR / f"{name}.yml") for name in BUILTIN}
