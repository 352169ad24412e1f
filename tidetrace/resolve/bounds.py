"""Upper bounds of candidate pairs' logits, for every pair at once.

Scoring a pair compares each name of one record with each name of the other, and the
own-word comparison (:func:`~tidetrace.resolve.features.soft_match`) is the costly step. A
sanctions entry carries up to forty aliases, so the demo workspace's half a million
candidate pairs are eight million name pairs, nearly all of them distinct spellings (no
cache helps). Most of those pairs share one common word ("ISLAMIC", "OBSHCHESTVO",
"INSTITUTE") and nothing else, and end far below the review band.

:func:`pair_bounds` finds them without comparing their words one by one. For every name
pair it computes, with array operations, a number that the scorer's logit for that name pair
can never exceed:

* the own-word features (``words``, ``contained``) are bounded by the share of each name's
  word weight that has a possible partner among the other record's words. Which words can
  be partners at all (equal, or close enough in length and Jaro-Winkler similarity, raw or
  Korean-folded) is decided once per run for the whole vocabulary with rapidfuzz's
  ``process.cdist``, not once per name pair;
* ``compact`` is bounded by the lengths of the two joined names, and computed exactly with
  rapidfuzz's ``process.cpdist`` (the scorer's own Indel similarity) only where that bound
  is not low enough;
* features that read a few set-valued attributes of a name (places, vocabulary, legal forms
  …) are computed exactly by the scorer's own feature functions, once per distinct pair of
  attribute values, in the manner of the engine's schema and place shortcuts;
* every other feature counts at its largest possible contribution (its weight if positive,
  else nothing), so a feature added later keeps the bound safe.

A pair whose best bound cannot reach the review band can only be returned by the engine as
a conflict, and the engine scores it only when other links could join its records and a
feature worth :data:`~tidetrace.resolve.scoring.CONFLICT_LOGIT` or less may fire for its
best name pair (the exact tables say which name pairs have one;
:func:`~tidetrace.resolve.engine.score_index_pairs`). The name-pair bounds of the pairs
that are scored let the scorer skip name pairs that cannot beat the best one found so far.
"""

import math
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Indel, JaroWinkler

from tidetrace.resolve.features import (
    FeatureValue,
    Prepared,
    f_concepts,
    f_country,
    f_han,
    f_legal,
    f_numbers,
    f_places,
    f_words_missing,
    korean_fold,
    name_features,
    prepare,
    record_features,
    word_weight,
)
from tidetrace.resolve.names import NameForm
from tidetrace.resolve.records import Record
from tidetrace.resolve.scoring import CONFLICT_LOGIT, ScoringConfig

__all__ = ["PairBounds", "pair_bounds", "review_floor"]

# Feature values are rounded to four decimals before they are weighted.
_SLACK = 1e-4
# The bound is summed in another order than the scorer's logit.
_MARGIN = 1e-6
# Name pairs handled in one array step (bounds memory, not speed).
_CHUNK = 1 << 21
# Combinations of two attribute values looked up in a flat array up to this many (32 MiB),
# found by sorting above.
_DENSE = 1 << 22
# Vocabulary rows compared against their length range in one cdist call.
_ROWS = 512

NameRule = Callable[[NameForm, NameForm, float], FeatureValue | tuple[FeatureValue, ...]]

# Name features that read only set-valued attributes of each name (never its words), with a
# key of what they read: equal keys give equal values, so one call per distinct pair of keys
# covers every name pair. A feature whose inputs change must change its key here.
_CONTEXT: tuple[tuple[NameRule, Callable[[NameForm], Hashable]], ...] = (
    (f_words_missing, lambda f: f.generic),
    (f_han, lambda f: f.han_words),
    (f_places, lambda f: f.places),
    (f_concepts, lambda f: (f.concepts, f.related_concepts)),
    (f_numbers, lambda f: f.numbers),
    (f_legal, lambda f: f.legal),
)


