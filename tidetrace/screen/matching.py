"""Match one example entity against the screening index, with explained scores.

An example is what yente's ``/match`` takes: a schema and properties (``name`` in any
script, ``country``/``jurisdiction``, ``address``, ``registrationNumber`` and other
identifiers). It becomes a :class:`~tidetrace.resolve.records.Record`; each candidate is
scored by the entity-resolution scorer, whose contributions become yente's ``features``
(feature → value) and ``explanations`` (feature → score, detail, weight).

A company, organisation or bare legal entity is compared as a ``LegalEntity``: a supplier
written as a company may be registered as a facility, and a registry lists plants where
trade records list firms.
"""

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from followthemoney.exc import InvalidData
from rapidfuzz import fuzz

from tidetrace.exc import InputError
from tidetrace.model import model
from tidetrace.resolve.features import Prepared, prepare
from tidetrace.resolve.records import Record, from_entity
from tidetrace.resolve.scoring import MatchResult, Scorer
from tidetrace.screen.index import IndexEntry, ScreenIndex

__all__ = [
    "ALGORITHM",
    "DEFAULT_THRESHOLD",
    "ScoredMatch",
    "example_record",
    "feature_docs",
    "match_example",
]

ALGORITHM = "tidetrace"
# yente's default match threshold (SCORE_THRESHOLD), so its clients read scores alike.
DEFAULT_THRESHOLD = 0.7
# How many candidates are scored per result asked for (yente's MATCH_CANDIDATES).
CANDIDATE_FACTOR = 6
MIN_CANDIDATES = 20
# Candidates scored in full, and names of each compared (see match_example).
SHORTLIST = 8
FORMS_PER_CANDIDATE = 2
MAX_VALUES = 50
MAX_VALUE_LENGTH = 1000
# Names yente clients may send as ``algorithm``; all are answered by tidetrace's scorer.
ALGORITHM_ALIASES = frozenset(
    {
        ALGORITHM,
        "best",
        "default",
        "logic-v1",
        "logic-v2",
        "name-based",
        "name-qualified",
        "regression-v1",
        "regression-v2",
        "regression-v3",
    }
)
FEATURE_HELP = {
    "contained": "The shorter name's own words all appear in the other name",
    "compact": "Similarity of the own words written together (spacing ignored)",
    "words": "Share of own words that match (Jaro-Winkler over romanised words)",
    "words_missing": "Own words of one name missing from the other",
    "han_match": "The same Chinese own words (simplified)",
    "han_conflict": "Different Chinese own words that romanise alike",
    "place_match": "A place both names carry (Dalian/大连)",
    "place_conflict": "Different places in the two names",
    "concept_match": "The same trade vocabulary (食品 = food …)",
    "concept_conflict": "Different trade vocabulary",
    "numbers_conflict": "Different numbers in the names (No. 1 / No. 2 plant)",
    "legal_conflict": "Incompatible legal forms",
    "country_match": "A country both records carry",
    "country_conflict": "Countries that differ",
    "address_overlap": "Shared address words",
}
_COMPANY_LIKE = ("Organization", "Company", "LegalEntity")


@dataclass
class ScoredMatch:
    """One candidate with its score and explanation."""

    entry: IndexEntry
    score: float
    match: bool
    result: MatchResult
    flags: list[dict[str, Any]] = field(default_factory=list)

    @property
    def features(self) -> dict[str, float]:
        """yente's ``features``: feature → value of every feature that fired."""
        out = {c.feature: round(c.value, 4) for c in self.result.contributions}
        for rule in self.result.rules:
            if rule.startswith("identifier shared"):
                out["identifier_match"] = 1.0
            elif rule.startswith("identifier conflict"):
                out["identifier_conflict"] = 1.0
        return out

    @property
    def explanations(self) -> dict[str, dict[str, Any]]:
        """Per feature: score (value), weight, contribution in logits and what fired."""
        out: dict[str, dict[str, Any]] = {}
        for c in self.result.contributions:
            out[c.feature] = {
                "score": round(c.value, 4),
                "detail": c.detail or None,
                "weight": c.weight,
                "contribution": round(c.contribution, 3),
                "query": self.result.left_name or None,
                "candidate": self.result.right_name or None,
            }
        for rule in self.result.rules:
            name = "identifier_match" if rule.startswith("identifier shared") else "rule"
            out[name] = {"score": 1.0, "detail": rule}
        return out

    def explain(self) -> str:
        """One line for people and CSV cells."""
        return self.result.explain()


