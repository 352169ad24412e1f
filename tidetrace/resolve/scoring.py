"""Scores with explanations, and the three bands: match, review, no match.

The score of two records is a logistic function of a weighted sum of feature values
(weights in ``data/scoring.yml``), taken over the best-matching pair of their names. Two
rules sit on top: a shared valid identifier lifts the score, a conflicting one caps it; and
schemata that cannot be one entity (a Vessel and a Company) score 0. Every
:class:`MatchResult` lists each feature with its value, weight and contribution, in the
spirit of nomenklatura's ``FtResult``, so a reviewer sees why.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from followthemoney.exc import InvalidData

from tidetrace.exc import InputError
from tidetrace.model import model
from tidetrace.resolve.features import (
    FeatureValue,
    Prepared,
    name_features,
    places_compatible,
    prepare,
    record_features,
)
from tidetrace.resolve.identifiers import IdentifierComparison, compare_identifiers
from tidetrace.resolve.lexicon import DATA_DIR
from tidetrace.resolve.names import NameForm
from tidetrace.resolve.records import Record

__all__ = [
    "CONFLICT_LOGIT",
    "DEFAULT_CONFIG",
    "Contribution",
    "Decision",
    "MatchResult",
    "Scorer",
    "ScoringConfig",
    "load_config",
]

DEFAULT_CONFIG = DATA_DIR / "scoring.yml"
# A feature contributing this many logits or fewer is strong evidence against a pair.
CONFLICT_LOGIT = -2.0
# Cached name comparisons per scorer before the cache is emptied (bounded memory).
_NAME_CACHE = 500_000
Decision = Literal["match", "review", "no-match"]
# What two records' identifiers say when one of them has none (never mutated).
_NO_IDS = IdentifierComparison()


@dataclass(frozen=True)
class ScoringConfig:
    """Weights, bands and rules.

    Attributes:
        bias: the logit before any feature.
        weights: weight per feature name.
        match: score at or above which a pair is linked automatically.
        review: score at or above which (below ``match``) a pair is queued for review.
        token_threshold: Jaro-Winkler similarity below which two own words differ.
        identifier_link: floor of the score when a valid identifier is shared.
        identifier_conflict: ceiling of the score when identifiers conflict.
        source: the file the configuration came from.
    """

    bias: float
    weights: Mapping[str, float]
    match: float = 0.85
    review: float = 0.5
    token_threshold: float = 0.88
    identifier_link: float = 0.99
    identifier_conflict: float = 0.02
    source: str = ""

    def decide(self, score: float) -> Decision:
        """The band a score falls in."""
        if score >= self.match:
            return "match"
        if score >= self.review:
            return "review"
        return "no-match"


def load_config(path: Path | None = None) -> ScoringConfig:
    """Read a scoring configuration (the shipped one when ``path`` is None).

    Raises:
        InputError: the file is missing, not YAML, or its bands or weights are invalid.
    """
    if path is None:
        return _default_config()
    return _read_config(path)


@cache
def _default_config() -> ScoringConfig:
    return _read_config(DEFAULT_CONFIG)


def _read_config(path: Path) -> ScoringConfig:
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise InputError(path, f"not YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("weights"), dict):
        raise InputError(path, "expected a mapping with 'weights'")
    errors: list[str] = []
    weights: dict[str, float] = {}
    for name, value in data["weights"].items():
        if not isinstance(value, int | float):
            errors.append(f"weight {name!r} is not a number")
        else:
            weights[str(name)] = float(value)
    known = _known_features()
    unknown = sorted(set(weights) - known)
    if unknown:
        errors.append(f"unknown features {unknown}; known: {sorted(known)}")
    bands = data.get("bands") or {}
    rules = data.get("rules") or {}
    try:
        config = ScoringConfig(
            bias=float(data.get("bias", 0.0)),
            weights=weights,
            match=float(bands.get("match", 0.85)),
            review=float(bands.get("review", 0.5)),
            token_threshold=float(data.get("token_threshold", 0.88)),
            identifier_link=float(rules.get("identifier_link", 0.99)),
            identifier_conflict=float(rules.get("identifier_conflict", 0.02)),
            source=str(path),
        )
    except (TypeError, ValueError) as exc:
        raise InputError(path, f"bands, rules and bias must be numbers: {exc}") from None
    if not 0 < config.review <= config.match <= 1:
        errors.append("bands must satisfy 0 < review <= match <= 1")
    if errors:
        raise InputError(path, "; ".join(errors))
    return config


@cache
def _known_features() -> frozenset[str]:
    probe = prepare(Record("a", "Company", ("Probe Ltd",), ("cn",), ("x",)))
    names = {f.name for f in name_features(probe.forms[0], probe.forms[0], 0.9)}
    names |= {f.name for f in record_features(probe, probe)}
    return frozenset(names)


@dataclass(frozen=True, slots=True)
class Contribution:
    """One feature's part in a score.

    Attributes:
        feature: the feature name.
        value: its value in [0, 1].
        weight: its weight.
        contribution: value × weight, in logits.
        detail: what fired.
    """

    feature: str
    value: float
    weight: float
    contribution: float
    detail: str

    def __reduce__(self) -> tuple[Any, ...]:
        # Plain constructor arguments: pickling (results coming back from scoring
        # processes) several times faster than a frozen dataclass's slot state.
        fields = (self.feature, self.value, self.weight, self.contribution, self.detail)
        return (Contribution, fields)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "feature": self.feature,
            "value": self.value,
            "weight": self.weight,
            "contribution": round(self.contribution, 3),
            "detail": self.detail,
        }


@dataclass
class MatchResult:
    """A scored pair with its explanation.

    Attributes:
        left: the left record id.
        right: the right record id.
        score: 0–1.
        decision: match, review or no-match.
        contributions: the features that fired (non-zero), largest effect first.
        rules: rules that overrode the features (identifier link or conflict, schema).
        left_name: the left name the best name pair used.
        right_name: the right name the best name pair used.
        leads: candidate links that proposed the pair, with their provenance (they do
            not change the score: :mod:`tidetrace.resolve.similar`).
    """

    left: str
    right: str
    score: float
    decision: Decision
    contributions: list[Contribution] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    left_name: str = ""
    right_name: str = ""
    leads: list[str] = field(default_factory=list)

    @property
    def conflicting(self) -> bool:
        """Whether strong evidence speaks against the pair (a rule, or a feature worth
        :data:`CONFLICT_LOGIT` or less): such pairs are kept even below the review band,
        so that no chain of links elsewhere merges them automatically."""
        if self.rules and self.score < 0.5:
            return True
        return any(c.contribution <= CONFLICT_LOGIT for c in self.contributions)

    def explain(self) -> str:
        """One line: rules first, then each feature as ``name=value×weight (detail)``, then
        the candidate links that proposed the pair."""
        parts = list(self.rules)
        for c in self.contributions:
            text = f"{c.feature}={c.value:g}×{c.weight:g}"
            if c.detail:
                text += f" ({c.detail})"
            parts.append(text)
        parts.extend(f"proposed by {lead}" for lead in self.leads)
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (stored with review candidates)."""
        return {
            "left": self.left,
            "right": self.right,
            "score": self.score,
            "decision": self.decision,
            "left_name": self.left_name,
            "right_name": self.right_name,
            "rules": list(self.rules),
            "features": [c.to_dict() for c in self.contributions],
            "leads": list(self.leads),
        }


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


