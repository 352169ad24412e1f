"""The fields of a shipment record: what a layout maps onto, and the Parquet columns out.

Every layout (built-in or a user's ``--mapping``) maps its columns onto the *raw fields*
below. Normalisation then produces the *Parquet columns*: each cleaned value sits beside
its raw value (``shipper_name`` beside ``shipper_name_raw``), and each column that holds a
property of the FtM ``Shipment`` schema (``tidetrace/schema/Shipment.yaml``) says which.
"""

from dataclasses import dataclass

import pyarrow as pa

__all__ = [
    "DICTIONARY_COLUMNS",
    "MAX_LENGTH",
    "PARQUET_COLUMNS",
    "PARQUET_SCHEMA",
    "PARTIES",
    "PARTITION_COLUMNS",
    "RAW_FIELDS",
    "REJECT_SCHEMA",
    "REQUIRED_FIELDS",
    "Column",
]

# What a layout can fill, in the order of the generic layout's header (then extras).
RAW_FIELDS: tuple[str, ...] = (
    "bill_of_lading",
    "master_bill_of_lading",
    "arrival_date",
    "shipper_name",
    "shipper_address",
    "shipper_country",
    "consignee_name",
    "consignee_address",
    "consignee_country",
    "notify_name",
    "carrier",
    "vessel",
    "port_of_lading",
    "port_of_unlading",
    "hs_code",
    "description",
    "weight",
    "weight_unit",
    "quantity",
    "quantity_unit",
    "container",
    # Beyond the generic header: filled by the AMS and aggregator layouts, or a mapping.
    "notify_address",
    "notify_country",
    "vessel_imo",
    "estimated_arrival_date",
    "departure_date",
    "country_of_origin",
    "record_id",
    "record_status",
    "filing_date",
)
REQUIRED_FIELDS: tuple[str, ...] = ("bill_of_lading", "shipper_name", "consignee_name")
PARTIES: tuple[str, ...] = ("shipper", "consignee", "notify")

# Longest raw value accepted per field (characters); longer rows go to the rejects file.
# Names and identifiers follow FtM's limits (name 384, identifier 64); an AMS party has
# four 35-character address lines plus city, state and postcode.
MAX_LENGTH: dict[str, int] = {
    "bill_of_lading": 64,
    "master_bill_of_lading": 64,
    "shipper_name": 384,
    "consignee_name": 384,
    "notify_name": 384,
    "shipper_address": 2000,
    "consignee_address": 2000,
    "notify_address": 2000,
    "description": 65000,
    "hs_code": 2000,
    "container": 20000,
    "vessel": 384,
}
DEFAULT_MAX_LENGTH = 256


@dataclass(frozen=True)
class Column:
    """One Parquet column.

    Attributes:
        name: the column name.
        type: its Arrow type.
        prop: the FtM ``Shipment`` property it holds, if any.
        doc: what it is, in one line.
        per_row: values are (nearly) unique per row, so the Parquet writer stores them
            plainly: trying a dictionary first cost a third of the writing CPU for nothing.
    """

    name: str
    type: pa.DataType
    prop: str | None
    doc: str
    per_row: bool = False


def _party_columns(role: str, prop: str) -> list[Column]:
    return [
        Column(f"{role}_name_raw", pa.string(), None, f"{role} name as written"),
        Column(f"{role}_name", pa.string(), None, f"{role} name: case, spacing, punctuation"),
        Column(
            f"{role}_status",
            pa.string(),
            None,
            "named, blank, not_available, to_order, redacted or same_as_other",
        ),
        Column(f"{role}_is_forwarder", pa.bool_(), None, "a forwarder/NVOCC, not the trader"),
        Column(f"{role}_address_raw", pa.string(), None, f"{role} address as written"),
        Column(f"{role}_address", pa.string(), None, f"{role} address, cleaned"),
        Column(f"{role}_country_raw", pa.string(), None, f"{role} country as written"),
        Column(f"{role}_country", pa.string(), None, "ISO 3166-1 alpha-2, lower case"),
        Column(f"{role}_id", pa.string(), prop, "party entity id; null unless named"),
    ]


