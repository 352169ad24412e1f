"""Features of a pair of records: each says what it saw, with the values that fired.

Name features compare two :class:`~tidetrace.resolve.names.NameForm` s; record features
compare countries and addresses. Each returns a :class:`FeatureValue` in [0, 1] with a
``detail`` string for the reviewer ("haiqing≈haiqin 0.97"). Weights live in the scoring
configuration (:mod:`tidetrace.resolve.scoring`), not here.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

from rapidfuzz.distance import Indel, JaroWinkler, Levenshtein

from tidetrace.resolve.identifiers import Identifier
from tidetrace.resolve.lexicon import latin_words, lexicon, pinyin_split
from tidetrace.resolve.names import NameForm, analyze_many
from tidetrace.resolve.records import Record

__all__ = [
    "NAME_FEATURES",
    "RECORD_FEATURES",
    "FeatureValue",
    "Prepared",
    "korean_fold",
    "name_features",
    "places_compatible",
    "prepare",
    "record_features",
    "soft_match",
    "token_similarity",
]

# Address words that say nothing about where (they are in every address).
_ADDRESS_STOP = frozenset(
    {"no", "road", "rd", "street", "st", "district", "city", "province", "china", "prc",
     "zone", "industrial", "park", "town", "village", "building", "floor", "room", "county",
     "of", "the", "and", "lu", "hao", "jie", "shi", "qu", "sheng", "xian", "korea", "dprk",
     "tel", "fax", "add", "address", "development", "economic", "area", "new"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class FeatureValue:
    """One feature's value for a pair.

    Attributes:
        name: the feature's name (a key of the weights in the scoring configuration).
        value: its value in [0, 1].
        detail: what fired, for people ("dalian=dalian").
    """

    name: str
    value: float
    detail: str


@dataclass(frozen=True)
class Prepared:
    """A record with its names analysed and its evidence sets built, ready to compare.

    Attributes:
        record: the record.
        forms: its name forms.
        countries: its countries, plus those implied by places in its names.
        address_words: words of its addresses (given, or split off its names).
        identifiers: its validated identifiers.
    """

    record: Record
    forms: tuple[NameForm, ...]
    countries: frozenset[str]
    address_words: frozenset[str]
    identifiers: frozenset[Identifier]

    @cached_property
    def places(self) -> frozenset[str] | None:
        """The places of its names when every name has one (None otherwise)."""
        if not self.forms or any(not f.places for f in self.forms):
            return None
        return frozenset(p for f in self.forms for p in f.places)


def prepare(record: Record) -> Prepared:
    """Analyse a record's names and collect its evidence."""
    forms = analyze_many(record.names)
    addresses = list(record.addresses) + [f.address for f in forms if f.address]
    words: set[str] = set()
    for address in addresses:
        words.update(w for w in latin_words(address) if w not in _ADDRESS_STOP and len(w) > 1)
    return Prepared(
        record=record,
        forms=forms,
        countries=frozenset(record.countries),
        address_words=frozenset(words),
        identifiers=frozenset(record.identifiers),
    )


_MIN_LENGTH_RATIO = 0.75
_FOLD_PAIRS = (("eo", "o"), ("eu", "u"), ("sh", "s"), ("'", ""))
_FOLD_CHARS = str.maketrans({"g": "k", "d": "t", "b": "p", "j": "c", "r": "l"})


@lru_cache(maxsize=200_000)
def korean_fold(word: str) -> str:
    """A spelling key that Revised Romanization and McCune-Reischauer share.

    North Korean names reach us in McCune-Reischauer without diacritics (Kwangmyong,
    Paektu, Taesong) and tidetrace romanises Hangul by the Revised Romanization
    (gwangmyeong, baekdu, daeseong): folding eo/o, eu/u and the voiced/voiceless stop pairs
    makes them meet. Applied to any word, it only ever adds a match between near spellings.
    """
    for old, new in _FOLD_PAIRS:
        word = word.replace(old, new)
    word = word.translate(_FOLD_CHARS).replace("ch", "c")
    out: list[str] = []
    for char in word:
        if not out or out[-1] != char:
            out.append(char)
    return "".join(out)


_INITIALS: tuple[str, ...] = ("zh", "ch", "sh", *"bpmfdtnlgkhjqxrzcsyw")


def _initial(syllable: str) -> str:
    for initial in _INITIALS:
        if syllable.startswith(initial):
            # z/zh, c/ch and s/sh are one initial here: southern spellings and typists
            # drop the h (WANG ZONG for 旺中 wangzhong).
            return initial[0]
    return ""


