"""The application store: entities as FtM statements, datasets, users, audit log."""

from tidetrace.store.datasets import DatasetInfo
from tidetrace.store.entities import EntityStore, SearchHit, StoreWriter

__all__ = ["DatasetInfo", "EntityStore", "SearchHit", "StoreWriter"]
