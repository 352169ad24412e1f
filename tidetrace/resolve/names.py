"""The name pipeline: any company name, in any of our scripts, to comparable tokens.

``大连海青食品有限公司``, ``大連海青食品有限公司``, ``Dalian Haiqing Food Co., Ltd.`` and
``DALIAN HAI QING FOODS CO.,LTD. NO.1 HUANGHAI RD`` all become the tokens
``dalian`` (place) ``haiqing`` (word) ``@food`` (concept) ``#company`` (legal form), with
the address split off the last one. Steps, in order:

1. Unicode NFKC (full-width letters and digits become ASCII), whitespace collapsed.
2. A name that carries a Chinese or Korean name and a Latin one ("大连海青食品有限公司
   DALIAN HAIQING FOOD CO LTD", common on registries) is split into two names; a
   parenthesised acronym ("(GBAE)") becomes a name of its own.
3. An address folded into the name is split off (:func:`split_address`).
4. Chinese: traditional → simplified (OpenCC ``t2s``), then segmented against the lexicon
   (places, vocabulary, legal forms) by dynamic programming; what the lexicon does not cover
   is the firm's own name (字号), kept as one word when short and cut by ``jieba`` when long.
   Every word becomes toneless pinyin written together (海青 → ``haiqing``).
5. Korean: segmented against the lexicon the same way; words are romanised by the Revised
   Romanization (:mod:`tidetrace.resolve.hangul`).
6. Latin script: ASCII-folded words; words run together taken apart (``RUIJIAFOOD``,
   ``DALIANHAIQING``); legal forms found by rigour where it covers them, then the lexicon's
   phrases (longest first); misspelt vocabulary and places repaired (never a valid pinyin
   word); adjacent pinyin words joined (``HAI QING`` → ``haiqing``) because bills of lading
   space syllables every which way. "X AS AGENT FOR Y" keeps X, with Y as the principal.

The result, a :class:`NameForm`, keeps the four kinds of token apart so that scoring can
weigh a shared firm name far above a shared "food" or "Co., Ltd.".
"""

import logging
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, cached_property, lru_cache
from typing import Any, Literal

from rapidfuzz.distance import DamerauLevenshtein
from rigour.names import extract_org_types

from tidetrace.resolve.hangul import is_hangul, romanize
from tidetrace.resolve.lexicon import (
    Entry,
    Lexicon,
    latin_words,
    lexicon,
    pinyin_split,
    pinyin_words,
)

__all__ = [
    "NameForm",
    "Token",
    "TokenKind",
    "analyze",
    "analyze_many",
    "split_address",
    "to_simplified",
]

TokenKind = Literal["word", "place", "concept", "legal", "number"]
Script = Literal["latin", "han", "hangul"]

# Latin words that carry no identity once phrases are matched.
_STOPWORDS = frozenset(
    {"and", "of", "the", "for", "de", "la", "del", "a", "an", "no", "nos",
     # Left over once "marine products", "aquatic products" … are matched as phrases.
     "products", "product", "prods"}
)  # fmt: skip
# Chinese own-names up to this length stay one word: 欧美卡 is a name, not 欧美 + 卡.
_HAN_NAME_MAX = 3
# Names at least this long may have been cut at a bill-of-lading field's width.
_CUT_WIDTH = 30
# Longest run of pinyin syllables joined into one word (four-syllable firm names exist).
_PINYIN_RUN_MAX = 4

