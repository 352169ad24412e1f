"""The supply-chain graph: observed and asserted edges, flags, tracing and exposure.

``build`` turns trade records and the entity store into a graph version on disk,
``graphdb`` opens it, ``trace`` walks it with volume bounds (``flow``), ``exposure``
answers how much of a buyer's intake traces to flagged entities, ``flags`` records why an
entity is flagged, and ``render`` draws the results as offline HTML.
"""

from tidetrace.graph.build import build_graph, ensure_graph
from tidetrace.graph.exposure import exposure
from tidetrace.graph.graphdb import Window, open_graph
from tidetrace.graph.trace import trace

__all__ = ["Window", "build_graph", "ensure_graph", "exposure", "open_graph", "trace"]
