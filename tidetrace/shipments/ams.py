"""US CBP AMS public data: several tables per bill, joined into one raw row per identifier.

The AMS extracts come as one CSV per table (header, billgen, shipper, consignee,
notifyparty, cargodesc, container, tariff …), every row keyed on ``identifier``. Each table
is read with the same CSV reader as any other file (malformed lines rejected with their
line), staged as Parquet, and joined in DuckDB: tables with one row per bill contribute
their first row, tables with many (cargo descriptions, containers, tariff lines) are
aggregated in file order. Rows come out in the order of the header table.
"""

import hashlib
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from tidetrace.exc import InputError
from tidetrace.shipments.detect import FileSniff
from tidetrace.shipments.fields import RAW_FIELDS
from tidetrace.shipments.layouts import FieldSpec, Layout, header_key
from tidetrace.shipments.readers import RawSource, csv_batches, locate_lines

__all__ = ["ams_set_hash", "ams_tables"]

BATCH_ROWS = 65536
MEMORY_LIMIT = "1GB"
STREAM_MEMORY_LIMIT = "128MB"


def ams_set_hash(tables: dict[str, FileSniff]) -> str:
    """One content hash for a set of tables: the same files in the same roles, same hash."""
    digest = hashlib.sha256()
    for name in sorted(tables):
        digest.update(f"{name}={tables[name].sha256}\n".encode())
    return digest.hexdigest()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _stage(sniff: FileSniff, source: RawSource, path: Path) -> dict[str, str]:
    """Write one table as Parquet (all text, plus ``_row``); header key → staged column."""
    names = {header_key(h): f"c{i}" for i, h in reversed(list(enumerate(sniff.headers)))}
    schema = pa.schema(
        [pa.field(f"c{i}", pa.string()) for i in range(len(sniff.headers))]
        + [pa.field("_row", pa.int64())]
    )
    counter = [0]
    rejects: list = []  # type: ignore[type-arg]
    start = 1
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for batch in csv_batches(sniff, rejects, counter):
            rows = pa.array(range(start, start + batch.num_rows), pa.int64())
            start += batch.num_rows
            writer.write_batch(pa.RecordBatch.from_arrays([*batch.columns, rows], schema=schema))
    source.rejects.extend(locate_lines(sniff, rejects))
    source.rejected_total += counter[0]
    return names


def _field_sql(spec: FieldSpec, columns: dict[str, dict[str, str]], layout: Layout) -> str:
    def ref(qualified: str) -> str:
        table, column = qualified.split(".", 1)
        staged = columns.get(table, {}).get(header_key(column))
        if staged is None:
            return "''"
        if layout.tables[table].many:
            return f"coalesce({_quote(table)}.{_quote(_agg_name(qualified, spec.sep))}, '')"
        return f"coalesce({_quote(table)}.{staged}, '')"

    if spec.kind == "const":
        return _literal(spec.value)
    refs = [ref(c) for c in spec.columns]
    if spec.kind in ("column", "agg"):
        return refs[0]
    if spec.kind == "any":
        cases = " ".join(f"WHEN trim({r}) <> '' THEN {r}" for r in refs)
        return f"CASE {cases} ELSE '' END"
    parts = ", ".join(f"nullif(trim({r}), '')" for r in refs)
    return f"coalesce(concat_ws({_literal(spec.sep)}, {parts}), '')"


