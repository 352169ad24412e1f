"""Trade records: bills of lading in, clean ``Shipment`` rows out (Parquet, DuckDB, Spark).

``ingest.py`` runs the pipeline (sniff → read → check → normalise → stage → publish) on
the DuckDB engine or, with ``spark.py``, on Spark; ``store.py`` queries the dataset;
``entities.py`` turns rows into FtM entities; ``synth.py`` writes realistic test data.
"""

from tidetrace.shipments.ingest import IngestOptions, IngestReport, ingest_shipments
from tidetrace.shipments.store import ShipmentQuery, ShipmentStore

__all__ = ["IngestOptions", "IngestReport", "ShipmentQuery", "ShipmentStore", "ingest_shipments"]
