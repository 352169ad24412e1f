"""Where the graph's observed edges come from: shipments, behind one small interface.

A :class:`ShipmentSource` splits its records into partitions that each carry a
fingerprint; the build re-reads only partitions whose fingerprint changed, which is what
makes it incremental. For each partition it registers a DuckDB view with the standard
columns of :data:`COLUMNS`:

============== ===========================================================================
``key``        the shipment's identity across partitions (dataset + shipment id): several
               rows with one key are versions of one bill (amendments, re-filings)
``filing_date`` ``ingest_seq`` ``source_row``  order the versions: the latest wins
``deleted``    TRUE when this version withdraws the bill
``bill``       bill of lading number
``day``        arrival date (estimated arrival, then departure, when there is none), DATE
``shipper``    party id of the shipper (the store's entity id when there is one)
``consignee``  party id of the consignee
``notify``     party id of the notify party, or NULL
``hs``         HS codes of the shipment, space-separated, or NULL
``kg``         gross weight in kg, or NULL
``*_name``     the party's name as written (``shipper_name`` …), for parties the store lacks
``*_country``  the party's country code, or NULL
``forwarder``  TRUE when the shipper slot holds a forwarder/NVOCC rather than the shipper
============== ===========================================================================

A party the records mark as no party (blank, TO ORDER, redacted) has a NULL id and makes
no edge. Versions are resolved by the build across all partitions, because an amendment
can land in another partition than the bill it amends.

Two sources exist today: :class:`StoreShipments` reads ``Shipment`` entities from the
entity store (FtM imports, small ingests, tests) and :class:`ParquetShipments` reads the
trade-records Parquet dataset under ``ws.parquet_dir``, finding its columns by name. The
trade-records work (``tidetrace.shipments``) owns that dataset's layout; when it settles,
only the column candidates below need to follow it.
"""

import hashlib
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import duckdb
import pyarrow as pa
from sqlalchemy import Engine, select

from tidetrace.exc import InputError
from tidetrace.store.tables import statement_table

__all__ = [
    "COLUMNS",
    "ParquetShipments",
    "Partition",
    "ShipmentSource",
    "StoreShipments",
    "default_sources",
    "party_id",
]

COLUMNS = (
    "key",
    "filing_date",
    "ingest_seq",
    "source_row",
    "deleted",
    "bill",
    "day",
    "shipper",
    "consignee",
    "notify",
    "hs",
    "kg",
    "shipper_name",
    "consignee_name",
    "notify_name",
    "shipper_country",
    "consignee_country",
    "notify_country",
    "forwarder",
)
ROLES = ("shipper", "consignee", "notify")


@dataclass(frozen=True)
class Partition:
    """A slice of a source that is rebuilt as a whole.

    Attributes:
        key: stable name, e.g. ``parquet:arrival_year=2023/arrival_month=4``.
        fingerprint: changes whenever the slice's records may have changed.
    """

    key: str
    fingerprint: str


class ShipmentSource(Protocol):
    """Trade records offered to the graph build, partition by partition."""

    name: str

    def partitions(self) -> list[Partition]:
        """The partitions there are now."""
        ...

    def register(self, con: duckdb.DuckDBPyConnection, partition: Partition, view: str) -> None:
        """Create view ``view`` in ``con`` with :data:`COLUMNS` for one partition's records."""
        ...


def party_id(name: str, country: str | None = None) -> str:
    """A stable id for a party known only by its name on a bill (``bol-<hash>``).

    Used when a records layout has no party ids. The trade-records ingest may mint its own;
    whichever it uses, entity resolution maps it to the canonical entity.
    """
    key = f"{' '.join(name.upper().split())}|{(country or '').upper()}"
    return "bol-" + hashlib.sha1(key.encode("utf-8"), usedforsecurity=False).hexdigest()[:16]


# -- the entity store ------------------------------------------------------------------------

_SHIPMENT_PROPS = {
    "billOfLading": "bill",
    "arrivalDate": "arrival",
    "departureDate": "departure",
    "shipper": "shipper",
    "consignee": "consignee",
    "notifyParty": "notify",
    "hsCode": "hs",
    "weightKg": "kg",
}
_PARTY_PROPS = ("name", "country")


