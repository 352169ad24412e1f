"""Datasets: every statement belongs to one, and each says where its data came from."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, select

from tidetrace.store.tables import dataset_table, statement_table

# Bill-of-lading parties that entity resolution writes into the store: names as filed on a
# manifest, often truncated or misspelt, so a merged entity's title is taken elsewhere first.
TRADE_PARTIES_DATASET = "shipment_parties"


@dataclass
class DatasetInfo:
    """What a dataset is and where it comes from.

    Attributes:
        name: short machine name, e.g. ``un_sc``.
        title: human title.
        publisher: who publishes the source.
        url: where the source can be had.
        licence: the source's licence or terms.
        retrieved: when the source was retrieved (ISO date).
        summary: one paragraph on what it holds.
    """

    name: str
    title: str
    publisher: str | None = None
    url: str | None = None
    licence: str | None = None
    retrieved: str | None = None
    summary: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict of the fields."""
        return dict(self.__dict__)


def upsert_dataset(conn: Connection, info: DatasetInfo) -> None:
    """Create the dataset or update its description (keeps its creation time)."""
    now = datetime.now(UTC)
    values = {k: v for k, v in info.to_dict().items() if k != "name"}
    exists = conn.execute(
        select(dataset_table.c.name).where(dataset_table.c.name == info.name)
    ).first()
    if exists is None:
        conn.execute(
            dataset_table.insert().values(name=info.name, created_at=now, updated_at=now, **values)
        )
    else:
        # Keep what an earlier import said when this one has nothing new to say.
        update = {k: v for k, v in values.items() if v is not None}
        conn.execute(
            dataset_table.update()
            .where(dataset_table.c.name == info.name)
            .values(updated_at=now, **update)
        )


def get_dataset(conn: Connection, name: str) -> DatasetInfo | None:
    """The dataset called ``name``, or None."""
    row = conn.execute(select(dataset_table).where(dataset_table.c.name == name)).mappings().first()
    if row is None:
        return None
    return DatasetInfo(**{k: row[k] for k in DatasetInfo.__dataclass_fields__})


def list_datasets(conn: Connection) -> list[tuple[DatasetInfo, int]]:
    """All datasets with how many entities each holds."""
    counts: dict[str, int] = dict(
        conn.execute(
            select(statement_table.c.dataset, func.count(statement_table.c.entity_id.distinct()))
            .where(statement_table.c.prop == "id")
            .group_by(statement_table.c.dataset)
        ).all()
    )
    rows = conn.execute(select(dataset_table).order_by(dataset_table.c.name)).mappings().all()
    return [
        (
            DatasetInfo(**{k: r[k] for k in DatasetInfo.__dataclass_fields__}),
            counts.get(r["name"], 0),
        )
        for r in rows
    ]
