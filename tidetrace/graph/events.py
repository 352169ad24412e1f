"""The graph's event tables in memory: one schema, monotone renumbering, sorted merges.

An incremental build carries the previous version's events over instead of recomputing
them from millions of bills. Two operations make that cheap: renumbering nodes when some
disappear (a monotone map, so a table sorted by node stays sorted) and merging a few new
events into a table already sorted by (node, other node, day) without sorting it again.
"""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

__all__ = ["EVENT_SCHEMA", "edge_rows", "merge_sorted", "remap", "write_events"]

# Both builds write these exact types, so a version's files never depend on the path taken.
EVENT_SCHEMA = pa.schema(
    [
        ("src", pa.int32()),
        ("dst", pa.int32()),
        ("kind", pa.int8()),
        ("day", pa.date32()),
        ("hs", pa.string()),
        ("kg", pa.float64()),
        ("n", pa.int32()),
        ("bill", pa.string()),
        ("key", pa.string()),
    ]
)


def remap(table: pa.Table, mapping: np.ndarray) -> pa.Table:
    """Replace node numbers in ``src`` and ``dst`` by ``mapping[number]``."""
    out = table
    for column in ("src", "dst"):
        values = out[column].to_numpy()
        index = out.schema.get_field_index(column)
        out = out.set_column(index, column, pa.array(mapping[values].astype(np.int32)))
    return out


def _columns(table: pa.Table, order: tuple[str, str, str]) -> list[np.ndarray]:
    return [
        table[order[0]].to_numpy().astype(np.int64),
        table[order[1]].to_numpy().astype(np.int64),
        table[order[2]].combine_chunks().view(pa.int32()).to_numpy().astype(np.int64),
    ]


def _packed(old: list[np.ndarray], new: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray] | None:
    """Both tables' sort keys packed into one uint64 each, when the values fit in 64 bits."""
    widths: list[int] = []
    lows: list[int] = []
    for a, b in zip(old, new, strict=True):
        low = int(min(a.min(initial=0), b.min(initial=0)))
        high = int(max(a.max(initial=0), b.max(initial=0)))
        lows.append(low)
        widths.append(max(1, (high - low).bit_length()))
    if sum(widths) > 63:
        return None
    keys = []
    for cols in (old, new):
        key = np.zeros(len(cols[0]), dtype=np.uint64)
        for col, low, width in zip(cols, lows, widths, strict=True):
            key = (key << np.uint64(width)) | (col - low).astype(np.uint64)
        keys.append(key)
    return keys[0], keys[1]


def merge_sorted(old: pa.Table, new: pa.Table, order: tuple[str, str, str]) -> pa.Table:
    """Merge ``new`` into ``old``, both sorted by the ``order`` columns; the result is too.

    Merging a few thousand events into millions finds each new row's place by binary
    search instead of sorting everything again. New rows go after old rows with equal keys
    (the order within equal keys means nothing).
    """
    new = new.sort_by([(c, "ascending") for c in order])
    if new.num_rows == 0:
        return old
    if old.num_rows == 0:
        return new
    both = pa.concat_tables([old, new])
    packed = _packed(_columns(old, order), _columns(new, order))
    if packed is None:
        # Node numbers or days too far apart to pack: sort the whole table instead.
        return both.take(pc.sort_indices(both, [(c, "ascending") for c in order]))
    old_key, new_key = packed
    at = np.searchsorted(old_key, new_key, side="right")
    # Row i of the result is row perm[i] of old + new: new rows at their places, the old
    # ones filling the rest in order. One take makes one contiguous table to write.
    placed = at + np.arange(len(at))
    perm = np.empty(both.num_rows, dtype=np.int64)
    free = np.ones(both.num_rows, dtype=bool)
    free[placed] = False
    perm[free] = np.arange(old.num_rows)
    perm[placed] = old.num_rows + np.arange(len(at))
    return both.take(perm)


def edge_rows(table: pa.Table, pairs: pa.Table) -> pa.Table:
    """The rows of ``table`` (sorted by src, then dst) on the (src, dst) pairs of ``pairs``.

    Each pair's rows are one run in the sorted table, found by binary search: the cost is
    the rows returned, not the table's size.
    """
    if table.num_rows == 0 or pairs.num_rows == 0:
        return table.slice(0, 0)
    key = _pair_key(table)
    wanted = np.unique(_pair_key(pairs))
    low = np.searchsorted(key, wanted, side="left")
    lengths = np.searchsorted(key, wanted, side="right") - low
    total = int(lengths.sum())
    starts = np.repeat(low, lengths)
    offsets = np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return table.take(pa.array(starts + offsets, pa.int64()))


def _pair_key(table: pa.Table) -> np.ndarray:
    src = table["src"].to_numpy().astype(np.int64)
    dst = table["dst"].to_numpy().astype(np.int64)
    return np.asarray((src << 32) | dst, dtype=np.int64)


def write_events(table: pa.Table, path: str, row_group: int) -> None:
    """Write an event table with :data:`EVENT_SCHEMA` (zstd, fixed row groups)."""
    pq.write_table(
        table.select(EVENT_SCHEMA.names).cast(EVENT_SCHEMA),
        path,
        compression="zstd",
        row_group_size=row_group,
        # Bill numbers and keys are nearly unique: a dictionary would be built and dropped
        # for every row group, which costs more than it saves.
        use_dictionary=["kind", "day", "hs", "n"],
    )