PARQUET_COLUMNS: tuple[Column, ...] = (
    Column(
        "row_id", pa.string(), None, "source content hash and row: one id per raw row", per_row=True
    ),
    Column(
        "shipment_id",
        pa.string(),
        None,
        "FtM Shipment id, from bill of lading + carrier",
        per_row=True,
    ),
    Column("source_file", pa.string(), None, "file name the row came from"),
    Column("source_sha256", pa.string(), None, "SHA-256 of the file (or AMS table set)"),
    Column(
        "source_row", pa.int64(), None, "1-based position of the record in its source", per_row=True
    ),
    Column("layout", pa.string(), None, "layout the file was read with"),
    Column("ingest_seq", pa.int64(), None, "ingest number: later ingests are newer versions"),
    Column("record_id", pa.string(), "recordId", "record id in the source (AMS identifier)"),
    Column("record_status_raw", pa.string(), None, "record status as written"),
    Column("record_status", pa.string(), None, "original, amended or deleted"),
    Column("filing_date_raw", pa.string(), None, "filing/update date as written"),
    Column("filing_date", pa.date32(), None, "filing/update date; orders amendments"),
    Column(
        "bill_of_lading_raw", pa.string(), None, "bill of lading number as written", per_row=True
    ),
    Column(
        "bill_of_lading",
        pa.string(),
        "billOfLading",
        "letters and digits, upper case",
        per_row=True,
    ),
    Column("master_bill_of_lading_raw", pa.string(), None, "master bill as written", per_row=True),
    Column(
        "master_bill_of_lading", pa.string(), "masterBillOfLading", "master bill of a house bill"
    ),
    Column("is_house_bill", pa.bool_(), "isHouseBill", "a house bill under a master bill"),
    *_party_columns("shipper", "shipper"),
    *_party_columns("consignee", "consignee"),
    *_party_columns("notify", "notifyParty"),
    Column("carrier_raw", pa.string(), None, "carrier as written"),
    Column("carrier", pa.string(), "carrier", "carrier name or SCAC, upper case"),
    Column("vessel_raw", pa.string(), None, "vessel as written"),
    Column("vessel_name", pa.string(), "vesselName", "vessel name without prefixes or IMO"),
    Column("vessel_imo_raw", pa.string(), None, "IMO number as written"),
    Column("vessel_imo", pa.string(), None, "IMO number with a valid check digit"),
    Column("port_of_lading_raw", pa.string(), None, "port of lading as written"),
    Column("port_of_lading", pa.string(), "portOfLading", "UN/LOCODE when known, else the name"),
    Column("port_of_unlading_raw", pa.string(), None, "port of unlading as written"),
    Column("port_of_unlading", pa.string(), "portOfUnlading", "UN/LOCODE when known"),
    Column("country_of_origin_raw", pa.string(), None, "country of origin as written"),
    Column("country_of_origin", pa.string(), "countryOfOrigin", "ISO 3166-1 alpha-2"),
    Column("departure_date_raw", pa.string(), None, "departure date as written"),
    Column("departure_date", pa.date32(), "departureDate", "departure date"),
    Column("arrival_date_raw", pa.string(), None, "(actual) arrival date as written"),
    Column("arrival_date", pa.date32(), "arrivalDate", "actual arrival date"),
    Column("estimated_arrival_date_raw", pa.string(), None, "estimated arrival as written"),
    Column("estimated_arrival_date", pa.date32(), "estimatedArrivalDate", "estimated arrival date"),
    Column("hs_code_raw", pa.string(), None, "HS code(s) as written"),
    Column("hs_code", pa.list_(pa.string()), "hsCode", "HS codes, 6-10 digits"),
    Column("is_seafood", pa.bool_(), None, "an HS code in chapter 03 or heading 1604/1605"),
    Column("description_raw", pa.string(), None, "goods description as written"),
    Column("goods_description", pa.string(), "goodsDescription", "description, spacing fixed"),
    Column("weight_raw", pa.string(), None, "weight as written", per_row=True),
    Column("weight_unit_raw", pa.string(), None, "weight unit as written"),
    Column(
        "weight_kg",
        pa.float64(),
        "weightKg",
        "weight in kg (KG, LB, MT, T converted)",
        per_row=True,
    ),
    Column("quantity_raw", pa.string(), None, "quantity as written"),
    Column("quantity", pa.float64(), "quantity", "number of packages"),
    Column("quantity_unit_raw", pa.string(), None, "package unit as written"),
    Column("quantity_unit", pa.string(), "quantityUnit", "package unit code (CTN, PCS, PKG …)"),
    Column("container_raw", pa.string(), None, "container number(s) as written", per_row=True),
    Column(
        "container_number", pa.list_(pa.string()), "containerNumber", "valid ISO 6346", per_row=True
    ),
)
PARQUET_SCHEMA = pa.schema([pa.field(c.name, c.type) for c in PARQUET_COLUMNS])
# Columns whose values repeat across rows: the ones worth a Parquet dictionary.
DICTIONARY_COLUMNS: tuple[str, ...] = tuple(c.name for c in PARQUET_COLUMNS if not c.per_row)
# Directory levels of the dataset (hive style); 0/0 holds rows without any arrival date.
PARTITION_COLUMNS: tuple[str, ...] = ("arrival_year", "arrival_month")

REJECT_SCHEMA = pa.schema(
    [
        pa.field("file", pa.string()),
        pa.field("row", pa.int64()),
        pa.field("field", pa.string()),
        pa.field("value", pa.string()),
        pa.field("reason", pa.string()),
    ]
)