def _syllable_conflict(left: str, right: str) -> bool:
    """Both words are pinyin of as many syllables, and one syllable is another word.

    A syllable differs when its initial differs (RUILONG/RUIHONG, WANGKANG/WANGFANG) or it
    is two letters away (ZHONGFENG/ZHONGZHONG): each is another character, so another
    firm. One letter within the same initial (XING/XIANG, JIAI/JIAYI) may be a typo and is
    left to the string similarity. Typos rarely give valid pinyin (FONGWANG is not), so a
    misspelt word is never flagged here.
    """
    ls, rs = pinyin_split(left), pinyin_split(right)
    if ls is None or rs is None or len(ls) != len(rs) or len(ls) < 2:
        return False
    return any(
        a != b and (_initial(a) != _initial(b) or Levenshtein.distance(a, b) >= 2)
        for a, b in zip(ls, rs, strict=True)
    )


@lru_cache(maxsize=500_000)
def token_similarity(left: str, right: str, threshold: float, korean: bool = False) -> float:
    """Similarity of two own words: 1 when equal, Jaro-Winkler above ``threshold``, else 0.

    Words of three letters or fewer must be equal: "xin" and "xing" are different names.
    Korean words (``korean``) are compared through :func:`korean_fold`, so TONGBANG and
    DONGBANG meet; other words that are pinyin differing in a whole syllable score 0, so
    DONGFANG and TONGFANG, two Chinese firms, do not.
    """
    if left == right:
        return 1.0
    if len(left) <= 3 or len(right) <= 3:
        return 0.0
    if min(len(left), len(right)) / max(len(left), len(right)) < _MIN_LENGTH_RATIO:
        # Jaro-Winkler rewards a shared start: RUNGRADO would pass for RUNGRADORYONGAK
        # and RYONGAK for LYONGAKSAN, other firms. A spelling variant keeps its length.
        return 0.0
    if korean:
        sim = max(
            JaroWinkler.normalized_similarity(left, right),
            JaroWinkler.normalized_similarity(korean_fold(left), korean_fold(right)),
        )
    elif _syllable_conflict(left, right):
        return 0.0
    else:
        sim = JaroWinkler.normalized_similarity(left, right)
    return sim if sim >= threshold else 0.0


def word_weight(word: str) -> float:
    """How much a word counts: short leftovers ("C", "JO" of a cut-off name) count little."""
    if len(word) >= 4:
        return 1.0
    return 0.6 if len(word) == 3 else 0.3


def soft_match(
    left: Sequence[str], right: Sequence[str], threshold: float, korean: bool = False
) -> tuple[float, float, float, list[tuple[str, str, float]]]:
    """Soft F1 and containment of two word lists, words paired one to one, best first.

    Returns:
        The F1 (2 × matched weight / total weight), the containment (matched weight over
        the lighter side's weight: 1 when one name's words all occur in the other), the
        weight of words left unmatched on the side with more of them, and the pairs.
    """
    if not left or not right:
        return 0.0, 0.0, 0.0, []
    candidates = []
    for i, lw in enumerate(left):
        for j, rw in enumerate(right):
            sim = token_similarity(lw, rw, threshold, korean)
            if sim > 0:
                candidates.append((sim, i, j))
    candidates.sort(key=lambda c: (-c[0], c[1], c[2]))
    used_l: set[int] = set()
    used_r: set[int] = set()
    pairs: list[tuple[str, str, float]] = []
    total = 0.0
    for sim, i, j in candidates:
        if i in used_l or j in used_r:
            continue
        used_l.add(i)
        used_r.add(j)
        pairs.append((left[i], right[j], sim))
        total += sim * (word_weight(left[i]) + word_weight(right[j])) / 2
    lw_total = sum(word_weight(w) for w in left)
    rw_total = sum(word_weight(w) for w in right)
    f1 = 2 * total / (lw_total + rw_total)
    contained = min(1.0, total / min(lw_total, rw_total))
    unmatched = max(
        sum(word_weight(w) for i, w in enumerate(left) if i not in used_l),
        sum(word_weight(w) for j, w in enumerate(right) if j not in used_r),
    )
    return f1, contained, unmatched, pairs


def _fmt_pairs(pairs: list[tuple[str, str, float]]) -> str:
    return ", ".join(f"{a}={b}" if s == 1.0 else f"{a}≈{b} {s:.2f}" for a, b, s in pairs)