_ADDRESS_WORDS = (
    r"\bno\.?\s*\d|\b\d+\s*(?:#|号)|\broad\b|\brd\b|\bstreet\b|\bstr\b|\bst\.|\bavenue\b|"
    r"\bave\b|\bdistrict\b|\bindustrial\s+(?:park|zone)\b|\bdevelopment\s+zone\b|"
    r"\beconomic\s+zone\b|\bzone\b|\btown\b|\bvillage\b|\bbuilding\b|\bbldg\b|\bfloor\b|"
    r"\bfl\b|\broom\b|\brm\b|\badd(?:ress)?\s*[:：]|\bp\.?\s?o\.?\s?box\b|\btel\b|\bfax\b|"
    r"\battn\b|\bzip\b|\bpostcode\b|\blu\b|\bjie\b|\bdadao\b|\bhao\b|"
    # A house number before a street: "192 MAIN ST", "18 HARBOR AVE".
    r"\b\d{1,5}\s+(?:[a-z]+\s+){1,3}(?:st|street|ave|avenue|rd|road|blvd|way|dr|drive|lane|ln)\b"
)
_ADDRESS_RE = re.compile(rf"(?:{_ADDRESS_WORDS})", re.IGNORECASE)
_NUMBER_RE = re.compile(r"no\.?\s*\d", re.IGNORECASE)
_HAN_ADDRESS_RE = re.compile(r"(?:地址|地址[:：]|[路街道镇村号楼室栋巷弄])")
_HAN_NAME_END_RE = re.compile(r"(?:公司|厂|集团|商行|合作社|회사|공사)")
# A forwarder filing for the real shipper: "ORIENT OCEAN LOGISTICS AS AGENT FOR ZHOUSHAN
# BAOSHENG FOODSTUFF CO LTD". The party is the forwarder; the principal's name must not
# make the forwarder match the shipper (and, through it, every shipper it works for).
_AGENT_RE = re.compile(
    r"\s*[,;(]?\s*\b(?:(?:for and )?on behalf of|as agents? (?:for|of)|agents? for|o/b(?: of)?|"
    r"for account of|c/o|care of|obo)\b\s*[:]?",
    re.IGNORECASE,
)
_ACRONYM_RE = re.compile(r"\(\s*([A-Z][A-Z0-9&]{1,7})\s*\)")
_CJK_RUN_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\uac00-\ud7a3]+")


@dataclass(frozen=True, slots=True)
class Token:
    """One token of a name.

    Attributes:
        text: the comparison form: ASCII for words and places (pinyin for Chinese, Revised
            Romanization for Korean), ``@concept`` for vocabulary, ``#class`` for legal forms.
        kind: word (the firm's own name), place, concept, legal or number.
        surface: the token as written (simplified Chinese, Hangul or Latin words).
        script: the script it was written in.
    """

    text: str
    kind: TokenKind
    surface: str
    script: Script