@dataclass(frozen=True)
class PairBounds:
    """Upper bounds of candidate pairs' logits.

    Attributes:
        logits: per pair, a number its logit (before identifier rules) cannot exceed; +inf
            when a record has no name to compare.
        record_conflicts: per pair, whether a record feature (or a feature without an
            exact table) may be worth :data:`~tidetrace.resolve.scoring.CONFLICT_LOGIT`
            or less.
        offsets: per pair, where its name pairs start in ``names`` and
            ``name_conflicts`` (one more entry than pairs).
        names: name-pair bounds, each pair's in the scorer's order (left record's names
            outer, right record's inner), as float32 rounded up.
        name_conflicts: per name pair, whether a name feature worth CONFLICT_LOGIT or
            less fires for it.
    """

    logits: np.ndarray
    record_conflicts: np.ndarray
    offsets: np.ndarray
    names: np.ndarray
    name_conflicts: np.ndarray

    @property
    def conflicts(self) -> np.ndarray:
        """Per pair, whether any feature worth CONFLICT_LOGIT or less may fire for it."""
        flagged = np.zeros(len(self.logits), bool)
        counts = np.diff(self.offsets)
        owners = np.flatnonzero(counts > 0)
        if len(owners):
            flagged[owners] = np.logical_or.reduceat(self.name_conflicts, self.offsets[owners])
        return self.record_conflicts | flagged

    def name_bounds(self, index: int) -> list[float] | None:
        """The name-pair bounds of pair ``index`` (None when a record has no name)."""
        start, end = int(self.offsets[index]), int(self.offsets[index + 1])
        if start == end:
            return None
        return self.names[start:end].tolist()  # type: ignore[no-any-return]

    def conflict_may_win(self, index: int, best_at_least: float) -> bool:
        """Whether the best name pair of pair ``index`` may be one with a conflicting
        feature, given a logit that the best name pair reaches (any name pair's)."""
        start, end = int(self.offsets[index]), int(self.offsets[index + 1])
        flagged = self.name_conflicts[start:end]
        return bool(flagged.any() and self.names[start:end][flagged].max() >= best_at_least)


def review_floor(config: ScoringConfig) -> float:
    """The logit below which a pair's score, rounded as the scorer rounds it, is below the
    review band (-inf when no logit is)."""
    lowest = config.review - _SLACK
    if lowest <= 0:
        return -math.inf
    if lowest >= 1:
        return math.inf
    return math.log(lowest / (1 - lowest))


def pair_bounds(
    prepared: Sequence[Prepared],
    left: np.ndarray,
    right: np.ndarray,
    config: ScoringConfig,
    floor: float = -math.inf,
) -> PairBounds:
    """Upper bounds of the logits of the pairs ``(prepared[left[k]], prepared[right[k]])``.

    Args:
        prepared: the records.
        left: index of each pair's left record.
        right: index of each pair's right record.
        config: the scoring configuration (weights, bias, token threshold).
        floor: the logit below which a pair is of no interest (the review band's,
            :func:`review_floor`): name pairs whose bound is below it are bounded more
            loosely, which saves computing their ``compact`` exactly.

    Returns:
        The bounds; see :class:`PairBounds`.
    """
    table = _FormTable.build(prepared, config.token_threshold)
    weights = _Weights.of(config)
    table.with_weights(weights)
    record_part, record_conflicts = _record_part(prepared, left, right, weights)
    record_conflicts |= weights.conflict_anywhere
    name_count = table.count[left] * table.count[right]
    logits = np.full(len(left), math.inf)
    names: list[np.ndarray] = []
    flags: list[np.ndarray] = []
    for start, end in _chunks(name_count):
        sl = slice(start, end)
        bounds, conflicts = table.name_pair_bounds(
            left[sl], right[sl], weights, floor - record_part[sl]
        )
        counts = name_count[sl]
        owners = np.flatnonzero(counts > 0)
        if len(owners):
            starts = (np.cumsum(counts) - counts)[owners]
            logits[start + owners] = np.maximum.reduceat(bounds, starts) + record_part[sl][owners]
        names.append(_round_up(bounds))
        flags.append(conflicts)
    return PairBounds(
        logits=logits,
        record_conflicts=record_conflicts,
        offsets=np.concatenate(([0], np.cumsum(name_count))),
        names=np.concatenate(names) if names else np.zeros(0, np.float32),
        name_conflicts=np.concatenate(flags) if flags else np.zeros(0, bool),
    )


def _round_up(values: np.ndarray) -> np.ndarray:
    """``values`` as float32 (half the memory), each rounded up so it stays a bound."""
    small = values.astype(np.float32)
    low = small < values
    small[low] = np.nextafter(small[low], np.float32(np.inf))
    return small


def _chunks(counts: np.ndarray) -> list[tuple[int, int]]:
    """Consecutive ranges of pairs with about :data:`_CHUNK` name pairs each."""
    ends = np.cumsum(counts)
    out: list[tuple[int, int]] = []
    start = 0
    while start < len(counts):
        base = ends[start - 1] if start else 0
        end = int(np.searchsorted(ends, base + _CHUNK, side="right"))
        end = max(end, start + 1)
        out.append((start, end))
        start = end
    return out


