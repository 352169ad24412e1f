"""Scale: link 1 M shipments' parties against 10 k facilities, tidetrace and Splink.

Facilities come from the registry's generator (``tidetrace.registry.synth``: Chinese and
English names, establishment codes). Each shipment's shipper is one of them, written as
filers write it (``tidetrace.shipments.synth.written_name``: legal forms respelled, pinyin
spacing, FOOD/FOODSTUFF(S), typos, addresses in the name field). As in a real pipeline, the
distinct spellings are linked, not the million rows: both systems get the same table of
distinct party names and the same facility table, and link across them only.

Quality is measured per distinct spelling against the generator's truth: a spelling is
*linked right* when its best facility above the system's threshold is the plant it was
written from. tidetrace uses its match band; Splink ``match_probability >= 0.5``.
"""

import logging
import random
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from normality import normalize

from tidetrace.resolve.engine_duckdb import DuckDBEngine
from tidetrace.resolve.identifiers import Identifier
from tidetrace.resolve.records import Record
from tidetrace.resolve.scoring import Scorer

__all__ = ["ScaleResult", "run_scale"]

SPLINK_THRESHOLD = 0.5


@dataclass
class ScaleResult:
    """One system's run at scale."""

    system: str
    seconds: float
    parties: int
    facilities: int
    linked: int
    right: int
    wrong: int

    @property
    def precision(self) -> float:
        return self.right / self.linked if self.linked else 1.0

    @property
    def recall(self) -> float:
        return self.right / self.parties if self.parties else 1.0


def _world(rows: int, facilities: int, seed: int) -> tuple[list[Any], dict[str, int], Counter[str]]:
    from tidetrace.registry.synth import generate
    from tidetrace.shipments.synth import Party, written_name

    plants = generate(facilities, seed)
    rng = random.Random(seed)
    parties = [
        Party(f"plant-{i}", "plant", p.name_en.upper(), p.name_zh, "cn",
              f"NO. {rng.randint(1, 300)} BINHAI ROAD, {p.city.upper()}, CHINA", "", ())
        for i, p in enumerate(plants)
    ]  # fmt: skip
    # A few plants ship most: Zipf-like weights, as on real manifests.
    weights = [1.0 / (rank + 1) ** 0.8 for rank in range(len(parties))]
    rng.shuffle(weights)
    truth: dict[str, int] = {}
    counts: Counter[str] = Counter()
    for index in rng.choices(range(len(parties)), weights, k=rows):
        name = written_name(rng, parties[index])
        counts[name] += 1
        truth.setdefault(name, index)
    return plants, truth, counts


def _score(best: dict[str, tuple[float, int]], truth: dict[str, int]) -> tuple[int, int]:
    right = sum(1 for name, (_s, fac) in best.items() if truth[name] == fac)
    return right, len(best) - right


def run_tidetrace(plants: list[Any], truth: dict[str, int]) -> ScaleResult:
    """Link distinct party spellings to facilities with the DuckDB engine."""
    start = time.perf_counter()
    names = sorted(truth)
    records = [Record(f"p{i}", "LegalEntity", (n,)) for i, n in enumerate(names)]
    records += [
        Record(f"f{i}", "Facility", (p.name_zh, p.name_en), ("cn",),
               identifiers=(Identifier("cn_establishment", p.code),))
        for i, p in enumerate(plants)
    ]  # fmt: skip
    groups = [0] * len(names) + [1] * len(plants)
    scorer = Scorer()
    found = DuckDBEngine().run(records, scorer, link_groups=groups)
    best: dict[str, tuple[float, int]] = {}
    for r in found.results:
        if r.decision != "match":
            continue
        party, fac = (r.left, r.right) if r.left.startswith("p") else (r.right, r.left)
        name = names[int(party[1:])]
        if name not in best or r.score > best[name][0]:
            best[name] = (r.score, int(fac[1:]))
    seconds = time.perf_counter() - start
    right, wrong = _score(best, truth)
    return ScaleResult("tidetrace", seconds, len(names), len(plants), len(best), right, wrong)