@dataclass(frozen=True)
class NameForm:
    """One name, analysed.

    Attributes:
        original: the name as given.
        name: the name part after the address was split off.
        address: the split-off address, or None.
        tokens: the tokens, in order.
        principal: the party an agent filed for ("… AS AGENT FOR <principal>"); not
            compared, since the record is the agent.
    """

    original: str
    name: str
    address: str | None
    tokens: tuple[Token, ...] = field(default_factory=tuple)
    principal: str | None = None

    @cached_property
    def words(self) -> tuple[str, ...]:
        """The firm's own words (not places, vocabulary, legal forms or numbers).

        A name with no own word ("KOREA MINING DEVELOPMENT TRADING CORPORATION",
        丹东食品有限公司) is all generic: its places and concepts stand in for its own
        words, so that two generic names are still compared word by word; see ``generic``.
        """
        own = tuple(t.text for t in self.tokens if t.kind == "word")
        if own:
            return own
        return tuple(t.text for t in self.tokens if t.kind in ("place", "concept"))

    @cached_property
    def generic(self) -> bool:
        """Whether the name has no own word at all (only place, vocabulary, legal form)."""
        return not any(t.kind == "word" for t in self.tokens)

    @cached_property
    def han_words(self) -> frozenset[str]:
        """Own words written in Chinese (simplified): 海青 and 海清 sound alike, differ here."""
        return frozenset(t.surface for t in self.tokens if t.kind == "word" and t.script == "han")

    @cached_property
    def places(self) -> frozenset[str]:
        """Place tokens."""
        return frozenset(t.text for t in self.tokens if t.kind == "place")

    @cached_property
    def concepts(self) -> frozenset[str]:
        """Vocabulary concept tokens (``@food`` …)."""
        return frozenset(t.text for t in self.tokens if t.kind == "concept")

    @cached_property
    def legal(self) -> frozenset[str]:
        """Legal-form classes (``#company``, ``#branch`` …)."""
        return frozenset(t.text for t in self.tokens if t.kind == "legal")

    @cached_property
    def numbers(self) -> frozenset[str]:
        """Numbers in the name ("No. 2 Plant" → ``2``)."""
        return frozenset(t.text for t in self.tokens if t.kind == "number")

    @cached_property
    def korean(self) -> bool:
        """Whether the name is Korean: written in Hangul or naming a Korean place.

        Korean names are romanised in several systems (Revised, McCune-Reischauer), so
        their words are compared through a spelling key; Chinese pinyin is not.
        """
        if "hangul" in self.scripts:
            return True
        countries = lexicon().place_country
        return any(countries.get(p) in ("kp", "kr") for p in self.places)

    @cached_property
    def compact(self) -> str:
        """The own words written together: spacing differences disappear here."""
        return "".join(self.words)

    @cached_property
    def scripts(self) -> frozenset[str]:
        """Scripts the name is written in."""
        return frozenset(t.script for t in self.tokens)

    @cached_property
    def key(self) -> str:
        """What comparison depends on, as one string: two forms with the same key compare
        the same way (used to cache name comparisons; spellings repeat at scale)."""
        return "\x1f".join(
            f"{t.kind}\x1e{t.text}\x1e{t.script}\x1e{t.surface if t.script == 'han' else ''}"
            for t in self.tokens
        )

    @cached_property
    def related_concepts(self) -> frozenset[str]:
        """Concepts that translators use for this name's concepts (see ``vocabulary.yml``)."""
        related = lexicon().related
        return frozenset(r for c in self.concepts for r in related.get(c, ()))

    def render(self) -> str:
        """The tokens as one readable string, e.g. ``dalian haiqing @food #company``."""
        return " ".join(t.text for t in self.tokens)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description (for explanations and the ``names`` command)."""
        return {
            "name": self.name,
            "address": self.address,
            "tokens": [{"text": t.text, "kind": t.kind, "surface": t.surface} for t in self.tokens],
        }


@cache
def _converter() -> Any:
    import opencc

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=65536)
def to_simplified(text: str) -> str:
    """Traditional Chinese characters of ``text`` as simplified (OpenCC ``t2s``)."""
    return str(_converter().convert(text))


@cache
def _jieba() -> Any:
    import jieba

    # A private tokenizer: adding our words to jieba's global one would change
    # segmentation for every other user of jieba in the process.
    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    for form, entry in lexicon().han.items():
        tokenizer.add_word(form, freq=100000, tag=entry.kind)
    return tokenizer


def split_address(text: str) -> tuple[str, str | None]:
    """Split an address folded into a name field off the name.

    Bills of lading carry one free-text party field, so ``DALIAN HAI QING FOOD CO.,LTD.
    NO.1 HUANGHAI ROAD`` is common. The address starts after the last legal form when
    what follows looks like an address, else at the first address word (``NO. 1``,
    ``ROAD``, ``TEL:``, 路/号 …) that has at least two words of name before it.

    Args:
        text: a normalised name.

    Returns:
        The name part and the address part (None when there is none).
    """
    han_end = None
    for match in _HAN_NAME_END_RE.finditer(text):
        han_end = match.end()
    if han_end is not None and han_end < len(text):
        rest = text[han_end:].strip(" ,;:-")
        if rest and (_HAN_ADDRESS_RE.search(rest) or any(c.isdigit() for c in rest)):
            return text[:han_end].strip(), rest
    words = latin_words(text)
    if len(words) < 3:
        return text, None
    legal_end = _last_legal_end(text)
    if legal_end is not None and legal_end < len(text):
        rest = text[legal_end:].strip(" ,;:-.")
        if rest and (any(c.isdigit() for c in rest) or _ADDRESS_RE.search(rest)):
            return text[:legal_end].strip(" ,;:-"), rest
    matches = list(_ADDRESS_RE.finditer(text))
    for i, match in enumerate(matches):
        head = text[: match.start()]
        if len(latin_words(head)) < 2:
            continue
        if _NUMBER_RE.match(match.group(0)) and len(matches) == i + 1:
            # "NO. 2 PLANT" names a plant; "NO. 2 HUANGHAI ROAD" starts an address: a
            # number alone, with no address word after it, stays in the name.
            continue
        return head.strip(" ,;:-"), text[match.start() :].strip()
    return text, None


_LEGAL_END_RE = re.compile(
    r"(?:co\.?\s*,?\s*ltd\.?|company\s+limited|corporation|limited|ltd\.?|corp\.?|inc\.?|"
    r"llc|gmbh|co\.)",
    re.IGNORECASE,
)


def _last_legal_end(text: str) -> int | None:
    end = None
    for match in _LEGAL_END_RE.finditer(text):
        end = match.end()
    return end


def _segment(run: str, table: dict[str, Entry], longest: int) -> list[tuple[str, Entry | None]]:
    """Cover ``run`` with lexicon entries, leaving as little uncovered as possible.

    Greedy longest-match goes wrong on 东北海产品 (takes 北海, a city, and leaves 产品), so
    this is dynamic programming over positions. It minimises, in order: uncovered
    characters, runs of uncovered characters (威海|洋合|渔业 beats 威|海洋|合|渔业, which
    leaves as many characters but scattered), and pieces.
    """
    n = len(run)
    Cost = tuple[int, int, int]
    # State: (position, whether the last piece was uncovered) → best cost and back pointer.
    best: dict[tuple[int, bool], tuple[Cost, tuple[int, bool] | None, Entry | None]] = {
        (0, False): ((0, 0, 0), None, None)
    }
    for i in range(n):
        for last in (False, True):
            state = best.get((i, last))
            if state is None:
                continue
            (unc, runs, pieces), _, _ = state
            options: list[tuple[int, bool, Cost, Entry | None]] = [
                (
                    i + 1,
                    True,
                    (unc + 1, runs + (0 if last else 1), pieces + (0 if last else 1)),
                    None,
                )
            ]
            for j in range(i + 1, min(n, i + longest) + 1):
                entry = table.get(run[i:j])
                if entry is not None:
                    options.append((j, False, (unc, runs, pieces + 1), entry))
            for j, uncovered, cost, entry in options:
                old = best.get((j, uncovered))
                if old is None or cost < old[0]:
                    best[(j, uncovered)] = (cost, (i, last), entry)
    ends = [best[k] for k in ((n, False), (n, True)) if k in best]
    end_key = min(((n, False), (n, True)), key=lambda k: best[k][0] if k in best else (n + 1,) * 3)
    assert ends
    pieces_out: list[tuple[str, Entry | None]] = []
    key: tuple[int, bool] | None = end_key
    while key is not None and key[0] > 0:
        _, prev, entry = best[key]
        assert prev is not None
        pieces_out.append((run[prev[0] : key[0]], entry))
        key = prev
    pieces_out.reverse()
    # Glue uncovered characters back into runs: they form the firm's own name.
    merged: list[tuple[str, Entry | None]] = []
    for text, entry in pieces_out:
        if entry is None and merged and merged[-1][1] is None:
            merged[-1] = (merged[-1][0] + text, None)
        else:
            merged.append((text, entry))
    return merged


def _absorb_suffix(
    pieces: list[tuple[str, Entry | None]], suffixes: frozenset[str]
) -> list[tuple[str, Entry | None]]:
    """Attach an administrative suffix (市, 시 …) that follows a place to the place."""
    out: list[tuple[str, Entry | None]] = []
    for text, entry in pieces:
        if out and entry is None and out[-1][1] is not None and out[-1][1].kind == "place":
            for suffix in sorted(suffixes, key=len, reverse=True):
                if text.startswith(suffix):
                    prev_text, prev_entry = out[-1]
                    out[-1] = (prev_text + suffix, prev_entry)
                    text = text[len(suffix) :]
                    break
            if not text:
                continue
        out.append((text, entry))
    return out


def _han_tokens(run: str, lex: Lexicon) -> list[Token]:
    simple = to_simplified(run)
    pieces = _absorb_suffix(_segment(simple, lex.han, lex.han_max), lex.suffix_han)
    out: list[Token] = []
    for text, entry in pieces:
        if entry is not None:
            out.append(Token(entry.key, entry.kind, text, "han"))
            continue
        for word in _cut_own_name(text):
            out.append(Token("".join(pinyin_words(word)), "word", word, "han"))
    return out


def _cut_own_name(text: str) -> list[str]:
    """The firm's own name as words: whole when short, cut by jieba when long."""
    if len(text) <= _HAN_NAME_MAX:
        return [text]
    words: list[str] = []
    for piece in _jieba().cut(text, HMM=True):
        # A single character left by jieba belongs to its neighbour: 欧美卡 → 欧美卡.
        if words and (len(piece) == 1 or len(words[-1]) == 1):
            words[-1] += piece
        else:
            words.append(piece)
    return words


