"""Hangul to Latin letters by the Revised Romanization of Korean (2000), from the jamo.

rigour and ICU romanise Hangul letter by letter (조선 → ``joseon`` but 독립문 →
``dogribmun``): they skip the sound changes at syllable boundaries that the Revised
Romanization writes (``dongnimmun``), so the same firm written in Hangul and in a Korean
registry's Latin letters would not meet. This module decomposes each precomposed syllable
(U+AC00–U+D7A3) into its initial, vowel and final jamo arithmetically and applies the
boundary rules that change spelling: liaison of a final before a silent initial,
nasalisation (ㄱ/ㄷ/ㅂ before ㄴ/ㅁ), and the ㄹ assimilations (ㄴ+ㄹ → ``ll``, ㄹ after other
finals → ``n``).

Deliberately not applied, as in most official romanisations of names: aspiration with ㅎ
and tensification, which the Revised Romanization itself does not write.
"""

__all__ = ["is_hangul", "romanize"]

_BASE = 0xAC00
_LAST = 0xD7A3
# Initials (choseong), in Unicode order.
_INITIALS = (
    "g", "kk", "n", "d", "tt", "r", "m", "b", "pp", "s", "ss", "", "j", "jj", "ch", "k", "t",
    "p", "h",
)  # fmt: skip
# Vowels (jungseong), in Unicode order.
_VOWELS = (
    "a", "ae", "ya", "yae", "eo", "e", "yeo", "ye", "o", "wa", "wae", "oe", "yo", "u", "wo",
    "we", "wi", "yu", "eu", "ui", "i",
)  # fmt: skip
# Finals (jongseong), in Unicode order; index 0 is "no final". Each is written as it sounds
# at the end of a syllable (the seven-final rule): ㅅ, ㅈ, ㅊ, ㅌ, ㅎ all sound as t.
_FINALS = (
    "", "k", "k", "k", "n", "n", "n", "t", "l", "k", "m", "l", "l", "l", "p", "l", "m", "p",
    "p", "t", "t", "ng", "t", "t", "k", "t", "p", "t",
)  # fmt: skip
# What a final becomes when the next syllable starts with a silent ㅇ: it is pronounced as
# that syllable's initial (liaison), so it is written with the initial's letter.
_LIAISON = (
    "", "g", "kk", "ks", "n", "nj", "n", "d", "r", "lg", "lm", "lb", "ls", "lt", "lp", "r",
    "m", "b", "bs", "s", "ss", "ng", "j", "ch", "k", "t", "p", "",
)  # fmt: skip

# Initial indices used by the boundary rules.
_I_N, _I_R, _I_M, _I_SILENT = 2, 5, 6, 11
# Finals by their sound class after the seven-final rule.
_K_FINALS = frozenset({1, 2, 3, 9, 24})
_T_FINALS = frozenset({7, 19, 20, 22, 23, 25, 27})
_P_FINALS = frozenset({17, 18, 26, 14})
_N_FINAL, _L_FINAL, _M_FINAL, _NG_FINAL = 4, 8, 16, 21


def is_hangul(char: str) -> bool:
    """Whether ``char`` is a precomposed Hangul syllable."""
    return len(char) == 1 and _BASE <= ord(char) <= _LAST


def _decompose(char: str) -> tuple[int, int, int]:
    index = ord(char) - _BASE
    return index // 588, (index % 588) // 28, index % 28


def _boundary(final: int, initial: int) -> tuple[str, str]:
    """How a final and the next initial are written together (final, initial)."""
    if final == 0:
        return "", _INITIALS[initial]
    if initial == _I_SILENT:
        return "", _LIAISON[final]
    if initial in (_I_N, _I_M):
        # Nasalisation: stops before a nasal become the nasal of their place.
        if final in _K_FINALS:
            return "ng", _INITIALS[initial]
        if final in _T_FINALS:
            return "n", _INITIALS[initial]
        if final in _P_FINALS:
            return "m", _INITIALS[initial]
        if final == _L_FINAL and initial == _I_N:
            return "l", "l"
    if initial == _I_R:
        if final in (_N_FINAL, _L_FINAL):
            return "l", "l"
        # ㄹ after any other final is pronounced n, and nasalises a preceding stop.
        if final in _K_FINALS:
            return "ng", "n"
        if final in _P_FINALS:
            return "m", "n"
        if final in _T_FINALS:
            return "n", "n"
        return _FINALS[final], "n"
    return _FINALS[final], _INITIALS[initial]


def romanize(text: str) -> str:
    """Romanise the Hangul syllables of ``text``; other characters pass through.

    Args:
        text: any text; each run of Hangul syllables is treated as one word.

    Returns:
        The text with Hangul written in Revised Romanization, lower case, e.g.
        ``조선련봉총회사`` → ``joseonryeonbongchonghoesa`` and ``독립문`` → ``dongnimmun``.
    """
    out: list[str] = []
    chars = list(text)
    for pos, char in enumerate(chars):
        if not is_hangul(char):
            out.append(char)
            continue
        initial, vowel, final = _decompose(char)
        prev = chars[pos - 1] if pos > 0 else ""
        if not is_hangul(prev):
            # After a syllable, the initial was written together with that syllable's final.
            out.append(_INITIALS[initial])
        out.append(_VOWELS[vowel])
        nxt = chars[pos + 1] if pos + 1 < len(chars) else ""
        if is_hangul(nxt):
            written_final, next_initial = _boundary(final, _decompose(nxt)[0])
            out.append(written_final)
            out.append(next_initial)
        else:
            out.append(_FINALS[final])
    return "".join(out)
