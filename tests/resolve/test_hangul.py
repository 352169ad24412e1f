"""Revised Romanization from the jamo, with the spelling changes at syllable boundaries."""

import pytest

from tidetrace.resolve.hangul import is_hangul, romanize

CASES = [
    ("조선", "joseon"),
    ("련봉", "ryeonbong"),
    ("평양", "pyeongyang"),
    ("부산", "busan"),
    ("식품", "sikpum"),
    ("수산물", "susanmul"),
    ("무역", "muyeok"),
    ("회사", "hoesa"),
    ("한국", "hanguk"),
    # Boundary rules: nasalisation, ㄹ assimilation, liaison, silent ㅎ.
    ("독립문", "dongnimmun"),
    ("신라", "silla"),
    ("종로", "jongno"),
    ("백마", "baengma"),
    ("십리", "simni"),
    ("좋아", "joa"),
    ("강아지", "gangaji"),
    # Initial ㄹ as North Korea writes it (no South Korean initial-sound rule).
    ("로동", "rodong"),
]


@pytest.mark.parametrize(("hangul", "latin"), CASES)
def test_revised_romanization(hangul: str, latin: str) -> None:
    assert romanize(hangul) == latin


def test_other_characters_pass_through() -> None:
    assert romanize("KOREA 조선 1") == "KOREA joseon 1"
    assert is_hangul("조") and not is_hangul("A") and not is_hangul("")