class StoreShipments:
    """``Shipment`` entities in the entity store, as one partition."""

    name = "store"

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def partitions(self) -> list[Partition]:
        """One partition; its fingerprint covers every Shipment statement's id and last_seen."""
        digest = hashlib.sha1(usedforsecurity=False)
        count = 0
        query = (
            select(
                statement_table.c.id, statement_table.c.last_seen, statement_table.c.canonical_id
            )
            .where(statement_table.c.schema == "Shipment")
            .order_by(statement_table.c.id)
        )
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                digest.update(f"{row.id}|{row.last_seen}|{row.canonical_id}\n".encode())
                count += 1
        if count == 0:
            return []
        return [Partition("store", digest.hexdigest())]

    def _rows(self) -> Iterator[dict[str, Any]]:
        values: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        query = select(
            statement_table.c.canonical_id, statement_table.c.prop, statement_table.c.value
        ).where(
            statement_table.c.schema == "Shipment",
            statement_table.c.prop.in_(list(_SHIPMENT_PROPS)),
        )
        with self.engine.connect() as conn:
            for stmt in conn.execute(query):
                values[stmt.canonical_id][_SHIPMENT_PROPS[stmt.prop]].append(stmt.value)
        parties = {v for props in values.values() for r in ROLES for v in props.get(r, [])}
        names = self._party_values(parties)
        for shipment_id, props in values.items():
            row: dict[str, Any] = {"key": shipment_id, "deleted": False}
            row["bill"] = _first(props.get("bill")) or shipment_id
            row["day"] = _first(props.get("arrival")) or _first(props.get("departure"))
            for role in ROLES:
                party = min(props.get(role, []), default=None)
                row[role] = party
                info = names.get(party or "", {})
                row[f"{role}_name"] = info.get("name")
                row[f"{role}_country"] = info.get("country")
            row["hs"] = " ".join(sorted(set(props.get("hs", [])))) or None
            row["kg"] = _sum_numbers(props.get("kg", []))
            row["forwarder"] = False
            yield row

    def _party_values(self, ids: set[str]) -> dict[str, dict[str, str]]:
        out: dict[str, dict[str, str]] = defaultdict(dict)
        id_list = sorted(ids)
        with self.engine.connect() as conn:
            for start in range(0, len(id_list), 500):
                chunk = id_list[start : start + 500]
                query = select(
                    statement_table.c.entity_id, statement_table.c.prop, statement_table.c.value
                ).where(
                    statement_table.c.entity_id.in_(chunk),
                    statement_table.c.prop.in_(_PARTY_PROPS),
                )
                for row in conn.execute(query.order_by(statement_table.c.value)):
                    out[row.entity_id].setdefault(row.prop, row.value)
        return out

    def register(self, con: duckdb.DuckDBPyConnection, partition: Partition, view: str) -> None:
        """Register the store's shipments as ``view``."""
        rows = list(self._rows())
        table = pa.Table.from_pylist(
            [{c: r.get(c) for c in COLUMNS} for r in rows], schema=_STANDARD_SCHEMA
        )
        con.register(f"{view}_arrow", table)
        # ``view`` is an identifier chosen by the build, never user input.
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT * REPLACE "  # noqa: S608
            f"(TRY_CAST(day AS DATE) AS day) FROM {view}_arrow"
        )


_STANDARD_SCHEMA = pa.schema(
    [
        ("key", pa.string()),
        ("filing_date", pa.date32()),
        ("ingest_seq", pa.int64()),
        ("source_row", pa.int64()),
        ("deleted", pa.bool_()),
        ("bill", pa.string()),
        ("day", pa.string()),
        ("shipper", pa.string()),
        ("consignee", pa.string()),
        ("notify", pa.string()),
        ("hs", pa.string()),
        ("kg", pa.float64()),
        ("shipper_name", pa.string()),
        ("consignee_name", pa.string()),
        ("notify_name", pa.string()),
        ("shipper_country", pa.string()),
        ("consignee_country", pa.string()),
        ("notify_country", pa.string()),
        ("forwarder", pa.bool_()),
    ]
)


def _first(values: list[str] | None) -> str | None:
    return min(values) if values else None


def _sum_numbers(values: list[str]) -> float | None:
    # A Shipment carries one weight; several values are amendments, the largest is kept.
    numbers = []
    for value in values:
        try:
            numbers.append(float(value))
        except ValueError:
            continue
    return max(numbers) if numbers else None


# -- the trade-records Parquet dataset ---------------------------------------------------------

