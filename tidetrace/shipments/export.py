"""Writing shipments out: CSV, XLSX, JSON and FtM entities.

Every CSV and XLSX cell goes through :mod:`tidetrace.export_safety`, so a name typed as a
spreadsheet formula (``=cmd|' /C calc'!A0``) arrives as text, never as a formula.
"""

import json
import math
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import pyarrow as pa

from tidetrace.export_safety import SafeCsvWriter, xlsx_value
from tidetrace.shipments.entities import shipment_entities

__all__ = [
    "EXPORT_COLUMNS",
    "cell",
    "json_rows",
    "write_csv",
    "write_ftm",
    "write_json",
    "write_xlsx",
]

# What a person reading a table of bills wants, in that order (--json gives everything).
EXPORT_COLUMNS = (
    "arrival_date",
    "estimated_arrival_date",
    "bill_of_lading",
    "master_bill_of_lading",
    "is_house_bill",
    "record_status",
    "shipper_name_raw",
    "shipper_name",
    "shipper_status",
    "shipper_is_forwarder",
    "shipper_country",
    "shipper_id",
    "consignee_name_raw",
    "consignee_name",
    "consignee_status",
    "consignee_country",
    "consignee_id",
    "notify_name_raw",
    "carrier",
    "vessel_name",
    "vessel_imo",
    "port_of_lading",
    "port_of_unlading",
    "country_of_origin",
    "hs_code",
    "is_seafood",
    "goods_description",
    "weight_kg",
    "quantity",
    "quantity_unit",
    "container_number",
    "shipment_id",
    "dataset",
    "source_file",
    "source_row",
)


def cell(value: Any) -> Any:
    """A table cell: lists joined with "; ", dates as ISO text, None as ""."""
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(str(v) for v in value if v is not None)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _rows(table: pa.Table, columns: Iterable[str]) -> Iterator[list[Any]]:
    names = [c for c in columns if c in table.column_names]
    for row in table.select(names).to_pylist():
        yield [cell(row[c]) for c in names]


def write_csv(table: pa.Table, fh: IO[str], columns: Iterable[str] = EXPORT_COLUMNS) -> int:
    """Write rows as CSV (formula-safe); returns the number of rows."""
    names = [c for c in columns if c in table.column_names]
    writer = SafeCsvWriter(fh)
    writer.writerow(names)
    count = 0
    for row in _rows(table, names):
        writer.writerow(row)
        count += 1
    return count


def write_xlsx(table: pa.Table, path: Path, columns: Iterable[str] = EXPORT_COLUMNS) -> int:
    """Write rows as an XLSX workbook (formula-safe); returns the number of rows."""
    from openpyxl import Workbook  # type: ignore[import-untyped]

    names = [c for c in columns if c in table.column_names]
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("shipments")
    sheet.append(names)
    count = 0
    for row in _rows(table, names):
        sheet.append([xlsx_value(v) for v in row])
        count += 1
    workbook.save(path)
    return count


def _json_value(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    return str(value)  # dates as ISO text


def json_rows(table: pa.Table) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts, every column: what :func:`write_json` writes, and the
    ``bills`` of ``GET /api/shipments``. Dates become ISO text; NaN becomes None."""
    return [{name: _json_value(v) for name, v in row.items()} for row in table.to_pylist()]


def write_json(table: pa.Table, fh: IO[str]) -> int:
    """Write rows as a JSON array of objects (every column); returns the number of rows."""
    rows = json_rows(table)
    json.dump(rows, fh, ensure_ascii=False, indent=2)
    fh.write("\n")
    return len(rows)


def write_ftm(rows: Iterable[dict[str, Any]], fh: IO[str]) -> int:
    """Write Shipment, party and vessel entities as FtM JSON lines; returns the count."""
    count = 0
    for entity in shipment_entities(rows):
        fh.write(json.dumps(entity.to_dict(), ensure_ascii=False, sort_keys=True))
        fh.write("\n")
        count += 1
    return count
