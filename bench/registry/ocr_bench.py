"""Stamp OCR quality on rendered photos (issue 4: ≥ 200 stamps, recall and false codes).

Draws oval identification marks and box print with Chinese product names for codes of a
synthetic registry, photographs them (rotation ±15°, blur, grain, JPEG, low contrast) and
reads them back with :func:`read_stamp` against that registry. A *false code* is a top
reading that is in the registry but is not the stamped code: the lookup would name the
wrong plant. The goal is ≥ 95 % recall and no false codes.
"""

import os
import random
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from tidetrace.registry.ocr import read_stamp
from tidetrace.registry.render import PRODUCTS, Distortion, box_print, oval_mark, photograph
from tidetrace.registry.synth import generate


@dataclass
class Case:
    """One rendered stamp."""

    index: int
    code: str
    kind: str
    distortion: Distortion
    country: str
    suffix: str
    product: tuple[str, str]


@dataclass
class Outcome:
    """How one stamp was read."""

    index: int
    kind: str
    code: str
    best: str | None
    best_listed: bool
    other_listed: list[str]
    seconds: float
    distortion: Distortion


@dataclass
class OcrBench:
    """Results of one run."""

    stamps: int
    registry: int
    recall: float
    false_codes: int
    wrong_candidates: int
    no_read: int
    by_kind: dict[str, dict[str, float]]
    seconds_p50: float
    seconds_p95: float
    misses: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return dict(self.__dict__)


_CODES: frozenset[str] = frozenset()


def _init(codes: frozenset[str]) -> None:
    global _CODES
    _CODES = codes


def _exists(code: str) -> bool:
    return code in _CODES


def _read(case: Case) -> Outcome:
    if case.kind == "oval":
        img = oval_mark(case.code, country=case.country, suffix=case.suffix)
    else:
        img = box_print(case.code, case.product)
    photo = photograph(img, case.distortion, seed=case.index)
    started = time.perf_counter()
    result = read_stamp(photo, _exists)
    seconds = time.perf_counter() - started
    best = result.best
    listed = [c.code for c in result.candidates if c.in_registry]
    return Outcome(
        index=case.index,
        kind=case.kind,
        code=case.code,
        best=best.code if best is not None else None,
        best_listed=best is not None and best.in_registry,
        other_listed=[c for c in listed if c != case.code],
        seconds=seconds,
        distortion=case.distortion,
    )


def cases(stamps: int, plants: list[str], seed: int) -> list[Case]:
    """The stamps to render: half oval marks, half box print, random photo conditions."""
    rng = random.Random(seed)
    out = []
    for index in range(stamps):
        out.append(
            Case(
                index=index,
                code=rng.choice(plants),
                kind="oval" if index % 2 == 0 else "box",
                distortion=Distortion.random(rng, max_angle=15.0),
                country=rng.choice(["CN", "CN", "CHINA"]),
                suffix=rng.choice(["EC", "EC", "EU"]),
                product=rng.choice(PRODUCTS),
            )
        )
    return out


def run(stamps: int, registry: int, seed: int, workers: int | None = None) -> OcrBench:
    """Render and read ``stamps`` stamps against a synthetic registry of ``registry`` plants."""
    plants = [p.code for p in generate(registry, seed)]
    todo = cases(stamps, plants, seed)
    codes = frozenset(plants)
    with ProcessPoolExecutor(
        max_workers=workers or os.cpu_count() or 1, initializer=_init, initargs=(codes,)
    ) as pool:
        outcomes = list(pool.map(_read, todo, chunksize=4))
    hits = [o for o in outcomes if o.best == o.code and o.best_listed]
    false_codes = [o for o in outcomes if o.best_listed and o.best != o.code]
    by_kind: dict[str, dict[str, float]] = {}
    for kind in ("oval", "box"):
        subset = [o for o in outcomes if o.kind == kind]
        found = [o for o in subset if o.best == o.code and o.best_listed]
        by_kind[kind] = {
            "n": float(len(subset)),
            "recall": round(len(found) / max(1, len(subset)), 4),
        }
    seconds = [o.seconds for o in outcomes]
    misses = [
        {"code": o.code, "kind": o.kind, "read": o.best, "distortion": o.distortion.__dict__}
        for o in outcomes
        if o not in hits
    ]
    return OcrBench(
        stamps=stamps,
        registry=registry,
        recall=round(len(hits) / max(1, stamps), 4),
        false_codes=len(false_codes),
        wrong_candidates=sum(1 for o in outcomes if o.other_listed),
        no_read=sum(1 for o in outcomes if o.best is None),
        by_kind=by_kind,
        seconds_p50=round(statistics.median(seconds), 2),
        seconds_p95=round(sorted(seconds)[int(0.95 * (len(seconds) - 1))], 2),
        misses=misses,
    )
