"""The three systems the benchmark compares, each scoring every labelled pair in [0, 1].

* **tidetrace**: :class:`tidetrace.resolve.scoring.Scorer` with the shipped configuration,
  exactly what ``tidetrace resolve pairs`` runs.
* **rapidfuzz**: ``fuzz.token_set_ratio`` / 100 on cleaned names.
* **Splink** (DuckDB): a fair Fellegi-Sunter model on cleaned names — Jaro-Winkler of the
  name, Jaccard of its word sets, and country — with u estimated by random sampling and m by
  expectation maximisation over the pairs to score (unsupervised; no labels used).

The baselines get the cleaning a practitioner would apply: NFKC, case folding, punctuation
removed and non-Latin scripts transliterated to ASCII (``normality.normalize(ascii=True)``,
which writes 大连 as ``da lian`` and 조선 as ``joseon``). What they do not get is tidetrace's
word segmentation, vocabulary, places or legal forms: that difference is what is measured.
"""

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from normality import normalize
from rapidfuzz import fuzz

from tidetrace.resolve.scoring import Scorer

__all__ = ["SYSTEMS", "Pair", "Run", "clean", "run_rapidfuzz", "run_splink", "run_tidetrace"]


@dataclass(frozen=True)
class Pair:
    """One labelled pair."""

    pair_id: str
    left: str
    right: str
    left_country: str
    right_country: str


@dataclass
class Run:
    """A system's scores for every pair, and how long it took."""

    system: str
    scores: dict[str, float]
    seconds: float
    note: str = ""


def clean(name: str) -> str:
    """The baselines' cleaning: NFKC, casefold, punctuation out, ASCII transliteration."""
    return normalize(name, ascii=True) or ""


def run_tidetrace(pairs: Sequence[Pair], scorer: Scorer | None = None) -> Run:
    """Score with tidetrace (name analysis included in the time)."""
    start = time.perf_counter()
    scorer = scorer if scorer is not None else Scorer()
    scores = {}
    for p in pairs:
        result = scorer.compare_names(
            p.left, p.right, p.left_country or None, p.right_country or None
        )
        scores[p.pair_id] = result.score
    return Run("tidetrace", scores, time.perf_counter() - start)


def run_rapidfuzz(pairs: Sequence[Pair]) -> Run:
    """Score with rapidfuzz's token_set_ratio on cleaned names."""
    start = time.perf_counter()
    scores = {p.pair_id: fuzz.token_set_ratio(clean(p.left), clean(p.right)) / 100 for p in pairs}
    return Run("rapidfuzz token_set_ratio", scores, time.perf_counter() - start)


def _splink_table(pairs: Sequence[Pair], side: str) -> Any:
    import pyarrow as pa

    names = [clean(getattr(p, side)) for p in pairs]
    return pa.table(
        {
            "unique_id": [p.pair_id for p in pairs],
            "pair_id": [p.pair_id for p in pairs],
            "name": names,
            "name_tokens": [sorted(set(n.split())) for n in names],
            "country": [getattr(p, f"{side}_country") or None for p in pairs],
        }
    )


def run_splink(pairs: Sequence[Pair]) -> Run:
    """Score with Splink: JW name + token Jaccard + country, EM-trained."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    logging.getLogger("splink").setLevel(logging.ERROR)
    start = time.perf_counter()
    db = DuckDBAPI()
    left = db.register(_splink_table(pairs, "left"), table_name="bench_left")
    right = db.register(_splink_table(pairs, "right"), table_name="bench_right")
    jaccard = (
        "(len(list_intersect(name_tokens_l, name_tokens_r)) * 1.0 / "
        "greatest(len(list_distinct(list_concat(name_tokens_l, name_tokens_r))), 1))"
    )
    token_jaccard = cl.CustomComparison(
        output_column_name="name_tokens",
        comparison_levels=[
            cll.NullLevel("name_tokens"),
            cll.CustomLevel(f"{jaccard} >= 0.99", "token Jaccard 1"),
            cll.CustomLevel(f"{jaccard} >= 0.6", "token Jaccard >= 0.6"),
            cll.CustomLevel(f"{jaccard} >= 0.3", "token Jaccard >= 0.3"),
            cll.CustomLevel(f"{jaccard} > 0", "token Jaccard > 0"),
            cll.ElseLevel(),
        ],
        comparison_description="Jaccard of the name's word sets",
    )
    settings = SettingsCreator(
        link_type="link_only",
        comparisons=[
            cl.JaroWinklerAtThresholds("name", [0.95, 0.88, 0.8, 0.7]),
            token_jaccard,
            cl.ExactMatch("country"),
        ],
        blocking_rules_to_generate_predictions=[block_on("pair_id")],
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker([left, right], settings, log_level=logging.WARNING)
    linker.training.estimate_probability_two_random_records_match([block_on("name")], recall=0.5)
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("pair_id"), estimate_without_term_frequencies=True
    )
    predictions = linker.inference.predict().as_record_list()
    scores = {p.pair_id: 0.0 for p in pairs}
    for row in predictions:
        scores[str(row["unique_id_l"])] = float(row["match_probability"])
    return Run("Splink (JW + token Jaccard + country, EM)", scores, time.perf_counter() - start)


SYSTEMS = {"tidetrace": run_tidetrace, "splink": run_splink, "rapidfuzz": run_rapidfuzz}