def _hangul_tokens(run: str, lex: Lexicon) -> list[Token]:
    pieces = _absorb_suffix(_segment(run, lex.hangul, lex.hangul_max), lex.suffix_hangul)
    out: list[Token] = []
    for text, entry in pieces:
        if entry is not None:
            out.append(Token(entry.key, entry.kind, text, "hangul"))
        else:
            out.append(Token(romanize(text), "word", text, "hangul"))
    return out


@lru_cache(maxsize=100_000)
def _unglue(word: str) -> tuple[str, ...]:
    """A firm's name glued to the next word or to its city, taken apart.

    Filers drop spaces: RUIJIAFOOD, HAIHENGSEAFOOD, WANGYICOLD STORAGE, DALIANHAIQING.
    A word is cut where the rest is a lexicon word (or its city starts it) and the other
    part is pinyin, so a name that merely ends in "food" letters is left whole.
    """
    lex = lexicon()
    if len(word) < 7 or (word,) in lex.latin:
        return (word,)
    for cut in range(len(word) - 4, 3, -1):
        head, tail = word[:cut], word[cut:]
        entry = lex.latin.get((head,))
        if entry is not None and entry.kind == "place" and pinyin_split(tail) is not None:
            return (head, tail)
    # The rest must be a word that is not itself pinyin (FOOD, OCEAN, COLD): JINDAOCEAN is
    # jinda + ocean although "jin-dao-ce-an" would also spell, but HANDAN is not han + dan.
    for cut in range(3, len(word) - 2):
        head, tail = word[:cut], word[cut:]
        if (
            tail in lex.first_words
            and pinyin_split(tail) is None
            and pinyin_split(head) is not None
        ):
            return (head, tail)
    return (word,)