def _table(ids: list[str], names: list[str], country: list[str | None]) -> Any:
    import pyarrow as pa

    cleaned = [normalize(n, ascii=True) or "" for n in names]
    tokens = [c.split() for c in cleaned]
    return pa.table(
        {
            "unique_id": ids,
            "name": cleaned,
            "name_tokens": [sorted(set(t)) for t in tokens],
            "tok1": [t[0] if t else None for t in tokens],
            "tok2": [t[1] if len(t) > 1 else None for t in tokens],
            "country": country,
        }
    )


def run_splink(plants: list[Any], truth: dict[str, int]) -> ScaleResult:
    """Link the same spellings with Splink (JW + token Jaccard + country, EM-trained)."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    logging.getLogger("splink").setLevel(logging.ERROR)
    start = time.perf_counter()
    names = sorted(truth)
    db = DuckDBAPI()
    parties = db.register(
        _table([f"p{i}" for i in range(len(names))], names, [None] * len(names)),
        table_name="scale_parties",
    )
    facilities = db.register(
        _table(
            [f"f{i}" for i in range(len(plants))], [p.name_en for p in plants], ["cn"] * len(plants)
        ),
        table_name="scale_facilities",
    )
    jaccard = (
        "(len(list_intersect(name_tokens_l, name_tokens_r)) * 1.0 / "
        "greatest(len(list_distinct(list_concat(name_tokens_l, name_tokens_r))), 1))"
    )
    settings = SettingsCreator(
        link_type="link_only",
        comparisons=[
            cl.JaroWinklerAtThresholds("name", [0.95, 0.88, 0.8, 0.7]),
            cl.CustomComparison(
                output_column_name="name_tokens",
                comparison_levels=[
                    cll.NullLevel("name_tokens"),
                    cll.CustomLevel(f"{jaccard} >= 0.99", "token Jaccard 1"),
                    cll.CustomLevel(f"{jaccard} >= 0.6", "token Jaccard >= 0.6"),
                    cll.CustomLevel(f"{jaccard} >= 0.3", "token Jaccard >= 0.3"),
                    cll.CustomLevel(f"{jaccard} > 0", "token Jaccard > 0"),
                    cll.ElseLevel(),
                ],
            ),
            cl.ExactMatch("country"),
        ],
        # The firm's name is the second word of these names (city first); the first word
        # with the start of the second catches spacing variants (HAI QING / HAIQING).
        blocking_rules_to_generate_predictions=[
            block_on("tok2"),
            block_on("tok1", "substr(tok2, 1, 3)"),
        ],
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker([parties, facilities], settings, log_level=logging.WARNING)
    linker.training.estimate_probability_two_random_records_match([block_on("name")], recall=0.5)
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("tok2"), estimate_without_term_frequencies=True
    )
    predictions = linker.inference.predict(threshold_match_probability=SPLINK_THRESHOLD)
    best: dict[str, tuple[float, int]] = {}
    for row in predictions.as_record_list():
        left, right = str(row["unique_id_l"]), str(row["unique_id_r"])
        party, fac = (left, right) if left.startswith("p") else (right, left)
        name = names[int(party[1:])]
        score = float(row["match_probability"])
        if name not in best or score > best[name][0]:
            best[name] = (score, int(fac[1:]))
    seconds = time.perf_counter() - start
    right_count, wrong = _score(best, truth)
    return ScaleResult("Splink", seconds, len(names), len(plants), len(best), right_count, wrong)


def run_scale(
    rows: int, facilities: int, seed: int = 20261123
) -> tuple[dict[str, Any], list[ScaleResult]]:
    """Generate the world, run both systems; returns what was generated and the results."""
    started = time.perf_counter()
    plants, truth, _counts = _world(rows, facilities, seed)
    world = {
        "shipments": rows,
        "facilities": facilities,
        "distinct_party_spellings": len(truth),
        "generate_seconds": round(time.perf_counter() - started, 1),
    }
    return world, [run_tidetrace(plants, truth), run_splink(plants, truth)]