# Column names tried, in order, for each standard column (compared case-insensitively).
CANDIDATES: dict[str, Sequence[str]] = {
    "key": ("shipment_id",),
    "filing_date": ("filing_date",),
    "ingest_seq": ("ingest_seq",),
    "source_row": ("source_row",),
    "record_status": ("record_status",),
    "bill": ("bill_of_lading", "bill_of_lading_number", "bol", "bill"),
    "arrival": ("arrival_date", "actual_arrival_date", "date"),
    "estimated": ("estimated_arrival_date",),
    "departure": ("departure_date",),
    "shipper": ("shipper_id", "shipper_entity_id", "shipper_canonical_id"),
    "consignee": ("consignee_id", "consignee_entity_id", "consignee_canonical_id"),
    "notify": ("notify_id", "notify_party_id", "notify_entity_id"),
    "shipper_name": ("shipper_name", "shipper"),
    "consignee_name": ("consignee_name", "consignee"),
    "notify_name": ("notify_name", "notify_party_name", "notify_party", "notify"),
    "shipper_country": ("shipper_country",),
    "consignee_country": ("consignee_country",),
    "notify_country": ("notify_country", "notify_party_country"),
    "hs": ("hs_codes", "hs_code", "hscode", "hs"),
    "kg": ("weight_kg", "gross_weight_kg", "kg"),
    "forwarder": ("shipper_is_forwarder", "is_forwarder", "forwarder"),
    # Party ids the trade-records ingest mints (tidetrace.shipments: tt-party-…).
    # A party the ingest marked as not a party (TO ORDER, redacted …) is left out.
    "shipper_status": ("shipper_status",),
    "consignee_status": ("consignee_status",),
    "notify_status": ("notify_status",),
}


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class ParquetShipments:
    """The trade-records Parquet dataset under ``ws.parquet_dir``.

    A partition is one ingested source (a ``src=…`` directory of the trade-records layout,
    ``shipments/dataset=<name>/src=<hash>/arrival_year=…/arrival_month=…``, published
    whole and never changed), or, for other layouts, one directory of Parquet files. Its
    fingerprint covers its files' names, sizes and modification times. Directories whose
    name starts with ``_``, ``.`` or ``tmp`` (rejects, staging) are not records.
    """

    name = "parquet"

    def __init__(self, root: Path) -> None:
        self.root = root

    def _files(self) -> dict[str, list[Path]]:
        groups: dict[str, list[Path]] = defaultdict(list)
        if not self.root.is_dir():
            return groups
        for path in sorted(self.root.rglob("*.parquet")):
            parts = path.relative_to(self.root).parts
            if any(part.startswith((".", "_", "tmp")) for part in parts):
                continue
            dirs = parts[:-1]
            cut = next((i for i, p in enumerate(dirs) if p.startswith("src=")), None)
            key = "/".join(dirs[: cut + 1] if cut is not None else dirs) or "."
            groups[key].append(path)
        return groups

    def partitions(self) -> list[Partition]:
        """One partition per ingested source (or per directory of Parquet files)."""
        out = []
        for rel, files in self._files().items():
            digest = hashlib.sha1(usedforsecurity=False)
            for path in files:
                stat = path.stat()
                name = path.relative_to(self.root)
                digest.update(f"{name}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
            out.append(Partition(f"parquet:{rel}", digest.hexdigest()))
        return out

    def register(self, con: duckdb.DuckDBPyConnection, partition: Partition, view: str) -> None:
        """Register one partition's files as ``view`` with the standard columns."""
        rel = partition.key.removeprefix("parquet:")
        files = self._files().get(rel, [])
        if not files:
            con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS {_EMPTY_SELECT}")
            return
        file_list = "[" + ", ".join(_literal(str(f)) for f in files) + "]"
        scan = f"read_parquet({file_list}, union_by_name = true)"
        # File names are quoted as literals and column names as identifiers (_literal, _quote).
        described = con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()  # noqa: S608
        types = {str(r[0]).lower(): (str(r[0]), str(r[1])) for r in described}
        found = {std: _pick(types, cands) for std, cands in CANDIDATES.items()}
        missing = [
            std
            for std in ("bill", "shipper_name", "consignee_name")
            if found[std] is None and found.get(std.replace("_name", "")) is None
        ]
        if not any(found[k] for k in ("arrival", "estimated", "departure")):
            missing.append("arrival_date")
        if missing:
            raise InputError(files[0], f"trade records lack columns for: {', '.join(missing)}")
        # Shipment ids are unique within a dataset: the dataset directory qualifies them.
        dataset = next((p for p in rel.split("/") if p.startswith("dataset=")), "")
        bill = f"{_col(found['bill'])}::VARCHAR"
        ident = f"{_col(found['key'])}::VARCHAR" if found["key"] else bill
        select_list = [f"{_literal(dataset + '/')} || coalesce({ident}, {bill}) AS key"]
        select_list.append(
            f"TRY_CAST({_col(found['filing_date'])} AS DATE) AS filing_date"
            if found["filing_date"]
            else "NULL::DATE AS filing_date"
        )
        for std in ("ingest_seq", "source_row"):
            select_list.append(
                f"TRY_CAST({_col(found[std])} AS BIGINT) AS {std}"
                if found[std]
                else f"NULL::BIGINT AS {std}"
            )
        status = found["record_status"]
        select_list.append(
            f"coalesce(lower({_col(status)}::VARCHAR) = 'deleted', false) AS deleted"
            if status
            else "false AS deleted"
        )
        select_list.append(f"{bill} AS bill")
        day_parts = [
            f"TRY_CAST({_col(found[k])} AS DATE)"
            for k in ("arrival", "estimated", "departure")
            if found[k]
        ]
        select_list.append(f"coalesce({', '.join(day_parts)}) AS day")
        for role in ROLES:
            select_list += _party_columns(role, found)
        hs_col = found["hs"]
        if hs_col is None:
            select_list.append("NULL::VARCHAR AS hs")
        elif hs_col[1].endswith("[]"):
            select_list.append(f"NULLIF(array_to_string(list_sort({_col(hs_col)}), ' '), '') AS hs")
        else:
            select_list.append(f"NULLIF(TRIM({_col(hs_col)}::VARCHAR), '') AS hs")
        kg_col = found["kg"]
        select_list.append(
            f"TRY_CAST({_col(kg_col)} AS DOUBLE) AS kg" if kg_col else "NULL::DOUBLE AS kg"
        )
        fwd = found["forwarder"]
        select_list.append(
            f"coalesce(TRY_CAST({_col(fwd)} AS BOOLEAN), false) AS forwarder"
            if fwd
            else "false AS forwarder"
        )
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT {', '.join(select_list)} "  # noqa: S608
            f"FROM {scan}"
        )