def _latin_tokens(text: str, lex: Lexicon) -> list[Token]:
    # Bill-of-lading name fields are 35 characters wide: a long name may end mid-word.
    return list(_latin_word_tokens(tuple(latin_words(text)), len(text) >= _CUT_WIDTH))


@lru_cache(maxsize=200_000)
def _latin_word_tokens(raw: tuple[str, ...], cut: bool) -> tuple[Token, ...]:
    """The tokens of a Latin-script name's words (``cut``: it may end mid-word).

    A function of the words alone, cached: spellings that differ only in case and
    punctuation (CO.,LTD / CO LTD, "DALIAN, HAIQING") are analysed once, and at scale
    those are four in ten.
    """
    lex = lexicon()
    words = [part for word in raw for part in _unglue(word)]
    if not words:
        return ()
    legal = _rigour_legal_spans(words, lex)
    out: list[Token] = []
    sizes = lex.phrase_sizes
    i = 0
    while i < len(words):
        if i in legal:
            size, key = legal[i]
            out.append(Token(key, "legal", " ".join(words[i : i + size]), "latin"))
            i += size
            continue
        matched = False
        for size in sizes.get(words[i], ()):
            if size > len(words) - i or (legal and any(j in legal for j in range(i + 1, i + size))):
                continue
            phrase = tuple(words[i : i + size])
            entry = lex.latin.get(phrase)
            if entry is None:
                continue
            surface = " ".join(phrase)
            i += size
            if (
                entry.kind == "place"
                and i < len(words)
                and words[i] in lex.suffix_latin
                and not _starts_phrase(words, i, lex)
            ):
                surface = f"{surface} {words[i]}"
                i += 1
            out.append(Token(entry.key, entry.kind, surface, "latin"))
            matched = True
            break
        if matched:
            continue
        word = words[i]
        i += 1
        if any(c.isdigit() for c in word):
            out.append(Token(word.lstrip("0") or "0", "number", word, "latin"))
            continue
        entry = _fuzzy_entry(word, last=cut and i == len(words))
        if entry is not None:
            out.append(Token(entry.key, entry.kind, word, "latin"))
        else:
            out.append(Token(word, "word", word, "latin"))
    joined = _repair_first_place(_join_pinyin_runs(out))
    # Stopwords go only now: "an" in RUN AN is a syllable of the name 润安, not English.
    return tuple(t for t in joined if not (t.kind == "word" and t.text in _STOPWORDS))


@cache
def _single_word_forms() -> dict[str, Entry]:
    """Lexicon forms of one word and at least six letters: the targets of typo repair.

    Places are repaired only into their own key (``dalian``), never into a variant
    spelling: old spellings such as ``tandong`` sit one letter from firm names (TAEDONG).
    """
    return {
        k[0]: v
        for k, v in lexicon().latin.items()
        if len(k) == 1 and len(k[0]) >= 6 and (v.kind != "place" or v.key == k[0])
    }


