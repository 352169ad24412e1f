"""Entity resolution across scripts: one plant, one importer, whatever the spelling.

The stages, one module each: ``names`` (the name pipeline), ``identifiers`` (strong
evidence), ``features`` and ``scoring`` (explained scores in three bands), ``blocking``,
``engine_duckdb`` / ``engine_spark`` (candidate pairs at scale), ``judgements`` (human
decisions, clusters, merges and splits) and ``pairs`` (score a CSV of name pairs).
"""

from tidetrace.resolve.names import NameForm, analyze
from tidetrace.resolve.records import Record
from tidetrace.resolve.scoring import MatchResult, Scorer

__all__ = ["MatchResult", "NameForm", "Record", "Scorer", "analyze"]