@dataclass(frozen=True)
class _Weights:
    """The configuration's weights as the bound uses them."""

    bias: float
    words: float  # largest contribution per unit of the own-word bound (words + contained)
    compact: float
    rest_names: float  # name features without an exact or tighter bound: positive weights
    rest_records: float  # the same for record features
    # Whether a feature without an exact table (own words, compact, the rest) can be worth
    # CONFLICT_LOGIT or less: then every pair may be a conflict.
    conflict_anywhere: bool
    config: ScoringConfig

    @classmethod
    def of(cls, config: ScoringConfig) -> "_Weights":
        w = config.weights
        exact = {v.name for rule, _ in _CONTEXT for v in _outputs(rule)}
        bounded = {"words", "contained", "compact"}
        names = {v.name for v in _probe_name_features()} - exact
        country = {v.name for v in _as_tuple(f_country(*_probe_prepared()))}
        records = {v.name for v in _probe_record_features()} - country
        return cls(
            bias=config.bias,
            words=max(w.get("words", 0.0), 0.0) + max(w.get("contained", 0.0), 0.0),
            compact=w.get("compact", 0.0),
            rest_names=sum(max(w.get(n, 0.0), 0.0) for n in names - bounded),
            rest_records=sum(max(w.get(n, 0.0), 0.0) for n in records),
            conflict_anywhere=any(w.get(n, 0.0) <= CONFLICT_LOGIT for n in names | records),
            config=config,
        )

    def contribution(self, values: FeatureValue | tuple[FeatureValue, ...]) -> tuple[float, bool]:
        """The logit a feature's values add (as the scorer adds them), and whether one of
        them is worth :data:`~tidetrace.resolve.scoring.CONFLICT_LOGIT` or less."""
        w = self.config.weights
        parts = [w.get(v.name, 0.0) * v.value for v in _as_tuple(values) if v.value]
        return sum(parts), any(c <= CONFLICT_LOGIT for c in parts if c)


def _as_tuple(values: FeatureValue | tuple[FeatureValue, ...]) -> tuple[FeatureValue, ...]:
    return (values,) if isinstance(values, FeatureValue) else values


@cache
def _probe_prepared() -> tuple[Prepared, Prepared]:
    probe = prepare(Record("a", "Company", ("Probe Ltd",), ("cn",), ("x",)))
    return probe, probe


def _outputs(rule: NameRule) -> tuple[FeatureValue, ...]:
    form = _probe_prepared()[0].forms[0]
    return _as_tuple(rule(form, form, 0.9))


def _probe_name_features() -> list[FeatureValue]:
    form = _probe_prepared()[0].forms[0]
    return name_features(form, form, 0.9)


def _probe_record_features() -> list[FeatureValue]:
    return record_features(*_probe_prepared())


def _codes(values: Sequence[Hashable]) -> tuple[np.ndarray, list[int]]:
    """Each value's code (index among the distinct values) and, per code, the index of
    its first occurrence."""
    index: dict[Hashable, int] = {}
    first: list[int] = []
    codes = np.empty(len(values), np.int64)
    for i, value in enumerate(values):
        code = index.get(value)
        if code is None:
            code = index[value] = len(first)
            first.append(i)
        codes[i] = code
    return codes, first