@cache
def schemata_compatible(left: str, right: str) -> bool:
    """Whether entities of the two schemata can be merged into one (FtM common schema)."""
    try:
        model.common_schema(left, right)
    except InvalidData:
        return False
    return True


class Scorer:
    """Scores pairs of records under one configuration.

    Args:
        config: the scoring configuration (the shipped one by default).
    """

    def __init__(self, config: ScoringConfig | None = None) -> None:
        self.config = config if config is not None else load_config()
        # Name comparisons by the two forms' keys: at scale the same spellings meet the
        # same facilities again and again.
        self._names: dict[tuple[str, str], tuple[list[FeatureValue], float]] = {}
        # Whether a place conflict alone decides "no match": true when even every positive
        # feature at its maximum cannot lift a place conflict to the review band.
        weights = self.config.weights
        best = self.config.bias + sum(w for n, w in weights.items() if w > 0 and n != "place_match")
        best += weights.get("place_conflict", 0.0)
        self.places_decide = _sigmoid(best) < self.config.review

    def _logit(self, values: list[FeatureValue]) -> float:
        weights = self.config.weights
        total = self.config.bias
        for v in values:
            if v.value:
                total += weights.get(v.name, 0.0) * v.value
        return total

    def _name_pair(self, fa: NameForm, fb: NameForm) -> tuple[list[FeatureValue], float]:
        key = (fa.key, fb.key)
        if fa.generic or fb.generic:
            # ``words_missing`` names the generic names in its detail, which their keys
            # leave out: without them a cached detail named whichever spelling came first.
            key = (f"{fa.key}\x1d{fa.name}", f"{fb.key}\x1d{fb.name}")
        found = self._names.get(key)
        if found is None:
            values = name_features(fa, fb, self.config.token_threshold)
            found = (values, self._logit(values))
            if len(self._names) >= _NAME_CACHE:
                self._names.clear()
            self._names[key] = found
        return found

    def name_logit(self, fa: NameForm, fb: NameForm) -> float:
        """The logit of one name pair alone: the bias and its name features (cached)."""
        return self._name_pair(fa, fb)[1]

    def vector(
        self, a: Prepared, b: Prepared, bounds: Sequence[float] | None = None
    ) -> tuple[list[FeatureValue], str, str]:
        """The feature values of the best name pair plus record features.

        Args:
            a: one record.
            b: the other.
            bounds: for each name pair, in this method's order (``a``'s names outer,
                ``b``'s inner), a number its logit cannot exceed
                (:func:`~tidetrace.resolve.bounds.pair_bounds`). Name pairs are then
                compared best bound first, and those that cannot beat the best found so
                far are not compared; the result is the same.

        Returns:
            The values, and the two names the best name pair used.
        """
        best: list[FeatureValue] | None = None
        best_logit = -math.inf
        names = ("", "")
        if bounds is None:
            for fa in a.forms:
                for fb in b.forms:
                    values, logit = self._name_pair(fa, fb)
                    if logit > best_logit:
                        best, best_logit, names = values, logit, (fa.name, fb.name)
        else:
            width = len(b.forms)
            # Among equal logits the first in order wins, as in the loop above.
            best_index = -1
            for index in sorted(range(len(bounds)), key=bounds.__getitem__, reverse=True):
                if bounds[index] < best_logit:
                    break
                fa, fb = a.forms[index // width], b.forms[index % width]
                values, logit = self._name_pair(fa, fb)
                if logit > best_logit or (logit == best_logit and index < best_index):
                    best, best_logit, best_index = values, logit, index
                    names = (fa.name, fb.name)
        values = list(best or [])
        values.extend(record_features(a, b))
        return values, names[0], names[1]

    def compare(
        self, a: Prepared, b: Prepared, bounds: Sequence[float] | None = None
    ) -> MatchResult:
        """Score two prepared records.

        Args:
            a: one record.
            b: the other.
            bounds: upper bounds of the name pairs' logits, to skip name pairs that
                cannot be the best (see :meth:`vector`); the result is the same.
        """
        config = self.config
        rules: list[str] = []
        if not schemata_compatible(a.record.schema, b.record.schema):
            rules.append(f"schemata {a.record.schema} and {b.record.schema} cannot be one entity")
            return MatchResult(a.record.id, b.record.id, 0.0, "no-match", [], rules)
        # Most parties carry no identifier: nothing to compare then.
        ids = (
            compare_identifiers(a.identifiers, b.identifiers)
            if a.identifiers and b.identifiers
            else _NO_IDS
        )
        if (
            not ids.links
            and self.places_decide
            and a.places
            and b.places
            and not places_compatible(a.places, b.places)
        ):
            # No feature can lift a pair whose names all place it in different cities
            # into the review band (checked for this configuration in __init__), so
            # the names are not compared further: at scale most candidate pairs are
            # one trade name in two cities.
            rules.append(
                f"places differ: {', '.join(sorted(a.places))} ≠ {', '.join(sorted(b.places))}"
            )
            return MatchResult(a.record.id, b.record.id, 0.0, "no-match", [], rules,
                               a.forms[0].name, b.forms[0].name)  # fmt: skip
        values, left_name, right_name = self.vector(a, b, bounds)
        score = _sigmoid(self._logit(values))
        if ids.blocks:
            for scheme, lv, rv in ids.conflicts:
                rules.append(f"identifier conflict {scheme}: {'/'.join(lv)} ≠ {'/'.join(rv)}")
            score = min(score, config.identifier_conflict)
        elif ids.links:
            rules.append("identifier shared: " + ", ".join(str(i) for i in ids.shared))
            score = max(score, config.identifier_link)
        weights = config.weights
        contributions = []
        for v in values:
            weight = weights.get(v.name, 0.0) if v.value else 0.0
            if weight:
                contributions.append(
                    Contribution(v.name, v.value, weight, v.value * weight, v.detail)
                )
        contributions.sort(key=lambda c: (-abs(c.contribution), c.feature))
        score = round(score, 4)
        return MatchResult(
            left=a.record.id,
            right=b.record.id,
            score=score,
            decision=config.decide(score),
            contributions=contributions,
            rules=rules,
            left_name=left_name,
            right_name=right_name,
        )

    def compare_records(self, left: Record, right: Record) -> MatchResult:
        """Score two records (their names are analysed here)."""
        return self.compare(prepare(left), prepare(right))

    def compare_names(
        self,
        left: str,
        right: str,
        left_country: str | None = None,
        right_country: str | None = None,
    ) -> MatchResult:
        """Score two names, with optional countries (what ``resolve pairs`` does per row)."""
        lrec = Record("left", "LegalEntity", (left,), _countries(left_country))
        rrec = Record("right", "LegalEntity", (right,), _countries(right_country))
        return self.compare(prepare(lrec), prepare(rrec))


def _countries(value: str | None) -> tuple[str, ...]:
    if value is None or not value.strip():
        return ()
    return (value.strip().lower(),)