@lru_cache(maxsize=100_000)
def _fuzzy_entry(word: str, last: bool) -> Entry | None:
    """The lexicon entry a misspelt or cut-off word stands for, if any.

    Bills of lading are typed by hand and cut at the field width: ``FISHEERY``,
    ``QAUATIC``, ``EWIHAI`` and a last word ``TRADIN`` should still be vocabulary and
    places, not the firm's own words. Only words that are not pinyin are repaired here:
    a pinyin word (HAIYAN, TAILAN, HONGYONG) is more likely a firm's name than a typo of
    HAIYANG, TAIWAN or HONGKONG (see :func:`_repair_first_place` for the one exception).
    A word is repaired into a form of six letters or more at one edit (transposition
    included; two for long forms; a place keeps its first letter or swaps it with the
    second, so HAESONG, a firm, never becomes KAESONG, a city). The last word of a name long
    enough to have been cut (``last``) can be the start of a form.
    """
    if pinyin_split(word) is not None:
        return None
    forms = _single_word_forms()
    if len(word) >= 5:
        best: tuple[int, str] | None = None
        for form in forms:
            if abs(len(form) - len(word)) > 2:
                continue
            if forms[form].kind == "place":
                if not _place_edit_ok(word, form):
                    continue
                limit = 1
            else:
                limit = 2 if len(form) >= 9 else 1
            dist = DamerauLevenshtein.distance(word, form, score_cutoff=limit)
            if dist <= limit and (best is None or (dist, form) < best):
                best = (dist, form)
        if best is not None:
            return forms[best[1]]
    if last and len(word) >= 4:
        starts = sorted(f for f in forms if f.startswith(word))
        if starts:
            return forms[starts[0]]
    return None


def _place_edit_ok(word: str, form: str) -> bool:
    return form[0] == word[0] or word[:2] == form[1::-1]


def _repair_first_place(tokens: list[Token]) -> list[Token]:
    """A name with no place whose first word is one edit from a place: that place.

    Chinese firm names start with their city, so RIZIAO FONGWANG and NINBO FENGYUNG start
    with Rizhao and Ningbo even though RIZIAO and NINBO happen to be valid pinyin. Only the
    first word is tried, and only when no other word is a place (DALIAN QINGDA keeps its
    firm name QINGDA, one letter from Qingdao).
    """
    if not tokens or tokens[0].kind != "word" or any(t.kind == "place" for t in tokens):
        return tokens
    word = tokens[0].text
    if len(word) < 5 or pinyin_split(word) is None:
        return tokens
    for form, entry in sorted(_single_word_forms().items()):
        if entry.kind != "place" or abs(len(form) - len(word)) > 1:
            continue
        if _place_edit_ok(word, form) and DamerauLevenshtein.distance(word, form) <= 1:
            return [Token(entry.key, "place", tokens[0].surface, "latin"), *tokens[1:]]
    return tokens


def _starts_phrase(words: list[str], start: int, lex: Lexicon) -> bool:
    """Whether a lexicon phrase of two or more words starts at ``start`` ("shi pin")."""
    for size in range(2, min(lex.latin_max, len(words) - start) + 1):
        if tuple(words[start : start + size]) in lex.latin:
            return True
    return False


def _rigour_legal_spans(words: list[str], lex: Lexicon) -> dict[int, tuple[int, str]]:
    """Where rigour finds a legal form: start index → (word count, our class)."""
    spans: dict[int, tuple[int, str]] = {}
    joined = " ".join(words)
    for surface, form in extract_org_types(joined):
        key = lex.rigour_forms.get(form.replace(" ", ""))
        if key is None:
            # rigour knows forms from every jurisdiction; some are also pinyin syllables
            # ("yu"). Only forms mapped in legal_forms.yml count.
            continue
        target = latin_words(surface)
        if not target:
            continue
        for start in range(len(words) - len(target) + 1):
            taken = any(start <= s < start + len(target) for s in spans)
            if not taken and words[start : start + len(target)] == target:
                spans[start] = (len(target), key)
                break
    return spans