def f_words(a: NameForm, b: NameForm, threshold: float) -> tuple[FeatureValue, ...]:
    """The firm's own words, matched one to one (spelling variants allowed).

    ``words`` is their soft F1; ``contained`` says whether the shorter name's words all
    occur in the longer one ("Yihe" in "Yihe Sea Treasure", where a translation the
    vocabulary does not know is left over). Words written apart on one side and together
    on the other (HAE SONG / 해성 haeseong) are caught by comparing the joined words too.
    """
    return _word_features(a.words, b.words, threshold, a.korean or b.korean)


@lru_cache(maxsize=200_000)
def _word_features(
    left: tuple[str, ...], right: tuple[str, ...], threshold: float, korean: bool
) -> tuple[FeatureValue, ...]:
    # A function of the own words alone, cached: at scale the spellings of one firm differ
    # in legal form, vocabulary, punctuation and address far more often than in its own
    # words (56k spellings against 10k plants made 64k name comparisons, 3.7k word pairs).
    score, contained, _unmatched, pairs = soft_match(left, right, threshold, korean)
    detail = _fmt_pairs(pairs) if pairs else "no own word in common"
    lc, rc = "".join(left), "".join(right)
    if len(left) != len(right) and lc and rc:
        joined = token_similarity(lc, rc, threshold, korean)
        if joined > score:
            score, contained = joined, max(contained, joined)
            detail = f"{lc}≈{rc} {joined:.2f} (joined)"
    return (
        FeatureValue("words", round(score, 4), detail),
        FeatureValue("contained", round(contained, 4), detail if contained else ""),
    )


def f_compact(a: NameForm, b: NameForm, threshold: float) -> FeatureValue:
    """The own words written together, compared as one string (HAI QING vs HAIQING)."""
    if not a.compact or not b.compact:
        return FeatureValue("compact", 0.0, "a name has no own words")
    sim = Indel.normalized_similarity(a.compact, b.compact)
    return FeatureValue("compact", round(sim, 4), f"{a.compact} ~ {b.compact}")


def f_words_missing(a: NameForm, b: NameForm, threshold: float) -> FeatureValue:
    """A name made only of place, vocabulary and legal form ("丹东食品有限公司")."""
    missing = [f.name for f in (a, b) if f.generic]
    if missing:
        return FeatureValue("words_missing", 1.0, "generic name: " + "; ".join(missing))
    return FeatureValue("words_missing", 0.0, "")


def f_han(a: NameForm, b: NameForm, threshold: float) -> tuple[FeatureValue, FeatureValue]:
    """Both names in Chinese: the same characters, or homophones written differently."""
    if not a.han_words or not b.han_words:
        return FeatureValue("han_match", 0.0, ""), FeatureValue("han_conflict", 0.0, "")
    shared = a.han_words & b.han_words
    if shared:
        return FeatureValue("han_match", 1.0, "、".join(sorted(shared))), FeatureValue(
            "han_conflict", 0.0, ""
        )
    detail = f"{'、'.join(sorted(a.han_words))} ≠ {'、'.join(sorted(b.han_words))}"
    return FeatureValue("han_match", 0.0, ""), FeatureValue("han_conflict", 1.0, detail)


@lru_cache(maxsize=100_000)
def places_compatible(left: frozenset[str], right: frozenset[str]) -> bool:
    """Whether two sets of places share one, or one lies in the other (cached: names
    carry few distinct sets of places, and every candidate pair asks)."""
    return any(_places_compatible(p, q) for p in left for q in right)


@lru_cache(maxsize=100_000)
def _places_compatible(left: str, right: str) -> bool:
    lex = lexicon()
    if left == right or left in lex.ancestors(right) or right in lex.ancestors(left):
        return True
    # A country word ("Korea", "China") is compatible with any place in that country.
    lc, rc = lex.place_country.get(left), lex.place_country.get(right)
    top = lex.country_places
    return lc is not None and lc == rc and (left in top or right in top)


def f_places(a: NameForm, b: NameForm, threshold: float) -> tuple[FeatureValue, FeatureValue]:
    """Places in both names: one shared (or one inside the other), or none."""
    if not a.places or not b.places:
        return FeatureValue("place_match", 0.0, ""), FeatureValue("place_conflict", 0.0, "")
    pairs = [(p, q) for p in sorted(a.places) for q in sorted(b.places) if _places_compatible(p, q)]
    if pairs:
        detail = ", ".join(f"{p}={q}" if p == q else f"{p}⊂{q}" for p, q in pairs)
        return FeatureValue("place_match", 1.0, detail), FeatureValue("place_conflict", 0.0, "")
    detail = f"{', '.join(sorted(a.places))} ≠ {', '.join(sorted(b.places))}"
    return FeatureValue("place_match", 0.0, ""), FeatureValue("place_conflict", 1.0, detail)