def ams_tables(source: RawSource, workdir: Path) -> Iterator[pa.Table]:
    """Raw rows of an AMS table set, one per identifier, in header-table order."""
    layout = source.layout
    key = layout.key
    assert key is not None
    workdir.mkdir(parents=True, exist_ok=True)
    columns: dict[str, dict[str, str]] = {}
    # A database file, not memory: the joined rows of a year of AMS tables outgrow the
    # memory limit, and a file's tables can be paged out where temporary results could not
    # (1 M bills ran out of a 1 GB limit in memory).
    database = workdir / "ams.duckdb"
    for stale in (database, workdir / "ams.duckdb.wal"):
        stale.unlink(missing_ok=True)
    con = duckdb.connect(str(database))
    try:
        # The join may be bigger than memory (a year of AMS tables): let DuckDB spill.
        con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
        con.execute(f"SET temp_directory = {_literal(str(workdir / 'duckdb'))}")
        # Order comes from ORDER BY _row where it matters; keeping every intermediate
        # result in input order costs memory.
        con.execute("SET preserve_insertion_order = false")
        for table, sniff in sorted(source.files.items()):
            staged = workdir / f"ams-{table}.parquet"
            columns[table] = _stage(sniff, source, staged)
            if header_key(key) not in columns[table]:
                raise InputError(sniff.path, f"the {table} table has no {key!r} column")
            key_col = columns[table][header_key(key)]
            reader = f"read_parquet({_literal(str(staged))})"
            if layout.tables[table].many:
                aggs = [f"{key_col} AS _key"]
                for qualified, sep in _aggregates(layout, table):
                    col = columns[table].get(header_key(qualified.split(".", 1)[1]))
                    if col is None:
                        continue
                    # An ordered string_agg sorts (and spills past the memory limit); a
                    # list aggregate per bill was faster but cannot spill: a year of AMS
                    # tables ran out of memory.
                    aggs.append(
                        f"string_agg({col}, {_literal(sep)} ORDER BY _row) "
                        f"FILTER (WHERE trim({col}) <> '') AS {_quote(_agg_name(qualified, sep))}"
                    )
                body = f"SELECT {', '.join(aggs)} FROM {reader} GROUP BY {key_col}"  # noqa: S608
            else:
                body = (
                    f"SELECT *, {key_col} AS _key FROM {reader} "  # noqa: S608
                    f"QUALIFY row_number() OVER (PARTITION BY {key_col} ORDER BY _row) = 1"
                )
            # One table at a time (kept in the database file): each grouping runs alone
            # within the memory limit, instead of all of them inside the join.
            con.execute(f"CREATE TABLE {_quote(table)} AS {body}")
        joins = " ".join(
            f"LEFT JOIN {_quote(t)} ON {_quote(t)}._key = header._key"
            for t in sorted(columns)
            if t != "header"
        )
        selects = []
        for name in RAW_FIELDS:
            spec = layout.columns.get(name)
            expr = "''" if spec is None else _field_sql(spec, columns, layout)
            selects.append(f"{expr} AS {_quote(name)}")
        # Join first, sort after: the two never need memory at the same time.
        con.execute(
            f"CREATE TABLE joined AS SELECT {', '.join(selects)}, "  # noqa: S608
            f"header._row AS _row FROM header {joins}"
        )
        for table in columns:
            con.execute(f"DROP TABLE {_quote(table)}")
        # Sorted into a table, not while streaming: a sort held open under the reader kept
        # its memory for the whole read, beside the engine's (1 M bills peaked at 2.7 GB).
        con.execute("SET preserve_insertion_order = true")
        con.execute("CREATE TABLE ordered AS SELECT * FROM joined ORDER BY _row")
        con.execute("DROP TABLE joined")
        # Reading a stored table in order needs little memory: give the rest back.
        con.execute(f"SET memory_limit = '{STREAM_MEMORY_LIMIT}'")
        names = ", ".join(_quote(name) for name in RAW_FIELDS)
        reader = con.execute(f"SELECT {names} FROM ordered").to_arrow_reader(BATCH_ROWS)  # noqa: S608
        # Records are numbered in header order, after duplicates were dropped.
        start = 1
        for batch in reader:
            rows = pa.array(range(start, start + batch.num_rows), pa.int64())
            start += batch.num_rows
            yield pa.Table.from_batches([batch]).append_column("source_row", rows)
    except duckdb.Error as exc:
        raise InputError(source.name, f"cannot join the AMS tables: {exc}") from None
    finally:
        con.close()


def _agg_name(qualified: str, sep: str) -> str:
    return f"agg:{qualified}:{sep}"


def _aggregates(layout: Layout, table: str) -> list[tuple[str, str]]:
    """The (table.column, separator) pairs the layout aggregates from a many-row table."""
    found = {
        (spec.columns[0], spec.sep)
        for spec in layout.columns.values()
        if spec.kind == "agg" and spec.columns[0].split(".", 1)[0] == table
    }
    return sorted(found)