def _join_pinyin_runs(tokens: list[Token]) -> list[Token]:
    """Join consecutive own words that are pinyin into one: HAI QING → haiqing.

    Bills of lading space the syllables of a firm's name every which way (HENG TAI LONG,
    HENGTAI LONG, HENGTAILONG), and its Chinese name is one word (恒泰隆): adjacent pinyin
    words are joined, up to four syllables, so that all spellings give one token.
    """
    out: list[Token] = []
    run: list[Token] = []
    count = 0

    def flush() -> None:
        nonlocal count
        if len(run) >= 2:
            text = "".join(t.text for t in run)
            out.append(Token(text, "word", " ".join(t.surface for t in run), "latin"))
        else:
            out.extend(run)
        run.clear()
        count = 0

    for token in tokens:
        split = pinyin_split(token.text) if token.kind == "word" else None
        if split is not None and token.script == "latin":
            if count + len(split) > _PINYIN_RUN_MAX:
                flush()
            run.append(token)
            count += len(split)
            continue
        flush()
        out.append(token)
    flush()
    return out


def _tokens(text: str, lex: Lexicon) -> list[Token]:
    out: list[Token] = []
    pos = 0
    for match in _CJK_RUN_RE.finditer(text):
        if match.start() > pos:
            out.extend(_latin_tokens(text[pos : match.start()], lex))
        out.extend(_cjk_tokens(match.group(0), lex))
        pos = match.end()
    if pos < len(text):
        out.extend(_latin_tokens(text[pos:], lex))
    return out


def _cjk_tokens(run: str, lex: Lexicon) -> list[Token]:
    out: list[Token] = []
    start = 0
    # A run can mix Hangul and Han (rare, but Korean names sometimes carry Hanja).
    for i in range(1, len(run) + 1):
        if i == len(run) or is_hangul(run[i]) != is_hangul(run[start]):
            part = run[start:i]
            if is_hangul(part[0]):
                out.extend(_hangul_tokens(part, lex))
            else:
                out.extend(_han_tokens(part, lex))
            start = i
    return out


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    # NFKC leaves the ideographic full stop and comma; they separate like their ASCII kin.
    text = text.replace("。", ".").replace("、", ",")
    return " ".join(text.split())


def _split_scripts(text: str) -> list[str]:
    """A bilingual name ("大连海青食品有限公司 DALIAN HAIQING FOOD CO LTD") as two names."""
    cjk = "".join(m.group(0) for m in _CJK_RUN_RE.finditer(text))
    if len(cjk) < 2:
        return [text]
    latin = _CJK_RUN_RE.sub(" ", text)
    if len([w for w in latin_words(latin) if w.isalpha()]) < 2:
        return [text]
    runs = list(_CJK_RUN_RE.finditer(text))
    start, end = runs[0].start(), runs[-1].end()
    cjk_part = text[start:end]
    latin_part = (text[:start] + " " + text[end:]).strip(" ,;/()")
    return [cjk_part, " ".join(latin_part.split())]


@lru_cache(maxsize=200_000)
def analyze(name: str) -> tuple[NameForm, ...]:
    """Analyse one name field into one or more name forms.

    Args:
        name: a name as found in a source, in any script.

    Returns:
        One form per name the field holds: usually one; two for a bilingual field; one
        more for a parenthesised acronym. Empty when nothing name-like is left.
    """
    text = _normalise(name)
    if not text:
        return ()
    lex = lexicon()
    acronyms = [
        NameForm(name, acronym, None, (Token(acronym.lower(), "word", acronym, "latin"),))
        for acronym in _ACRONYM_RE.findall(text)
    ]
    text = " ".join(_ACRONYM_RE.sub(" ", text).split())
    principal = None
    agent = _AGENT_RE.search(text)
    if agent is not None and agent.start() > 0:
        principal = text[agent.end() :].strip(" ,;:()") or None
        text = text[: agent.start()].strip(" ,;:(")
    forms: list[NameForm] = []
    for part in _split_scripts(text):
        main, address = split_address(part)
        tokens = tuple(_tokens(main, lex))
        if tokens:
            forms.append(NameForm(name, main, address, tokens, principal))
    # The full name first: the first form is the one shown.
    return (*forms, *acronyms)


def analyze_many(names: Iterable[str]) -> tuple[NameForm, ...]:
    """All name forms of several names, duplicates (same tokens) removed."""
    seen: set[tuple[str, ...]] = set()
    out: list[NameForm] = []
    for name in names:
        for form in analyze(name):
            key = tuple(t.text for t in form.tokens)
            if key not in seen:
                seen.add(key)
                out.append(form)
    return tuple(out)
