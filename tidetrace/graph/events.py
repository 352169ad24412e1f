"""The graph's event tables in memory: one schema, monotone renumbering, sorted merges.

An incremental build carries the previous version's events over instead of recomputing
them from millions of bills. Two operations make that cheap: renumbering nodes when some
disappear (a monotone map, so a table sorted by node stays sorted) and merging a few new
events into a table already sorted by (node, other node, day) without sorting it again.
"""

import itertools

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

__all__ = ["EVENT_SCHEMA", "merge_sorted", "remap", "write_events"]

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

    ``old`` is sliced, never copied: the result is the old runs with the new rows between
    them, so merging a few thousand events into millions costs the new rows only. New rows
    go after old rows with equal keys (the order within equal keys means nothing).
    """
    new = new.sort_by([(c, "ascending") for c in order])
    if new.num_rows == 0:
        return old
    if old.num_rows == 0:
        return new
    packed = _packed(_columns(old, order), _columns(new, order))
    if packed is None:
        # Node numbers or days too far apart to pack: sort the whole table instead.
        both = pa.concat_tables([old, new])
        return both.take(pc.sort_indices(both, [(c, "ascending") for c in order]))
    old_key, new_key = packed
    at = np.searchsorted(old_key, new_key, side="right")
    pieces: list[pa.Table] = []
    start = 0
    # Runs of new rows that go to the same place are inserted together.
    cuts = np.flatnonzero(np.diff(at)) + 1
    bounds = np.concatenate(([0], cuts, [len(at)]))
    for first, last in itertools.pairwise(bounds):
        position = int(at[first])
        if position > start:
            pieces.append(old.slice(start, position - start))
        pieces.append(new.slice(int(first), int(last - first)))
        start = position
    if start < old.num_rows:
        pieces.append(old.slice(start))
    return pa.concat_tables(pieces)


def write_events(table: pa.Table, path: str, row_group: int) -> None:
    """Write an event table with :data:`EVENT_SCHEMA` (zstd, fixed row groups)."""
    pq.write_table(
        table.select(EVENT_SCHEMA.names).cast(EVENT_SCHEMA),
        path,
        compression="zstd",
        row_group_size=row_group,
    )
