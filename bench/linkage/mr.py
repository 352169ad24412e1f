"""A McCune-Reischauer-style romaniser, written apart from tidetrace's own on purpose.

North Korean names reach sanctions lists and bills of lading in McCune-Reischauer without
its diacritics (련봉 → "Ryonbong", 조선 → "Choson"), while tidetrace romanises Hangul by the
Revised Romanization. Generating the benchmark's Latin variants with tidetrace's own
romaniser would test nothing, so this module follows the other system: ŏ/ŭ written o/u,
k/t/p/ch for plain stops at the start of a word, r at the start and l at the end, and
syllables optionally written apart ("NAM CHON GANG").
"""

_BASE = 0xAC00
_INITIAL = ("k", "kk", "n", "t", "tt", "r", "m", "p", "pp", "s", "ss", "", "ch", "tch", "ch",
            "k", "t", "p", "h")  # fmt: skip
# Plain stops are voiced between voiced sounds in McCune-Reischauer.
_INITIAL_VOICED = ("g", "kk", "n", "d", "tt", "r", "m", "b", "pp", "s", "ss", "", "j", "tch",
                   "ch", "k", "t", "p", "h")  # fmt: skip
_VOWEL = ("a", "ae", "ya", "yae", "o", "e", "yo", "ye", "o", "wa", "wae", "oe", "yo", "u", "wo",
          "we", "wi", "yu", "u", "ui", "i")  # fmt: skip
_FINAL = ("", "k", "k", "k", "n", "n", "n", "t", "l", "k", "m", "l", "l", "l", "p", "l", "m", "p",
          "p", "t", "t", "ng", "t", "t", "k", "t", "p", "t")  # fmt: skip


def romanize_mr(text: str, spaced: bool = False) -> str:
    """Romanise Hangul syllables McCune-Reischauer style (no diacritics), lower case."""
    out: list[str] = []
    prev_final: int | None = None
    for char in text:
        code = ord(char) - _BASE
        if not 0 <= code < 11172:
            out.append(char)
            prev_final = None
            continue
        initial, vowel, final = code // 588, (code % 588) // 28, code % 28
        if prev_final is None:
            onset = _INITIAL[initial]
        else:
            voiced = prev_final == 0 or _FINAL[prev_final] in ("n", "l", "m", "ng")
            onset = _INITIAL_VOICED[initial] if voiced else _INITIAL[initial]
            if initial == 5 and prev_final == 4:
                onset = "l"  # ㄴ+ㄹ is pronounced ll: 천리마 Ch'ŏllima
                out[-1] = out[-1][:-1] + "l"
            elif initial == 5 and prev_final not in (0, 8):
                onset = "n"
            if spaced:
                out.append(" ")
        out.append(onset + _VOWEL[vowel] + _FINAL[final])
        prev_final = final
    return "".join(out)