class _PairTable:
    """A feature's contribution and conflict flag for pairs of codes (see
    :meth:`_Weights.contribution`), each distinct combination evaluated once."""

    def __init__(self, size: int, value: Callable[[int, int], tuple[float, bool]]) -> None:
        self.size = size
        self.value = value
        if size * size <= _DENSE:
            # Combination → slot: a flat array, filled as combinations turn up.
            self.slots: np.ndarray | None = np.full(size * size, -1, np.int64)
        else:
            self.slots = None
        self.seen: dict[int, int] = {}
        self.contributions: list[float] = []
        self.conflicts: list[bool] = []

    def _add(self, combos: list[int]) -> None:
        for c in combos:
            contribution, conflict = self.value(c // self.size, c % self.size)
            self.seen[c] = len(self.contributions)
            self.contributions.append(contribution)
            self.conflicts.append(conflict)

    def __call__(self, left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        combo = left * self.size + right
        if self.slots is not None:
            slot = self.slots[combo]
            missing = slot < 0
            if missing.any():
                # Each combination once, without sorting millions of pairs.
                present = np.zeros(len(self.slots), bool)
                present[combo[missing]] = True
                new = np.flatnonzero(present)
                first = len(self.contributions)
                self.slots[new] = np.arange(first, first + len(new))
                self._add(new.tolist())
                slot = self.slots[combo]
        else:
            distinct, inverse = np.unique(combo, return_inverse=True)
            self._add([c for c in distinct.tolist() if c not in self.seen])
            slot = np.fromiter((self.seen[c] for c in distinct.tolist()), np.int64, len(distinct))
            slot = slot[inverse]
        contributions = np.array(self.contributions, np.float64)
        conflicts = np.array(self.conflicts, bool)
        return contributions[slot], conflicts[slot]


def _record_part(
    prepared: Sequence[Prepared], left: np.ndarray, right: np.ndarray, weights: _Weights
) -> tuple[np.ndarray, np.ndarray]:
    """Per pair, the most the record features (country, address) can add, and whether one
    of them may be worth CONFLICT_LOGIT or less."""
    codes, first = _codes([p.countries for p in prepared])

    def country(a: int, b: int) -> tuple[float, bool]:
        return weights.contribution(f_country(prepared[first[a]], prepared[first[b]]))

    values, conflicts = _PairTable(len(first), country)(codes[left], codes[right])
    return values + weights.rest_records + _MARGIN, conflicts


def _ragged(starts: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For runs ``starts[i] .. starts[i] + counts[i]``: each element's run and position."""
    total = int(counts.sum())
    owner = np.repeat(np.arange(len(counts)), counts)
    offsets = np.cumsum(counts) - counts
    position = np.arange(total) - np.repeat(offsets - starts, counts)
    return owner, position


def _member(keys: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Whether each query is in the sorted array ``keys``."""
    if not len(keys):
        return np.zeros(len(query), bool)
    pos = np.minimum(np.searchsorted(keys, query), len(keys) - 1)
    return keys[pos] == query  # type: ignore[no-any-return]


def _similar_words(words: Sequence[str], korean: np.ndarray, threshold: float) -> np.ndarray:
    """Pairs of word indexes ``(u, v)`` (both orders, and each word with itself) that
    :func:`~tidetrace.resolve.features.token_similarity` may score above 0.

    Equal words, and words of four letters or more within its length ratio whose
    Jaro-Winkler similarity reaches the threshold, raw or (when either word occurs in a
    Korean name) folded. Its pinyin-syllable check only ever lowers a similarity to 0, so
    it is left out: a pair too many only loosens the bound.
    """
    n = len(words)
    found: list[np.ndarray] = [np.stack([np.arange(n), np.arange(n)], axis=1)]
    lengths = np.fromiter((len(w) for w in words), np.int64, n)
    order = np.argsort(lengths, kind="stable")
    sorted_lengths = lengths[order]
    folded = [korean_fold(w) for w in words]
    # A hair below the threshold: a similarity computed in another order or argument order
    # may differ in its last bit, and one pair too many is harmless.
    cutoff = threshold - 1e-9

    def columns(low: int, high: int) -> np.ndarray:
        a = np.searchsorted(sorted_lengths, low, side="left")
        b = np.searchsorted(sorted_lengths, high, side="right")
        return order[a:b]

    def compare(rows: np.ndarray, cols: np.ndarray, text: Sequence[str]) -> None:
        if not len(rows) or not len(cols):
            return
        choices = [text[j] for j in cols]
        for s in range(0, len(rows), _ROWS):
            block = rows[s : s + _ROWS]
            sims = process.cdist(
                [text[i] for i in block],
                choices,
                scorer=JaroWinkler.normalized_similarity,
                score_cutoff=max(cutoff, 0.0),
                dtype=np.float64,
            )
            r, c = np.nonzero(sims >= cutoff)
            found.append(np.stack([block[r], cols[c]], axis=1))

    for length in np.unique(lengths[lengths >= 4]).tolist():
        rows = columns(length, length)
        # The longer word of a pair carries the comparison; 4 × shorter ≥ 3 × longer is
        # token_similarity's length ratio of 0.75 in integers.
        compare(rows, columns(length, 4 * length // 3), words)
        korean_rows = rows[korean[rows]]
        compare(korean_rows, columns(max(4, -(-3 * length // 4)), 4 * length // 3), folded)
    pairs = np.concatenate(found)
    both = np.concatenate([pairs, pairs[:, ::-1]])
    return np.unique(both, axis=0)


@dataclass
class _FormTable:
    """Every name form of every record, as arrays."""

    forms: list[NameForm]
    start: np.ndarray  # per record: its first form
    count: np.ndarray  # per record: its forms
    word_ids: np.ndarray  # all forms' own words, concatenated, as vocabulary indexes
    word_start: np.ndarray  # per form
    word_count: np.ndarray  # per form
    word_weight: np.ndarray  # per vocabulary word
    weight: np.ndarray  # per form: its words' total weight
    compact: list[str]  # per form
    compact_code: np.ndarray  # per form: index among distinct compact strings
    compact_length: np.ndarray  # per form
    korean: np.ndarray  # per form
    vocabulary: int
    record_reach: np.ndarray  # sorted record × vocabulary + word: words a record's can meet
    context: list[tuple[np.ndarray, _PairTable]]  # per context feature: codes, values
    threshold: float

    @classmethod
    def build(cls, prepared: Sequence[Prepared], threshold: float) -> "_FormTable":
        forms = [f for p in prepared for f in p.forms]
        count = np.fromiter((len(p.forms) for p in prepared), np.int64, len(prepared))
        start = np.cumsum(count) - count
        vocabulary: dict[str, int] = {}
        ids = [vocabulary.setdefault(w, len(vocabulary)) for f in forms for w in f.words]
        word_ids = np.array(ids, np.int64)
        word_count = np.fromiter((len(f.words) for f in forms), np.int64, len(forms))
        word_start = np.cumsum(word_count) - word_count
        words = list(vocabulary)
        word_weights = np.fromiter((word_weight(w) for w in words), np.float64, len(words))
        weight = np.bincount(
            np.repeat(np.arange(len(forms)), word_count),
            weights=word_weights[word_ids],
            minlength=len(forms),
        )
        korean = np.fromiter((f.korean for f in forms), bool, len(forms))
        korean_words = np.zeros(len(words), bool)
        korean_words[word_ids[np.repeat(korean, word_count)]] = True
        similar = _similar_words(words, korean_words, threshold)
        compact = [f.compact for f in forms]
        compact_code, _ = _codes(compact)
        table = cls(
            forms=forms,
            start=start,
            count=count,
            word_ids=word_ids,
            word_start=word_start,
            word_count=word_count,
            word_weight=word_weights,
            weight=weight,
            compact=compact,
            compact_code=compact_code,
            compact_length=np.fromiter((len(c) for c in compact), np.int64, len(forms)),
            korean=korean,
            vocabulary=len(words),
            record_reach=np.zeros(0, np.int64),
            context=[],
            threshold=threshold,
        )
        table.record_reach = table._reach(similar)
        return table

    def with_weights(self, weights: "_Weights") -> None:
        """Prepare the context features' tables for these weights."""
        self.context = []
        for rule, key in _CONTEXT:
            codes, first = _codes([key(f) for f in self.forms])

            def value(
                a: int, b: int, rule: NameRule = rule, first: list[int] = first
            ) -> tuple[float, bool]:
                fa, fb = self.forms[first[a]], self.forms[first[b]]
                return weights.contribution(rule(fa, fb, self.threshold))

            self.context.append((codes, _PairTable(len(first), value)))

    def _reach(self, similar: np.ndarray) -> np.ndarray:
        """Sorted keys ``record × vocabulary + word`` of every word that may match one of
        the record's own words (in any of its names)."""
        form_record = np.repeat(np.arange(len(self.count)), self.count)
        record = np.repeat(form_record, self.word_count)
        held = np.unique(record * self.vocabulary + self.word_ids)
        held_record, held_word = np.divmod(held, self.vocabulary)
        # ``similar`` is sorted by its first column: each word's partners are one run.
        first = np.searchsorted(similar[:, 0], np.arange(self.vocabulary + 1))
        owner, position = _ragged(first[held_word], first[held_word + 1] - first[held_word])
        reach = held_record[owner] * self.vocabulary + similar[position, 1]
        return np.unique(reach)

    def _matched_weight(self, records: np.ndarray, others: np.ndarray) -> np.ndarray:
        """For each form of each ``records[k]``: the weight of its words that may match
        a word of ``others[k]`` (the forms in record order, pairs one after another)."""
        row_pair, row_form = _ragged(self.start[records], self.count[records])
        word_row, word_pos = _ragged(self.word_start[row_form], self.word_count[row_form])
        words = self.word_ids[word_pos]
        hit = _member(self.record_reach, others[row_pair[word_row]] * self.vocabulary + words)
        return np.bincount(word_row, weights=self.word_weight[words] * hit, minlength=len(row_form))

    def name_pair_bounds(
        self, left: np.ndarray, right: np.ndarray, weights: _Weights, floors: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Bounds of every name pair's logit, pair after pair, each pair's in the scorer's
        order, and whether a context feature worth CONFLICT_LOGIT or less fires for it.
        ``floors``: per pair, below what a name pair's bound is not worth tightening (the
        record features and the review band are in it)."""
        nl, nr = self.count[left], self.count[right]
        pair, index = _ragged(np.zeros(len(left), np.int64), nl * nr)
        i = index // nr[pair]
        j = index - i * nr[pair]
        fa = self.start[left][pair] + i
        fb = self.start[right][pair] + j
        # Own words: every matched word pairs with one of equal weight (only equal words
        # of three letters or fewer match), so the matched weight is at most either side's
        # weight of words with a possible partner; ``words`` (F1) is at most ``contained``.
        ml = self._matched_weight(left, right)[(np.cumsum(nl) - nl)[pair] + i]
        mr = self._matched_weight(right, left)[(np.cumsum(nr) - nr)[pair] + j]
        lw, rw = self.weight[fa], self.weight[fb]
        both = (lw > 0) & (rw > 0)
        lighter = np.where(both, np.minimum(lw, rw), 1.0)
        own = np.where(both, np.minimum(1.0, np.minimum(ml, mr) / lighter), 0.0)
        own = np.maximum(own, self._joined(fa, fb))
        bound = weights.bias + weights.rest_names + _MARGIN
        bound = bound + weights.words * np.minimum(own + _SLACK, 1.0)
        conflict = np.zeros(len(fa), bool)
        for codes, table in self.context:
            values, flags = table(codes[fa], codes[fb])
            bound = bound + values
            conflict |= flags
        # ``compact`` first by the lengths alone (Indel similarity is at most twice the
        # shorter over the sum), exactly only where that leaves the pair in question.
        la, lb = self.compact_length[fa], self.compact_length[fb]
        has = (la > 0) & (lb > 0)
        total = np.where(has, la + lb, 1)
        loose = np.where(has, 2.0 * np.minimum(la, lb) / total, 0.0)
        if weights.compact <= 0:
            # A negative weight: 0 is a bound of its contribution.
            return bound, conflict
        result = bound + weights.compact * np.minimum(loose + _SLACK, 1.0)
        tighten = np.flatnonzero(has & (result >= floors[pair]))
        if len(tighten):
            exact = process.cpdist(
                [self.compact[k] for k in fa[tighten]],
                [self.compact[k] for k in fb[tighten]],
                scorer=Indel.normalized_similarity,
                dtype=np.float64,
            )
            result[tighten] = bound[tighten] + weights.compact * np.minimum(exact + _SLACK, 1.0)
        return result, conflict

    def _joined(self, fa: np.ndarray, fb: np.ndarray) -> np.ndarray:
        """1 where the own words joined may match as one word (the scorer compares them
        so when the two names have different numbers of own words), else 0."""
        out = np.zeros(len(fa))
        la, lb = self.compact_length[fa], self.compact_length[fb]
        candidates = (la > 0) & (lb > 0) & (self.word_count[fa] != self.word_count[fb])
        equal = candidates & (self.compact_code[fa] == self.compact_code[fb])
        out[equal] = 1.0
        ratio = 4 * np.minimum(la, lb) >= 3 * np.maximum(la, lb)
        near = np.flatnonzero(candidates & ~equal & (la > 3) & (lb > 3) & ratio)
        if not len(near):
            return out
        cutoff = self.threshold - 1e-9
        a, b = fa[near], fb[near]
        sims = process.cpdist(
            [self.compact[k] for k in a],
            [self.compact[k] for k in b],
            scorer=JaroWinkler.normalized_similarity,
            dtype=np.float64,
        )
        hit = sims >= cutoff
        korean = np.flatnonzero((self.korean[a] | self.korean[b]) & ~hit)
        if len(korean):
            folded = process.cpdist(
                [korean_fold(self.compact[k]) for k in a[korean]],
                [korean_fold(self.compact[k]) for k in b[korean]],
                scorer=JaroWinkler.normalized_similarity,
                dtype=np.float64,
            )
            hit[korean[folded >= cutoff]] = True
        out[near[hit]] = 1.0
        return out