def _values(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for item in items[:MAX_VALUES]:
        if item is None:
            continue
        if isinstance(item, dict):
            # yente accepts nested entities; their caption or name stands in.
            item = item.get("caption") or (item.get("properties", {}).get("name") or [None])[0]
            if item is None:
                continue
        text = str(item).strip()
        if text:
            out.append(text[:MAX_VALUE_LENGTH])
    return out


def example_record(schema: str, properties: dict[str, Any], example_id: str = "query") -> Record:
    """A record for a yente-style example entity.

    Raises:
        InputError: unknown or unmatchable schema, or no name to match on.
    """
    found = model.get(schema)
    if found is None:
        raise InputError("schema", f"unknown schema {schema!r}")
    if not found.matchable:
        raise InputError("schema", f"schema {schema!r} cannot be matched")
    as_schema = "LegalEntity" if found.name in _COMPANY_LIKE else found.name
    proxy = model.make_entity(found.name)
    proxy.id = example_id
    for prop, value in properties.items():
        if prop not in found.properties:
            continue
        try:
            proxy.add(prop, _values(value), quiet=True)
        except InvalidData:
            continue
    names: list[str] = []
    for prop in ("name", "alias", "previousName", "weakAlias"):
        if prop in found.properties:
            names.extend(proxy.get(prop, quiet=True))
    if found.is_a("Person"):
        if not names:
            parts = [*proxy.get("firstName", quiet=True), *proxy.get("lastName", quiet=True)]
            if parts:
                names.append(" ".join(parts))
        if not names:
            raise InputError("properties.name", "nothing to match on: give a name")
        countries = tuple(
            sorted({v for p in ("nationality", "country") for v in proxy.get(p, quiet=True)})
        )
        return Record(example_id, "Person", tuple(dict.fromkeys(names)), countries)
    record = from_entity(proxy)
    if record is None:
        raise InputError("properties.name", "nothing to match on: give a name")
    return Record(
        id=record.id,
        schema=as_schema,
        names=record.names,
        countries=record.countries,
        addresses=record.addresses,
        identifiers=record.identifiers,
        source=record.source,
    )


def match_example(
    index: ScreenIndex,
    record: Record,
    *,
    limit: int = 5,
    threshold: float = DEFAULT_THRESHOLD,
    cutoff: float = 0.0,
    accept: Callable[[int], bool] | None = None,
    scorer: Scorer | None = None,
) -> tuple[int, list[ScoredMatch]]:
    """Score the index's candidates for one record.

    Args:
        index: the screening index.
        record: the query.
        limit: results to return.
        threshold: score at which a result is a match.
        cutoff: results scoring at or below this are left out.
        accept: entry filter (dataset, schema, topics), or None for all.
        scorer: the scorer (the shipped configuration by default).

    Returns:
        (number of matches, results best first).
    """
    scorer = scorer or _scorer()
    query = prepare(record)
    wanted = max(MIN_CANDIDATES, limit * CANDIDATE_FACTOR)
    # Full scoring costs about a millisecond per pair of names, so candidates are first
    # ranked by a cheap similarity of their compact names (rapidfuzz, in C), and only the
    # best few, each with its two closest names, go to the scorer. A shared identifier
    # always makes the shortlist.
    qkeys = form_keys(query)
    ranked: list[tuple[bool, float, int, list[float]]] = []
    for idx in index.candidates(query, wanted, accept):
        entry = index.entries[idx]
        sims = [max((fuzz.ratio(q, k) for q in qkeys), default=0.0) for k in entry.keys]
        shared = bool(query.identifiers & entry.prepared.identifiers)
        ranked.append((shared, max(sims, default=0.0), idx, sims))
    ranked.sort(key=lambda r: (r[0], r[1]), reverse=True)
    results: list[ScoredMatch] = []
    matches = 0
    for _shared, _best, idx, sims in ranked[: max(limit, SHORTLIST)]:
        entry = index.entries[idx]
        prepared = entry.prepared
        if len(prepared.forms) > FORMS_PER_CANDIDATE:
            keep = sorted(range(len(sims)), key=lambda i: -sims[i])[:FORMS_PER_CANDIDATE]
            prepared = replace(prepared, forms=tuple(prepared.forms[i] for i in sorted(keep)))
        result = scorer.compare(query, prepared)
        if result.score <= cutoff:
            continue
        is_match = result.score >= threshold
        matches += int(is_match)
        flags = [f.to_dict() for f in index.flags.get(entry.id)]
        results.append(ScoredMatch(entry, result.score, is_match, result, flags))
    results.sort(key=lambda r: (-r.score, r.entry.caption))
    return matches, results[:limit]


def form_keys(prepared: Prepared) -> list[str]:
    """One string per name form for the cheap similarity: own words together, else all tokens."""
    return [form.compact or " ".join(t.text for t in form.tokens) for form in prepared.forms]


_SCORER: Scorer | None = None


def _scorer() -> Scorer:
    global _SCORER
    if _SCORER is None:
        _SCORER = Scorer()
    return _SCORER


def feature_docs() -> dict[str, dict[str, Any]]:
    """yente's ``matcher`` documentation: each feature's description and coefficient."""
    weights = _scorer().config.weights
    docs = {
        name: {
            "description": FEATURE_HELP.get(name, name.replace("_", " ")),
            "coefficient": weight,
            "url": "",
        }
        for name, weight in sorted(weights.items())
    }
    docs["identifier_match"] = {
        "description": "A valid identifier both records carry (approval code, IMO, LEI …)",
        "coefficient": 1.0,
        "url": "",
    }
    return docs