def f_concepts(a: NameForm, b: NameForm, threshold: float) -> tuple[FeatureValue, FeatureValue]:
    """Trade vocabulary in both names: shared (food=食品), related (food~seafood), or not."""
    if not a.concepts or not b.concepts:
        return FeatureValue("concept_match", 0.0, ""), FeatureValue("concept_conflict", 0.0, "")
    shared = a.concepts & b.concepts
    # A concept of one name that the other name has a translators' twin of counts half.
    half = (a.concepts - b.concepts) & b.related_concepts
    half |= (b.concepts - a.concepts) & a.related_concepts
    union = a.concepts | b.concepts
    score = (len(shared) + 0.5 * len(half) / 2) / len(union)
    if score > 0:
        parts = sorted(shared) + [f"~{c}" for c in sorted(half)]
        return FeatureValue("concept_match", score, " ".join(parts)), FeatureValue(
            "concept_conflict", 0.0, ""
        )
    detail = f"{' '.join(sorted(a.concepts))} ≠ {' '.join(sorted(b.concepts))}"
    return FeatureValue("concept_match", 0.0, ""), FeatureValue("concept_conflict", 1.0, detail)


def f_numbers(a: NameForm, b: NameForm, threshold: float) -> FeatureValue:
    """Numbers in both names that differ ("No. 1 Plant" vs "No. 2 Plant")."""
    if a.numbers and b.numbers and not a.numbers & b.numbers:
        detail = f"{' '.join(sorted(a.numbers))} ≠ {' '.join(sorted(b.numbers))}"
        return FeatureValue("number_conflict", 1.0, detail)
    return FeatureValue("number_conflict", 0.0, "")


def f_legal(a: NameForm, b: NameForm, threshold: float) -> FeatureValue:
    """A branch against its company: related firms, not one entity."""
    if a.legal and b.legal and ("#branch" in a.legal) != ("#branch" in b.legal):
        detail = f"{' '.join(sorted(a.legal))} ≠ {' '.join(sorted(b.legal))}"
        return FeatureValue("legal_conflict", 1.0, detail)
    return FeatureValue("legal_conflict", 0.0, "")


NameFeature = Callable[[NameForm, NameForm, float], FeatureValue | tuple[FeatureValue, ...]]
NAME_FEATURES: tuple[NameFeature, ...] = (
    f_words,
    f_compact,
    f_words_missing,
    f_han,
    f_places,
    f_concepts,
    f_numbers,
    f_legal,
)


def name_features(a: NameForm, b: NameForm, threshold: float) -> list[FeatureValue]:
    """Every name feature for one pair of name forms."""
    out: list[FeatureValue] = []
    for feature in NAME_FEATURES:
        value = feature(a, b, threshold)
        if isinstance(value, FeatureValue):
            out.append(value)
        else:
            out.extend(value)
    return out


def f_country(a: Prepared, b: Prepared) -> tuple[FeatureValue, FeatureValue]:
    """Countries of both records: shared, or disjoint."""
    if not a.countries or not b.countries:
        return FeatureValue("country_match", 0.0, ""), FeatureValue("country_conflict", 0.0, "")
    shared = a.countries & b.countries
    if shared:
        return FeatureValue("country_match", 1.0, " ".join(sorted(shared))), FeatureValue(
            "country_conflict", 0.0, ""
        )
    detail = f"{' '.join(sorted(a.countries))} ≠ {' '.join(sorted(b.countries))}"
    return FeatureValue("country_match", 0.0, ""), FeatureValue("country_conflict", 1.0, detail)


def f_address(a: Prepared, b: Prepared) -> FeatureValue:
    """Words shared by the two records' addresses (Jaccard)."""
    if not a.address_words or not b.address_words:
        return FeatureValue("address", 0.0, "")
    shared = a.address_words & b.address_words
    score = len(shared) / len(a.address_words | b.address_words)
    return FeatureValue("address", round(score, 4), " ".join(sorted(shared)))


RECORD_FEATURES: tuple[Callable[[Prepared, Prepared], FeatureValue | tuple[FeatureValue, ...]], ...]
RECORD_FEATURES = (f_country, f_address)


def record_features(a: Prepared, b: Prepared) -> list[FeatureValue]:
    """Every record-level feature for a pair."""
    out: list[FeatureValue] = []
    for feature in RECORD_FEATURES:
        value = feature(a, b)
        if isinstance(value, FeatureValue):
            out.append(value)
        else:
            out.extend(value)
    return out