# Party statuses that name a party; anything else (blank, to_order, redacted …) does not.
_NAMED = "('named', 'ok', 'party', '')"


def _party_columns(role: str, found: dict[str, tuple[str, str] | None]) -> list[str]:
    name_col = found[f"{role}_name"]
    name = f"NULLIF(TRIM({_col(name_col)}::VARCHAR), '')" if name_col else "NULL::VARCHAR"
    country_col = found[f"{role}_country"]
    country = f"lower({_col(country_col)}::VARCHAR)" if country_col else "NULL::VARCHAR"
    id_col = found[role]
    if id_col is not None:
        ident = f"NULLIF(TRIM({_col(id_col)}::VARCHAR), '')"
    else:
        # The same rule as party_id(): upper-cased, whitespace-collapsed name + country.
        key = (
            f"upper(regexp_replace(trim({name}), '\\s+', ' ', 'g')) || '|' || "
            f"upper(coalesce({country}, ''))"
        )
        ident = f"CASE WHEN {name} IS NULL THEN NULL ELSE 'bol-' || substr(sha1({key}), 1, 16) END"
    status_col = found[f"{role}_status"]
    if status_col is not None:
        ident = (
            f"CASE WHEN coalesce(lower({_col(status_col)}::VARCHAR), '') "
            f"IN {_NAMED} THEN {ident} ELSE NULL END"
        )
    return [f"{ident} AS {role}", f"{name} AS {role}_name", f"{country} AS {role}_country"]


def _pick(types: dict[str, tuple[str, str]], candidates: Sequence[str]) -> tuple[str, str] | None:
    for cand in candidates:
        hit = types.get(cand.lower())
        if hit is not None:
            return hit
    return None


def _col(found: tuple[str, str] | None) -> str:
    assert found is not None
    return _quote(found[0])


_EMPTY_TYPES = {
    "day": "DATE",
    "filing_date": "DATE",
    "kg": "DOUBLE",
    "forwarder": "BOOLEAN",
    "deleted": "BOOLEAN",
    "ingest_seq": "BIGINT",
    "source_row": "BIGINT",
}
_EMPTY_SELECT = (
    "SELECT "
    + ", ".join(f"NULL::{_EMPTY_TYPES.get(c, 'VARCHAR')} AS {c}" for c in COLUMNS)
    + " WHERE false"
)


def default_sources(engine: Engine, parquet_dir: Path) -> list[ShipmentSource]:
    """The sources a workspace has: the entity store's shipments and the Parquet dataset."""
    return [StoreShipments(engine), ParquetShipments(parquet_dir)]
